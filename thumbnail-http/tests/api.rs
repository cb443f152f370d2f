//! The HTTP API over real HTTP: uploads, thumbnails (presets and query options), the
//! stateless route, health and metrics, on memory, local-folder and S3 stores.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::StatusCode;
use thumbnail_core::InputFormat;
use thumbnail_storage::{Key, ObjectStoreBackend, PutOptions, Store};

use common::*;

async fn upload_and_read_back(kind: Kind) {
    let s = Setup::new(kind).start().await;
    let original = photo();
    let resp = s
        .put("/images/trips/red%20flower.jpg", original.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{kind:?}");
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert_eq!(header(&resp, "location"), "/images/trips/red%20flower.jpg");
    assert_eq!(
        header(&resp, "x-thumbnail-key"),
        "default/trips/red flower.jpg"
    );
    let etag = header(&resp, "etag").to_string();
    let thumb = resp.bytes().await.unwrap();
    assert_eq!(dims(&thumb), (100, 100, InputFormat::Jpeg));

    // Both objects really are in the stores.
    let stored = s
        .originals
        .get(&Key::new("trips/red flower.jpg").unwrap(), 1 << 30)
        .await
        .unwrap();
    assert_eq!(stored.bytes, Bytes::from(original.clone()));
    assert_eq!(stored.meta.content_type.as_deref(), Some("image/jpeg"));
    let stored_thumb = s
        .thumbs
        .get(&Key::new("default/trips/red flower.jpg").unwrap(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(stored_thumb.bytes, thumb);

    // GET the original and the thumbnail, with validators.
    let resp = s.get("/images/trips/red%20flower.jpg").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert_eq!(resp.bytes().await.unwrap(), Bytes::from(original));
    let resp = s.get("/thumbnails/trips/red%20flower.jpg").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "etag"), etag, "same bytes, same ETag");
    assert!(header(&resp, "cache-control").contains("max-age"));
    assert_eq!(resp.bytes().await.unwrap(), thumb);
    let resp = s
        .http
        .get(s.url("/thumbnails/trips/red%20flower.jpg?preset=default"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&resp, "etag"), etag);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = s
        .http
        .get(s.url("/thumbnails/trips/red%20flower.jpg"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Missing things are JSON 404s.
    let resp = s.get("/images/nope.jpg").await;
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = s.get("/thumbnails/nope.jpg").await;
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_and_read_back_memory() {
    upload_and_read_back(Kind::Memory).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_and_read_back_local() {
    upload_and_read_back(Kind::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_and_read_back_s3() {
    upload_and_read_back(Kind::S3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presets_overrides_and_lazy_thumbnails() {
    let mut setup = Setup::new(Kind::Local);
    setup.presets = "default=100x100 small=64x48,fit=contain,format=png";
    let s = setup.start().await;

    // PUT makes every preset; the query picks an extra size, answered and stored too.
    let resp = s
        .put(
            "/images/a.png?size=120x80&format=webp&quality=70",
            png_alpha(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "content-type"), "image/webp");
    let extra_key = header(&resp, "x-thumbnail-key").to_string();
    assert!(extra_key.starts_with("_sizes/a.png/"), "{extra_key}");
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (120, 80, InputFormat::WebP)
    );
    let resp = s
        .get("/thumbnails/a.png?size=120x80&format=webp&quality=70")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (120, 80, InputFormat::WebP)
    );
    let resp = s.get("/thumbnails/a.png?preset=small").await;
    assert_eq!(header(&resp, "content-type"), "image/png");
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (64, 48, InputFormat::Png)
    );

    // An original stored behind the API's back gets its thumbnails on first request.
    let key = Key::new("later/b.jpg").unwrap();
    s.originals
        .put(&key, Bytes::from(photo()), &PutOptions::default())
        .await
        .unwrap();
    let small = Key::new("small/later/b.jpg").unwrap();
    assert!(!s.thumbs.exists(&small).await.unwrap());
    let resp = s.get("/thumbnails/later/b.jpg?preset=small").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (64, 48, InputFormat::Png)
    );
    assert!(
        s.thumbs.exists(&small).await.unwrap(),
        "made and stored on the way"
    );
    let resp = s.get("/thumbnails/later/b.jpg").await;
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (100, 100, InputFormat::Jpeg)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_thumbnail_stores_nothing() {
    let s = Setup::new(Kind::Memory).start().await;
    let resp = s.post("/thumbnail", photo()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert!(header(&resp, "etag").starts_with('"'));
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (100, 100, InputFormat::Jpeg)
    );
    let resp = s
        .post("/thumbnail?size=32x200&fit=fill&format=png", png_alpha())
        .await;
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (32, 200, InputFormat::Png)
    );
    assert!(s.originals.list("").await.unwrap().is_empty());
    assert!(s.thumbs.list("").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_metrics() {
    let s = Setup::new(Kind::S3).start().await;
    let resp = s.get("/healthz").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = s.get("/readyz").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = s.put("/images/m.jpg", photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = s.post("/thumbnail?size=0x0", photo()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let text = s.get("/metrics").await.text().await.unwrap();
    for want in [
        "thumbnail_requests_total{route=\"/images/{*key}\",status=\"201\"} 1",
        "thumbnail_requests_total{route=\"/thumbnail\",status=\"400\"} 1",
        "thumbnail_request_duration_seconds_bucket{route=\"/images/{*key}\",le=\"+Inf\"} 1",
        "thumbnail_stage_duration_seconds_count{stage=\"render\"}",
        "thumbnail_stage_duration_seconds_count{stage=\"read\"}",
        "thumbnail_stage_duration_seconds_count{stage=\"write\"}",
        "thumbnail_rejections_total{reason=\"invalid_spec\"} 1",
        "thumbnail_requests_in_flight 1",
        "thumbnail_bytes_in_total",
        "thumbnail_bytes_out_total",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_store_keeps_its_thumbnail_folder_for_itself() {
    let store: Arc<dyn Store> = Arc::new(ObjectStoreBackend::memory());
    let s = serve(store.clone(), store, None, Setup::new(Kind::Memory)).await;
    let resp = s.put("/images/a.jpg", photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "x-thumbnail-key"), "thumbnails/default/a.jpg");
    // Uploading into the thumbnails' folder would make thumbnails of thumbnails: refused.
    let resp = s.put("/images/thumbnails/default/b.jpg", photo()).await;
    json_error(resp, StatusCode::CONFLICT, "reserved_key").await;
    let resp = s.post("/uploads/thumbnails/x.jpg", Vec::<u8>::new()).await;
    json_error(resp, StatusCode::CONFLICT, "reserved_key").await;
    assert_eq!(
        thumbnail_testkit::keys(s.originals.as_ref()).await,
        [
            "a.jpg",
            "thumbnails/_info/a.jpg.json",
            "thumbnails/default/a.jpg"
        ]
    );
}

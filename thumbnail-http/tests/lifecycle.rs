//! `DELETE /images/{key}` over real HTTP on memory, local-folder and S3 stores: the original
//! and every thumbnail of it (presets and client sizes) go, other originals stay, a retry is
//! safe, and a request without credentials removes nothing.

mod common;

use reqwest::StatusCode;

use common::*;

const KEY: &str = "delete-test-key-0001";

async fn keys(store: &dyn thumbnail_storage::Store) -> Vec<String> {
    thumbnail_testkit::keys(store).await
}

async fn delete_cascades(kind: Kind) {
    let mut setup = Setup::new(kind);
    setup.presets = "default=100x100 small=32x32,fit=inside";
    setup.auth.api_keys = vec![KEY.into()];
    let s = setup.start().await;
    let put = |path: &'static str| {
        s.http
            .put(s.url(path))
            .bearer_auth(KEY)
            .body(photo())
            .send()
    };
    assert_eq!(
        put("/images/trips/cat.jpg?size=50x40")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put("/images/trips/dog.jpg").await.unwrap().status(),
        StatusCode::CREATED
    );
    // A size made on request goes with its original too.
    let made = s
        .http
        .get(s.url("/thumbnails/trips/cat.jpg?width=77"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::OK);
    let thumbs_before = keys(s.thumbs.as_ref()).await;
    // Two presets, two sizes and the info of each original.
    assert_eq!(thumbs_before.len(), 8, "{kind:?}: {thumbs_before:?}");
    assert!(
        thumbs_before
            .iter()
            .any(|k| k.starts_with("_sizes/trips%2Fcat.jpg/")),
        "{thumbs_before:?}"
    );

    let delete = |auth: bool| {
        let r = s.http.delete(s.url("/images/trips/cat.jpg"));
        if auth { r.bearer_auth(KEY) } else { r }.send()
    };
    // No credentials: refused, and nothing is gone.
    let resp = delete(false).await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(keys(s.thumbs.as_ref()).await, thumbs_before);

    let resp = delete(true).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{kind:?}");
    let originals = keys(s.originals.as_ref()).await;
    assert!(
        originals.iter().all(|k| !k.contains("cat"))
            && originals.iter().any(|k| k.ends_with("trips/dog.jpg")),
        "{originals:?}"
    );
    assert_eq!(
        keys(s.thumbs.as_ref()).await,
        [
            "_info/trips%2Fdog.jpg.json",
            "default/trips/dog.jpg",
            "small/trips/dog.jpg"
        ],
        "{kind:?}"
    );
    let resp = s
        .http
        .get(s.url("/thumbnails/trips/cat.jpg"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Deleting again (a retry) is still a success.
    assert_eq!(delete(true).await.unwrap().status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_cascades_memory() {
    delete_cascades(Kind::Memory).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_cascades_local() {
    delete_cascades(Kind::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_cascades_s3() {
    delete_cascades(Kind::S3).await;
}

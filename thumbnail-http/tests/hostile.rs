//! The API against clients that do not play fair, one test per way found to hurt it: slow
//! bodies, private answers cached as public, refused uploads changing what is stored, key
//! conflicts leaking paths, keys shadowed by preset names, unbounded reads of originals.

mod common;

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use thumbnail_core::InputFormat;
use thumbnail_storage::{Key, ObjectStoreBackend, PutOptions};
use tokio::io::AsyncWriteExt;

use common::*;

/// Opens a connection that sends the headers of a `POST /thumbnail` with a large body, then
/// one byte: a client trickling its body.
async fn trickling(base: &str) -> tokio::net::TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /thumbnail HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx")
        .await
        .unwrap();
    s
}

/// Finding 1: bodies are read before a job slot is taken, so clients trickling bodies cost
/// connections, not jobs: with one job slot and no queue, legitimate requests still pass.
#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_take_no_job_slot() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_jobs = 1;
    setup.config.max_queue = 0;
    let s = setup.start().await;
    let mut slow = Vec::new();
    for _ in 0..8 {
        slow.push(trickling(&s.base).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        let resp = s.post("/thumbnail", photo()).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "a slow body held the job slot"
        );
    }
    drop(slow);
}

/// Bodies in memory are bounded server-wide: a body that would go over the budget is a 503,
/// and the budget comes back when requests end.
#[tokio::test(flavor = "multi_thread")]
async fn body_bytes_in_flight_have_a_budget() {
    let mut setup = Setup::new(Kind::Memory);
    let data = photo();
    setup.config.max_body_in_flight = data.len() as u64 + 10;
    let s = setup.start().await;
    // One request's body is held while it waits for its render...
    let (a, b) = tokio::join!(s.post("/thumbnail", data.clone()), async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        s.post("/thumbnail", data.clone()).await
    });
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    // ...and a body larger than the whole budget can never be taken.
    let big = [data.clone(), data.clone()].concat();
    let resp = s.post("/thumbnail", big).await;
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "busy").await;
    // Given back: the next request passes.
    let resp = s.post("/thumbnail", data).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Finding 5: with credentials required, reads are `private` and vary by Authorization;
/// `public` only for public reads.
#[tokio::test(flavor = "multi_thread")]
async fn credentialed_reads_are_private() {
    let key = "a-key-of-sixteen-bytes";
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.api_keys = vec![key.into()];
    let s = setup.start().await;
    let put = s.http.put(s.url("/images/p.jpg")).bearer_auth(key);
    assert_eq!(put.body(photo()).send().await.unwrap().status(), 201);
    for path in ["/thumbnails/p.jpg", "/images/p.jpg"] {
        let resp = s
            .http
            .get(s.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            header(&resp, "cache-control"),
            "private, max-age=86400",
            "{path}"
        );
        assert_eq!(header(&resp, "vary"), "authorization", "{path}");
    }
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.api_keys = vec![key.into()];
    setup.auth.public_reads = true;
    let s = setup.start().await;
    let put = s.http.put(s.url("/images/p.jpg")).bearer_auth(key);
    assert_eq!(put.body(photo()).send().await.unwrap().status(), 201);
    let resp = s.get("/thumbnails/p.jpg").await;
    assert_eq!(header(&resp, "cache-control"), "public, max-age=86400");
}

/// Finding 6: a refused PUT leaves the store exactly as it was; a replaced original takes its
/// derived sizes with it.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_put_changes_nothing_stored() {
    let s = Setup::new(Kind::Local).start().await;
    let good = photo();
    assert_eq!(
        s.put("/images/a.jpg?size=50x40", good.clone())
            .await
            .status(),
        201
    );
    let before = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
    // A JPEG signature and then no JPEG at all.
    let corrupt = b"\xFF\xD8\xFF\xDBnot a quantisation table, nor anything else".to_vec();
    let resp = s.put("/images/a.jpg", corrupt).await;
    json_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "corrupt_image").await;
    let resp = s.get("/images/a.jpg").await;
    assert_eq!(
        resp.bytes().await.unwrap(),
        Bytes::from(good),
        "original kept"
    );
    assert_eq!(thumbnail_testkit::keys(s.thumbs.as_ref()).await, before);
    // A new original replaces the preset thumbnails and removes the sizes made for the old;
    // asked for again, a size is made from the new one.
    let resp = s.get("/thumbnails/a.jpg?size=50x40").await;
    let old = resp.bytes().await.unwrap();
    assert_eq!(s.put("/images/a.jpg", png_alpha()).await.status(), 201);
    assert_eq!(
        thumbnail_testkit::keys(s.thumbs.as_ref()).await,
        ["_info/a.jpg.json", "default/a.jpg"]
    );
    let resp = s.get("/thumbnails/a.jpg?size=50x40").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let new = resp.bytes().await.unwrap();
    assert_eq!(dims(&new), (50, 40, thumbnail_core::InputFormat::Jpeg));
    assert_ne!(new, old, "made from the new original");
}

/// Finding 7: keys a local folder cannot hold are 409 or 400 naming the key, never a 500
/// with the store's path; a 501 does not name the store either.
#[tokio::test(flavor = "multi_thread")]
async fn key_conflicts_name_the_key_not_the_path() {
    let s = Setup::new(Kind::Local).start().await;
    let root = s._dir.as_ref().unwrap().path().display().to_string();
    assert_eq!(s.put("/images/a/x.jpg", photo()).await.status(), 201);
    assert_eq!(s.put("/images/b", photo()).await.status(), 201);
    let long = "l".repeat(300);
    for (path, status, code) in [
        (
            "/images/a".to_string(),
            StatusCode::CONFLICT,
            "key_conflict",
        ),
        (
            "/images/b/x.jpg".to_string(),
            StatusCode::CONFLICT,
            "key_conflict",
        ),
        (
            format!("/images/{long}.jpg"),
            StatusCode::BAD_REQUEST,
            "invalid_key",
        ),
        (
            "/images/a%231".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_key",
        ),
    ] {
        let resp = s.put(&path, photo()).await;
        let v = json_error(resp, status, code).await;
        let message = v["message"].as_str().unwrap();
        assert!(
            !message.contains(&root) && !message.contains("file://"),
            "{message}"
        );
    }
    let resp = s.post("/uploads/big.jpg", Vec::<u8>::new()).await;
    let v = json_error(resp, StatusCode::NOT_IMPLEMENTED, "not_supported").await;
    assert!(!v["message"].as_str().unwrap().contains("file://"), "{v}");
}

/// 5xx answers say "internal error" and a request id; the details go to the log under it.
#[tokio::test(flavor = "multi_thread")]
async fn server_errors_carry_a_request_id_not_details() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let timeouts = thumbnail_storage::Timeouts {
        connect: Duration::from_millis(300),
        operation: Duration::from_secs(2),
        attempts: 1,
    };
    let down = Arc::new(
        thumbnail_storage::S3Store::new(thumbnail_storage::S3Config {
            bucket: "down".into(),
            prefix: String::new(),
            region: Some("us-east-1".into()),
            endpoint: Some(dead),
            path_style: true,
            timeouts,
        })
        .await
        .unwrap(),
    );
    let s = serve(down.clone(), down, None, Setup::new(Kind::Memory)).await;
    let resp = s.get("/images/x.jpg").await;
    let id = header(&resp, "x-request-id").to_string();
    let v = json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable").await;
    assert_eq!(v["message"], format!("internal error (request id {id})"));
    assert_eq!(v["request_id"], id.as_str());
}

/// Finding 9: the preset is never taken from the key's path: `default/x.jpg` is a key like
/// any other, and presets are asked for with `?preset=`.
#[tokio::test(flavor = "multi_thread")]
async fn keys_cannot_be_shadowed_by_preset_names() {
    let mut setup = Setup::new(Kind::Memory);
    setup.presets = "default=100x100 small=40x30";
    let s = setup.start().await;
    let a = photo();
    let b = png_alpha();
    assert_eq!(s.put("/images/x.jpg", a).await.status(), 201);
    let resp = s.put("/images/default/x.jpg", b).await;
    assert_eq!(resp.status(), 201);
    let b_thumb = resp.bytes().await.unwrap();
    let resp = s.get("/thumbnails/default/x.jpg").await;
    assert_eq!(
        resp.bytes().await.unwrap(),
        b_thumb,
        "B's thumbnail, not A's"
    );
    let resp = s.get("/thumbnails/x.jpg?preset=small").await;
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (40, 30, InputFormat::Jpeg)
    );
    let resp = s.get("/thumbnails/x.jpg?preset=nope").await;
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

/// Finding 10: originals are streamed with the store's ETag, a weak validator matches, a
/// `Range` gets its 206, and reads at once are bounded.
#[tokio::test(flavor = "multi_thread")]
async fn originals_stream_with_ranges_and_a_read_limit() {
    let mut setup = Setup::new(Kind::Local);
    setup.config.max_original_reads = 1;
    let s = setup.start().await;
    let big: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
    let key = Key::new("big.bin").unwrap();
    let options = PutOptions::default();
    s.originals
        .put(&key, Bytes::from(big.clone()), &options)
        .await
        .unwrap();

    let resp = s
        .http
        .get(s.url("/images/big.bin"))
        .header("range", "bytes=10-19")
        .send();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&resp, "content-range"),
        format!("bytes 10-19/{}", big.len())
    );
    assert_eq!(
        resp.bytes().await.unwrap(),
        Bytes::copy_from_slice(&big[10..20])
    );
    let resp = s
        .http
        .get(s.url("/images/big.bin"))
        .header("range", "bytes=-5")
        .send();
    assert_eq!(resp.await.unwrap().bytes().await.unwrap().len(), 5);
    let resp = s
        .http
        .get(s.url("/images/big.bin"))
        .header("range", "bytes=99999999-")
        .send();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let resp = s.get("/images/big.bin").await;
    let tag = header(&resp, "etag").to_string();
    assert_eq!(resp.bytes().await.unwrap().len(), big.len());
    let weak = format!("W/{tag}");
    let resp = s
        .http
        .get(s.url("/images/big.bin"))
        .header("if-none-match", weak)
        .send();
    assert_eq!(resp.await.unwrap().status(), StatusCode::NOT_MODIFIED);

    // A reader that does not read holds its slot; the next one is told to come back.
    let held = s.get("/images/big.bin").await;
    assert_eq!(held.status(), StatusCode::OK);
    let resp = s.get("/images/big.bin").await;
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "busy").await;
    assert_eq!(held.bytes().await.unwrap().len(), big.len());
    let resp = s.get("/images/big.bin").await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Weak validators match thumbnails too (GET compares weakly).
#[tokio::test(flavor = "multi_thread")]
async fn weak_etags_match() {
    let s = Setup::new(Kind::Memory).start().await;
    let resp = s.put("/images/w.jpg", photo()).await;
    let tag = header(&resp, "etag").to_string();
    let resp = s
        .http
        .get(s.url("/thumbnails/w.jpg"))
        .header("if-none-match", format!("W/{tag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

/// Finding 8: with one store for both, no key may take the place of the thumbnails' folder,
/// at any depth.
#[tokio::test(flavor = "multi_thread")]
async fn the_thumbnail_folder_cannot_be_taken_by_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn thumbnail_storage::Store> =
        Arc::new(ObjectStoreBackend::local(dir.path()).unwrap());
    let s = serve(store.clone(), store, None, Setup::new(Kind::Local)).await;
    let resp = s.put("/images/thumbnails", photo()).await;
    json_error(resp, StatusCode::CONFLICT, "reserved_key").await;
    let resp = s.put("/images/ok.jpg", photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// Sizes are removed only when a new original replaces theirs: a preset thumbnail made later
/// from the same original (on a first GET) leaves them in place.
#[tokio::test(flavor = "multi_thread")]
async fn a_later_thumbnail_of_the_same_original_keeps_its_sizes() {
    let mut setup = Setup::new(Kind::Memory);
    setup.presets = "default=100x100 small=40x30";
    let s = setup.start().await;
    assert_eq!(
        s.put("/images/k.jpg?size=50x40", photo()).await.status(),
        201
    );
    let small = Key::new("small/k.jpg").unwrap();
    s.thumbs.delete(&small).await.unwrap();
    let resp = s.get("/thumbnails/k.jpg?preset=small").await;
    assert_eq!(resp.status(), StatusCode::OK, "made again on the way");
    let keys = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
    assert!(
        keys.iter().any(|k| k.starts_with("_sizes/k.jpg/50x40-")),
        "the PUT's size is still there: {keys:?}"
    );
}

/// Issue 31, item 7: the sizes of `x.jpg/y.jpg` are not the sizes of `x.jpg`: deleting
/// `x.jpg` keeps them, and they do not count against `x.jpg`'s `max_derivatives`, on every
/// backend.
#[tokio::test(flavor = "multi_thread")]
async fn sizes_of_a_nested_key_are_its_own() {
    // (A local folder cannot hold both: `x.jpg` is a file there, never a folder.)
    for kind in [Kind::Memory, Kind::S3] {
        let mut setup = Setup::new(kind);
        setup.config.max_derivatives = 1;
        let s = setup.start().await;
        let tag = format!("{kind:?}");
        for key in ["x.jpg", "x.jpg/y.jpg"] {
            assert_eq!(
                s.put(&format!("/images/{key}"), photo()).await.status(),
                201,
                "{tag}"
            );
        }
        let resp = s.get("/thumbnails/x.jpg/y.jpg?size=30x20").await;
        assert_eq!(resp.status(), StatusCode::OK, "{tag}");
        // x.jpg's one size is its own, not taken by x.jpg/y.jpg's.
        let resp = s.get("/thumbnails/x.jpg?size=40x30").await;
        assert_eq!(resp.status(), StatusCode::OK, "{tag}");
        let nested = |keys: &[String]| {
            let of_y = |k: &&String| k.contains("x.jpg%2Fy.jpg") || k.ends_with("x.jpg/y.jpg");
            keys.iter().filter(of_y).count()
        };
        let before = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
        assert_eq!(nested(&before), 3, "{tag}: {before:?}");
        assert_eq!(
            s.http
                .delete(s.url("/images/x.jpg"))
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        let after = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
        assert_eq!(
            nested(&after),
            3,
            "{tag}: x.jpg/y.jpg lost its thumbnails: {after:?}"
        );
        let resp = s.get("/thumbnails/x.jpg/y.jpg?size=30x20").await;
        assert_eq!(resp.status(), StatusCode::OK, "{tag}");
    }
}

/// Issue 31, item 8: no key's derived objects can stand where another key's must: `a.jpg`
/// and `a.jpg.json/x` both store; and a PUT refused for a conflict writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn derived_objects_of_two_keys_never_collide() {
    let s = Setup::new(Kind::Local).start().await;
    assert_eq!(s.put("/images/a.jpg", photo()).await.status(), 201);
    assert_eq!(s.put("/images/a.jpg.json/x", photo()).await.status(), 201);
    assert_eq!(
        s.put("/images/a.jpg/x.jpg?size=20x20", photo())
            .await
            .status(),
        409
    );
    for key in ["a.jpg", "a.jpg.json/x"] {
        let resp = s.get(&format!("/info/{key}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{key}");
    }
    // A key whose original folder is taken by a file: refused, and nothing of it stored.
    let before = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
    let originals = thumbnail_testkit::keys(s.originals.as_ref()).await;
    let resp = s.put("/images/a.jpg/y.jpg?size=20x20", photo()).await;
    json_error(resp, StatusCode::CONFLICT, "key_conflict").await;
    assert_eq!(thumbnail_testkit::keys(s.thumbs.as_ref()).await, before);
    assert_eq!(
        thumbnail_testkit::keys(s.originals.as_ref()).await,
        originals
    );
}

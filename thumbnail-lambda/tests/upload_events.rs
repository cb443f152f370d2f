//! What arrives on the upload event (AWS's own sample, bucket and keys edited), on the real
//! S3-compatible server: an iPhone photo, an AVIF and a JPEG XL each get a 100x100 JPEG
//! thumbnail and their info; bytes that are no image are refused and never served as one.

mod common;

use common::{bucket, dims, env, event, http, http_body, photo, post_form, put, s3_event};
use serde_json::{Value, json};
use thumbnail_lambda::{App, handle};
use thumbnail_storage::{Key, Store};

#[tokio::test(flavor = "multi_thread")]
async fn heic_and_avif_uploads_get_their_thumbnails() {
    let (src, q) = bucket("lambda-heic").await;
    let b = src.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/uploads{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
    ]))
    .await
    .unwrap();
    let photo = thumbnail_testkit::corpus_file("conformance/other/iphone.heic");
    put(&src, "uploads/IMG 0001.HEIC", photo).await;
    let avif = thumbnail_testkit::corpus_file("conformance/other/pitm-4096x800.avif");
    put(&src, "uploads/wide.avif", avif).await;
    let jxl = std::fs::read(thumbnail_testkit::jxl_fixture("lossy.jxl")).unwrap();
    put(&src, "uploads/photo.jxl", jxl).await;
    let out = handle(
        &app,
        event(s3_event(&[
            ("ObjectCreated:Put", &b, "uploads/IMG+0001.HEIC"),
            ("ObjectCreated:Put", &b, "uploads/wide.avif"),
            ("ObjectCreated:Put", &b, "uploads/photo.jxl"),
        ])),
    )
    .await
    .unwrap();
    assert_eq!(
        out["processed"],
        json!([
            "uploads/IMG 0001.HEIC",
            "uploads/wide.avif",
            "uploads/photo.jxl"
        ]),
        "{out}"
    );
    for name in ["wide.avif", "photo.jxl"] {
        let key = Key::new(format!("thumbnails/default/{name}")).unwrap();
        let thumb = src.get(&key, 1 << 20).await.unwrap();
        assert_eq!(dims(&thumb.bytes), (100, 100), "{name}");
        assert_eq!(thumb.meta.content_type.as_deref(), Some("image/jpeg"));
    }
    // Thumbnails keep the original's key (as the tutorial's design does); the content type
    // says what they are.
    let key = Key::new("thumbnails/default/IMG 0001.HEIC").unwrap();
    let thumb = src.get(&key, 1 << 20).await.unwrap();
    assert_eq!(dims(&thumb.bytes), (100, 100));
    assert_eq!(thumb.meta.content_type.as_deref(), Some("image/jpeg"));
    let info = src
        .get(
            &Key::new("thumbnails/_info/IMG 0001.HEIC.json").unwrap(),
            1 << 20,
        )
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&info.bytes).unwrap();
    assert_eq!(v["format"], "heic");
}

/// Issue 31, item 5: a presigned upload of a page declared `image/png` (the policy's `image/`
/// prefix lets any image type through) is judged by its bytes on its event: recorded as
/// refused, the earlier version's thumbnails removed, no request renders it or reads it
/// whole, and `GET /images` hands it out as a download. A real image under the key later is
/// thumbnailed as usual.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_is_no_image_is_refused_and_never_served_as_one() {
    const KEY: &str = "a-lambda-test-key-1";
    let (src, q) = bucket("lambda-refused").await;
    let b = src.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/uploads{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", KEY.into()),
    ]))
    .await
    .unwrap();
    let upload = |file: Vec<u8>| {
        let app = &app;
        async move {
            let resp = http(app, "POST", "/uploads/avatar.png", None, Some(KEY)).await;
            assert_eq!(resp["statusCode"], 200, "{resp}");
            let form: Value = serde_json::from_slice(&http_body(&resp)).unwrap();
            let status = post_form(&form, Some("image/png"), file).await;
            assert!(status.is_success(), "{status}");
        }
    };
    let on_event = || async {
        handle(
            &app,
            event(s3_event(&[(
                "ObjectCreated:Post",
                &b,
                "uploads/avatar.png",
            )])),
        )
        .await
        .unwrap()
    };
    upload(photo()).await;
    let out = on_event().await;
    assert_eq!(out["processed"], json!(["uploads/avatar.png"]), "{out}");

    let page = b"<html><script>fetch('/images/secret.jpg')</script></html>".to_vec();
    upload(page.clone()).await;
    let out = on_event().await;
    let failed = out["failed"].to_string();
    assert!(
        failed.contains("avatar.png: refused: unsupported image format"),
        "{out}"
    );
    let stored = thumbnail_testkit::keys(&src).await;
    assert_eq!(
        stored,
        ["thumbnails/_refused/avatar.png.json", "uploads/avatar.png"],
        "the old thumbnails and info went, the refusal is recorded"
    );
    // A retried event judges it the same way, and records nothing new.
    let again = on_event().await;
    assert_eq!(again["failed"], out["failed"], "{again}");

    for path in [
        "/thumbnails/avatar.png?width=64",
        "/info/avatar.png",
        "/thumbnails/avatar.png",
    ] {
        let resp = http(&app, "GET", path, None, Some(KEY)).await;
        let status = resp["statusCode"].as_u64().unwrap();
        assert!(status == 422 || status == 404, "{path}: {resp}");
        if status == 422 {
            let v: Value = serde_json::from_slice(&http_body(&resp)).unwrap();
            assert_eq!(v["error"], "refused", "{path}: {v}");
        }
    }
    assert_eq!(
        thumbnail_testkit::keys(&src).await,
        stored,
        "requests for a refused original made nothing"
    );
    let resp = http(&app, "GET", "/images/avatar.png", None, Some(KEY)).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let headers = &resp["headers"];
    assert_eq!(
        headers["content-type"], "application/octet-stream",
        "{resp}"
    );
    assert_eq!(headers["content-disposition"], "attachment", "{resp}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{resp}");
    assert_eq!(http_body(&resp), page);

    // The key uploaded again as an image: thumbnails as usual.
    upload(photo()).await;
    let out = on_event().await;
    assert_eq!(out["processed"], json!(["uploads/avatar.png"]), "{out}");
    let resp = http(
        &app,
        "GET",
        "/thumbnails/avatar.png?width=64",
        None,
        Some(KEY),
    )
    .await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(dims(&http_body(&resp)).0, 64);
}

//! An iPhone photo, an AVIF and a JPEG XL uploaded to the bucket: the S3 event (AWS's own
//! sample, bucket and keys edited) gives each a 100x100 JPEG thumbnail and its info on the
//! real S3-compatible server.

mod common;

use common::{bucket, dims, env, event, put, s3_event};
use serde_json::json;
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

//! Presigned uploads (S3 POST policies): accepted by the servers we test against, and held
//! to their bounds by one that enforces policies and signatures (s3s-fs; moto checks neither).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use thumbnail_storage::{Key, PresignedPost, S3Store, Store, Timeouts, UploadRules};

use crate::common::{self, Fixture, Kind};

/// POSTs `file` with `fields` as a browser form; the status and the server's answer.
pub async fn post(p: &PresignedPost, fields: &[(String, String)], file: &[u8]) -> (u16, String) {
    let (content_type, body) = thumbnail_testkit::form(fields, file);
    let resp = reqwest::Client::new()
        .post(&p.url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {}: {e}", p.url));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// `fields` with `name` set to `value` (added if absent).
pub fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields = fields.to_vec();
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_string(),
        None => fields.insert(1, (name.to_string(), value.to_string())),
    }
    fields
}

/// Every backend: S3 signs a policy a plain HTTP client can upload with; the others say they
/// cannot presign.
pub async fn presigned_post(f: Fixture) {
    let k = Key::new("uploads/direct.jpg").unwrap();
    let rules = UploadRules::new(1 << 20).with_content_type("image/jpeg");
    let result = f
        .store
        .presign_post(&k, &rules, Duration::from_secs(300))
        .await;
    if f.kind != Kind::S3 {
        assert!(
            matches!(
                result,
                Err(thumbnail_storage::StoreError::Unsupported { .. })
            ),
            "{result:?}"
        );
        return;
    }
    let p = result.unwrap();
    assert_eq!(p.max_bytes, 1 << 20);
    let (status, text) = post(&p, &p.fields, &common::jpeg()).await;
    assert!((200..300).contains(&status), "{status}: {text}");
    let got = f.store.get(&k, 1 << 20).await.unwrap();
    assert_eq!(got.bytes, Bytes::from(common::jpeg()));
    assert_eq!(got.meta.content_type.as_deref(), Some("image/jpeg"));
    // The policy names the bucket, the key under the store's prefix, the size bound and the
    // type, and expires when the upload does.
    let policy = field(&p, "policy");
    let policy: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(policy).unwrap()).unwrap();
    let conditions = policy["conditions"].to_string();
    for wanted in [
        r#"["content-length-range",1,1048576]"#,
        r#"{"key":"some/prefix/uploads/direct.jpg"}"#,
        r#"{"Content-Type":"image/jpeg"}"#,
    ] {
        assert!(conditions.contains(wanted), "{wanted} not in {conditions}");
    }
}

fn field<'a>(p: &'a PresignedPost, name: &str) -> &'a str {
    p.fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} field in {:?}", p.fields))
}

async fn strict_store() -> (tempfile::TempDir, Arc<S3Store>) {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = thumbnail_testkit::strict_s3(dir.path()).await;
    let store = common::s3_store_at(&endpoint, "strict", "in", Timeouts::default()).await;
    (dir, store)
}

/// What the policy lets through, on a server that checks it: an image of up to the bound
/// under the signed key; never another type, size, key, a forged policy or an empty body.
/// Every refusal leaves the bucket as it was.
#[tokio::test]
async fn the_store_holds_uploads_to_the_policy() {
    let (_dir, store) = strict_store().await;
    let jpeg = common::jpeg();
    let max = jpeg.len() as u64;
    let k = Key::new("big/photo.jpg").unwrap();
    let any_image = store
        .presign_post(&k, &UploadRules::new(max), Duration::from_secs(300))
        .await
        .unwrap();
    let refused = [
        (
            "text/html, as a page",
            with(&any_image.fields, "Content-Type", "text/html"),
            jpeg.clone(),
        ),
        ("no type at all", any_image.fields.clone(), jpeg.clone()),
        (
            "one byte over",
            with(&any_image.fields, "Content-Type", "image/jpeg"),
            [jpeg.clone(), vec![0]].concat(),
        ),
        (
            "empty",
            with(&any_image.fields, "Content-Type", "image/jpeg"),
            Vec::new(),
        ),
        (
            "another key",
            with(
                &with(&any_image.fields, "Content-Type", "image/jpeg"),
                "key",
                "in/other.jpg",
            ),
            jpeg.clone(),
        ),
        (
            "a key outside the prefix",
            with(
                &with(&any_image.fields, "Content-Type", "image/jpeg"),
                "key",
                "index.html",
            ),
            jpeg.clone(),
        ),
    ];
    for (what, fields, file) in &refused {
        let (status, text) = post(&any_image, fields, file).await;
        // S3 (and s3s) name the condition that failed: the policy, not a malformed form.
        assert!((400..500).contains(&status), "{what}: {status} {text}");
        let code = ["InvalidPolicyDocument", "EntityTooLarge", "EntityTooSmall"];
        assert!(code.iter().any(|c| text.contains(c)), "{what}: {text}");
        assert!(
            thumbnail_testkit::keys(store.as_ref()).await.is_empty(),
            "{what} stored something"
        );
    }
    // A policy rewritten to allow more keeps its old signature: refused.
    let policy = STANDARD.decode(field(&any_image, "policy")).unwrap();
    let bigger = String::from_utf8(policy)
        .unwrap()
        .replace(&format!(",{max}]"), ",1000000000]");
    let forged = STANDARD.encode(bigger);
    let fields = with(
        &with(&any_image.fields, "Content-Type", "image/jpeg"),
        "policy",
        &forged,
    );
    let (status, text) = post(&any_image, &fields, &[jpeg.clone(), vec![0; 10]].concat()).await;
    assert!(
        (400..500).contains(&status),
        "forged policy: {status} {text}"
    );
    assert!(thumbnail_testkit::keys(store.as_ref()).await.is_empty());

    // An image type, exactly the bound: stored.
    let (status, text) = post(
        &any_image,
        &with(&any_image.fields, "Content-Type", "image/heic"),
        &jpeg,
    )
    .await;
    assert!((200..300).contains(&status), "{status}: {text}");
    assert_eq!(
        thumbnail_testkit::keys(store.as_ref()).await,
        ["big/photo.jpg"]
    );

    // A policy for one type takes that type only.
    let heic = store
        .presign_post(
            &k,
            &UploadRules::new(max).with_content_type("image/heic"),
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    let (status, text) = post(
        &heic,
        &with(&heic.fields, "Content-Type", "image/png"),
        &jpeg,
    )
    .await;
    assert!(
        (400..500).contains(&status),
        "image/png on a heic policy: {status} {text}"
    );
    let (status, text) = post(&heic, &heic.fields, &jpeg).await;
    assert!((200..300).contains(&status), "{status}: {text}");
}

/// An expired policy is refused, however the form is filled.
#[tokio::test]
async fn an_expired_policy_is_refused() {
    let (_dir, store) = strict_store().await;
    let k = Key::new("late.jpg").unwrap();
    let p = store
        .presign_post(
            &k,
            &UploadRules::new(1 << 20).with_content_type("image/jpeg"),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, text) = post(&p, &p.fields, &common::jpeg()).await;
    assert!((400..500).contains(&status), "{status}: {text}");
    assert!(thumbnail_testkit::keys(store.as_ref()).await.is_empty());
}

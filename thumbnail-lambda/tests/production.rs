//! Issue 13 on the function, with AWS's own sample events (`../shared/events`, edited for
//! bucket, key, body and, where the object's identity is the point, its ETag) against the real
//! S3-compatible server: originals too large for a Lambda response, uploads not rendered
//! twice, S3 Batch Operations, credentials from Secrets Manager, CORS.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{bucket, dims, env, event, photo, put, shared_event};
use serde_json::{Value, json};
use thumbnail_lambda::{App, SYNC_PAYLOAD_LIMIT, handle};
use thumbnail_storage::{Key, S3Store, Store};

const API_KEY: &str = "a-lambda-test-key-1";

async fn app(store: &S3Store, q: &str, extra: Vec<(&'static str, String)>) -> App {
    let b = store.bucket();
    let mut vars = vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/originals{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", API_KEY.into()),
    ];
    vars.extend(extra);
    App::new(env(vars)).await.unwrap()
}

/// The HTTP API (v2) sample as API Gateway sends it, for `method path` with our key.
fn v2(method: &str, path: &str, body: Option<&[u8]>) -> Value {
    let mut e = shared_event("go-apigw-v2-request-no-authorizer.json");
    e["rawPath"] = json!(path);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    e["headers"]["authorization"] = json!(format!("Bearer {API_KEY}"));
    if let Some(b) = body {
        e["headers"]["content-type"] = json!("image/jpeg");
        e["headers"]["content-length"] = json!(b.len().to_string());
        e["body"] = json!(B64.encode(b));
        e["isBase64Encoded"] = json!(true);
    }
    e
}

/// AWS's S3 sample event for one object, with its bucket, key (as S3 encodes it) and ETag.
fn s3_put(bucket: &str, key: &str, etag: &str) -> Value {
    let mut e = shared_event("go-s3-event.json");
    let r = &mut e["Records"][0];
    r["s3"]["bucket"]["name"] = json!(bucket);
    r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    r["s3"]["object"]["key"] = json!(key);
    r["s3"]["object"]["eTag"] = json!(etag);
    e
}

async fn head(store: &S3Store, key: &str) -> thumbnail_storage::ObjectMeta {
    store.head(&Key::new(key).unwrap()).await.unwrap()
}

/// Finding 3: a 6.1 MB original through the function would be an 8.1 MB response (base64),
/// over Lambda's 6 MB: it is a 307 to a presigned GET instead, whose URL gives the bytes.
/// Originals that fit are answered inline as before.
#[tokio::test(flavor = "multi_thread")]
async fn originals_too_large_for_a_response_are_redirected() {
    let (store, q) = bucket("lambda-big").await;
    let app = app(&store, &q, vec![]).await;
    let big: Vec<u8> = (0..6_100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    put(&store, "originals/big.jpg", big.clone()).await;
    put(&store, "originals/small.jpg", photo()).await;

    let resp = handle(&app, event(v2("GET", "/images/big.jpg", None)))
        .await
        .unwrap();
    let size = serde_json::to_vec(&resp).unwrap().len() as u64;
    assert!(size < SYNC_PAYLOAD_LIMIT / 100, "{size} bytes: {resp}");
    assert_eq!(resp["statusCode"], 307, "{resp}");
    let location = resp["headers"]["location"].as_str().unwrap();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert_eq!(resp["headers"]["cache-control"], "private, no-store");
    let fetched = reqwest::get(location).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), big.as_slice());

    let resp = handle(&app, event(v2("GET", "/images/small.jpg", None)))
        .await
        .unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(B64.decode(resp["body"].as_str().unwrap()).unwrap(), photo());
}

/// Finding 9: `PUT /images` renders the thumbnails and records the original's ETag in them,
/// so the S3 event that upload causes (and any retry of an event) renders nothing again; a
/// new version of the original (another ETag) is rendered.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_is_rendered_once() {
    let (store, q) = bucket("lambda-once").await;
    let b = store.bucket().to_string();
    let app = app(&store, &q, vec![]).await;
    let resp = handle(&app, event(v2("PUT", "/images/cat.jpg", Some(&photo()))))
        .await
        .unwrap();
    assert_eq!(resp["statusCode"], 201, "{resp}");
    let thumb = head(&store, "thumbnails/default/cat.jpg").await;
    let etag = head(&store, "originals/cat.jpg").await.etag.unwrap();
    assert_eq!(thumb.source_etag.as_deref(), Some(etag.trim_matches('"')));

    let bare = etag.trim_matches('"');
    let out = handle(&app, event(s3_put(&b, "originals/cat.jpg", bare)))
        .await
        .unwrap();
    assert_eq!(out["processed"], json!([]), "{out}");
    assert!(
        out["skipped"][0]
            .as_str()
            .unwrap()
            .contains("made from this version"),
        "{out}"
    );
    assert_eq!(
        head(&store, "thumbnails/default/cat.jpg")
            .await
            .last_modified,
        thumb.last_modified
    );

    // A plain S3 upload of other bytes under the same key: rendered, then its retry is not.
    let mut other = photo();
    other.extend_from_slice(b"trailing bytes make another version");
    let new = put(&store, "originals/cat.jpg", other).await;
    assert_ne!(new, bare);
    let out = handle(&app, event(s3_put(&b, "originals/cat.jpg", &new)))
        .await
        .unwrap();
    assert_eq!(out["processed"], json!(["originals/cat.jpg"]), "{out}");
    assert_eq!(
        head(&store, "thumbnails/default/cat.jpg")
            .await
            .source_etag
            .as_deref(),
        Some(new.as_str())
    );
    let out = handle(&app, event(s3_put(&b, "originals/cat.jpg", &new)))
        .await
        .unwrap();
    assert_eq!(out["processed"], json!([]), "{out}");
}

fn results(out: &Value) -> Vec<(String, String)> {
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let code = r["resultCode"].as_str().unwrap().to_string();
            (r["taskId"].as_str().unwrap().to_string(), code)
        })
        .collect()
}

/// Batch Operations: the schema 2.0 sample (bucket by name) and the 1.0 shape (bucket by
/// ARN), keys URL-encoded as in a manifest: one result per task, thumbnails for the images,
/// a permanent failure with the reason for a corrupt file and a missing key, and a temporary
/// failure (Batch Operations retries it) when the storage cannot be reached.
#[tokio::test(flavor = "multi_thread")]
async fn batch_operations_give_one_result_per_task() {
    let (store, q) = bucket("lambda-batch").await;
    let b = store.bucket().to_string();
    let app = app(&store, &q, vec![]).await;
    put(&store, "originals/red flower.jpg", photo()).await;
    put(&store, "originals/a+b.jpg", photo()).await;
    put(
        &store,
        "originals/corrupt.jpg",
        b"\xff\xd8\xff\xe0 not a jpeg".to_vec(),
    )
    .await;

    let mut two = shared_event("go-s3-batch-job-event-request-2.0.json");
    let task = two["tasks"][0].clone();
    let tasks: Vec<Value> = [
        "originals/red%20flower.jpg",
        "originals/a%2Bb.jpg",
        "originals/corrupt.jpg",
        "originals/gone.jpg",
    ]
    .iter()
    .enumerate()
    .map(|(i, key)| {
        let mut t = task.clone();
        t["taskId"] = json!(format!("t{i}"));
        t["s3Key"] = json!(key);
        t["s3Bucket"] = json!(b);
        t
    })
    .collect();
    two["tasks"] = json!(tasks);
    let out = handle(&app, event(two.clone())).await.unwrap();
    assert_eq!(out["invocationSchemaVersion"], "2.0");
    assert_eq!(out["invocationId"], two["invocationId"]);
    assert_eq!(out["treatMissingKeysAs"], "PermanentFailure");
    let codes: Vec<_> = results(&out).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        codes,
        [
            "Succeeded",
            "Succeeded",
            "PermanentFailure",
            "PermanentFailure"
        ],
        "{out}"
    );
    assert!(
        out["results"][2]["resultString"]
            .as_str()
            .unwrap()
            .contains("corrupt.jpg"),
        "{out}"
    );
    assert_eq!(out["results"][3]["resultString"], "no such object");
    for key in [
        "thumbnails/default/red flower.jpg",
        "thumbnails/default/a+b.jpg",
    ] {
        let t = store.get(&Key::new(key).unwrap(), 1 << 20).await.unwrap();
        assert_eq!(dims(&t.bytes), (100, 100), "{key}");
    }

    // Schema 1.0 names the bucket by ARN.
    let mut one = two.clone();
    one["invocationSchemaVersion"] = json!("1.0");
    one["tasks"] = json!([{
        "taskId": "only",
        "s3Key": "originals/red%20flower.jpg",
        "s3VersionId": null,
        "s3BucketArn": format!("arn:aws:s3:::{b}"),
    }]);
    let out = handle(&app, event(one)).await.unwrap();
    assert_eq!(
        results(&out),
        [("only".to_string(), "Succeeded".to_string())],
        "{out}"
    );
    assert_eq!(out["invocationSchemaVersion"], "1.0");

    // Nothing listens on the endpoint: a retry may pass, so it is a temporary failure.
    let dead = "?endpoint=http://127.0.0.1:9&path-style=true";
    let down = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/originals{dead}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{dead}")),
        ("THUMBNAIL_STORE_ATTEMPTS", "1".into()),
        ("THUMBNAIL_STORE_CONNECT_TIMEOUT", "1s".into()),
    ]))
    .await
    .unwrap();
    let out = handle(&down, event(two)).await.unwrap();
    assert!(
        results(&out).iter().all(|(_, c)| c == "TemporaryFailure"),
        "{out}"
    );
}

/// Finding 4: the API keys and signing key come from a Secrets Manager secret named by its
/// ARN, not from the function's environment. A secret with no value yet gives no keys (HTTP
/// stays off); a malformed one stops the function at init with a message that quotes none of
/// it.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_come_from_secrets_manager() {
    let (store, q) = bucket("lambda-secret").await;
    let b = store.bucket().to_string();
    let name = format!("{b}-credentials");
    let secret =
        json!({ "api_keys": ["from-the-secret-0001"], "signing_key": "a-signing-key-from-secret" });
    let arn = secrets_manager(
        "CreateSecret",
        json!({ "Name": name, "SecretString": secret.to_string() }),
    )
    .await["ARN"]
        .as_str()
        .unwrap()
        .to_string();
    let base = |secret: &str| {
        env(vec![
            ("THUMBNAIL_STORE", format!("s3://{b}/originals{q}")),
            ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
            ("THUMBNAIL_CREDENTIALS_SECRET", secret.to_string()),
        ])
    };
    let app = App::new(base(&arn)).await.unwrap();
    let mut get = v2("GET", "/thumbnails/none.jpg", None);
    get["headers"]["authorization"] = json!("Bearer from-the-secret-0001");
    let resp = handle(&app, event(get.clone())).await.unwrap();
    assert_eq!(resp["statusCode"], 404, "{resp}");
    get["headers"]["authorization"] = json!(format!("Bearer {API_KEY}"));
    let resp = handle(&app, event(get)).await.unwrap();
    assert_eq!(resp["statusCode"], 401, "{resp}");

    let empty = secrets_manager("CreateSecret", json!({ "Name": format!("{name}-empty") })).await;
    let app = App::new(base(empty["ARN"].as_str().unwrap()))
        .await
        .unwrap();
    let resp = handle(&app, event(v2("GET", "/thumbnails/x.jpg", None)))
        .await
        .unwrap();
    assert_eq!(resp["statusCode"], 503, "{resp}");

    let bad = json!({ "api_keys": "short-and-secret", "signin_key": "x" }).to_string();
    let bad = secrets_manager(
        "CreateSecret",
        json!({ "Name": format!("{name}-bad"), "SecretString": bad }),
    )
    .await;
    let e = App::new(base(bad["ARN"].as_str().unwrap()))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("THUMBNAIL_CREDENTIALS_SECRET") && e.contains("signin_key"),
        "{e}"
    );
    assert!(!e.contains("short-and-secret"), "{e}");
}

/// One Secrets Manager call on the test server (moto serves it next to S3; scripts/test.sh
/// points the SDK at it with AWS_ENDPOINT_URL_SECRETS_MANAGER).
async fn secrets_manager(action: &str, body: Value) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .expect("AWS_ENDPOINT_URL_SECRETS_MANAGER must name the test server (run scripts/test.sh)");
    let resp = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", format!("secretsmanager.{action}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{action}: {}", resp.status());
    resp.json().await.unwrap()
}

/// Finding 11: a browser page on an allowed origin gets its preflight answered (credentials
/// are not asked of a preflight) and can read the answers; another origin cannot.
#[tokio::test(flavor = "multi_thread")]
async fn browsers_on_allowed_origins_may_call_the_api() {
    let (store, q) = bucket("lambda-cors").await;
    let app = app(
        &store,
        &q,
        vec![("THUMBNAIL_CORS_ORIGINS", "https://app.example.com".into())],
    )
    .await;
    let mut pre = v2("OPTIONS", "/images/cat.jpg", None);
    pre["headers"]
        .as_object_mut()
        .unwrap()
        .remove("authorization");
    pre["headers"]["origin"] = json!("https://app.example.com");
    pre["headers"]["access-control-request-method"] = json!("PUT");
    pre["headers"]["access-control-request-headers"] = json!("authorization,content-type");
    let resp = handle(&app, event(pre.clone())).await.unwrap();
    assert_eq!(resp["statusCode"], 204, "{resp}");
    let h = &resp["headers"];
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert!(
        h["access-control-allow-methods"]
            .as_str()
            .unwrap()
            .contains("PUT")
    );
    assert!(
        h["access-control-allow-headers"]
            .as_str()
            .unwrap()
            .contains("authorization")
    );

    let mut put = v2("PUT", "/images/cat.jpg", Some(&photo()));
    put["headers"]["origin"] = json!("https://app.example.com");
    let resp = handle(&app, event(put)).await.unwrap();
    assert_eq!(resp["statusCode"], 201, "{resp}");
    assert_eq!(
        resp["headers"]["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        resp["headers"]["access-control-expose-headers"]
            .as_str()
            .unwrap()
            .contains("etag")
    );

    pre["headers"]["origin"] = json!("https://evil.example.net");
    let resp = handle(&app, event(pre)).await.unwrap();
    assert_eq!(resp["statusCode"], 403, "{resp}");
    assert!(
        resp["headers"].get("access-control-allow-origin").is_none(),
        "{resp}"
    );
}

/// Issue 14's lifecycle on Lambda: AWS's S3 sample event as an `ObjectRemoved:Delete` removes
/// the deleted original's thumbnails; when the original exists again (uploaded after the
/// deletion, events out of order), they stay.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_original_takes_its_thumbnails_along() {
    let (store, q) = bucket("lambda-removed").await;
    let b = store.bucket().to_string();
    let app = app(&store, &q, vec![]).await;
    for name in ["gone", "back"] {
        let path = format!("/images/{name}.jpg");
        let resp = handle(&app, event(v2("PUT", &path, Some(&photo()))))
            .await
            .unwrap();
        assert_eq!(resp["statusCode"], 201, "{resp}");
    }
    store
        .delete(&Key::new("originals/gone.jpg").unwrap())
        .await
        .unwrap();
    let removal = |key: &str| {
        let mut e = s3_put(&b, key, "");
        e["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
        e["Records"][0]["s3"]["object"]
            .as_object_mut()
            .unwrap()
            .remove("eTag");
        e
    };
    let out = handle(&app, event(removal("originals/gone.jpg")))
        .await
        .unwrap();
    assert_eq!(out["removed"], json!(["originals/gone.jpg"]), "{out}");
    let out = handle(&app, event(removal("originals/back.jpg")))
        .await
        .unwrap();
    assert_eq!(out["removed"], json!([]), "{out}");
    assert!(
        out["skipped"][0].as_str().unwrap().contains("exists again"),
        "{out}"
    );
    let left = thumbnail_testkit::keys(&store).await;
    assert_eq!(
        left,
        [
            "originals/back.jpg",
            "thumbnails/_info/back.jpg.json",
            "thumbnails/default/back.jpg"
        ],
        "{left:?}"
    );
}

/// Issue 14: a size made on request is served until its original is replaced; the upload
/// event of the new version (a direct S3 upload, not through the API) removes it, so no
/// thumbnail of the old picture is ever served for the new one, and the next request makes
/// it from the new original.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_event_removes_the_sizes_of_the_replaced_original() {
    let (store, q) = bucket("lambda-replaced").await;
    let b = store.bucket().to_string();
    let app = app(&store, &q, vec![]).await;
    let resp = handle(&app, event(v2("PUT", "/images/r.jpg", Some(&photo()))))
        .await
        .unwrap();
    assert_eq!(resp["statusCode"], 201, "{resp}");
    let mut get = v2("GET", "/thumbnails/r.jpg", None);
    get["rawQueryString"] = json!("width=90");
    get["queryStringParameters"] = json!({"width": "90"});
    let resp = handle(&app, event(get.clone())).await.unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let old = B64.decode(resp["body"].as_str().unwrap()).unwrap();
    assert_eq!(dims(&old), (90, 60), "width alone: 3:2 like the photo");
    let sized = |keys: &[String]| {
        keys.iter()
            .any(|k| k.starts_with("thumbnails/_sizes/r.jpg/"))
    };
    assert!(sized(&thumbnail_testkit::keys(&store).await));

    // A new picture under the same key, straight into the bucket: 3:4 this time.
    let tall = thumbnail_core::thumbnail(
        &photo(),
        &thumbnail_core::ThumbnailSpec::sized(600, 800),
        &thumbnail_core::Limits::default(),
    )
    .unwrap()
    .bytes;
    let etag = put(&store, "originals/r.jpg", tall).await;
    let out = handle(&app, event(s3_put(&b, "originals/r.jpg", &etag)))
        .await
        .unwrap();
    assert_eq!(out["processed"], json!(["originals/r.jpg"]), "{out}");
    let left = thumbnail_testkit::keys(&store).await;
    assert!(!sized(&left), "the old size is gone: {left:?}");
    let resp = handle(&app, event(get)).await.unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let new = B64.decode(resp["body"].as_str().unwrap()).unwrap();
    assert_eq!(dims(&new), (90, 120), "made from the new original");
}

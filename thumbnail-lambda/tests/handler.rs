//! The handler with real event shapes against the real S3-compatible server: every record,
//! decoded keys, records that are not ours, its own outputs, corrupt images, transient
//! failures, SQS batches, and HTTP events through the shared router.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{
    bucket, dims, env, event, http, http_body, photo, put, s3_event, shared_event, sqs_event,
};
use serde_json::{Value, json};
use thumbnail_lambda::{App, LambdaError, handle};
use thumbnail_storage::{Key, S3Store, Store};

async fn keys(store: &S3Store) -> Vec<String> {
    thumbnail_testkit::keys(store).await
}

/// Originals and thumbnails in ONE bucket, the source being the whole bucket: the function's
/// own outputs arrive as upload events too and must not be processed again.
#[tokio::test(flavor = "multi_thread")]
async fn every_record_decoded_filtered_and_never_looping() {
    let (store, q) = bucket("lambda-same").await;
    let b = store.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        (
            "THUMBNAIL_PRESETS",
            "default=100x100 small=32x24,format=png".into(),
        ),
    ]))
    .await
    .unwrap();
    put(&store, "red flower.jpg", photo()).await;
    put(&store, "a+b.jpg", photo()).await;
    put(&store, "ünï/çødé.jpg", photo()).await;
    put(
        &store,
        "broken.jpg",
        thumbnail_testkit::corpus_file("malformed/corrupt-header.jpg"),
    )
    .await;
    put(&store, "notes.jpg", b"just text".to_vec()).await;

    let payload = s3_event(&[
        ("ObjectCreated:Put", &b, "red+flower.jpg"),
        ("ObjectCreated:Put", &b, "a%2Bb.jpg"),
        (
            "ObjectCreated:CompleteMultipartUpload",
            &b,
            "%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9.jpg",
        ),
        ("ObjectCreated:Put", &b, "broken.jpg"),
        ("ObjectCreated:Put", &b, "notes.jpg"),
        ("ObjectCreated:Put", &b, "thumbnails/default/red+flower.jpg"),
        ("ObjectCreated:Put", "another-bucket", "red+flower.jpg"),
        ("ObjectRemoved:Delete", &b, "red+flower.jpg"),
        ("ObjectCreated:Put", &b, "deleted-since.jpg"),
    ]);
    let out = handle(&app, event(payload.clone())).await.unwrap();
    assert_eq!(
        out["processed"],
        json!(["red flower.jpg", "a+b.jpg", "ünï/çødé.jpg"]),
        "{out}"
    );
    let failed = out["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{out}");
    assert!(
        failed[0].as_str().unwrap().starts_with("broken.jpg: "),
        "{out}"
    );
    assert!(failed[1].as_str().unwrap().contains("unsupported"), "{out}");
    let skipped = out["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 4, "{out}");
    assert!(
        skipped[0].as_str().unwrap().contains("own thumbnails"),
        "{out}"
    );

    let want = [
        "a+b.jpg",
        "broken.jpg",
        "notes.jpg",
        "red flower.jpg",
        "thumbnails/_info/a+b.jpg.json",
        "thumbnails/_info/red flower.jpg.json",
        "thumbnails/_info/ünï%2Fçødé.jpg.json",
        // Not images: recorded as refused, so no request reads them whole again.
        "thumbnails/_refused/broken.jpg.json",
        "thumbnails/_refused/notes.jpg.json",
        "thumbnails/default/a+b.jpg",
        "thumbnails/default/red flower.jpg",
        "thumbnails/default/ünï/çødé.jpg",
        "thumbnails/small/a+b.jpg",
        "thumbnails/small/red flower.jpg",
        "thumbnails/small/ünï/çødé.jpg",
        "ünï/çødé.jpg",
    ];
    assert_eq!(keys(&store).await, want);
    let thumb = store
        .get(
            &Key::new("thumbnails/default/red flower.jpg").unwrap(),
            1 << 20,
        )
        .await
        .unwrap();
    assert_eq!(dims(&thumb.bytes), (100, 100));
    assert_eq!(thumb.meta.content_type.as_deref(), Some("image/jpeg"));
    let small = store
        .get(&Key::new("thumbnails/small/a+b.jpg").unwrap(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(dims(&small.bytes), (32, 24));

    // A retry of the same event writes the same keys: no duplicates.
    handle(&app, event(payload)).await.unwrap();
    assert_eq!(keys(&store).await, want);
}

/// Separate buckets, the source under a prefix: records outside it are skipped.
#[tokio::test(flavor = "multi_thread")]
async fn source_prefix_and_separate_buckets() {
    let (src, q) = bucket("lambda-src").await;
    let (dst, _) = bucket("lambda-dst").await;
    let app = App::new(env(vec![
        (
            "THUMBNAIL_STORE",
            format!("s3://{}/uploads{q}", src.bucket()),
        ),
        (
            "THUMBNAIL_THUMBS",
            format!("s3://{}/thumbs{q}", dst.bucket()),
        ),
    ]))
    .await
    .unwrap();
    put(&src, "uploads/2026/cat.jpg", photo()).await;
    put(&src, "private/dog.jpg", photo()).await;
    put(&src, "uploadsX/eel.jpg", photo()).await;
    let b = src.bucket().to_string();
    let out = handle(
        &app,
        event(s3_event(&[
            ("ObjectCreated:Put", &b, "uploads/2026/cat.jpg"),
            ("ObjectCreated:Put", &b, "private/dog.jpg"),
            ("ObjectCreated:Put", &b, "uploadsX/eel.jpg"),
        ])),
    )
    .await
    .unwrap();
    assert_eq!(out["processed"], json!(["uploads/2026/cat.jpg"]), "{out}");
    assert_eq!(out["skipped"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(
        keys(&dst).await,
        [
            "thumbs/_info/2026%2Fcat.jpg.json",
            "thumbs/default/2026/cat.jpg"
        ]
    );
}

/// Storage that does not answer fails the invocation (Lambda retries it); over SQS, only the
/// affected message comes back.
#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let (src, q) = bucket("lambda-transient").await;
    put(&src, "ok.jpg", photo()).await;
    let b = src.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}{q}")),
        (
            "THUMBNAIL_THUMBS",
            format!("s3://nowhere?endpoint={dead}&path-style=true"),
        ),
        ("THUMBNAIL_STORE_TIMEOUT", "2s".into()),
        ("THUMBNAIL_STORE_ATTEMPTS", "1".into()),
    ]))
    .await
    .unwrap();
    let payload = s3_event(&[
        ("ObjectCreated:Put", &b, "ok.jpg"),
        ("ObjectCreated:Put", &b, "broken.jpg"),
    ]);
    match handle(&app, event(payload)).await {
        Err(LambdaError::Transient { count: 1, keys }) => assert_eq!(keys, "ok.jpg"),
        other => panic!("{other:?}"),
    }

    let good = s3_event(&[("ObjectCreated:Put", &b, "ok.jpg")]).to_string();
    let test_event =
        json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": b}).to_string();
    let out = handle(
        &app,
        event(sqs_event(&[
            ("m-1", good),
            ("m-2", test_event),
            ("m-3", "not json".into()),
        ])),
    )
    .await
    .unwrap();
    // m-1 failed for a reason that may pass; m-3 is not an event at all and goes back too (to
    // the dead-letter queue in the end), instead of being deleted unseen.
    assert_eq!(
        out,
        json!({ "batchItemFailures": [{ "itemIdentifier": "m-1" }, { "itemIdentifier": "m-3" }] })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_batches_of_s3_events() {
    let (store, q) = bucket("lambda-sqs").await;
    let b = store.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/in{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/out{q}")),
    ]))
    .await
    .unwrap();
    put(&store, "in/one.jpg", photo()).await;
    put(&store, "in/two.jpg", photo()).await;
    let out = handle(
        &app,
        event(sqs_event(&[
            (
                "a",
                s3_event(&[("ObjectCreated:Put", &b, "in/one.jpg")]).to_string(),
            ),
            (
                "b",
                s3_event(&[("ObjectCreated:Put", &b, "in/two.jpg")]).to_string(),
            ),
        ])),
    )
    .await
    .unwrap();
    assert_eq!(out, json!({ "batchItemFailures": [] }));
    let mut k = keys(&store).await;
    k.retain(|k| k.starts_with("out/"));
    assert_eq!(
        k,
        [
            "out/_info/one.jpg.json",
            "out/_info/two.jpg.json",
            "out/default/one.jpg",
            "out/default/two.jpg"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_events_share_the_servers_router() {
    let (store, q) = bucket("lambda-http").await;
    let b = store.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/originals{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", "a-lambda-test-key-1".into()),
    ]))
    .await
    .unwrap();

    // Upload and answer in one request.
    let resp = http(
        &app,
        "PUT",
        "/images/cat.jpg",
        Some(&photo()),
        Some("a-lambda-test-key-1"),
    )
    .await;
    assert_eq!(resp["statusCode"], 201, "{resp}");
    assert_eq!(resp["headers"]["content-type"], "image/jpeg");
    assert_eq!(resp["headers"]["x-thumbnail-key"], "default/cat.jpg");
    assert_eq!(dims(&http_body(&resp)), (100, 100));
    assert_eq!(
        keys(&store).await,
        [
            "originals/cat.jpg",
            "thumbnails/_info/cat.jpg.json",
            "thumbnails/default/cat.jpg"
        ]
    );

    // Credentials are checked as on the server.
    let resp = http(&app, "PUT", "/images/dog.jpg", Some(&photo()), None).await;
    assert_eq!(resp["statusCode"], 401, "{resp}");

    // Over the synchronous payload limit: a 413 that names the presigned-upload route.
    // (4.7 MB is already too much: base64 in a JSON event makes it more than 6 MiB.)
    let big = vec![0xFFu8; thumbnail_lambda::MAX_SYNC_BODY as usize + 1];
    let resp = http(
        &app,
        "PUT",
        "/images/big.jpg",
        Some(&big),
        Some("a-lambda-test-key-1"),
    )
    .await;
    assert_eq!(resp["statusCode"], 413, "{resp}");
    let msg: Value = serde_json::from_slice(&http_body(&resp)).unwrap();
    assert_eq!(msg["error"], "body_too_large");
    assert!(
        msg["message"].as_str().unwrap().contains("POST /uploads/"),
        "{msg}"
    );

    // The large-file path: a presigned POST straight to S3, then the S3 event does the rest.
    let resp = http(
        &app,
        "POST",
        "/uploads/big/pano.jpg",
        None,
        Some("a-lambda-test-key-1"),
    )
    .await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let presigned: Value = serde_json::from_slice(&http_body(&resp)).unwrap();
    let status = common::post_form(&presigned, Some("image/jpeg"), photo()).await;
    assert!(status.is_success(), "{status}");
    let out = handle(
        &app,
        event(s3_event(&[(
            "ObjectCreated:Put",
            &b,
            "originals/big/pano.jpg",
        )])),
    )
    .await
    .unwrap();
    assert_eq!(out["processed"], json!(["originals/big/pano.jpg"]), "{out}");

    // Reads of stored thumbnails.
    let resp = http(
        &app,
        "GET",
        "/thumbnails/big/pano.jpg",
        None,
        Some("a-lambda-test-key-1"),
    )
    .await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(dims(&http_body(&resp)), (100, 100));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_is_off_without_credentials() {
    let (store, q) = bucket("lambda-noauth").await;
    let b = store.bucket().to_string();
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/o{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/t{q}")),
    ]))
    .await
    .unwrap();
    let resp = http(&app, "PUT", "/images/cat.jpg", Some(&photo()), None).await;
    assert_eq!(resp["statusCode"], 503, "{resp}");
    let msg: Value = serde_json::from_slice(&http_body(&resp)).unwrap();
    assert!(
        msg["message"]
            .as_str()
            .unwrap()
            .contains("THUMBNAIL_API_KEYS")
    );
    assert!(keys(&store).await.is_empty());
}

/// Sets a header in both header maps of a REST (v1) event, as API Gateway fills both.
fn v1_header(e: &mut Value, name: &str, value: &str) {
    e["headers"][name] = json!(value);
    if e.get("multiValueHeaders").is_some_and(Value::is_object) {
        e["multiValueHeaders"][name] = json!([value]);
    }
}

/// Issue 13, findings 1 and 2: a REST API (v1) event keeps its stage (`testStage`) in the
/// path lambda_http builds, and an HTTP API (v2) with a named stage has it in `rawPath`; both
/// reach the routes. The function-URL sample's placeholder host, and a hostile Host on an ALB
/// event, are 400s, not a panic.
#[tokio::test(flavor = "multi_thread")]
async fn aws_sample_http_events_reach_the_routes() {
    let (store, q) = bucket("lambda-samples").await;
    let b = store.bucket().to_string();
    let key = "a-lambda-test-key-1";
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/originals{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", key.into()),
    ]))
    .await
    .unwrap();

    let mut put = shared_event("go-apigw-request.json");
    assert_eq!(put["requestContext"]["stage"], "testStage");
    put["path"] = json!("/images/stage.jpg");
    put["httpMethod"] = json!("PUT");
    // The sample's `?name=me` is not one of our options.
    put["queryStringParameters"] = json!({});
    put["multiValueQueryStringParameters"] = json!({});
    put["body"] = json!(B64.encode(photo()));
    put["isBase64Encoded"] = json!(true);
    v1_header(&mut put, "Authorization", &format!("Bearer {key}"));
    v1_header(&mut put, "Content-Type", "image/jpeg");
    let resp = handle(&app, event(put)).await.unwrap();
    assert_eq!(resp["statusCode"], 201, "{resp}");
    assert_eq!(dims(&http_body(&resp)), (100, 100));

    let mut get = shared_event("go-apigw-v2-request-no-authorizer.json");
    get["requestContext"]["stage"] = json!("prod");
    get["rawPath"] = json!("/prod/thumbnails/stage.jpg");
    get["requestContext"]["http"]["path"] = json!("/prod/thumbnails/stage.jpg");
    get["headers"]["authorization"] = json!(format!("Bearer {key}"));
    let resp = handle(&app, event(get)).await.unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(dims(&http_body(&resp)), (100, 100));

    let url = shared_event("go-lambda-urls-request.json");
    let resp = handle(&app, event(url)).await.unwrap();
    assert_eq!(resp["statusCode"], 400, "{resp}");
    assert!(
        resp["body"].as_str().unwrap().contains("bad_host"),
        "{resp}"
    );

    let mut alb = shared_event("go-alb-lambda-target-request-headers-only.json");
    alb["headers"]["host"] = json!("evil host/with?junk");
    let resp = handle(&app, event(alb)).await.unwrap();
    assert_eq!(resp["statusCode"], 400, "{resp}");
    assert_eq!(resp["statusDescription"], "400 Bad Request");
}

/// Issue 13, finding 8: a missing bucket (or denied access) is a configuration error, not a
/// missing object: the invocation fails, so Lambda retries it and it reaches the DLQ.
/// Issue 31, item 6: with the CDN's origin secret set (Terraform sets it with CloudFront's
/// origin header), an event that did not come through CloudFront (API Gateway's or the
/// function URL's own address) is a 403 that stores nothing, credentials or not.
#[tokio::test(flavor = "multi_thread")]
async fn behind_cloudfront_the_function_answers_only_cloudfront() {
    const SECRET: &str = "origin-secret-from-terraform-0123456789";
    let (store, q) = bucket("lambda-origin").await;
    let b = store.bucket().to_string();
    let key = "a-lambda-test-key-1";
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/originals{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", key.into()),
        ("THUMBNAIL_ORIGIN_SECRET", SECRET.into()),
    ]))
    .await
    .unwrap();
    let put = |secret: Option<&str>| {
        let mut e = shared_event("go-apigw-v2-request-no-authorizer.json");
        e["rawPath"] = json!("/images/direct.jpg");
        e["requestContext"]["http"]["method"] = json!("PUT");
        e["requestContext"]["http"]["path"] = json!("/images/direct.jpg");
        e["headers"]["authorization"] = json!(format!("Bearer {key}"));
        e["body"] = json!(B64.encode(photo()));
        e["isBase64Encoded"] = json!(true);
        if let Some(v) = secret {
            e["headers"]["x-origin-verify"] = json!(v);
        }
        e
    };
    for secret in [None, Some("origin-secret-from-terraform-012345678")] {
        let resp = handle(&app, event(put(secret))).await.unwrap();
        assert_eq!(resp["statusCode"], 403, "{resp}");
        assert!(
            resp["body"].as_str().unwrap().contains("not_through_cdn"),
            "{resp}"
        );
    }
    assert!(
        keys(&store).await.is_empty(),
        "a refused event stored something"
    );
    let resp = handle(&app, event(put(Some(SECRET)))).await.unwrap();
    assert_eq!(resp["statusCode"], 201, "{resp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_bucket_fails_the_invocation() {
    let (store, q) = bucket("lambda-nobucket").await;
    let b = store.bucket().to_string();
    put(&store, "in/a.jpg", photo()).await;
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/in{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}-does-not-exist/t{q}")),
    ]))
    .await
    .unwrap();
    match handle(
        &app,
        event(s3_event(&[("ObjectCreated:Put", &b, "in/a.jpg")])),
    )
    .await
    {
        Err(LambdaError::Transient { count: 1, keys }) => assert_eq!(keys, "in/a.jpg"),
        other => panic!("{other:?}"),
    }
}

/// Issue 13, finding 11: an S3 event inside an SNS notification is processed; messages that
/// are not S3 events are reported as failed, not deleted.
#[tokio::test(flavor = "multi_thread")]
async fn sqs_messages_from_sns_are_unwrapped_and_strangers_reported() {
    let (store, q) = bucket("lambda-sns").await;
    let b = store.bucket().to_string();
    put(&store, "in/sns.jpg", photo()).await;
    let app = App::new(env(vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/in{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/out{q}")),
    ]))
    .await
    .unwrap();
    let inner = s3_event(&[("ObjectCreated:Put", &b, "in/sns.jpg")]).to_string();
    let sns = json!({
        "Type": "Notification",
        "MessageId": "7d3c6c1e-0000-0000-0000-000000000000",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
        "Subject": "Amazon S3 Notification",
        "Message": inner,
        "Timestamp": "2026-12-02T12:00:00.000Z",
        "SignatureVersion": "1",
    })
    .to_string();
    let out = handle(
        &app,
        event(sqs_event(&[
            ("sns", sns),
            ("other", json!({ "hello": "world" }).to_string()),
        ])),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({ "batchItemFailures": [{ "itemIdentifier": "other" }] })
    );
    assert!(
        keys(&store)
            .await
            .contains(&"out/default/sns.jpg".to_string())
    );
}

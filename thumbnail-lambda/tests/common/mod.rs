//! Events shaped like the real ones (the `aws_lambda_events` fixtures, with our buckets and
//! keys put in) and buckets on the S3-compatible test server.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use thumbnail_lambda::{App, Config, handle};
use thumbnail_storage::{Key, PutOptions, S3Store, Store, Timeouts};

/// The function's configuration from these variables alone (the process environment shut out).
pub fn env(vars: Vec<(&'static str, String)>) -> Config {
    Config::from_lookup(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .unwrap()
}

/// An invocation of `payload`, as the runtime hands it to the handler.
pub fn event(payload: Value) -> LambdaEvent<Value> {
    let mut ctx = Context::default();
    ctx.request_id = "test-request".into();
    LambdaEvent::new(payload, ctx)
}

pub fn template(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// An S3 event with one record per `(event name, bucket, key as S3 encodes it)`.
pub fn s3_event(records: &[(&str, &str, &str)]) -> Value {
    let base = template("s3-put.json");
    let record = base["Records"][0].clone();
    let records: Vec<Value> = records
        .iter()
        .map(|(event, bucket, key)| {
            let mut r = record.clone();
            r["eventName"] = json!(event);
            r["s3"]["bucket"]["name"] = json!(bucket);
            r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
            r["s3"]["object"]["key"] = json!(key);
            r
        })
        .collect();
    let event = json!({ "Records": records });
    // Exactly the shape AWS sends: it parses as the aws_lambda_events type.
    serde_json::from_value::<aws_lambda_events::event::s3::S3Event>(event.clone()).unwrap();
    event
}

/// An SQS event whose messages carry the given bodies.
pub fn sqs_event(bodies: &[(&str, String)]) -> Value {
    let base = template("sqs.json");
    let message = base["Records"][0].clone();
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            let mut m = message.clone();
            m["messageId"] = json!(id);
            m["body"] = json!(body);
            m
        })
        .collect();
    let event = json!({ "Records": records });
    serde_json::from_value::<aws_lambda_events::event::sqs::SqsEvent>(event.clone()).unwrap();
    event
}

/// A bucket on the test server, and the `s3://` URL options that reach it.
pub async fn bucket(tag: &str) -> (S3Store, String) {
    let store = thumbnail_testkit::s3_store(tag, "", Timeouts::default()).await;
    let q = format!(
        "?endpoint={}&path-style=true",
        thumbnail_testkit::s3_endpoint()
    );
    (store, q)
}

pub fn photo() -> Vec<u8> {
    thumbnail_testkit::corpus_file("photos/mate-storm-1920x1280.jpg")
}

pub fn dims(bytes: &[u8]) -> (u32, u32) {
    let i = thumbnail_core::probe(bytes).expect("a decodable image");
    (i.width, i.height)
}

/// One of AWS's own sample events from `../shared/events`, as shipped.
pub fn shared_event(name: &str) -> Value {
    let path = thumbnail_testkit::corpus()
        .parent()
        .expect("the corpus has a parent folder")
        .join("events")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (check out ../shared)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Stores `bytes` under `key`; the ETag S3 gave it, bare.
pub async fn put(store: &S3Store, key: &str, bytes: Vec<u8>) -> String {
    let meta = store
        .put(
            &Key::new(key).unwrap(),
            bytes::Bytes::from(bytes),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    meta.etag.unwrap().trim_matches('"').to_string()
}

/// Uploads `file` with the form `POST /uploads/{key}` answered (`presigned`), as a browser
/// would, declaring `content_type` where the policy leaves the type to the form.
pub async fn post_form(
    presigned: &Value,
    content_type: Option<&str>,
    file: Vec<u8>,
) -> reqwest::StatusCode {
    let url = presigned["url"].as_str().unwrap().to_string();
    let mut fields: Vec<(String, String)> = presigned["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    if let Some(ct) = content_type {
        fields.retain(|(k, _)| k != "Content-Type");
        fields.push(("Content-Type".into(), ct.into()));
    }
    let (form_type, body) = thumbnail_testkit::form(&fields, &file);
    tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .header("content-type", form_type)
            .body(body)
            .send()
            .unwrap()
            .status()
    })
    .await
    .unwrap()
}

/// An HTTP API (v2) event for `method path`, with `key` as a bearer token.
pub fn http_event(method: &str, path: &str, body: Option<&[u8]>, key: Option<&str>) -> Value {
    let mut e = template("apigw-v2.json");
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!("");
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    if let Some(k) = key {
        e["headers"]["authorization"] = json!(format!("Bearer {k}"));
    }
    match body {
        Some(b) => {
            e["headers"]["content-type"] = json!("image/jpeg");
            e["headers"]["content-length"] = json!(b.len().to_string());
            e["body"] = json!(B64.encode(b));
            e["isBase64Encoded"] = json!(true);
        }
        None => {
            e["headers"]["content-length"] = json!("0");
        }
    }
    e
}

/// One HTTP request through the handler, as API Gateway would deliver it.
pub async fn http(
    app: &App,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    key: Option<&str>,
) -> Value {
    handle(app, event(http_event(method, path, body, key)))
        .await
        .unwrap()
}

/// The body of an HTTP answer, base64 or not.
pub fn http_body(resp: &Value) -> Vec<u8> {
    let body = resp["body"].as_str().unwrap_or("");
    if resp["isBase64Encoded"] == json!(true) {
        B64.decode(body).unwrap()
    } else {
        body.as_bytes().to_vec()
    }
}

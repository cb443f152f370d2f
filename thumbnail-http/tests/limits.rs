//! What the API refuses and how: bad requests, slow clients, deadlines, overload, storage
//! down, bodies over the limit; always a JSON error, never a hang.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use thumbnail_storage::{S3Config, S3Store, Store, Timeouts};

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_json_4xx() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_dimension = 1000;
    setup.config.max_body_bytes = 2_000_000;
    setup.limits.max_pixels = 10_000_000;
    let s = setup.start().await;
    let post = |q: &str, body: Vec<u8>| {
        s.http
            .post(s.url(&format!("/thumbnail{q}")))
            .body(body)
            .send()
    };
    let cases: [(&str, Vec<u8>, StatusCode, &str); 9] = [
        (
            "?colour=red",
            photo(),
            StatusCode::BAD_REQUEST,
            "invalid_spec",
        ),
        (
            "?size=0x10",
            photo(),
            StatusCode::BAD_REQUEST,
            "invalid_spec",
        ),
        (
            "?size=2000x10",
            photo(),
            StatusCode::BAD_REQUEST,
            "invalid_spec",
        ),
        (
            "?quality=101",
            photo(),
            StatusCode::BAD_REQUEST,
            "invalid_spec",
        ),
        (
            "?fit=squash",
            photo(),
            StatusCode::BAD_REQUEST,
            "invalid_spec",
        ),
        (
            "",
            thumbnail_testkit::corpus_file("malformed/crafted-renamed-text-readme.jpg"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_format",
        ),
        (
            "",
            thumbnail_testkit::corpus_file("malformed/corrupt-header.jpg"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "corrupt_image",
        ),
        (
            "",
            thumbnail_testkit::corpus_file("malformed/crafted-bomb-sof0-65500x65500.jpg"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_pixels",
        ),
        (
            "",
            Vec::new(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_format",
        ),
    ];
    for (q, body, status, code) in cases {
        let resp = post(q, body).await.unwrap();
        let v = json_error(resp, status, code).await;
        if code == "too_many_pixels" {
            assert!(
                v["message"].as_str().unwrap().contains("10000000"),
                "the message names the limit: {v}"
            );
        }
    }
    // Over the body limit: declared (Content-Length) and streamed without a length.
    // The server answers from the header and closes; a client still writing the body may see
    // the close before the answer (a loaded machine), which is the same refusal.
    match post("", vec![0xFF; 2_000_001]).await {
        Ok(resp) => {
            json_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
        }
        Err(e) => assert!(format!("{e:?}").contains("BodyWrite"), "{e:?}"),
    }
    let chunks = (0..40).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![0xFFu8; 100_000])));
    let resp = s
        .http
        .put(s.url("/images/big.jpg"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    json_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // Keys that would escape or are not keys; unknown routes.
    for bad in [
        "/images/a%00b.jpg",
        "/images/a//b.jpg",
        "/images/a/%2E%2E%2Fb.jpg",
    ] {
        let resp = s.put(bad, photo()).await;
        json_error(resp, StatusCode::BAD_REQUEST, "invalid_key").await;
    }
    let resp = s.get("/nothing/here").await;
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Nothing was stored by any failed upload.
    assert!(s.originals.list("").await.unwrap().is_empty());
    assert!(s.thumbs.list("").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_and_deadlines() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.read_timeout = Duration::from_millis(300);
    setup.config.request_timeout = Duration::from_secs(1);
    let s = setup.start().await;
    let data = photo();
    let (head, tail) = data.split_at(1000);

    // A client that stops sending mid-body: 408.
    let resp = s
        .http
        .put(s.url("/images/slow.jpg"))
        .body(slow_body(
            head.to_vec(),
            Duration::from_secs(3),
            tail.to_vec(),
        ))
        .send()
        .await
        .unwrap();
    json_error(resp, StatusCode::REQUEST_TIMEOUT, "read_timeout").await;

    // A client that trickles (each pause under the read timeout) past the deadline: 504.
    let chunks = data.chunks(50).map(|c| c.to_vec()).collect::<Vec<_>>();
    let stream = futures::stream::unfold(chunks.into_iter(), |mut it| async move {
        let c = it.next()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(c)), it))
    });
    let resp = s
        .put("/images/trickle.jpg", reqwest::Body::wrap_stream(stream))
        .await;
    json_error(resp, StatusCode::GATEWAY_TIMEOUT, "timeout").await;
    assert!(
        s.originals.list("").await.unwrap().is_empty(),
        "nothing half-stored"
    );

    // The server is fine afterwards.
    let resp = s.put("/images/ok.jpg", data.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread")]
async fn overload_is_503_with_retry_after() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_jobs = 1;
    setup.config.max_queue = 1;
    let s = Arc::new(setup.start().await);
    // Slow work (a 100-scan progressive JPEG at a large size), not slow bodies: bodies are
    // read before a slot is taken.
    let slow = Bytes::from(thumbnail_testkit::hostile::cpu_bomb());
    let hold = |s: Arc<Server>| {
        let body = slow.clone();
        tokio::spawn(async move { s.post("/thumbnail?size=1500x1500", body).await.status() })
    };
    let first = hold(s.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = hold(s.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let resp = s.post("/thumbnail", photo()).await;
    assert_eq!(header(&resp, "retry-after"), "1");
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;

    // Admitted work is not lost: both finish.
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(queued.await.unwrap(), StatusCode::OK);

    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("thumbnail_rejections_total{reason=\"overloaded\"} 1"),
        "{metrics}"
    );
}

/// The queue counter comes down however a wait ends: requests that time out while waiting
/// leave the gauge at 0 and the queue serving again.
#[tokio::test(flavor = "multi_thread")]
async fn waiters_that_time_out_leave_the_queue() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_jobs = 1;
    setup.config.max_queue = 3;
    setup.config.request_timeout = Duration::from_millis(1500);
    let s = Arc::new(setup.start().await);
    let slow = Bytes::from(thumbnail_testkit::hostile::cpu_bomb());
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let (s, body) = (s.clone(), slow.clone());
        waiting.push(tokio::spawn(async move {
            s.post("/thumbnail?size=1500x1500", body).await.status()
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for w in waiting {
        assert_eq!(w.await.unwrap(), StatusCode::GATEWAY_TIMEOUT);
    }
    // Four rounds of three waiters timing out would fill the queue for good if any stayed
    // counted.
    for _ in 0..3 {
        let mut round = Vec::new();
        for _ in 0..3 {
            let (s, body) = (s.clone(), slow.clone());
            round.push(tokio::spawn(async move {
                s.post("/thumbnail?size=1500x1500", body).await.status()
            }));
        }
        for r in round {
            r.await.unwrap();
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = s.get("/metrics").await.text().await.unwrap();
        if metrics.contains("thumbnail_jobs_waiting 0")
            && metrics.contains("thumbnail_jobs_running 0")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = s.post("/thumbnail", photo()).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_down_is_503_and_not_ready() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let timeouts = Timeouts {
        connect: Duration::from_millis(300),
        operation: Duration::from_secs(2),
        attempts: 1,
    };
    let dead = |bucket: &str| {
        S3Store::new(S3Config {
            bucket: bucket.into(),
            prefix: String::new(),
            region: Some("us-east-1".into()),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            path_style: true,
            timeouts,
        })
    };
    let originals: Arc<dyn Store> = Arc::new(dead("gone").await.unwrap());
    let thumbs: Arc<dyn Store> = Arc::new(dead("gone-too").await.unwrap());
    let s = serve(originals, thumbs, None, Setup::new(Kind::S3)).await;
    let resp = s.get("/readyz").await;
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable").await;
    let resp = s.put("/images/x.jpg", photo()).await;
    assert!(resp.headers().contains_key("retry-after"));
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable").await;
    let resp = s.get("/healthz").await;
    assert_eq!(resp.status(), StatusCode::OK, "alive, just not ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_413_names_the_upload_route_when_asked() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_body_bytes = 1000;
    setup.config.large_upload_hint = true;
    let s = setup.start().await;
    let resp = s.put("/images/x.jpg", photo()).await;
    let v = json_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    assert!(v["message"].as_str().unwrap().contains("/uploads/"), "{v}");
}

/// Issue 31, item 10: every error is JSON, whoever makes it (a method the route does not
/// take, a request head over the limits, a path that is not UTF-8), every answer is
/// `nosniff`, and keys that read as other keys (bidi overrides, zero-width) are refused.
#[tokio::test(flavor = "multi_thread")]
async fn every_error_is_json_and_nothing_is_sniffed() {
    let s = Setup::new(Kind::Memory).start().await;
    let resp = s.http.patch(s.url("/images/a.jpg")).send().await.unwrap();
    json_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let long = format!("/thumbnails/{}.jpg", "a".repeat(9000));
    json_error(s.get(&long).await, StatusCode::URI_TOO_LONG, "uri_too_long").await;
    let mut many = s.http.get(s.url("/healthz"));
    for i in 0..80 {
        many = many.header(format!("x-filler-{i}"), "x");
    }
    let resp = many.send().await.unwrap();
    json_error(
        resp,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    )
    .await;
    let resp = s.get("/images/%FF%FE.jpg").await;
    let v = json_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(!v["message"].as_str().unwrap().contains('/'), "{v}");
    let resp = s.get("/nowhere").await;
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    for key in [
        "photo%E2%80%AEgpj.exe",
        "cat%E2%80%8B.jpg",
        "a%E2%81%A6b.jpg",
    ] {
        let resp = s.put(&format!("/images/{key}"), photo()).await;
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        json_error(resp, StatusCode::BAD_REQUEST, "invalid_key").await;
    }
    assert!(s.originals.list("").await.unwrap().is_empty());
    let resp = s.put("/images/ok.jpg", photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
}

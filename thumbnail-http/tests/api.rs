//! The HTTP API over real HTTP: the router served on an ephemeral port, driven by reqwest,
//! with memory, local-folder and S3 (the real S3-compatible test server) stores.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;
use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use thumbnail_core::{InputFormat, Limits};
use thumbnail_http::{AppState, Auth, HttpConfig, router, sign};
use thumbnail_storage::{
    Key, ObjectStoreBackend, PutOptions, S3Config, S3Store, Store, Thumbnailer, Timeouts,
    parse_presets,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Memory,
    Local,
    S3,
}

struct Server {
    base: String,
    http: reqwest::Client,
    originals: Arc<dyn Store>,
    thumbs: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

struct Setup {
    kind: Kind,
    config: HttpConfig,
    auth: Auth,
    presets: &'static str,
    limits: Limits,
}

impl Setup {
    fn new(kind: Kind) -> Self {
        Setup {
            kind,
            config: HttpConfig::default(),
            auth: Auth::default(),
            presets: "default=100x100",
            limits: Limits::default(),
        }
    }

    async fn start(self) -> Server {
        let (originals, thumbs, dir): (Arc<dyn Store>, Arc<dyn Store>, _) = match self.kind {
            Kind::Memory => (
                Arc::new(ObjectStoreBackend::memory()),
                Arc::new(ObjectStoreBackend::memory()),
                None,
            ),
            Kind::Local => {
                let dir = tempfile::tempdir().unwrap();
                (
                    Arc::new(ObjectStoreBackend::local(&dir.path().join("originals")).unwrap()),
                    Arc::new(ObjectStoreBackend::local(&dir.path().join("thumbs")).unwrap()),
                    Some(dir),
                )
            }
            Kind::S3 => (
                Arc::new(thumbnail_testkit::s3_store("api-orig", "up", Timeouts::default()).await),
                Arc::new(thumbnail_testkit::s3_store("api-thumb", "", Timeouts::default()).await),
                None,
            ),
        };
        serve(originals, thumbs, dir, self).await
    }
}

async fn serve(
    originals: Arc<dyn Store>,
    thumbs: Arc<dyn Store>,
    dir: Option<tempfile::TempDir>,
    setup: Setup,
) -> Server {
    let mut thumbnailer = Thumbnailer::new(
        originals.clone(),
        thumbs.clone(),
        parse_presets(setup.presets).unwrap(),
    );
    thumbnailer.limits = setup.limits;
    // As `thumbnail serve` does: thumbnails at the root of a store of their own, or under
    // `thumbnails/` when they share the originals' store.
    if originals.url() != thumbs.url() {
        thumbnailer.prefix = String::new();
    }
    let state = AppState::new(originals.clone(), thumbnailer, setup.config, setup.auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Server {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        originals,
        thumbs,
        _dir: dir,
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    async fn put(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

fn photo() -> Vec<u8> {
    thumbnail_testkit::corpus_file("photos/mate-storm-1920x1280.jpg")
}

fn png_alpha() -> Vec<u8> {
    let dir = thumbnail_testkit::corpus().join("conformance/png");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    let path = names
        .into_iter()
        .find(|p| {
            let d = std::fs::read(p).unwrap();
            thumbnail_core::probe(&d).is_ok_and(|i| i.has_alpha && i.width >= 100)
        })
        .expect("a PNG with alpha in the corpus");
    std::fs::read(path).unwrap()
}

/// Width, height and format of an encoded image.
fn dims(bytes: &[u8]) -> (u32, u32, InputFormat) {
    let i = thumbnail_core::probe(bytes).expect("a decodable image");
    (i.width, i.height, i.format)
}

async fn json_error(resp: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(resp.status(), status);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    v
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

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
        .get(s.url("/thumbnails/default/trips/red%20flower.jpg"))
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
    assert!(extra_key.ends_with("/a.png"), "{extra_key}");
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (120, 80, InputFormat::WebP)
    );
    let resp = s.get(&format!("/thumbnails/{extra_key}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (120, 80, InputFormat::WebP)
    );
    let resp = s.get("/thumbnails/small/a.png").await;
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
    let resp = s.get("/thumbnails/small/later/b.jpg").await;
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

/// A body that sends `first` then goes quiet for `pause` before the rest.
fn slow_body(first: Vec<u8>, pause: Duration, rest: Vec<u8>) -> reqwest::Body {
    let stream = futures::stream::unfold(0u8, move |step| {
        let (first, rest) = (first.clone(), rest.clone());
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(Bytes::from(first)), 1)),
                1 => {
                    tokio::time::sleep(pause).await;
                    Some((Ok(Bytes::from(rest)), 2))
                }
                _ => None,
            }
        }
    });
    reqwest::Body::wrap_stream(stream)
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
    setup.config.read_timeout = Duration::from_secs(5);
    let s = Arc::new(setup.start().await);
    let data = photo();
    let (head, tail) = data.split_at(1000);

    // One job holds the only slot while its body arrives slowly; one more waits in the queue.
    let hold = |s: Arc<Server>, key: &'static str| {
        let body = slow_body(head.to_vec(), Duration::from_millis(1500), tail.to_vec());
        tokio::spawn(async move { s.put(&format!("/images/{key}"), body).await.status() })
    };
    let first = hold(s.clone(), "first.jpg");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = hold(s.clone(), "queued.jpg");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let resp = s.post("/thumbnail", data.clone()).await;
    assert_eq!(header(&resp, "retry-after"), "1");
    json_error(resp, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;

    // Admitted work is not lost: both finish.
    assert_eq!(first.await.unwrap(), StatusCode::CREATED);
    assert_eq!(queued.await.unwrap(), StatusCode::CREATED);

    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("thumbnail_rejections_total{reason=\"overloaded\"} 1"),
        "{metrics}"
    );
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_guard_writes_and_private_reads() {
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.api_keys = vec!["k-one".into(), "k-two".into()];
    let s = setup.start().await;
    let put = |auth: Option<&str>| {
        let mut r = s.http.put(s.url("/images/p.jpg")).body(photo());
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let resp = put(None).await.unwrap();
    assert!(header(&resp, "www-authenticate").starts_with("Bearer"));
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = put(Some("Bearer k-three")).await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = put(Some("Bearer k-on")).await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(s.originals.list("").await.unwrap().is_empty());
    assert_eq!(
        put(Some("Bearer k-two")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put(Some("bearer k-one")).await.unwrap().status(),
        StatusCode::CREATED
    );

    // Reads are private unless the server says otherwise.
    let resp = s.get("/thumbnails/p.jpg").await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s.post("/thumbnail", photo()).await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s
        .http
        .get(s.url("/thumbnails/p.jpg"))
        .bearer_auth("k-one")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Health needs no key (load balancers call it).
    let resp = s.get("/healthz").await;
    assert_eq!(resp.status(), StatusCode::OK);

    let mut public = Setup::new(Kind::Memory);
    public.auth.api_keys = vec!["k".into()];
    public.auth.public_reads = true;
    let s = public.start().await;
    let resp = s
        .http
        .put(s.url("/images/p.jpg"))
        .bearer_auth("k")
        .body(photo())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = s.get("/thumbnails/p.jpg").await;
    assert_eq!(resp.status(), StatusCode::OK, "public reads");
    let resp = s.put("/images/q.jpg", photo()).await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_urls_expire_and_resist_tampering() {
    let key = b"signing secret";
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.signing_key = Some(key.to_vec());
    let s = setup.start().await;
    let later = unix_now() + 600;

    let put = sign(key, &Method::PUT, "/images/s.jpg", "size=50x50", later);
    let resp = s.put(&put, photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (50, 50, InputFormat::Jpeg)
    );

    let get = sign(key, &Method::GET, "/thumbnails/s.jpg", "", later);
    let resp = s.get(&get).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let tampered = [
        put.replace("size=50x50", "size=900x900"),
        put.replace("/images/s.jpg", "/images/t.jpg"),
        put.replace(
            &format!("expires={later}"),
            &format!("expires={}", later + 1),
        ),
        // The last hex digit changed (to one it is not, or 1 time in 16 nothing changes).
        format!(
            "{}{}",
            &put[..put.len() - 1],
            if put.ends_with('0') { '1' } else { '0' }
        ),
        put.replace("&signature=", "&signature=zz"),
    ];
    for url in tampered {
        let resp = s.put(&url, photo()).await;
        json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // A GET signature does not allow a PUT.
    let as_put = sign(key, &Method::GET, "/images/s.jpg", "", later);
    let resp = s.put(&as_put, photo()).await;
    json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // Expired.
    let old = sign(key, &Method::GET, "/thumbnails/s.jpg", "", unix_now() - 1);
    let resp = s.get(&old).await;
    let v = json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(v["message"].as_str().unwrap().contains("expired"));
    // Signed with another key.
    let other = sign(b"another", &Method::GET, "/thumbnails/s.jpg", "", later);
    let resp = s.get(&other).await;
    json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // No credentials at all.
    let resp = s.get("/thumbnails/s.jpg").await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_uploads_go_straight_to_s3() {
    let s = Setup::new(Kind::S3).start().await;
    let resp = s
        .http
        .post(s.url("/uploads/big/huge.jpg?content_type=image/jpeg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["key"], "big/huge.jpg");
    assert_eq!(v["expires_in"], 900);
    let url = v["url"].as_str().unwrap();
    let mut req = s.http.put(url).body(photo());
    for (k, val) in v["headers"].as_object().unwrap() {
        req = req.header(k.as_str(), val.as_str().unwrap());
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    let got = s
        .originals
        .get(&Key::new("big/huge.jpg").unwrap(), 1 << 30)
        .await
        .unwrap();
    assert_eq!(got.bytes, Bytes::from(photo()));
    // Its thumbnail is then made on first request.
    let resp = s.get("/thumbnails/big/huge.jpg").await;
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (100, 100, InputFormat::Jpeg)
    );

    // Stores without presigning say so.
    let m = Setup::new(Kind::Memory).start().await;
    let resp = m.http.post(m.url("/uploads/x.jpg")).send().await.unwrap();
    json_error(resp, StatusCode::NOT_IMPLEMENTED, "not_supported").await;
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
        ["a.jpg", "thumbnails/default/a.jpg"]
    );
}

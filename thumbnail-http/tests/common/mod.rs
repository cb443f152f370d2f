//! Shared by the HTTP API tests: the router served on an ephemeral port, driven by reqwest,
//! with memory, local-folder and S3 (the real S3-compatible test server) stores.
#![allow(dead_code)]

pub use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use thumbnail_core::{InputFormat, Limits};
use thumbnail_http::{AppState, Auth, HttpConfig, router};
use thumbnail_storage::{ObjectStoreBackend, Store, Thumbnailer, Timeouts, parse_presets};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Memory,
    Local,
    S3,
}

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub originals: Arc<dyn Store>,
    pub thumbs: Arc<dyn Store>,
    pub _dir: Option<tempfile::TempDir>,
}

pub struct Setup {
    pub kind: Kind,
    pub config: HttpConfig,
    pub auth: Auth,
    pub presets: &'static str,
    pub limits: Limits,
}

impl Setup {
    pub fn new(kind: Kind) -> Self {
        Setup {
            kind,
            config: HttpConfig::default(),
            auth: Auth::default(),
            presets: "default=100x100",
            limits: Limits::default(),
        }
    }

    pub async fn start(self) -> Server {
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

pub async fn serve(
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
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn put(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

pub fn photo() -> Vec<u8> {
    thumbnail_testkit::corpus_file("photos/mate-storm-1920x1280.jpg")
}

pub fn png_alpha() -> Vec<u8> {
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
pub fn dims(bytes: &[u8]) -> (u32, u32, InputFormat) {
    let i = thumbnail_core::probe(bytes).expect("a decodable image");
    (i.width, i.height, i.format)
}

pub async fn json_error(resp: reqwest::Response, status: StatusCode, code: &str) -> Value {
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

pub fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// A body that sends `first` then goes quiet for `pause` before the rest.
pub fn slow_body(first: Vec<u8>, pause: Duration, rest: Vec<u8>) -> reqwest::Body {
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

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How many thumbnails the server has made (the render stage's count in `/metrics`).
pub async fn renders(s: &Server) -> u64 {
    let text = s.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("thumbnail_stage_duration_seconds_count{stage=\"render\"} "))
        .map_or(0, |n| n.parse().unwrap())
}

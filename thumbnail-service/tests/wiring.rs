//! The service as `thumbnail serve` and the Lambda wire it ([`Service::build`] from settings
//! read by name), answering over real HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::Method;
use thumbnail_core::{InputFormat, probe};
use thumbnail_service::{Config, Profile, Service};

const KEY: &str = "a signing key of some length";

/// Starts the service on 127.0.0.1 from `vars` (environment-variable names and values).
async fn start(vars: &'static [(&'static str, &'static str)]) -> String {
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let service = Service::build(&config, Profile::Server).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = thumbnail_http::router(service.state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// POSTs the corpus photo to `url`.
async fn post_photo(url: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .body(photo())
        .send()
        .await
        .unwrap()
}

fn later() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600
}

/// A landscape photo from the corpus.
fn photo() -> Vec<u8> {
    thumbnail_testkit::corpus_file("photos/kodak-dc240-640x480.jpg")
}

/// RGB(A) pixels of a PNG, with its width and channel count.
fn pixels(png_bytes: &[u8]) -> (Vec<u8>, usize, usize) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    buf.truncate(frame.buffer_size());
    (buf, frame.width as usize, frame.color_type.samples())
}

fn is_red(px: &[u8]) -> bool {
    px[0] > 240 && px[1] < 16 && px[2] < 16
}

/// A signed URL whose query has no `size` or `width` (both sort after `signature`) keeps every
/// option: format, fit, gravity, background, quality, progressive and chroma all reach the
/// engine, through the one parser, on a stored PUT and on a stateless POST alike.
#[tokio::test(flavor = "multi_thread")]
async fn a_signed_url_keeps_every_option() {
    let base = start(&[
        ("THUMBNAIL_STORE", "memory://"),
        ("THUMBNAIL_THUMBS", "memory://"),
        ("THUMBNAIL_SIGNING_KEY", KEY),
    ])
    .await;
    let http = reqwest::Client::new();
    let options = "format=png&fit=contain&gravity=north&background=%23ff0000&quality=50\
                   &progressive=false&chroma=444&height=90&width=100";
    for (method, path) in [(Method::PUT, "/images/a.jpg"), (Method::POST, "/thumbnail")] {
        let url = thumbnail_http::sign(KEY.as_bytes(), &method, path, options, later());
        let resp = http
            .request(method.clone(), format!("{base}{url}"))
            .body(photo())
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{method} {url}: {}",
            resp.status()
        );
        assert_eq!(resp.headers()["content-type"], "image/png", "{method}");
        let body = resp.bytes().await.unwrap();
        let info = probe(&body).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (InputFormat::Png, 100, 90)
        );
        // contain + north: the photo at the top, the red background below it.
        let (px, width, channels) = pixels(&body);
        let at = |x: usize, y: usize| &px[(y * width + x) * channels..][..3];
        assert!(!is_red(at(50, 2)), "{method}: top should be the photo");
        assert!(
            is_red(at(50, 88)),
            "{method}: bottom should be the red padding"
        );
    }
    // Unsigned, the same request is refused; an unknown option is a 400 even when signed.
    let resp = post_photo(format!("{base}/thumbnail?{options}")).await;
    assert_eq!(resp.status(), 401);
    let url = thumbnail_http::sign(
        KEY.as_bytes(),
        &Method::POST,
        "/thumbnail",
        "zoom=2",
        later(),
    );
    let resp = post_photo(format!("{base}{url}")).await;
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(text.contains("zoom"), "{text}");
}

/// The settings a Lambda and a server share are read by the same names: a server wired from
/// the Lambda's variables applies its limits.
#[tokio::test(flavor = "multi_thread")]
async fn limits_and_presets_come_from_their_variables() {
    let base = start(&[
        ("THUMBNAIL_STORE", "memory://"),
        ("THUMBNAIL_THUMBS", "memory://"),
        ("THUMBNAIL_PRESETS", "default=40x30,format=webp"),
        ("THUMBNAIL_MAX_PIXELS", "1000"),
    ])
    .await;
    let resp = post_photo(format!("{base}/thumbnail")).await;
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.unwrap();
    assert!(text.contains("too_many_pixels"), "{text}");
    let base = start(&[
        ("THUMBNAIL_STORE", "memory://"),
        ("THUMBNAIL_THUMBS", "memory://"),
        ("THUMBNAIL_PRESETS", "default=40x30,format=webp"),
    ])
    .await;
    let resp = post_photo(format!("{base}/thumbnail")).await;
    let info = probe(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (InputFormat::WebP, 40, 30)
    );
}

/// Short or empty keys are refused when the service is built, naming the setting: the same
/// check for `thumbnail serve` and the Lambda.
#[tokio::test(flavor = "multi_thread")]
async fn short_keys_are_refused_by_name() {
    for (var, value) in [
        ("THUMBNAIL_API_KEYS", "k1"),
        ("THUMBNAIL_API_KEYS", "0123456789abcdef,short"),
        ("THUMBNAIL_SIGNING_KEY", ""),
        ("THUMBNAIL_SIGNING_KEY", "fifteen-bytes.."),
    ] {
        let config = Config::from_lookup(|k| match k {
            "THUMBNAIL_STORE" | "THUMBNAIL_THUMBS" => Some("memory://".to_string()),
            k if k == var => Some(value.to_string()),
            _ => None,
        })
        .unwrap();
        for profile in [Profile::Server, Profile::Lambda] {
            let e = Service::build(&config, profile)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(var) && e.contains("16"),
                "{var}={value:?}: {e}"
            );
        }
    }
}

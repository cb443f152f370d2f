//! End to end through the Lambda runtime API: `cargo lambda watch` emulates the Lambda
//! service, the real `bootstrap` binary polls it, and the S3 event is the one the S3-compatible
//! server itself delivers to an SQS queue when the original is uploaded. Also: HTTP through the
//! emulated function URL, the JSON logs, and peak memory for 12 and 50 megapixel photos.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{bucket, dims, photo};
use serde_json::{Value, json};
use thumbnail_core::{Fit, ThumbnailSpec};
use thumbnail_storage::{Key, PutOptions, Store};

const HOW_WATCH: &str =
    "cargo-lambda is needed: `pip install cargo-lambda` (scripts/test.sh installs it)";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited early: {status}; {HOW_WATCH}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The emulated Lambda service, and our function attached to it.
struct Lambda {
    watch: Child,
    function: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Lambda {
    fn start(env: &[(&str, String)]) -> Lambda {
        let port = free_port();
        let mut watch = Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run cargo lambda: {e}; {HOW_WATCH}"));
        wait_for_port(port, &mut watch, "cargo lambda watch");
        let log = tempfile::NamedTempFile::new().unwrap();
        let function = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        Lambda {
            watch,
            function,
            port,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A synchronous invocation, as `aws lambda invoke` does it.
    fn invoke(&self, payload: &Value) -> Value {
        let resp = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
            .post(self.url("/2015-03-31/functions/_/invocations"))
            .json(payload)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{:?}", resp.text());
        resp.json().unwrap()
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        self.log.reopen().unwrap().read_to_string(&mut s).unwrap();
        s
    }

    /// Peak resident memory of the function process, in bytes.
    fn peak_rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.function.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.function.kill();
        let _ = self.function.wait();
        let _ = self.watch.kill();
        let _ = self.watch.wait();
    }
}

fn python(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_sqs.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn function_env(b: &str, q: &str) -> Vec<(&'static str, String)> {
    vec![
        ("THUMBNAIL_STORE", format!("s3://{b}/uploads{q}")),
        ("THUMBNAIL_THUMBS", format!("s3://{b}/thumbnails{q}")),
        ("THUMBNAIL_API_KEYS", "an-end-to-end-test-key".into()),
    ]
}

#[test]
fn upload_event_lambda_thumbnail_chain() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (store, q) = rt.block_on(bucket("e2e"));
    let b = store.bucket().to_string();
    let endpoint = thumbnail_testkit::s3_endpoint();
    let queue = format!("q-{b}");
    python(&["notify", &endpoint, &b, &queue]);
    let lambda = Lambda::start(&function_env(&b, &q));

    // The user uploads; the S3 server sends its event to the queue.
    rt.block_on(store.put(
        &Key::new("uploads/red flower.jpg").unwrap(),
        Bytes::from(photo()),
        &PutOptions::default(),
    ))
    .unwrap();
    let messages: Value =
        serde_json::from_str(&python(&["receive", &endpoint, &queue, "1"])).unwrap();
    let s3_event: Value = serde_json::from_str(messages[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(s3_event["Records"][0]["eventSource"], "aws:s3");

    // Delivered as an S3 event...
    let out = lambda.invoke(&s3_event);
    assert_eq!(out["processed"], json!(["uploads/red flower.jpg"]), "{out}");
    let thumb = rt
        .block_on(store.get(
            &Key::new("thumbnails/default/red flower.jpg").unwrap(),
            1 << 20,
        ))
        .unwrap();
    assert_eq!(dims(&thumb.bytes), (100, 100));

    // ...and as the SQS event Lambda's queue trigger makes of the queue's messages: the second
    // upload's, and the one the S3 server sent for the thumbnail just written (the whole bucket
    // notifies), which the function must skip rather than loop on.
    rt.block_on(store.put(
        &Key::new("uploads/second.jpg").unwrap(),
        Bytes::from(photo()),
        &PutOptions::default(),
    ))
    .unwrap();
    let messages: Value =
        serde_json::from_str(&python(&["receive", &endpoint, &queue, "2"])).unwrap();
    let bodies: Vec<(&str, String)> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["messageId"].as_str().unwrap(),
                m["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        bodies.iter().any(|(_, b)| b.contains("thumbnails")),
        "{messages}"
    );
    assert_eq!(
        lambda.invoke(&common::sqs_event(&bodies)),
        json!({ "batchItemFailures": [] })
    );
    assert!(
        rt.block_on(store.exists(&Key::new("thumbnails/default/second.jpg").unwrap()))
            .unwrap(),
        "{}",
        lambda.logs()
    );
    let written = rt.block_on(store.list("thumbnails/default")).unwrap();
    assert_eq!(written.len(), 2, "no thumbnail of a thumbnail: {written:?}");

    // HTTP through the emulated function URL: upload and thumbnail in one request.
    let client = reqwest::blocking::Client::new();
    let resp = client
        .put(lambda.url("/lambda-url/_/images/cat.jpg"))
        .bearer_auth("an-end-to-end-test-key")
        .header("content-type", "image/jpeg")
        .body(photo())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-thumbnail-key"], "default/cat.jpg");
    assert_eq!(dims(&resp.bytes().unwrap()), (100, 100));
    assert!(
        rt.block_on(store.exists(&Key::new("uploads/cat.jpg").unwrap()))
            .unwrap()
    );
    let resp = client
        .put(lambda.url("/lambda-url/_/images/dog.jpg"))
        // The emulator answers 500 itself for a binary body without a content type (real
        // function URLs base64 it); with one, the request reaches the function.
        .header("content-type", "image/jpeg")
        .body(photo())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Structured logs: JSON lines carrying the invocation's request id, key, sizes, stages.
    let logs = lambda.logs();
    let line: Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "thumbnails written")
        .unwrap_or_else(|| panic!("no JSON 'thumbnails written' line in:\n{logs}"));
    assert_eq!(line["key"], "red flower.jpg");
    assert!(
        line["span"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{line}"
    );
    for field in [
        "source_bytes",
        "thumbnail_bytes",
        "read_ms",
        "render_ms",
        "write_ms",
    ] {
        assert!(line[field].is_number(), "{field} missing: {line}");
    }
}

/// A 12 MP and a 50 MP JPEG, and a 100 MP file of every format (with the decompression
/// bombs that cost the most before decoders streamed), each in a fresh function process:
/// init time and peak RSS are printed, and the peak must fit a 128 MB function.
#[test]
fn big_images_of_every_format_fit_a_128_mb_function() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (store, q) = rt.block_on(bucket("mem"));
    let b = store.bucket().to_string();
    let twelve = thumbnail_testkit::corpus_file("photos/olympus-ep3-museum-4032x3024.jpg");
    // 50 MP made from a real photo: 8160x6120, quality 85.
    let spec = ThumbnailSpec::default()
        .with_size(8160, 6120)
        .with_fit(Fit::Fill)
        .with_quality(85);
    let fifty = thumbnail_core::thumbnail(&twelve, &spec, &thumbnail_core::Limits::default())
        .unwrap()
        .bytes;
    let mut images = vec![("12mp.jpg".to_string(), twelve), ("50mp.jpg".into(), fifty)];
    for sample in thumbnail_testkit::hostile::catalogue() {
        let wanted = sample.name.contains("-photo-")
            || sample.name.starts_with("png-interlaced-rgba16")
            || sample.name.starts_with("tiff-rgba16-deflate-strips");
        if wanted {
            images.push((sample.name.to_string(), (sample.make)()));
        }
    }
    assert!(images.len() >= 10, "{} images", images.len());
    for (name, bytes) in images {
        let size = bytes.len();
        rt.block_on(store.put(
            &Key::new(format!("uploads/{name}")).unwrap(),
            Bytes::from(bytes),
            &PutOptions::default(),
        ))
        .unwrap();
        let lambda = Lambda::start(&function_env(&b, &q));
        let out = lambda.invoke(&common::s3_event(&[(
            "ObjectCreated:Put",
            &b,
            &format!("uploads/{name}"),
        )]));
        assert_eq!(
            out["processed"],
            json!([format!("uploads/{name}")]),
            "{out}"
        );
        let peak = lambda.peak_rss();
        let logs = lambda.logs();
        let init_ms = logs
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["message"] == "ready")
            .and_then(|v| v["init_ms"].as_f64())
            .unwrap();
        eprintln!(
            "{name}: {size} bytes, init {init_ms:.1} ms, peak RSS {:.1} MiB",
            peak as f64 / 1048576.0
        );
        assert!(peak < 128 * 1024 * 1024, "{name}: peak RSS {peak} bytes");
    }
}

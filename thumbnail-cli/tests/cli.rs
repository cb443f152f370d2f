//! The `thumbnail` binary as a user runs it: `serve` over real HTTP (curl and reqwest),
//! signals, batch mode over real folders and the S3-compatible test server, probe and sign.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, Serve, run, stderr};

use bytes::Bytes;
use thumbnail_core::InputFormat;
use thumbnail_storage::{Key, PutOptions, Store, Timeouts};

fn photo_path() -> PathBuf {
    thumbnail_testkit::corpus_path("photos/mate-storm-1920x1280.jpg")
}

fn dims(bytes: &[u8]) -> (u32, u32, InputFormat) {
    let i = thumbnail_core::probe(bytes).expect("a decodable image");
    (i.width, i.height, i.format)
}

/// The README's first-run flow, byte for byte: `serve` with no storage flags, then curl -T.
#[test]
fn readme_flow_with_curl() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(photo_path(), dir.path().join("photo.jpg")).unwrap();
    let mut server = Serve::start(&["--listen", "127.0.0.1:0"], dir.path());
    let status = Command::new("curl")
        .args(["-fsS", "-T", "photo.jpg"])
        .arg(server.url("/images/photo.jpg"))
        .args(["-o", "thumb.jpg"])
        .current_dir(dir.path())
        .status()
        .expect("curl is installed");
    assert!(status.success());
    let thumb = std::fs::read(dir.path().join("thumb.jpg")).unwrap();
    assert_eq!(dims(&thumb), (100, 100, InputFormat::Jpeg));
    // The embedded default stores under ./thumbnail-data.
    let data = dir.path().join("thumbnail-data");
    assert_eq!(
        std::fs::read(data.join("originals/photo.jpg")).unwrap(),
        std::fs::read(photo_path()).unwrap()
    );
    assert_eq!(
        std::fs::read(data.join("thumbnails/default/photo.jpg")).unwrap(),
        thumb
    );
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(10)).success());
}

#[test]
fn public_addresses_need_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["serve", "--listen", "0.0.0.0:0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--insecure-no-auth"), "{err}");
    assert!(
        !dir.path().join("thumbnail-data").exists(),
        "refused before touching storage"
    );

    let server = Serve::start(
        &["--listen", "0.0.0.0:0", "--api-key", "a-key-of-16-bytes"],
        dir.path(),
    );
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let client = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/thumbnail");
    let body = std::fs::read(photo_path()).unwrap();
    let resp = client.post(&url).body(body.clone()).send().unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client
        .post(&url)
        .bearer_auth("a-key-of-16-bytes")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    drop(server);

    let _open = Serve::start(&["--listen", "0.0.0.0:0", "--insecure-no-auth"], dir.path());
    drop(_open);
    // The same setting by its environment variable, like every other flag.
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .current_dir(dir.path())
        .env("THUMBNAIL_INSECURE_NO_AUTH", "true")
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("listening on "), "{first}");
}

/// Log lines going to a pipe (or a file) are plain text: colour codes only on a terminal.
#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("listening on ");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("INFO") && l.contains("listening")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains('\x1b')), "{lines:?}");
}

/// SIGTERM while an upload is still arriving: it completes, both files are whole, and the
/// process exits 0 after it.
#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Serve::start(&["--listen", "127.0.0.1:0"], dir.path());
    let data = std::fs::read(photo_path()).unwrap();
    let (head, tail) = data.split_at(data.len() / 2);
    let (head, tail) = (head.to_vec(), tail.to_vec());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = server.url("/images/in-flight.jpg");
    let upload = rt.spawn(async move {
        let stream = futures::stream::unfold(0u8, move |step| {
            let (head, tail) = (head.clone(), tail.clone());
            async move {
                match step {
                    0 => Some((Ok::<_, std::io::Error>(Bytes::from(head)), 1)),
                    1 => {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        Some((Ok(Bytes::from(tail)), 2))
                    }
                    _ => None,
                }
            }
        });
        let resp = reqwest::Client::new()
            .put(url)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.bytes().await.unwrap())
    });
    std::thread::sleep(Duration::from_millis(500));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "still running while the upload is in flight"
    );
    let (status, body) = rt.block_on(upload).unwrap();
    assert_eq!(status, 201);
    assert_eq!(dims(&body), (100, 100, InputFormat::Jpeg));
    assert!(server.wait(Duration::from_secs(10)).success());
    let stored = dir.path().join("thumbnail-data");
    assert_eq!(
        std::fs::read(stored.join("originals/in-flight.jpg")).unwrap(),
        data
    );
    assert_eq!(
        std::fs::read(stored.join("thumbnails/default/in-flight.jpg")).unwrap(),
        body.to_vec()
    );
    // No temporary files left behind.
    for f in thumbnail_testkit::files_under(&stored) {
        assert!(
            f.ends_with("in-flight.jpg") || f == "thumbnails/_info/in-flight.jpg.json",
            "unexpected file {f} after shutdown"
        );
    }
}

#[test]
fn signed_urls_from_the_sign_command() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--signing-key",
            "a-signing-key-of-24-bytes",
        ],
        dir.path(),
    );
    let sign = |method: &str, path: &str| {
        let out = run(
            &[
                "sign",
                path,
                "--method",
                method,
                "--signing-key",
                "a-signing-key-of-24-bytes",
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let client = reqwest::blocking::Client::new();
    let body = std::fs::read(photo_path()).unwrap();
    let put = sign("put", "/images/s.jpg?size=64x64");
    let resp = client
        .put(server.url(&put))
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(dims(&resp.bytes().unwrap()), (64, 64, InputFormat::Jpeg));
    let resp = client
        .put(server.url("/images/s.jpg"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    let get = sign("GET", "/images/s.jpg");
    assert_eq!(client.get(server.url(&get)).send().unwrap().status(), 200);
}

fn write_tree(root: &Path) {
    let corpus = thumbnail_testkit::corpus();
    std::fs::create_dir_all(root.join("trip/day 2")).unwrap();
    for (from, to) in [
        ("photos/canon-40d-100x68.jpg", "a.jpg"),
        ("photos/kodak-dc240-640x480.jpg", "trip/b.JPG"),
        (
            "photos/lens-data-200x133-progressive.jpeg",
            "trip/day 2/c.jpeg",
        ),
        ("malformed/corrupt-header.jpg", "trip/broken.jpg"),
    ] {
        std::fs::copy(corpus.join(from), root.join(to)).unwrap();
    }
    std::fs::write(root.join("notes.txt"), "not an image").unwrap();
}

#[test]
fn batch_over_folders_with_summary_failures_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    write_tree(&input);
    let out = run(
        &[
            "in",
            "--out-dir",
            "out",
            "--threads",
            "2",
            "--size",
            "40x30",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "one input failed");
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.starts_with("thumbnail: in/trip/broken.jpg: corrupt JPEG image")),
        "{err}"
    );
    assert!(err.contains("3 done, 1 failed, 0 skipped"), "{err}");
    assert!(err.contains("img/s"), "{err}");
    let made = thumbnail_testkit::files_under(&dir.path().join("out"));
    assert_eq!(made, ["a.jpg", "trip/b.jpg", "trip/day 2/c.jpg"]);
    for f in &made {
        let bytes = std::fs::read(dir.path().join("out").join(f)).unwrap();
        assert_eq!(dims(&bytes), (40, 30, InputFormat::Jpeg), "{f}");
    }
    // Not a terminal here: a plain line per image, no bar.
    assert!(err.contains("done in/a.jpg"), "{err}");

    let out = run(
        &["in", "--out-dir", "out", "--continue", "--size", "40x30"],
        dir.path(),
    );
    assert!(
        stderr(&out).contains("0 done, 1 failed, 3 skipped"),
        "{}",
        stderr(&out)
    );

    // Two inputs with the same output name: the second fails instead of overwriting.
    std::fs::copy(input.join("a.jpg"), dir.path().join("a.png")).unwrap();
    let out = run(
        &[
            "in/a.jpg",
            "a.png",
            "--out-dir",
            "flat",
            "--progress",
            "none",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("would overwrite"), "{}", stderr(&out));
    assert_eq!(
        thumbnail_testkit::files_under(&dir.path().join("flat")),
        ["a.jpg"]
    );
}

#[test]
fn single_files_stdin_and_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let photo = photo_path();
    let out = run(
        &[photo.to_str().unwrap(), "-o", "t.webp", "--format", "webp"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read(dir.path().join("t.webp")).unwrap();
    assert_eq!(dims(&t), (100, 100, InputFormat::WebP));

    let mut child = Command::new(BIN)
        .args(["-", "-o", "-", "--size", "64x64", "--format", "png"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(&photo).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dims(&out.stdout), (64, 64, InputFormat::Png));

    // Failures: one line on stderr, non-zero exit, no output file.
    let out = run(&["missing.jpg", "-o", "x.jpg"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.jpg"));
    assert!(!dir.path().join("x.jpg").exists());
    let out = run(
        &[photo.to_str().unwrap(), "-o", "x.jpg", "--size", "0x5"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("x.jpg").exists());
    let bomb = thumbnail_testkit::corpus_path("malformed/crafted-bomb-sof0-65500x65500.jpg");
    let out = run(&[bomb.to_str().unwrap(), "-o", "x.jpg"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("limit"), "{}", stderr(&out));
}

#[test]
fn storage_urls_as_inputs_and_outputs() {
    let endpoint = thumbnail_testkit::s3_endpoint();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (src, dst) = rt.block_on(async {
        let src = thumbnail_testkit::s3_store("cli-in", "", Timeouts::default()).await;
        let dst = thumbnail_testkit::s3_store("cli-out", "", Timeouts::default()).await;
        for (k, f) in [
            ("uploads/one.jpg", "photos/canon-40d-100x68.jpg"),
            ("uploads/sub/two.png", "conformance/png/"),
            ("elsewhere/three.jpg", "photos/kodak-dc240-640x480.jpg"),
        ] {
            let bytes = if f.ends_with('/') {
                std::fs::read(first_png(f)).unwrap()
            } else {
                thumbnail_testkit::corpus_file(f)
            };
            src.put(
                &Key::new(k).unwrap(),
                Bytes::from(bytes),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        }
        (src, dst)
    });
    let q = format!("?endpoint={endpoint}&path-style=true");
    let input = format!("s3://{}/uploads{q}", src.bucket());
    let output = format!("s3://{}/thumbs{q}", dst.bucket());
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[&input, "--out-dir", &output], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 done, 0 failed"),
        "{}",
        stderr(&out)
    );
    rt.block_on(async {
        let made = dst.list("thumbs").await.unwrap();
        let mut keys: Vec<_> = made.iter().map(|o| o.key.as_str().to_string()).collect();
        keys.sort();
        assert_eq!(keys, ["thumbs/one.jpg", "thumbs/sub/two.jpg"]);
        let got = dst
            .get(&Key::new("thumbs/sub/two.jpg").unwrap(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(dims(&got.bytes), (100, 100, InputFormat::Jpeg));
        assert_eq!(got.meta.content_type.as_deref(), Some("image/jpeg"));
    });
    // And to a local folder.
    let out = run(&[&input, "--out-dir", "local"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        thumbnail_testkit::files_under(&dir.path().join("local")),
        ["one.jpg", "sub/two.jpg"]
    );
}

fn first_png(folder: &str) -> PathBuf {
    let dir = thumbnail_testkit::corpus().join(folder);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    files.into_iter().next().expect("a PNG in the corpus")
}

#[test]
fn probe_prints_header_facts() {
    let dir = tempfile::tempdir().unwrap();
    let orient = thumbnail_testkit::corpus_path("photos/canon-hdr-2048x1536-orient6.jpg");
    let out = run(&["probe", orient.to_str().unwrap()], dir.path());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("JPEG 2048x1536 (upright 1536x2048), orientation 6"),
        "{text}"
    );
    let out = run(&["probe", "--json", orient.to_str().unwrap()], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "JPEG");
    assert_eq!(v["width"], 2048);
    assert_eq!(v["upright_width"], 1536);
    assert_eq!(v["orientation"], 6);
    let icc = thumbnail_testkit::corpus_path("conformance/cmyk/ycck-swop-icc-500x333.jpg");
    let out = run(&["probe", "--json", icc.to_str().unwrap()], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["icc"], "U.S. Web Coated (SWOP) v2");

    let bad = thumbnail_testkit::corpus_path("malformed/crafted-renamed-text-readme.jpg");
    let out = run(&["probe", bad.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unsupported"), "{}", stderr(&out));
}

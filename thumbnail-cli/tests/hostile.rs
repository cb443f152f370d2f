//! `thumbnail serve` against hostile clients at the connection level: half-sent requests,
//! silent sockets, more connections than it takes, shutdown with such connections open; and
//! the settings that must refuse to start (short keys, endless signed URLs).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Serve, run, stderr};

fn connect(server: &Serve) -> TcpStream {
    let s = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Whether the server closes `s` within `within` (reads end, or fail).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let start = Instant::now();
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return start.elapsed() <= within + Duration::from_millis(500),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

/// A request on its own connection; the status and body.
fn request(server: &Serve, head: &str) -> (u16, String) {
    let mut s = connect(server);
    s.write_all(head.as_bytes()).unwrap();
    answer(&mut s)
}

/// The status and text of the answer on `s`, read to its end.
fn answer(s: &mut TcpStream) -> (u16, String) {
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Finding 2: half-sent requests and silent sockets are closed after the header-read
/// timeout; over the connection limit new connections get a 503 at once, while `/healthz`
/// still answers.
#[test]
fn connections_are_bounded_in_number_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            "4",
            "--header-read-timeout",
            "1s",
            "--idle-timeout",
            "2s",
        ],
        dir.path(),
    );
    let mut half = Vec::new();
    for _ in 0..2 {
        let mut s = connect(&server);
        s.write_all(b"POST /thumbnail HTTP/1.1\r\nHost: localhost\r\n")
            .unwrap();
        half.push(s);
    }
    let mut silent: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));

    let (status, text) = request(&server, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status, 200, "{text}");
    let (status, text) = request(
        &server,
        "POST /thumbnail HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("too_many_connections"), "{text}");

    for s in half.iter_mut().chain(silent.iter_mut()) {
        assert!(
            closed_within(s, Duration::from_secs(2)),
            "a connection was held open"
        );
    }
    let (status, text) = request(&server, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status, 200, "{text}");
}

/// A client that stops reading its response is cut off after the idle timeout: no byte moved
/// either way for that long.
#[test]
fn a_client_that_stops_reading_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("o");
    std::fs::create_dir_all(&store).unwrap();
    let size = 64 << 20;
    std::fs::write(store.join("big.bin"), vec![7u8; size]).unwrap();
    let server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--store",
            store.to_str().unwrap(),
            "--idle-timeout",
            "1s",
        ],
        dir.path(),
    );
    let mut s = connect(&server);
    s.write_all(b"GET /images/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    // Read nothing for a while: the server's writes stall, then it gives up.
    std::thread::sleep(Duration::from_secs(3));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(
        got < size,
        "the whole response arrived ({got} bytes): not cut off"
    );
}

/// SIGTERM with a half-sent request and an idle connection open: the process still exits,
/// within its shutdown timeout.
#[test]
fn sigterm_does_not_wait_for_half_sent_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Serve::start(
        &["--listen", "127.0.0.1:0", "--shutdown-timeout", "1s"],
        dir.path(),
    );
    let mut half = connect(&server);
    half.write_all(b"PUT /images/a.jpg HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let _idle = connect(&server);
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    server.signal("TERM");
    let status = server.wait(Duration::from_secs(8));
    assert!(status.success(), "{status:?}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

/// Finding 4: keys shorter than 16 bytes, or empty, are refused at startup naming the
/// setting; `thumbnail sign` refuses them too, and lifetimes over the maximum.
#[test]
fn short_keys_and_endless_signatures_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one_line = |args: &[&str], setting: &str| {
        let out = run(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(setting), "{args:?}: {err}");
    };
    one_line(&["serve", "--api-key", "short"], "THUMBNAIL_API_KEYS");
    one_line(&["serve", "--signing-key", ""], "THUMBNAIL_SIGNING_KEY");
    one_line(
        &["serve", "--metrics-token", "short"],
        "THUMBNAIL_METRICS_TOKEN",
    );
    one_line(
        &["serve", "--allowed-hosts", "http://photos.internal/"],
        "THUMBNAIL_ALLOWED_HOSTS",
    );
    one_line(
        &["sign", "/images/a.jpg", "--signing-key", ""],
        "--signing-key",
    );
    one_line(
        &[
            "sign",
            "/images/a.jpg",
            "--signing-key",
            "0123456789abcdef",
            "--expires-in",
            "3650d",
        ],
        "--expires-in",
    );
    // An empty variable is an empty key, refused by name (it used to count as auth).
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .current_dir(dir.path())
        .env("THUMBNAIL_SIGNING_KEY", "")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("THUMBNAIL_SIGNING_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("thumbnail-data").exists());
}

/// Finding 11: temporary files left by a write that was killed are removed at startup once
/// older than a write may take; a younger one (a write going on) is left alone.
#[test]
fn leftover_temporary_files_are_removed_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("o");
    std::fs::create_dir_all(store.join("a")).unwrap();
    for name in ["a/x.jpg#1", "y.jpg#22", "fresh.jpg#3", "keep#me.jpg"] {
        std::fs::write(store.join(name), b"partial").unwrap();
    }
    for name in ["a/x.jpg#1", "y.jpg#22", "keep#me.jpg"] {
        let ok = Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(store.join(name))
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let o = store.to_str().unwrap();
    let t = dir.path().join("t");
    let _server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--store",
            o,
            "--thumbs",
            t.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!store.join("a/x.jpg#1").exists());
    assert!(!store.join("y.jpg#22").exists());
    assert!(
        store.join("fresh.jpg#3").exists(),
        "a write may still be going on"
    );
    assert!(store.join("keep#me.jpg").exists(), "not a temporary file");
}

/// A request with its own `Host` and body, on its own connection; the status and the answer.
fn send(server: &Serve, method: &str, path: &str, host: &str, body: &[u8]) -> (u16, String) {
    let mut s = connect(server);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A refused request is answered (and the connection closed) before its body is read.
    let _ = s.write_all(body);
    answer(&mut s)
}

/// Issue 31, item 3: the open loopback default answers only its own host names, so a web
/// page cannot PUT or DELETE through the user's browser by DNS rebinding; `--allowed-hosts`
/// adds names. Item 2: a link placed in the data folder is not served, written through or
/// removed through.
#[test]
fn an_open_server_answers_its_own_names_and_follows_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let photo = std::fs::read(thumbnail_testkit::corpus_path(
        "photos/camera-2164x1626.jpg",
    ))
    .unwrap();
    let server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--allowed-hosts",
            "photos.internal",
        ],
        dir.path(),
    );
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let originals = dir.path().join("thumbnail-data/originals");
    for host in [
        format!("attacker.example:{port}"),
        "rebind.attacker.example".into(),
        format!("127.0.0.2:{port}"),
    ] {
        let (status, text) = send(&server, "PUT", "/images/a.jpg", &host, &photo);
        assert_eq!(status, 421, "{host}: {text}");
        assert!(text.contains("\"error\":\"host_not_allowed\""), "{text}");
        assert_eq!(
            send(&server, "DELETE", "/images/x.jpg", &host, b"").0,
            421,
            "{host}"
        );
        assert_eq!(
            send(&server, "GET", "/thumbnails/x.jpg", &host, b"").0,
            421,
            "{host}"
        );
    }
    assert!(
        !originals.join("a.jpg").exists(),
        "a refused host stored something"
    );
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("photos.internal:{port}"),
    ] {
        let (status, text) = send(&server, "PUT", "/images/a.jpg", &host, &photo);
        assert_eq!(status, 201, "{host}: {}", &text[..text.len().min(300)]);
    }

    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"root:x:0:0").unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), originals.join("passwd")).unwrap();
    std::os::unix::fs::symlink(&outside, originals.join("linked")).unwrap();
    let host = format!("localhost:{port}");
    let (status, text) = send(&server, "GET", "/images/passwd", &host, b"");
    assert_eq!(status, 404, "{text}");
    assert!(
        !text.contains("root:x") && !text.contains(dir.path().to_str().unwrap()),
        "{text}"
    );
    assert_eq!(
        send(&server, "GET", "/images/linked/secret", &host, b"").0,
        404
    );
    assert_eq!(
        send(&server, "PUT", "/images/linked/b.jpg", &host, &photo).0,
        404
    );
    assert!(
        !outside.join("b.jpg").exists(),
        "written through a linked folder"
    );
    send(&server, "DELETE", "/images/linked/secret", &host, b"");
    send(&server, "DELETE", "/images/passwd", &host, b"");
    assert_eq!(
        std::fs::read(outside.join("secret")).unwrap(),
        b"root:x:0:0"
    );
}

/// Issue 31, item 2, for the batch: a link in an input folder is not read.
#[test]
fn the_batch_follows_no_link_in_its_input_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let photo = thumbnail_testkit::corpus_path("photos/camera-2164x1626.jpg");
    std::fs::copy(&photo, input.join("real.jpg")).unwrap();
    std::os::unix::fs::symlink(&photo, input.join("linked.jpg")).unwrap();
    let out = run(&[input.to_str().unwrap(), "--out-dir", "out"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let mut made: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    made.sort();
    assert_eq!(made, ["real.jpg"]);
}

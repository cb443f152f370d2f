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
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
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
        s.write_all(b"POST /thumbnail HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        half.push(s);
    }
    let mut silent: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));

    let (status, text) = request(&server, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200, "{text}");
    let (status, text) = request(
        &server,
        "POST /thumbnail HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("too_many_connections"), "{text}");

    for s in half.iter_mut().chain(silent.iter_mut()) {
        assert!(
            closed_within(s, Duration::from_secs(2)),
            "a connection was held open"
        );
    }
    let (status, text) = request(&server, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
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
    s.write_all(b"GET /images/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
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
    half.write_all(b"PUT /images/a.jpg HTTP/1.1\r\nHost: x\r\n")
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

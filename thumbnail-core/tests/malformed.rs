//! Acceptance: hostile and broken files give an error or a valid thumbnail, quickly, and never
//! panic.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec, thumbnail};

const DEADLINE: Duration = Duration::from_secs(2);

#[test]
fn malformed_files_fail_cleanly_or_decode() {
    let files = common::files("malformed");
    assert!(files.len() >= 30);
    let (mut errors, mut decoded) = (0, 0);
    for path in files {
        let name = common::name(&path);
        let data = common::read(&path);
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let worker = std::thread::spawn(move || {
            let r = thumbnail(&data, &ThumbnailSpec::default(), &Limits::default());
            let _ = tx.send(r);
        });
        match rx.recv_timeout(DEADLINE) {
            Ok(Ok(t)) => {
                let px = common::decode(&t.bytes);
                assert_eq!((px.width, px.height), (100, 100), "{name}");
                decoded += 1;
            }
            Ok(Err(e)) => {
                let msg = e.to_string();
                assert!(!msg.is_empty() && !msg.contains('\n'), "{name}: {msg:?}");
                if name.contains("bomb") || name.contains("max_size") {
                    assert_eq!(e.kind(), ErrorKind::TooManyPixels, "{name}: {msg}");
                }
                errors += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name}: no answer within {DEADLINE:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let panic = worker.join().err().map(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                panic!("{name}: the decoder panicked: {panic:?}");
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{name}: took {:?}",
            start.elapsed()
        );
    }
    // Both outcomes occur in this set: it holds truncated-but-readable files too.
    assert!(
        errors >= 20 && decoded >= 3,
        "{errors} errors, {decoded} decoded"
    );
}

/// Inputs the fuzzers found, kept as they were found: each once panicked or overran a bound.
#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = common::read(&path);
        let name = common::name(&path);
        let r = std::panic::catch_unwind(|| {
            thumbnail(&data, &ThumbnailSpec::sized(64, 48), &Limits::default())
        });
        match r {
            Ok(Ok(t)) => assert_eq!((t.width, t.height), (64, 48), "{name}"),
            Ok(Err(e)) => assert!(!e.to_string().is_empty(), "{name}"),
            Err(_) => panic!("{name}: panicked"),
        }
        n += 1;
    }
    assert!(n >= 1, "no regression inputs in {}", dir.display());
}

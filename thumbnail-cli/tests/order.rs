//! Batch scheduling: the largest inputs start first, so no render thread is left alone with
//! a big image at the end while the others idle; an input of unknown size waits for a
//! render thread (read-ahead's memory bound is in `budget.rs`).

mod common;

use common::{feed, run, stderr, writer_if_read};

/// Copies a small, a medium and a large corpus photo into `dir` under `names`; their sizes.
fn three_photos(dir: &std::path::Path, names: [&str; 3]) -> Vec<u64> {
    let corpus = thumbnail_testkit::corpus();
    let photos = [
        "photos/canon-40d-100x68.jpg",
        "photos/kodak-dc240-640x480.jpg",
        "photos/mate-garden-2560x1600.jpg",
    ];
    photos
        .iter()
        .zip(names)
        .map(|(from, to)| {
            std::fs::copy(corpus.join(from), dir.join(to)).unwrap();
            std::fs::metadata(dir.join(to)).unwrap().len()
        })
        .collect()
}

#[test]
fn the_largest_inputs_start_first() {
    let dir = tempfile::tempdir().unwrap();
    // Named smallest first on the command line.
    let sizes = three_photos(dir.path(), ["small.jpg", "medium.jpg", "large.jpg"]);
    assert!(sizes.is_sorted(), "the inputs must grow: {sizes:?}");
    let out = run(
        &[
            "small.jpg",
            "medium.jpg",
            "large.jpg",
            "--out-dir",
            "out",
            "--threads",
            "1",
            "--progress",
            "lines",
        ],
        dir.path(),
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // One worker: images finish in the order they start.
    let done: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split(" done ").nth(1))
        .collect();
    assert_eq!(done, ["large.jpg", "medium.jpg", "small.jpg"], "{err}");
}

#[test]
fn a_write_that_fails_is_reported_while_the_others_are_written() {
    // Each worker writes an image's thumbnail while it renders the next: a failed write
    // must still be counted, named on its line, and leave the other outputs alone.
    let dir = tempfile::tempdir().unwrap();
    three_photos(dir.path(), ["a.jpg", "b.jpg", "c.jpg"]);
    // A folder where b's thumbnail would go: its write fails after its render succeeded.
    std::fs::create_dir_all(dir.path().join("out/b.jpg/x")).unwrap();
    for threads in ["1", "2"] {
        let out = run(
            &[
                "a.jpg",
                "b.jpg",
                "c.jpg",
                "--out-dir",
                "out",
                "--threads",
                threads,
                "--progress",
                "lines",
            ],
            dir.path(),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let failures: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("thumbnail:"))
            .collect();
        assert_eq!(failures.len(), 1, "{err}");
        assert!(failures[0].contains("b.jpg"), "{err}");
        assert!(err.contains("2 done, 1 failed, 0 skipped"), "{err}");
        for ok in ["a.jpg", "c.jpg"] {
            let thumb = std::fs::read(dir.path().join("out").join(ok)).unwrap();
            assert!(thumb.starts_with(&[0xFF, 0xD8]), "{ok}");
            std::fs::remove_file(dir.path().join("out").join(ok)).unwrap();
        }
    }
}

#[test]
fn streams_are_read_one_per_render_thread_and_none_ahead() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..5).map(|i| format!("p{i}.jpg")).collect();
    for name in &names {
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join(name))
            .status()
            .unwrap();
        assert!(made.success());
    }
    let mut args: Vec<&str> = names.iter().map(String::as_str).collect();
    args.extend(["--out-dir", "out", "--threads", "2", "--progress", "none"]);
    let child = std::process::Command::new(common::BIN)
        .args(&args)
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let fifos: Vec<_> = names.iter().map(|n| dir.path().join(n)).collect();
    let photo = thumbnail_testkit::corpus_file("photos/kodak-dc240-640x480.jpg");
    // Pipes have no size, so the inputs keep their order, and none is read ahead (it could
    // hold up to the input cap): two render threads, two pipes open, and the third waits
    // until one of them is rendered.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut writers: Vec<Option<std::fs::File>> = fifos.iter().map(|_| None).collect();
    while writers.iter().flatten().count() < 2 {
        assert!(
            Instant::now() < deadline,
            "the first two inputs were not opened"
        );
        for (w, fifo) in writers.iter_mut().zip(&fifos) {
            if w.is_none() {
                *w = writer_if_read(fifo);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(writers[0].is_some() && writers[1].is_some());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        fifos[2..].iter().all(|f| writer_if_read(f).is_none()),
        "a third input was opened while two wait"
    );
    // Each input opens once one before it has been rendered.
    for (w, fifo) in writers.into_iter().zip(&fifos) {
        let pipe = match w {
            Some(pipe) => pipe,
            None => loop {
                assert!(
                    Instant::now() < deadline,
                    "{} was never opened",
                    fifo.display()
                );
                if let Some(pipe) = writer_if_read(fifo) {
                    break pipe;
                }
                std::thread::sleep(Duration::from_millis(5));
            },
        };
        feed(pipe, &photo);
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in &names {
        let thumb = std::fs::read(dir.path().join("out").join(name)).unwrap();
        assert_eq!(thumbnail_core::probe(&thumb).unwrap().width, 100);
    }
}

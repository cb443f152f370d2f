//! Batch scheduling: the largest inputs start first, so no worker is left alone with a big
//! image at the end while the others idle.

mod common;

use common::{run, stderr};

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

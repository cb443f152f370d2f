//! Batch scheduling: the largest inputs start first, so no worker is left alone with a big
//! image at the end while the others idle.

mod common;

use common::{run, stderr};

#[test]
fn the_largest_inputs_start_first() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = thumbnail_testkit::corpus();
    // Named smallest first on the command line.
    let names = [
        ("photos/canon-40d-100x68.jpg", "small.jpg"),
        ("photos/kodak-dc240-640x480.jpg", "medium.jpg"),
        ("photos/mate-garden-2560x1600.jpg", "large.jpg"),
    ];
    let mut sizes = Vec::new();
    for (from, to) in names {
        std::fs::copy(corpus.join(from), dir.path().join(to)).unwrap();
        sizes.push(std::fs::metadata(dir.path().join(to)).unwrap().len());
    }
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

//! The hot paths, one per process, for instruction counting under callgrind (`benches/guard.sh`).
//!
//! `hotpaths list` names the cases; `hotpaths prepare DIR` writes the inputs that are not in
//! the corpus (a photo as PNG and as WebP) to DIR; `hotpaths run CASE DIR` runs one case once.
//! A case does its work once: callgrind counts every instruction of the process, so reading
//! the input (a few system calls) is all the noise there is, and it is the same every run.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use thumbnail_bench::corpus_file;
use thumbnail_core::stages::JpegDetail;
use thumbnail_core::{Limits, OutputFormat, ThumbnailSpec, probe, stages};

/// The 12 MP baseline photo every JPEG case but the progressive one reads.
const BASELINE: &str = "photos/olympus-ep3-museum-4032x3024.jpg";
const PROGRESSIVE: &str = "photos/lomiri-dragonfly-4224x3168-progressive.jpg";
/// A 0.3 MP photo: decoded at 1/2, through the scaled IDCT.
const SMALL: &str = "photos/kodak-dc240-640x480.jpg";
/// The photo the PNG and WebP inputs are made from.
const LOSSLESS_SOURCE: &str = "photos/mate-garden-2560x1600.jpg";

const CASES: [(&str, &str); 6] = [
    (
        "jpeg-baseline-1/8",
        "entropy decode of a 12 MP baseline JPEG at 1/8",
    ),
    (
        "jpeg-progressive-1/8",
        "entropy decode of a 13 MP progressive JPEG at 1/8",
    ),
    ("jpeg-small-1/2", "entropy decode of a 0.3 MP JPEG at 1/2"),
    (
        "pipeline-jpeg",
        "the whole pipeline, 12 MP JPEG to a 100x100 JPEG",
    ),
    ("png-decode", "shrink-on-load decode of a 4 MP PNG"),
    ("webp-decode", "shrink-on-load decode of a 4 MP lossy WebP"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["list"] => {
            for (name, what) in CASES {
                println!("{name}\t{what}");
            }
            Ok(())
        }
        ["prepare", dir] => prepare(Path::new(dir)),
        ["run", case, dir] => run(case, Path::new(dir)),
        _ => Err("usage: hotpaths list | prepare DIR | run CASE DIR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotpaths: {e}");
            ExitCode::FAILURE
        }
    }
}

fn made(dir: &Path, ext: &str) -> PathBuf {
    dir.join(format!("photo-2560x1600.{ext}"))
}

/// Writes the PNG and WebP inputs (full size, from a corpus photo).
fn prepare(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let photo = corpus_file(LOSSLESS_SOURCE)?;
    for (format, ext) in [(OutputFormat::Png, "png"), (OutputFormat::WebP, "webp")] {
        let path = made(dir, ext);
        if path.exists() {
            continue;
        }
        let spec = ThumbnailSpec::sized(2560, 1600)
            .with_format(format)
            .with_quality(90);
        let out = thumbnail_core::thumbnail(&photo, &spec, &Limits::default())
            .map_err(|e| format!("making the {ext} input: {e}"))?;
        std::fs::write(&path, out.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn run(case: &str, dir: &Path) -> Result<(), String> {
    let limits = Limits::default();
    let spec = ThumbnailSpec::default();
    let read_made = |ext: &str| {
        let path = made(dir, ext);
        std::fs::read(&path).map_err(|e| format!("{}: {e} (run `prepare` first)", path.display()))
    };
    let err = |e: thumbnail_core::Error| e.to_string();
    match case {
        "jpeg-baseline-1/8" => {
            let data = corpus_file(BASELINE)?;
            black_box(stages::decode_jpeg_scaled(&data, 8, JpegDetail::Low, &limits).map_err(err)?);
        }
        "jpeg-progressive-1/8" => {
            let data = corpus_file(PROGRESSIVE)?;
            black_box(stages::decode_jpeg_scaled(&data, 8, JpegDetail::Low, &limits).map_err(err)?);
        }
        "jpeg-small-1/2" => {
            let data = corpus_file(SMALL)?;
            black_box(stages::decode_jpeg_scaled(&data, 2, JpegDetail::Low, &limits).map_err(err)?);
        }
        "pipeline-jpeg" => {
            let data = corpus_file(BASELINE)?;
            black_box(thumbnail_core::thumbnail(&data, &spec, &limits).map_err(err)?);
        }
        "png-decode" | "webp-decode" => {
            let data = read_made(if case == "png-decode" { "png" } else { "webp" })?;
            let info = probe(&data).map_err(err)?;
            black_box(stages::decode(&data, &info, &[spec], &limits).map_err(err)?);
        }
        other => return Err(format!("no case {other:?} (see `hotpaths list`)")),
    }
    Ok(())
}

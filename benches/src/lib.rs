//! Inputs for the benchmarks: real photos from the shared corpus, and a 50 MP JPEG made from
//! one (the corpus stops at 16 MP).

#![forbid(unsafe_code)]

use std::path::PathBuf;

use thumbnail_core::{Fit, Limits, ThumbnailSpec};

/// The shared corpus; a missing corpus is an error, not a skipped benchmark.
pub use thumbnail_testkit::corpus;

/// A named input.
pub struct Input {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// The bytes of a corpus file (`rel` to the corpus), or why there are none.
pub fn corpus_file(rel: &str) -> Result<Vec<u8>, String> {
    let path = thumbnail_testkit::try_corpus()?.join(rel);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Small (0.3 MP), 12 MP and 50 MP JPEG photos.
pub fn inputs() -> Vec<Input> {
    let read = |rel: &str| corpus_file(rel).unwrap_or_else(|e| panic!("{e}"));
    let twelve = read("photos/olympus-ep3-museum-4032x3024.jpg");
    vec![
        Input {
            name: "small-0.3MP",
            bytes: read("photos/kodak-dc240-640x480.jpg"),
        },
        Input {
            name: "photo-12MP",
            bytes: twelve.clone(),
        },
        Input {
            name: "photo-50MP",
            bytes: fifty_megapixels(&twelve),
        },
    ]
}

/// The 12 MP photo stretched to 8660x5774 and saved at quality 90: photographic content at
/// 50 MP. Cached in the target directory after the first run.
fn fifty_megapixels(source: &[u8]) -> Vec<u8> {
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-50mp.jpg");
    if let Ok(b) = std::fs::read(&cache) {
        return b;
    }
    let spec = ThumbnailSpec::sized(8660, 5774)
        .with_fit(Fit::Fill)
        .with_quality(90);
    let big = thumbnail_core::thumbnail(source, &spec, &Limits::default()).expect("50 MP JPEG");
    let _ = std::fs::write(&cache, &big.bytes);
    big.bytes
}

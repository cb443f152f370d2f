//! The shrink-on-load JPEG decoder against a full-size reference.
//!
//! For every JPEG in `photos/` and `conformance/`, at 1/2, 1/4 and 1/8: our DCT-domain decode
//! must match zune-jpeg's full decode averaged over the same 2x2, 4x4 or 8x8 areas, within a
//! small tolerance. At 1/8 the luma of a block is exactly its mean (DC / 8); the tolerance
//! covers the rest: 1/2 and 1/4 use libjpeg's scaled IDCT of the low frequencies (a little
//! sharper than a box average), chroma is upsampled at the reduced size instead of before
//! averaging, and rounding.

mod common;

use std::path::PathBuf;

use thumbnail_core::stages::{Decoded, JpegDetail::Coarse, JpegDetail::Exact, JpegDetail::Low};
use thumbnail_core::{Bitmap, ErrorKind, Limits, ThumbnailSpec, stages};

/// The 280 MP file is in the corpus too, and is decoded at 1/2 here (the test holds its full
/// reference anyway).
fn limits() -> Limits {
    Limits::default()
        .with_max_input_bytes(64 << 20)
        .with_max_pixels(300_000_000)
        .with_max_memory(1 << 30)
}

fn jpegs() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "jpeg")) {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(&common::corpus().join("photos"), &mut v);
    walk(&common::corpus().join("conformance"), &mut v);
    v.sort();
    v
}

/// Mean of each `s x s` area (partial areas at the edges averaged over what they hold).
fn area_average(src: &Bitmap, s: u32) -> (u32, u32, Vec<f64>) {
    let c = src.layout().channels();
    let (w, h) = (src.width(), src.height());
    let (ow, oh) = (w.div_ceil(s), h.div_ceil(s));
    let mut sums = vec![0f64; (ow * oh) as usize * c];
    let mut counts = vec![0f64; (ow * oh) as usize];
    for y in 0..h {
        for x in 0..w {
            let o = ((y / s) * ow + x / s) as usize;
            counts[o] += 1.0;
            for (ch, &v) in src.pixel(x, y).iter().enumerate() {
                sums[o * c + ch] += f64::from(v);
            }
        }
    }
    for (i, v) in sums.iter_mut().enumerate() {
        *v /= counts[i / c];
    }
    (ow, oh, sums)
}

#[derive(Default)]
struct Stats {
    samples: usize,
    sum_abs: f64,
    sum_sq: f64,
    max_abs: f64,
}

impl Stats {
    fn add(&mut self, d: f64) {
        self.samples += 1;
        self.sum_abs += d.abs();
        self.sum_sq += d * d;
        self.max_abs = self.max_abs.max(d.abs());
    }

    fn mean_abs(&self) -> f64 {
        self.sum_abs / self.samples.max(1) as f64
    }

    fn psnr(&self) -> f64 {
        let mse = self.sum_sq / self.samples.max(1) as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }
}

/// Differences over whole areas (inside the image, in a block inside the image) and over
/// edge areas (cut by the right or bottom edge: a DCT-domain mean there also covers the
/// padding the encoder put in the partial block, as in libjpeg's scaled decoding).
fn compare(ours: &Bitmap, oracle: &[f64], full: (u32, u32), s: u32) -> (Stats, Stats) {
    let (mut whole, mut edge) = (Stats::default(), Stats::default());
    let c = ours.layout().channels();
    for y in 0..ours.height() {
        for x in 0..ours.width() {
            let block_right = ((x * s) / 8 + 1) * 8;
            let block_bottom = ((y * s) / 8 + 1) * 8;
            let inside = block_right <= full.0 && block_bottom <= full.1;
            let at = (y * ours.width() + x) as usize * c;
            for ch in 0..c {
                let d = f64::from(ours.data()[at + ch]) - oracle[at + ch];
                if inside { whole.add(d) } else { edge.add(d) }
            }
        }
    }
    (whole, edge)
}

/// Whole areas: mean absolute difference per sample, and PSNR, on every file and scale.
const WHOLE_MEAN: f64 = 3.0;
const WHOLE_PSNR: f64 = 34.0;
/// Edge areas include the encoder's padding, so only gross errors are caught there.
const EDGE_MEAN: f64 = 40.0;

/// Checks one file at one scale; returns (whole, edge).
fn check(name: &str, data: &[u8], reference: &Bitmap, s: u32) -> (Stats, Stats) {
    let ours = stages::decode_jpeg_scaled(data, s, Exact, &limits())
        .unwrap_or_else(|e| panic!("{name} at 1/{s}: {e}"));
    let (ow, oh, oracle) = area_average(reference, s);
    assert_eq!((ours.width(), ours.height()), (ow, oh), "{name} at 1/{s}");
    assert_eq!(ours.layout(), reference.layout(), "{name}");
    let (whole, edge) = compare(&ours, &oracle, (reference.width(), reference.height()), s);
    assert!(
        whole.mean_abs() <= WHOLE_MEAN && whole.psnr() >= WHOLE_PSNR,
        "{name} at 1/{s}: whole areas differ by {:.2} on average, PSNR {:.1} dB",
        whole.mean_abs(),
        whole.psnr()
    );
    assert!(
        edge.mean_abs() <= EDGE_MEAN,
        "{name} at 1/{s}: edge areas differ by {:.2}",
        edge.mean_abs()
    );
    (whole, edge)
}

#[test]
fn scaled_decodes_match_the_averaged_full_decode() {
    let mut checked = 0;
    for path in jpegs() {
        let name = common::name(&path);
        let data = common::read(&path);
        let reference = match stages::decode_jpeg_reference(&data, &limits()) {
            Ok(r) => r,
            Err(e) => {
                // Variants no decoder here reads: ours must refuse them too, by name.
                assert_eq!(e.kind(), ErrorKind::UnsupportedFormat, "{name}: {e}");
                let ours = stages::decode_jpeg_scaled(&data, 8, Exact, &limits()).expect_err(&name);
                assert_eq!(ours.kind(), ErrorKind::UnsupportedFormat, "{name}: {ours}");
                continue;
            }
        };
        for s in [1u32, 2, 4, 8] {
            check(&name, &data, &reference, s);
            checked += 1;
        }
    }
    assert!(checked >= 200, "only {checked} comparisons");
}

/// Progressive files whose coefficients do not all fit the memory limit keep only the low
/// frequencies their reduced blocks show: close to the exact area mean, not equal.
#[test]
fn progressive_files_over_the_memory_limit_keep_the_low_frequencies() {
    let mut checked = 0;
    for path in jpegs() {
        let name = common::name(&path);
        let data = common::read(&path);
        let Ok(info) = thumbnail_core::probe(&data) else {
            continue;
        };
        if !name.contains("progressive") || info.width < 64 || info.height < 64 {
            continue;
        }
        let Ok(reference) = stages::decode_jpeg_reference(&data, &limits()) else {
            continue;
        };
        // At 1/2, between what the low frequencies need (2 to 3 bytes a pixel with planes and
        // output) and what all 64 coefficients need (4 to 7.5).
        let px = u64::from(info.width) * u64::from(info.height);
        let tight = limits().with_max_memory(px * 7 / 2);
        for s in [2u32, 4] {
            let ours = stages::decode_jpeg_scaled(&data, s, Exact, &tight)
                .unwrap_or_else(|e| panic!("{name} at 1/{s}: {e}"));
            let (_, _, oracle) = area_average(&reference, s);
            let (whole, _) = compare(&ours, &oracle, (reference.width(), reference.height()), s);
            assert!(
                whole.mean_abs() <= 2.0 * WHOLE_MEAN && whole.psnr() >= WHOLE_PSNR - 6.0,
                "{name} at 1/{s}: {:.2} on average, PSNR {:.1} dB",
                whole.mean_abs(),
                whole.psnr()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} comparisons");
}

/// The pipeline reads only the low frequencies of a reduced block (`JpegDetail::Low`), and
/// subsampled chroma at its own size when that still has 1.5x the output's resolution
/// (`Coarse`), at the scales it picks (twice the output or more): its thumbnails must match
/// those made from the exact area means, the detail it skips being what the final filter
/// removes or the thumbnail cannot show.
#[test]
fn thumbnails_from_the_low_frequencies_match_those_from_exact_means() {
    let spec = ThumbnailSpec::default();
    let mut checked = 0;
    let mut worst = (0.0f64, String::new());
    for path in jpegs() {
        let name = common::name(&path);
        let data = common::read(&path);
        let Ok(info) = thumbnail_core::probe(&data) else {
            continue;
        };
        // The largest reduction a 100x100 cover thumbnail allows, as the pipeline computes it.
        let dct_limit = info.width.min(info.height) / 200;
        for s in [2u32, 4, 8].into_iter().filter(|&s| s <= dct_limit) {
            let detail = if 2 * dct_limit >= 3 * s { Coarse } else { Low };
            let thumb = |detail| {
                let bitmap = stages::decode_jpeg_scaled(&data, s, detail, &limits()).ok()?;
                let decoded = Decoded {
                    bitmap,
                    icc: None,
                    orientation: Default::default(),
                    scale: s,
                };
                let upright = stages::normalise(decoded, &info, &[spec]);
                stages::resize(&upright, info.upright_size(), &spec).ok()
            };
            let (Some(ours), Some(exact)) = (thumb(detail), thumb(Exact)) else {
                continue;
            };
            let diff = ours
                .data()
                .iter()
                .zip(exact.data())
                .map(|(&a, &b)| f64::from(a.abs_diff(b)))
                .sum::<f64>()
                / ours.data().len() as f64;
            if diff > worst.0 {
                worst = (diff, format!("{name} at 1/{s} ({detail:?})"));
            }
            checked += 1;
        }
    }
    assert!(
        worst.0 <= 1.0,
        "{}: thumbnails differ by {:.2}",
        worst.1,
        worst.0
    );
    assert!(checked >= 40, "only {checked} comparisons");
}

#[test]
fn the_tolerance_catches_a_wrong_decode() {
    // Red and blue swapped, or the image one output pixel off: both far outside the bounds.
    let data = common::read(&common::corpus().join("photos/mate-storm-1920x1280.jpg"));
    let reference = stages::decode_jpeg_reference(&data, &limits()).unwrap();
    let ours = stages::decode_jpeg_scaled(&data, 4, Exact, &limits()).unwrap();
    let (w, h, oracle) = area_average(&reference, 4);
    let swapped: Vec<u8> = ours
        .data()
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let swapped = Bitmap::new(w, h, ours.layout(), swapped).unwrap();
    let (whole, _) = compare(
        &swapped,
        &oracle,
        (reference.width(), reference.height()),
        4,
    );
    assert!(
        whole.psnr() < WHOLE_PSNR - 10.0,
        "swap: {:.1} dB",
        whole.psnr()
    );
    // Shifted left by 2% of the width (the right edge repeats).
    let by = (w / 50) as usize;
    let shifted: Vec<u8> = ours
        .rows()
        .flat_map(|row| {
            let n = row.len() / 3;
            (0..n).flat_map(move |x| {
                let sx = (x + by).min(n - 1) * 3;
                [row[sx], row[sx + 1], row[sx + 2]]
            })
        })
        .collect();
    let shifted = Bitmap::new(w, h, ours.layout(), shifted).unwrap();
    let (whole, _) = compare(
        &shifted,
        &oracle,
        (reference.width(), reference.height()),
        4,
    );
    let passes = whole.mean_abs() <= WHOLE_MEAN && whole.psnr() >= WHOLE_PSNR;
    assert!(
        !passes,
        "a shifted image passes: {:.2}, {:.1} dB",
        whole.mean_abs(),
        whole.psnr()
    );
}

/// Noise encoded at quality 100: most blocks use all 63 AC coefficients and end without an
/// end-of-block code, the case where a decoder that skips coefficients in bulk can run into
/// the next block. The noise is gray: the chroma blocks stay flat, so the reference's chroma
/// upsampling filter (which no area average reproduces on noise) plays no part.
#[test]
fn blocks_that_end_at_the_last_coefficient() {
    let (w, h) = (203u16, 137u16);
    let mut px = Vec::new();
    let mut seed = 0x2545_f491_u32;
    for _ in 0..u32::from(w) * u32::from(h) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        px.extend_from_slice(&[(seed >> 24) as u8; 3]);
    }
    for (sampling, progressive) in [
        (jpeg_encoder::SamplingFactor::F_1_1, false),
        (jpeg_encoder::SamplingFactor::F_2_2, false),
        (jpeg_encoder::SamplingFactor::F_2_1, false),
        (jpeg_encoder::SamplingFactor::F_1_1, true),
        (jpeg_encoder::SamplingFactor::F_2_2, true),
    ] {
        let mut data = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut data, 100);
        enc.set_sampling_factor(sampling);
        enc.set_progressive(progressive);
        enc.encode(&px, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        let name = format!("noise {sampling:?} progressive={progressive}");
        let reference = stages::decode_jpeg_reference(&data, &limits()).unwrap();
        for s in [2u32, 4, 8] {
            check(&name, &data, &reference, s);
        }
    }
}

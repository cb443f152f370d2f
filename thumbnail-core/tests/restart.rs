//! Acceptance: a damaged restart interval costs only that interval. A camera file with one
//! short interval ("premature end of data segment") or a lost RSTn marker decodes like
//! libjpeg: the damaged interval is filled, and every later interval is decoded from its own
//! marker on, identical to a clean decode of the undamaged file.

mod common;

use thumbnail_core::stages::JpegDetail;
use thumbnail_core::{Bitmap, Limits, PixelLayout, ThumbnailSpec, stages, thumbnail};

/// A corpus photo re-encoded 4:2:0 with one restart interval per row of 16x16 MCUs.
fn with_restarts() -> (Vec<u8>, u32) {
    let photo = common::read(&common::corpus().join("photos/flowers-1920x1080.jpeg"));
    let spec = ThumbnailSpec::sized(960, 544).with_format(thumbnail_core::OutputFormat::Png);
    let px = common::decode(&thumbnail(&photo, &spec, &Limits::default()).unwrap().bytes);
    let rgb: Vec<u8> = (0..px.height)
        .flat_map(|y| (0..px.width).map(move |x| (x, y)))
        .flat_map(|(x, y)| px.rgb(x, y))
        .collect();
    let mcus_across = px.width.div_ceil(16);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.set_restart_interval(mcus_across as u16);
    enc.encode(
        &rgb,
        px.width as u16,
        px.height as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .unwrap();
    (out, mcus_across)
}

/// Offsets of the RSTn markers in the file.
fn markers(jpeg: &[u8]) -> Vec<usize> {
    (0..jpeg.len() - 1)
        .filter(|&i| jpeg[i] == 0xFF && (0xD0..=0xD7).contains(&jpeg[i + 1]))
        .collect()
}

fn decode(jpeg: &[u8]) -> Bitmap {
    let d = stages::decode_jpeg_scaled(jpeg, 8, JpegDetail::Low, &Limits::default()).unwrap();
    assert_eq!(d.layout(), PixelLayout::Rgb);
    d
}

/// Rows (at 1/8: two per 16-pixel MCU row) that differ between `a` and `b`.
fn differing_rows(a: &Bitmap, b: &Bitmap) -> Vec<u32> {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    a.rows()
        .zip(b.rows())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i as u32)
        .collect()
}

#[test]
fn a_short_interval_costs_only_itself() {
    let (clean, _) = with_restarts();
    let rst = markers(&clean);
    assert!(rst.len() > 30, "{} restart markers", rst.len());
    // Interval 20 (MCU row 20) lies between markers 19 and 20: cut its data short.
    let (start, end) = (rst[19] + 2, rst[20]);
    let mut damaged = clean[..start + (end - start) / 4].to_vec();
    damaged.extend_from_slice(&clean[end..]);
    let (a, b) = (decode(&clean), decode(&damaged));
    let rows = differing_rows(&a, &b);
    assert!(!rows.is_empty(), "the damage changed nothing");
    // MCU row 20 is output rows 40 and 41; chroma upsampling reaches one row further.
    assert!(
        rows.iter().all(|r| (39..=42).contains(r)),
        "rows {rows:?} differ"
    );
    // The filled part is the last good colour of the interval, not mid-gray: close overall.
    let diff: u64 = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    assert!(
        (diff as f64 / a.data().len() as f64) < 2.0,
        "mean difference {}",
        diff as f64 / a.data().len() as f64
    );
}

#[test]
fn a_lost_marker_costs_only_its_interval() {
    let (clean, _) = with_restarts();
    let rst = markers(&clean);
    // Remove the RSTn before interval 25 together with interval 25's data: interval 26
    // must still land on MCU row 26, not 25.
    let mut damaged = clean[..rst[24]].to_vec();
    damaged.extend_from_slice(&clean[rst[25]..]);
    let rows = differing_rows(&decode(&clean), &decode(&damaged));
    assert!(!rows.is_empty());
    // Interval 24's data now runs into interval 25's; both are MCU rows 24 and 25.
    assert!(
        rows.iter().all(|r| (47..=52).contains(r)),
        "rows {rows:?} differ"
    );
}

#[test]
fn a_truncated_file_keeps_what_was_decoded() {
    let (clean, _) = with_restarts();
    let rst = markers(&clean);
    let cut = &clean[..rst[10] + 40];
    let (a, b) = (decode(&clean), decode(cut));
    let rows = differing_rows(&a, &b);
    // Everything above the cut is intact.
    assert!(rows.iter().all(|&r| r >= 21), "rows {rows:?} differ");
    assert_eq!(rows.first().copied().map(|r| r <= 23), Some(true));
}

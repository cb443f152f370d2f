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

#[path = "restart/damage.rs"]
mod damage;

/// Runs a libjpeg-turbo tool (`djpeg`, `jpegtran` from libjpeg-turbo-progs) on `input`; a
/// missing tool fails the test. Damaged input gives warnings (exit status 2), not an error.
fn libjpeg(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    libjpeg_run(tool, args, input).unwrap_or_else(|e| panic!("{e}"))
}

/// [`libjpeg`], with what the tool said when it wrote nothing.
fn libjpeg_run(tool: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{tool}: {e} (apt-get install libjpeg-turbo-progs; scripts/test.sh does)")
        });
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    // 0: clean; 2: warnings (damaged data); 1: a fatal error, after which djpeg's PPM holds
    // the rows decoded before it (`libjpeg_png` shows the rest as gray, as viewers do).
    if out.status.code().is_some_and(|c| c <= 2) && !out.stdout.is_empty() {
        return Ok(out.stdout);
    }
    Err(format!(
        "{tool} {args:?}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// libjpeg-turbo's decode of `jpeg` (djpeg), as a PNG our pipeline reads: what libjpeg-based
/// viewers show of the file. Rows a fatal error left undecoded are mid-gray.
fn libjpeg_png(jpeg: &[u8]) -> Result<Vec<u8>, String> {
    let ppm = libjpeg_run("djpeg", &["-ppm"], jpeg)?;
    // P6 (colour) or P5 (grey), width, height, maxval, one whitespace byte, then samples.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
    }
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let (channels, color) = match fields[0].as_str() {
        "P6" => (3, png::ColorType::Rgb),
        "P5" => (1, png::ColorType::Grayscale),
        other => panic!("djpeg wrote {other}"),
    };
    let mut samples = ppm[at + 1..].to_vec();
    samples.resize(w as usize * h as usize * channels, 128);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().unwrap();
    writer.write_image_data(&samples).unwrap();
    writer.finish().unwrap();
    Ok(out)
}

/// Mean SSIM of the luma of two same-sized images (8x8 windows, every position).
fn ssim(a: &common::Pixels, b: &common::Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let luma = |p: &common::Pixels| -> Vec<f64> {
        (0..p.height)
            .flat_map(|y| (0..p.width).map(move |x| (x, y)))
            .map(|(x, y)| {
                let [r, g, b] = p.rgb(x, y).map(f64::from);
                0.299 * r + 0.587 * g + 0.114 * b
            })
            .collect()
    };
    let (ya, yb, w, h) = (luma(a), luma(b), a.width as usize, a.height as usize);
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut windows) = (0.0, 0);
    for y0 in 0..=h - 8 {
        for x0 in 0..=w - 8 {
            let at = |v: &[f64], i: usize| v[(y0 + i / 8) * w + x0 + i % 8];
            let (mut ma, mut mb) = (0.0, 0.0);
            for i in 0..64 {
                (ma, mb) = (ma + at(&ya, i) / 64.0, mb + at(&yb, i) / 64.0);
            }
            let (mut va, mut vb, mut cov) = (0.0, 0.0, 0.0);
            for i in 0..64 {
                let (da, db) = (at(&ya, i) - ma, at(&yb, i) - mb);
                (va, vb, cov) = (
                    va + da * da / 63.0,
                    vb + db * db / 63.0,
                    cov + da * db / 63.0,
                );
            }
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            windows += 1;
        }
    }
    total / f64::from(windows)
}

/// Real files with restart intervals: cameras' own, and corpus photos given intervals by
/// jpegtran (lossless: the DCT data stays the camera's) as baseline, grey and progressive.
fn damage_subjects() -> Vec<(String, Vec<u8>)> {
    let photo = |name: &str| common::read(&common::corpus().join("photos").join(name));
    let mut v: Vec<(String, Vec<u8>)> = [
        "olympus-ep3-museum-4032x3024.jpg",
        "fujifilm-mx1700-640x480.jpg",
        "nikon-e950-800x600.jpg",
        "iphone6-hdr-3264x2448.jpg",
    ]
    .iter()
    .map(|n| (n.to_string(), photo(n)))
    .collect();
    let flowers = photo("flowers-1920x1080.jpeg");
    let storm = photo("mate-storm-1920x1280.jpg");
    v.push((
        "flowers, restart 8 MCUs".into(),
        libjpeg("jpegtran", &["-restart", "8B"], &flowers),
    ));
    v.push((
        "storm, grey, restart 8".into(),
        libjpeg("jpegtran", &["-grayscale", "-restart", "8B"], &storm),
    ));
    v.push((
        "flowers, progressive, restart 8".into(),
        libjpeg("jpegtran", &["-progressive", "-restart", "8B"], &flowers),
    ));
    v
}

/// Issue 32, item 1: every damage shape over every subject: our thumbnail against
/// libjpeg-turbo's decode of the same damaged file (through the same resize), SSIM >= 0.8.
/// The table (and libjpeg's own damaged-vs-clean SSIM, to show the damage is there) goes to
/// stderr.
#[test]
fn damaged_camera_files_look_as_libjpeg_shows_them() {
    let spec = ThumbnailSpec::sized(100, 100).with_format(thumbnail_core::OutputFormat::Png);
    let limits = Limits::default();
    let thumb = |bytes: &[u8]| -> common::Pixels {
        common::decode(&thumbnail(bytes, &spec, &limits).unwrap().bytes)
    };
    let mut failed = Vec::new();
    eprintln!("| file | damage | SSIM ours vs libjpeg | libjpeg damaged vs clean |");
    eprintln!("|---|---|---|---|");
    for (name, clean) in damage_subjects() {
        let reference = thumb(&libjpeg_png(&clean).unwrap());
        for shape in damage::SHAPES {
            let damaged = damage::damage(&clean, shape);
            assert_ne!(damaged, clean, "{name} {shape:?}: nothing damaged");
            let ours = thumbnail(&damaged, &spec, &limits);
            let theirs = match libjpeg_png(&damaged) {
                Ok(png) => thumb(&png),
                // libjpeg shows nothing of it: ours may give a thumbnail or a typed error.
                Err(why) => {
                    let kind = ours.as_ref().map(|_| "a thumbnail".to_string());
                    let kind = kind.unwrap_or_else(|e| format!("{:?}", e.kind()));
                    eprintln!("| {name} | {shape:?} | libjpeg fails ({why}); ours: {kind} | - |");
                    continue;
                }
            };
            let ours = match ours {
                Ok(t) => common::decode(&t.bytes),
                Err(e) => {
                    failed.push(format!("{name} {shape:?}: {e}"));
                    continue;
                }
            };
            let (s, visible) = (ssim(&ours, &theirs), ssim(&theirs, &reference));
            eprintln!("| {name} | {shape:?} | {s:.3} | {visible:.3} |");
            if s < 0.8 {
                failed.push(format!("{name} {shape:?}: SSIM {s:.3}"));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

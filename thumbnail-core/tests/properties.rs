//! Acceptance: random images in every input format, under random specs, come out at exactly
//! the expected size; random and mutated bytes give `Ok` or `Err`, never a panic.

mod common;

use proptest::prelude::*;
use thumbnail_core::{Fit, Gravity, Limits, OutputFormat, ThumbnailSpec, thumbnail};

#[derive(Debug, Clone, Copy)]
enum Input {
    Jpeg,
    Png,
    Gif,
    WebP,
    Tiff,
    Bmp,
}

/// Smooth content plus a little noise: realistic for the decoders, quick for the encoders.
fn pixels(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed) >> 27;
            v.push((x * 255 / w.max(1)) as u8 ^ n as u8);
            v.push((y * 255 / h.max(1)) as u8);
            v.push(((x + y + seed) % 256) as u8);
        }
    }
    v
}

fn encode(kind: Input, w: u32, h: u32, seed: u32) -> Vec<u8> {
    let rgb = pixels(w, h, seed);
    let mut out = Vec::new();
    match kind {
        Input::Jpeg => {
            let enc = jpeg_encoder::Encoder::new(&mut out, 90);
            enc.encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .unwrap();
        }
        Input::Png => {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(&rgb).unwrap();
            wr.finish().unwrap();
        }
        Input::Gif => {
            // A 6x6x6 colour cube palette; index by quantising.
            let palette: Vec<u8> = (0..216u32)
                .flat_map(|i| {
                    [
                        (i / 36 * 51) as u8,
                        (i / 6 % 6 * 51) as u8,
                        (i % 6 * 51) as u8,
                    ]
                })
                .collect();
            let idx: Vec<u8> = rgb
                .chunks_exact(3)
                .map(|p| {
                    (u32::from(p[0]) / 43 * 36 + u32::from(p[1]) / 43 * 6 + u32::from(p[2]) / 43)
                        as u8
                })
                .collect();
            let mut enc = gif::Encoder::new(&mut out, w as u16, h as u16, &palette).unwrap();
            enc.write_frame(&gif::Frame::from_indexed_pixels(
                w as u16, h as u16, idx, None,
            ))
            .unwrap();
        }
        Input::WebP => {
            image_webp::WebPEncoder::new(&mut out)
                .encode(&rgb, w, h, image_webp::ColorType::Rgb8)
                .unwrap();
        }
        Input::Tiff => {
            let mut enc = tiff::encoder::TiffEncoder::new(std::io::Cursor::new(&mut out)).unwrap();
            enc.write_image::<tiff::encoder::colortype::RGB8>(w, h, &rgb)
                .unwrap();
        }
        Input::Bmp => {
            let stride = (w as usize * 3).div_ceil(4) * 4;
            let size = 54 + stride * h as usize;
            out.extend_from_slice(b"BM");
            out.extend((size as u32).to_le_bytes());
            out.extend([0; 4]);
            out.extend(54u32.to_le_bytes());
            out.extend(40u32.to_le_bytes());
            out.extend((w as i32).to_le_bytes());
            out.extend((-(h as i32)).to_le_bytes()); // top-down
            out.extend(1u16.to_le_bytes());
            out.extend(24u16.to_le_bytes());
            out.extend([0; 24]);
            for row in rgb.chunks_exact(w as usize * 3) {
                let start = out.len();
                out.extend(row.chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]));
                out.resize(start + stride, 0);
            }
        }
    }
    out
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Jpeg),
        Just(Input::Png),
        Just(Input::Gif),
        Just(Input::WebP),
        Just(Input::Tiff),
        Just(Input::Bmp),
    ]
}

fn spec() -> impl Strategy<Value = ThumbnailSpec> {
    let fit = prop_oneof![
        Just(Fit::Cover),
        Just(Fit::Contain),
        Just(Fit::Fill),
        Just(Fit::Inside)
    ];
    let gravity = prop_oneof![
        Just(Gravity::Centre),
        Just(Gravity::NorthWest),
        Just(Gravity::SouthEast),
        Just(Gravity::East),
        Just(Gravity::Entropy),
    ];
    let format = prop_oneof![
        Just(OutputFormat::Jpeg),
        Just(OutputFormat::Png),
        Just(OutputFormat::WebP)
    ];
    (1u32..=800, 1u32..=800, fit, gravity, format, 1u8..=100).prop_map(
        |(width, height, fit, gravity, format, quality)| {
            ThumbnailSpec::default()
                .with_size(width, height)
                .with_fit(fit)
                .with_gravity(gravity)
                .with_format(format)
                .with_quality(quality)
        },
    )
}

/// Image sides: mostly small, sometimes up to 2000.
fn side() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 1u32..64, 3 => 64u32..600, 1 => 600u32..2000]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_images_get_exactly_the_expected_size(
        kind in input(), w in side(), h in side(), seed in any::<u32>(), spec in spec()
    ) {
        let data = encode(kind, w, h, seed);
        let t = thumbnail(&data, &spec, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{kind:?} {w}x{h}: {e}")))?;
        let px = common::decode(&t.bytes);
        prop_assert_eq!((px.width, px.height), (t.width, t.height));
        if spec.fit == Fit::Inside {
            let s = (f64::from(spec.width) / f64::from(w))
                .min(f64::from(spec.height) / f64::from(h))
                .min(1.0);
            let (ew, eh) = (f64::from(w) * s, f64::from(h) * s);
            prop_assert!((f64::from(t.width) - ew).abs() <= 1.0, "{} vs {}", t.width, ew);
            prop_assert!((f64::from(t.height) - eh).abs() <= 1.0, "{} vs {}", t.height, eh);
            prop_assert!(t.width >= 1 && t.height >= 1);
        } else {
            prop_assert_eq!((t.width, t.height), (spec.width, spec.height));
        }
    }
}

fn magic() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![
        Just(&b"\xFF\xD8\xFF"[..]),
        Just(&b"\xFF\xD8\xFF\xC0\x00\x11\x08\x00\x10\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"[..]),
        Just(&b"\x89PNG\r\n\x1a\n"[..]),
        Just(&b"GIF89a"[..]),
        Just(&b"RIFF\x00\x10\x00\x00WEBPVP8 "[..]),
        Just(&b"II*\x00"[..]),
        Just(&b"MM\x00*"[..]),
        Just(&b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"[..]),
        Just(&b""[..]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(head in magic(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = head.to_vec();
        data.extend(tail);
        if let Ok(t) = thumbnail(&data, &ThumbnailSpec::default(), &Limits::default()) {
            prop_assert_eq!((t.width, t.height), (100, 100));
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { keep: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        1 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        2 => (any::<usize>(), proptest::collection::vec(prop_oneof![Just(0xFFu8), any::<u8>()], 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    if data.is_empty() {
        return;
    }
    match m {
        Mutation::Flip { at, xor } => {
            let i = at % data.len();
            data[i] ^= xor;
        }
        Mutation::Truncate { keep } => data.truncate(keep % data.len()),
        Mutation::Insert { at, bytes } => {
            let i = at % data.len();
            data.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let i = at % data.len();
            let end = (i + len).min(data.len());
            data.drain(i..end);
        }
    }
}

/// Small real JPEGs of several kinds: baseline, progressive, restart markers, 4:2:2, gray, CMYK.
const SEEDS: [&str; 6] = [
    "photos/lens-data-200x133-progressive.jpeg",
    "photos/canon-40d-100x68.jpg",
    "conformance/jpeg-variants/restarts-33x33.jpg",
    "conformance/jpeg-variants/progressive-non-interleaved-64x16.jpg",
    "conformance/gray/gray-sampling2x2-16x24.jpg",
    "conformance/cmyk/cmyk-subsampled-256x256.jpg",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_jpegs_never_panic(
        seed in 0..SEEDS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut data = common::read(&common::corpus().join(SEEDS[seed]));
        for m in &mutations {
            apply(&mut data, m);
        }
        if let Ok(t) = thumbnail(&data, &ThumbnailSpec::sized(64, 64), &Limits::default()) {
            let px = common::decode(&t.bytes);
            prop_assert_eq!((px.width, px.height), (64, 64));
        }
    }
}

//! Inputs of every supported kind succeed; unsupported ones are refused by name; outputs carry
//! alpha where the format can, and no metadata at all.

mod common;

use thumbnail_core::{
    ErrorKind, Fit, Gravity, Limits, OutputFormat, Rgba, Subsampling, ThumbnailSpec, thumbnail,
};

/// Conformance files no decoder here handles, with the words the error must use.
const UNSUPPORTED: [(&str, &str); 4] = [
    ("jpeg-variants/12bit-monkey-srgb2014.jpg", "12-bit"),
    ("jpeg-variants/arithmetic-227x149.jpg", "arithmetic"),
    ("jpeg-variants/lossless-16bit-sel1-256x256.jpg", "lossless"),
    ("jpeg-variants/lossless-sof3-227x149.jpg", "lossless"),
];

#[test]
fn every_supported_conformance_file_succeeds() {
    let mut ok = 0;
    for dir in [
        "cmyk",
        "gif",
        "gray",
        "icc",
        "jpeg-variants",
        "orientation",
        "other",
        "png",
        "tiff",
        "webp",
    ] {
        for path in common::files(&format!("conformance/{dir}")) {
            let rel = format!("{dir}/{}", common::name(&path));
            let data = common::read(&path);
            let result = thumbnail(&data, &ThumbnailSpec::default(), &Limits::default());
            if let Some((_, words)) = UNSUPPORTED.iter().find(|(f, _)| *f == rel) {
                let e = result.expect_err(&rel);
                assert_eq!(e.kind(), ErrorKind::UnsupportedFormat, "{rel}: {e}");
                assert!(e.to_string().contains(words), "{rel}: {e}");
                continue;
            }
            if rel == "jpeg-variants/huge-gray-20000x14000.jpg" {
                let e = result.expect_err(&rel);
                assert_eq!(e.kind(), ErrorKind::TooManyPixels, "{rel}: {e}");
                assert!(e.to_string().contains("20000x14000"), "{e}");
                continue;
            }
            let t = result.unwrap_or_else(|e| panic!("{rel}: {e}"));
            let px = common::decode(&t.bytes);
            assert_eq!((px.width, px.height), (100, 100), "{rel}");
            ok += 1;
        }
    }
    assert!(ok >= 60, "only {ok} files decoded");
}

#[test]
fn animations_say_so_and_give_their_first_frame() {
    for (rel, animated) in [
        ("gif/animated-loop3.gif", true),
        ("gif/animated-rotating-squares-30f.gif", true),
        ("gif/crash-test-photo-800x533.gif", false),
        ("webp/animated-rotating-squares.webp", true),
        ("webp/lossy-1024x772.webp", false),
        ("png/rgba-256x192.png", false),
        ("other/iphone.heic", false),
    ] {
        let data = common::read(&common::corpus().join(format!("conformance/{rel}")));
        let info = thumbnail_core::probe(&data).unwrap();
        assert_eq!(info.animated, animated, "{rel}");
    }
    // An APNG (made here: the corpus has none): two frames in its acTL chunk.
    let apng = apng_two_frames();
    assert!(thumbnail_core::probe(&apng).unwrap().animated);
    let t = thumbnail(
        &apng,
        &ThumbnailSpec::sized(4, 4).with_format(OutputFormat::Png),
        &Limits::default(),
    )
    .unwrap();
    let px = common::decode(&t.bytes);
    // The first frame is red; the second (blue) is never shown.
    assert_eq!(px.rgb(1, 1), [255, 0, 0]);
}

/// A 4x4 APNG: frame one red (also the default image), frame two blue.
fn apng_two_frames() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 4, 4);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_animated(2, 0).unwrap();
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&[255, 0, 0].repeat(16)).unwrap();
    w.write_image_data(&[0, 0, 255].repeat(16)).unwrap();
    w.finish().unwrap();
    out
}

/// A 200x100 RGBA PNG: left half fully transparent red, right half opaque blue.
fn half_transparent_png() -> Vec<u8> {
    let mut px = Vec::new();
    for _y in 0..100 {
        for x in 0..200 {
            px.extend_from_slice(if x < 100 {
                &[255, 0, 0, 0]
            } else {
                &[0, 0, 255, 255]
            });
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 200, 100);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&px).unwrap();
    w.finish().unwrap();
    out
}

#[test]
fn alpha_is_flattened_for_jpeg_and_kept_for_png_and_webp() {
    let data = half_transparent_png();
    let fill = |format, background| {
        ThumbnailSpec::sized(100, 50)
            .with_fit(Fit::Fill)
            .with_format(format)
            .with_background(background)
    };
    let jpeg = common::decode(
        &thumbnail(
            &data,
            &fill(OutputFormat::Jpeg, Rgba::WHITE),
            &Limits::default(),
        )
        .unwrap()
        .bytes,
    );
    assert_eq!(jpeg.channels, 3);
    let white = jpeg.mean(5, 5, 40, 45);
    let blue = jpeg.mean(60, 5, 95, 45);
    assert!(
        white.iter().all(|&v| v > 245.0),
        "transparent part is {white:?}"
    );
    assert!(blue[2] > 240.0 && blue[0] < 15.0, "opaque part is {blue:?}");
    let black = common::decode(
        &thumbnail(
            &data,
            &fill(OutputFormat::Jpeg, Rgba::BLACK),
            &Limits::default(),
        )
        .unwrap()
        .bytes,
    );
    assert!(black.mean(5, 5, 40, 45).iter().all(|&v| v < 10.0));

    for format in [OutputFormat::Png, OutputFormat::WebP] {
        let t = thumbnail(&data, &fill(format, Rgba::WHITE), &Limits::default()).unwrap();
        let px = common::decode(&t.bytes);
        assert_eq!(px.channels, 4, "{format:?} lost its alpha");
        let alpha = |x: u32, y: u32| px.data[(y as usize * 100 + x as usize) * 4 + 3];
        assert_eq!(alpha(10, 25), 0, "{format:?}");
        assert_eq!(alpha(90, 25), 255, "{format:?}");
    }
}

#[test]
fn opaque_images_stay_three_channel_in_png() {
    let data = common::read(&common::corpus().join("photos/kodak-dc240-640x480.jpg"));
    let spec = ThumbnailSpec::default().with_format(OutputFormat::Png);
    let px = common::decode(&thumbnail(&data, &spec, &Limits::default()).unwrap().bytes);
    assert_eq!(px.channels, 3);
}

/// Marker segments before the first scan.
fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    let mut pos = 2;
    let mut markers = Vec::new();
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let m = bytes[pos + 1];
        markers.push(m);
        if m == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        pos += 2 + len;
    }
    markers
}

#[test]
fn outputs_carry_no_metadata() {
    // EXIF with GPS, an ICC profile and XMP in the input.
    for rel in [
        "photos/nikon-gps-DSCN0010-640x480.jpg",
        "conformance/icc/adobergb1998-2000x1072.jpg",
    ] {
        let data = common::read(&common::corpus().join(rel));
        assert!(
            data.windows(4).any(|w| w == b"Exif"),
            "{rel} should have EXIF"
        );
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
            let spec = ThumbnailSpec::default().with_format(format);
            let b = thumbnail(&data, &spec, &Limits::default()).unwrap().bytes;
            for needle in [
                &b"Exif"[..],
                b"GPS",
                b"ICC_PROFILE",
                b"http://ns.adobe.com",
                b"iCCP",
                b"eXIf",
                b"ICCP",
                b"EXIF",
                b"XMP ",
            ] {
                assert!(
                    !b.windows(needle.len()).any(|w| w == needle),
                    "{rel} {format:?} carries {:?}",
                    String::from_utf8_lossy(needle)
                );
            }
            if format == OutputFormat::Jpeg {
                let m = jpeg_markers(&b);
                assert!(
                    m.iter().all(|&m| !(0xE1..=0xEF).contains(&m)),
                    "APPn segments: {m:02X?}"
                );
            }
        }
    }
}

#[test]
fn our_jpegs_decode_with_the_right_colours_in_rust_decoders_too() {
    // A flat colour through every JPEG option, decoded by zune-jpeg (which mis-decodes some
    // valid scan layouts): what comes back must be the colour that went in.
    let data = half_transparent_png();
    for progressive in [false, true] {
        for subsampling in [Subsampling::S420, Subsampling::S444] {
            let spec = ThumbnailSpec::sized(64, 32)
                .with_fit(Fit::Fill)
                .with_progressive(progressive)
                .with_subsampling(subsampling)
                .with_background("#20c040".parse().unwrap());
            let px = common::decode(&thumbnail(&data, &spec, &Limits::default()).unwrap().bytes);
            let m = px.mean(2, 2, 28, 30);
            let want = [32.0, 192.0, 64.0];
            for i in 0..3 {
                assert!(
                    (m[i] - want[i]).abs() < 4.0,
                    "{progressive} {subsampling:?}: {m:?}"
                );
            }
        }
    }
}

#[test]
fn jpeg_options_reach_the_encoder() {
    let data = common::read(&common::corpus().join("photos/fujifilm-mx1700-640x480.jpg"));
    let base = ThumbnailSpec::default();
    let get = |spec: ThumbnailSpec| thumbnail(&data, &spec, &Limits::default()).unwrap().bytes;
    let sof = |b: &[u8]| -> (u8, u8) {
        let at = b
            .windows(2)
            .position(|w| w[0] == 0xFF && (w[1] == 0xC0 || w[1] == 0xC2))
            .unwrap();
        // marker, then the luma sampling byte: len(2) precision(1) h(2) w(2) n(1) id(1) hv(1)
        (b[at + 1], b[at + 11])
    };
    assert_eq!(sof(&get(base)), (0xC0, 0x22), "baseline 4:2:0 by default");
    assert_eq!(sof(&get(base.with_progressive(true))).0, 0xC2);
    assert_eq!(sof(&get(base.with_subsampling(Subsampling::S444))).1, 0x11);
    let small = get(base.with_quality(10)).len();
    let large = get(base.with_quality(95)).len();
    assert!(
        small * 2 < large,
        "quality 10: {small} bytes, 95: {large} bytes"
    );
    let w_small = get(base.with_quality(10).with_format(OutputFormat::WebP)).len();
    let w_large = get(base.with_quality(95).with_format(OutputFormat::WebP)).len();
    assert!(
        w_small * 2 < w_large,
        "webp quality 10: {w_small} bytes, 95: {w_large} bytes"
    );
}

#[test]
fn gravity_picks_the_kept_part() {
    // The orientation test image is 1800x1200 with "top"/"bottom" labels; a 100x20 cover crop
    // keeps a horizontal band whose position follows the gravity.
    let data = common::read(&common::corpus().join("conformance/orientation/Landscape_1.jpg"));
    let band = |gravity| {
        let spec = ThumbnailSpec::sized(100, 20)
            .with_gravity(gravity)
            .with_format(OutputFormat::Png);
        common::decode(&thumbnail(&data, &spec, &Limits::default()).unwrap().bytes)
    };
    let (n, c, s) = (
        band(Gravity::North),
        band(Gravity::Centre),
        band(Gravity::South),
    );
    assert!(common::mean_abs_diff(&n, &s) > 20.0);
    assert!(common::mean_abs_diff(&n, &c) > 10.0);
    // The sky is at the top of this picture: north is brighter and bluer than south.
    let (nm, sm) = (n.mean(0, 0, 100, 20), s.mean(0, 0, 100, 20));
    assert!(nm[2] > sm[2] + 20.0, "north {nm:?} south {sm:?}");
}

#[test]
fn contain_pads_with_the_background() {
    let data = common::read(&common::corpus().join("conformance/gray/gray-1000x1.jpg"));
    let spec = ThumbnailSpec::default()
        .with_fit(Fit::Contain)
        .with_background("#ff0000".parse().unwrap())
        .with_format(OutputFormat::Png);
    let px = common::decode(&thumbnail(&data, &spec, &Limits::default()).unwrap().bytes);
    assert_eq!((px.width, px.height), (100, 100));
    assert_eq!(px.rgb(50, 5), [255, 0, 0]);
    assert_eq!(px.rgb(50, 95), [255, 0, 0]);
    assert_ne!(px.rgb(50, 50), [255, 0, 0]);
}

#[test]
fn tiny_and_extreme_inputs_work_in_every_mode() {
    let inputs = [
        "conformance/jpeg-variants/size-1x1.jpg",
        "photos/canon-40d-100x68.jpg",
        "conformance/gray/gray-1000x1.jpg",
        "conformance/gray/gray-1x1000.jpg",
    ];
    let gravities = [
        Gravity::Centre,
        Gravity::North,
        Gravity::NorthEast,
        Gravity::East,
        Gravity::SouthEast,
        Gravity::South,
        Gravity::SouthWest,
        Gravity::West,
        Gravity::NorthWest,
        Gravity::Entropy,
    ];
    for rel in inputs {
        let data = common::read(&common::corpus().join(rel));
        for fit in [Fit::Cover, Fit::Contain, Fit::Fill, Fit::Inside] {
            for gravity in gravities {
                for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
                    let spec = ThumbnailSpec::sized(64, 48)
                        .with_fit(fit)
                        .with_gravity(gravity)
                        .with_format(format);
                    let t = thumbnail(&data, &spec, &Limits::default())
                        .unwrap_or_else(|e| panic!("{rel} {fit:?} {gravity:?} {format:?}: {e}"));
                    let px = common::decode(&t.bytes);
                    assert_eq!((px.width, px.height), (t.width, t.height));
                    if fit == Fit::Inside {
                        assert!(t.width <= 64 && t.height <= 48 && t.width >= 1 && t.height >= 1);
                    } else {
                        assert_eq!((t.width, t.height), (64, 48), "{rel} {fit:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn limits_are_enforced_and_configurable() {
    let data = common::read(&common::corpus().join("photos/kodak-dc240-640x480.jpg"));
    let spec = ThumbnailSpec::default();
    let tight = Limits::default().with_max_input_bytes(1000);
    let e = thumbnail(&data, &spec, &tight).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InputTooLarge);
    assert!(e.to_string().contains("limit of 1000 bytes"), "{e}");
    let few = Limits::default().with_max_pixels(640 * 480 - 1);
    let e = thumbnail(&data, &spec, &few).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooManyPixels);
    assert!(e.to_string().contains("640x480 (307200 pixels)"), "{e}");
    let exact = Limits::default()
        .with_max_pixels(640 * 480)
        .with_max_input_bytes(data.len() as u64);
    thumbnail(&data, &spec, &exact).unwrap();
    let e = thumbnail(&data, &spec.with_size(0, 0), &exact).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSpec);
}

#[test]
fn large_sizes_of_progressive_photos_fit_the_default_limits() {
    // srcset widths of a 4 MP progressive photo: decoded at full size, which needs its
    // coefficients; the memory limit grows with the output, so they are made.
    let data = thumbnail_testkit::corpus_file("photos/kde-colorfulcups-2560x1600-progressive.jpg");
    for width in [640, 999, 1280, 2000] {
        let spec = ThumbnailSpec::sized(width, 0);
        let t = thumbnail(&data, &spec, &Limits::default()).unwrap();
        assert_eq!(t.width, width);
        assert!(
            t.height.abs_diff(width * 1600 / 2560) <= 1,
            "{width}: {}",
            t.height
        );
    }
}

//! Colour: everything becomes 8-bit sRGB (with alpha where there was alpha).
//!
//! Embedded ICC profiles are honoured through moxcms. Images without a profile are taken to be
//! sRGB already; CMYK without a profile gets the naive complement conversion, which is what
//! libjpeg-based tools and Pillow do and what viewers show for such files.

use moxcms::{ColorProfile, DataColorSpace, Layout, ProfileText, TransformOptions};

use crate::pixels::{Bitmap, PixelLayout};

/// Converts `src` (in the colour space described by `icc`, or sRGB when `None`) to sRGB, as
/// [`PixelLayout::Rgb`] or [`PixelLayout::Rgba`].
///
/// A profile that does not parse, or does not fit the pixels (an RGB profile on a gray image),
/// is ignored the way browsers ignore it: the pixels are taken as sRGB.
pub(crate) fn to_srgb(src: Bitmap, icc: Option<&[u8]>) -> Bitmap {
    if let Some(profile) = icc.and_then(|b| ColorProfile::new_from_slice(b).ok()) {
        let srgb = ColorProfile::new_srgb();
        // Most profiled photos carry sRGB itself (cameras write it): their pixels are already
        // what the output needs, and building the transform's tables would cost more than
        // the rest of a small image's thumbnail.
        if !is_srgb(&profile, &srgb)
            && let Some(out) = transform(&src, &profile, &srgb)
        {
            return out;
        }
    }
    match src.layout() {
        PixelLayout::Rgb | PixelLayout::Rgba => src,
        PixelLayout::Gray => expand(&src, PixelLayout::Rgb, |s, d| d.fill(s[0])),
        PixelLayout::GrayAlpha => expand(&src, PixelLayout::Rgba, |s, d| {
            d[..3].fill(s[0]);
            d[3] = s[1];
        }),
        PixelLayout::Cmyk => expand(&src, PixelLayout::Rgb, |s, d| {
            let k = 255 - u32::from(s[3]);
            for i in 0..3 {
                d[i] = div255((255 - u32::from(s[i])) * k);
            }
        }),
    }
}

/// Applies `profile` to `src`; `None` when the profile does not fit the pixels or fails.
fn transform(src: &Bitmap, profile: &ColorProfile, srgb: &ColorProfile) -> Option<Bitmap> {
    let (src_layout, dst, dst_layout) = match (src.layout(), profile.color_space) {
        (PixelLayout::Rgb, DataColorSpace::Rgb) => (Layout::Rgb, PixelLayout::Rgb, Layout::Rgb),
        (PixelLayout::Rgba, DataColorSpace::Rgb) => (Layout::Rgba, PixelLayout::Rgba, Layout::Rgba),
        (PixelLayout::Gray, DataColorSpace::Gray) => (Layout::Gray, PixelLayout::Rgb, Layout::Rgb),
        (PixelLayout::GrayAlpha, DataColorSpace::Gray) => {
            (Layout::GrayAlpha, PixelLayout::Rgba, Layout::Rgba)
        }
        // moxcms reads 8-bit CMYK with the RGBA layout.
        (PixelLayout::Cmyk, DataColorSpace::Cmyk) => (Layout::Rgba, PixelLayout::Rgb, Layout::Rgb),
        _ => return None,
    };
    let options = TransformOptions {
        rendering_intent: moxcms::RenderingIntent::Perceptual,
        ..TransformOptions::default()
    };
    let t = profile
        .create_transform_8bit(src_layout, srgb, dst_layout, options)
        .ok()?;
    let (w, h) = (src.width(), src.height());
    let mut out = vec![0u8; w as usize * h as usize * dst.channels()];
    let out_stride = w as usize * dst.channels();
    for (s, d) in src.rows().zip(out.chunks_exact_mut(out_stride)) {
        t.transform(s, d).ok()?;
    }
    Bitmap::new(w, h, dst, out).ok()
}

/// Whether `p` is a matrix/TRC RGB profile equivalent to `srgb` at 8 bits: the same colorants
/// (to 0.001, a third of a level at most) and tone curves that take every 8-bit value back to
/// itself through the sRGB encoding.
fn is_srgb(p: &ColorProfile, srgb: &ColorProfile) -> bool {
    let luts = [
        &p.lut_a_to_b_perceptual,
        &p.lut_a_to_b_colorimetric,
        &p.lut_a_to_b_saturation,
    ];
    if !p.is_matrix_shaper() || luts.iter().any(|l| l.is_some()) {
        return false;
    }
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() <= 1e-3 && (a.y - b.y).abs() <= 1e-3 && (a.z - b.z).abs() <= 1e-3
    };
    let colorants = close(p.red_colorant, srgb.red_colorant)
        && close(p.green_colorant, srgb.green_colorant)
        && close(p.blue_colorant, srgb.blue_colorant);
    colorants
        && [&p.red_trc, &p.green_trc, &p.blue_trc]
            .into_iter()
            .all(|trc| srgb_curve(p, trc))
}

/// Whether the tone curve `trc` linearises each 8-bit value to what the sRGB encoding takes
/// back to the same value.
fn srgb_curve(p: &ColorProfile, trc: &Option<moxcms::ToneReprCurve>) -> bool {
    let Ok(table) = p.build_8bit_lin_table(trc) else {
        return false;
    };
    table.iter().enumerate().all(|(v, &lin)| {
        let lin = f64::from(lin).clamp(0.0, 1.0);
        let encoded = if lin <= 0.003_130_8 {
            12.92 * lin
        } else {
            1.055 * lin.powf(1.0 / 2.4) - 0.055
        };
        (encoded * 255.0 - v as f64).abs() < 0.45
    })
}

fn expand(src: &Bitmap, layout: PixelLayout, f: impl Fn(&[u8], &mut [u8])) -> Bitmap {
    let n = layout.channels();
    let c = src.layout().channels();
    let mut out = vec![0u8; src.width() as usize * src.height() as usize * n];
    for (s, d) in src.data().chunks_exact(c).zip(out.chunks_exact_mut(n)) {
        f(s, d);
    }
    Bitmap::new(src.width(), src.height(), layout, out).expect("same pixel count")
}

/// `x / 255`, rounded, for `x` in 0..=255*255.
#[inline]
pub(crate) fn div255(x: u32) -> u8 {
    ((x + 128 + ((x + 128) >> 8)) >> 8) as u8
}

/// JFIF YCbCr to RGB, full range, rounded.
#[inline]
pub(crate) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = f32::from(y);
    let cb = f32::from(cb) - 128.0;
    let cr = f32::from(cr) - 128.0;
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        clamp(y + 1.402 * cr),
        clamp(y - 0.344_136 * cb - 0.714_136 * cr),
        clamp(y + 1.772 * cb),
    ]
}

/// The profile's description text, e.g. "Adobe RGB (1998)".
pub(crate) fn profile_description(icc: &[u8]) -> Option<String> {
    let profile = ColorProfile::new_from_slice(icc).ok()?;
    let text = match profile.description? {
        ProfileText::PlainString(s) => s,
        ProfileText::Localizable(list) => list.into_iter().next()?.value,
        ProfileText::Description(d) => {
            if d.unicode_string.trim().is_empty() {
                d.ascii_string
            } else {
                d.unicode_string
            }
        }
    };
    let text = text
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn div255_is_exact_rounding() {
        for x in 0..=255u32 * 255 {
            assert_eq!(u32::from(div255(x)), (x * 2 + 255) / 510, "x = {x}");
        }
    }

    #[test]
    fn cmyk_without_profile_is_the_complement() {
        let cmyk = Bitmap::new(
            3,
            1,
            PixelLayout::Cmyk,
            vec![0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255],
        )
        .unwrap();
        let rgb = to_srgb(cmyk, None);
        assert_eq!(rgb.data(), &[255, 255, 255, 0, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn srgb_profile_is_close_to_identity() {
        let icc = ColorProfile::new_srgb().encode().unwrap();
        let px: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2]).collect();
        let src = Bitmap::new(256, 1, PixelLayout::Rgb, px.clone()).unwrap();
        let out = to_srgb(src, Some(&icc));
        for (a, b) in out.data().iter().zip(&px) {
            assert!(a.abs_diff(*b) <= 1, "{a} vs {b}");
        }
    }

    #[test]
    fn srgb_is_told_from_other_spaces() {
        assert!(is_srgb(
            &ColorProfile::new_srgb(),
            &ColorProfile::new_srgb()
        ));
        // sRGB with its curve as a 1024-entry table, as HP's and most cameras' profiles hold it.
        let mut table = ColorProfile::new_srgb();
        let lut: Vec<u16> = (0..1024)
            .map(|i| {
                let v = f64::from(i) / 1023.0;
                let lin = if v <= 0.040_45 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                };
                (lin * 65535.0).round() as u16
            })
            .collect();
        for trc in [
            &mut table.red_trc,
            &mut table.green_trc,
            &mut table.blue_trc,
        ] {
            *trc = Some(moxcms::ToneReprCurve::Lut(lut.clone()));
        }
        assert!(is_srgb(&table, &ColorProfile::new_srgb()));
        // A round-trip through the ICC encoding keeps it sRGB.
        let bytes = table.encode().unwrap();
        assert!(is_srgb(
            &ColorProfile::new_from_slice(&bytes).unwrap(),
            &ColorProfile::new_srgb()
        ));
        for other in [
            ColorProfile::new_display_p3(),
            ColorProfile::new_adobe_rgb(),
            ColorProfile::new_pro_photo_rgb(),
            ColorProfile::new_bt2020(),
        ] {
            assert!(!is_srgb(&other, &ColorProfile::new_srgb()));
        }
        // sRGB primaries with a plain 2.2 gamma: dark tones differ by several levels.
        let mut gamma = ColorProfile::new_srgb();
        for trc in [
            &mut gamma.red_trc,
            &mut gamma.green_trc,
            &mut gamma.blue_trc,
        ] {
            *trc = Some(moxcms::ToneReprCurve::Lut(vec![563])); // 2.2 in u8Fixed8
        }
        assert!(!is_srgb(&gamma, &ColorProfile::new_srgb()));
    }

    #[test]
    fn what_counts_as_srgb_converts_to_itself() {
        // The transform skipped for an sRGB profile would have changed no pixel by more
        // than a level.
        let px: Vec<u8> = (0..=255u8)
            .flat_map(|v| [[v, v, v], [v, 255 - v, v / 3], [v / 2, v, 255 - v / 4]])
            .flatten()
            .collect();
        let src = Bitmap::new(768, 1, PixelLayout::Rgb, px.clone()).unwrap();
        let out = transform(&src, &ColorProfile::new_srgb(), &ColorProfile::new_srgb()).unwrap();
        for (a, b) in out.data().iter().zip(&px) {
            assert!(a.abs_diff(*b) <= 1, "{a} vs {b}");
        }
    }

    #[test]
    fn garbage_profile_is_ignored() {
        let src = Bitmap::new(1, 1, PixelLayout::Gray, vec![7]).unwrap();
        let out = to_srgb(src, Some(b"not a profile"));
        assert_eq!(out.data(), &[7, 7, 7]);
    }
}

//! TIFF through the `tiff` crate: the first image, gray/RGB/CMYK/ICC-Lab, 1 to 16 bits.

use std::io::Cursor;

use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::orient::Orientation;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

fn corrupt(e: tiff::TiffError) -> Error {
    match e {
        tiff::TiffError::UnsupportedError(u) => Error::unsupported(format!("TIFF variant: {u}")),
        other => Error::corrupt("TIFF", other),
    }
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> Result<Decoder<Cursor<&'a [u8]>>> {
    let mut l = tiff::decoder::Limits::default();
    l.decoding_buffer_size = super::decoder_memory_cap(limits);
    l.intermediate_buffer_size = super::decoder_memory_cap(limits);
    l.ifd_value_size = 16 << 20;
    Ok(Decoder::new(Cursor::new(data))
        .map_err(corrupt)?
        .with_limits(l))
}

fn orientation(d: &mut Decoder<Cursor<&[u8]>>) -> Orientation {
    d.find_tag(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(|v| v.into_u16().ok())
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or_default()
}

fn icc(d: &mut Decoder<Cursor<&[u8]>>) -> Option<Vec<u8>> {
    d.find_tag(Tag::IccProfile)
        .ok()
        .flatten()?
        .into_u8_vec()
        .ok()
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let mut d = decoder(data, &Limits::default())?;
    let (width, height) = d.dimensions().map_err(corrupt)?;
    let (color, has_alpha) =
        if tag(&mut d, Tag::PhotometricInterpretation) == Some(PHOTOMETRIC_CIELAB) {
            (ColorModel::Lab, false)
        } else {
            probe_color(&mut d)?
        };
    let icc = icc(&mut d);
    Ok(ImageInfo {
        format: InputFormat::Tiff,
        width,
        height,
        orientation: orientation(&mut d),
        color,
        has_alpha,
        icc_description: icc_description(icc.as_deref()),
    })
}

fn probe_color(d: &mut Decoder<Cursor<&[u8]>>) -> Result<(ColorModel, bool)> {
    let ct = d.colortype().map_err(corrupt)?;
    Ok(match ct {
        ColorType::Gray(1) => (ColorModel::Bilevel, false),
        ColorType::Gray(_) => (ColorModel::Gray, false),
        ColorType::GrayA(_) => (ColorModel::Gray, true),
        ColorType::RGB(_) | ColorType::YCbCr(_) => (ColorModel::Rgb, false),
        ColorType::RGBA(_) => (ColorModel::Rgb, true),
        ColorType::CMYK(_) => (ColorModel::Cmyk, false),
        ColorType::CMYKA(_) => (ColorModel::Cmyk, true),
        ColorType::Palette(_) => (ColorModel::Indexed, false),
        ColorType::Lab(_) => (ColorModel::Lab, false),
        other => return Err(Error::unsupported(format!("TIFF with {other:?} samples"))),
    })
}

/// Reads a numeric tag of the first image.
fn tag(d: &mut Decoder<Cursor<&[u8]>>, t: Tag) -> Option<u32> {
    d.find_tag(t).ok().flatten()?.into_u32().ok()
}

const COMPRESSION_CCITT_G3: u32 = 3;
const PHOTOMETRIC_CIELAB: u32 = 8;

pub(super) fn decode(data: &[u8], limits: &Limits) -> Result<Decoded> {
    let mut d = decoder(data, limits)?;
    if tag(&mut d, Tag::Compression) == Some(COMPRESSION_CCITT_G3) {
        return decode_g3(data, &mut d);
    }
    if tag(&mut d, Tag::PhotometricInterpretation) == Some(PHOTOMETRIC_CIELAB) {
        return decode_cielab(data, limits);
    }
    let (w, h) = d.dimensions().map_err(corrupt)?;
    let ct = d.colortype().map_err(corrupt)?;
    let icc = icc(&mut d);
    let (layout, depth) = match ct {
        ColorType::Gray(b) => (PixelLayout::Gray, b),
        ColorType::GrayA(b) => (PixelLayout::GrayAlpha, b),
        ColorType::RGB(b) => (PixelLayout::Rgb, b),
        ColorType::RGBA(b) => (PixelLayout::Rgba, b),
        ColorType::CMYK(b) => (PixelLayout::Cmyk, b),
        ColorType::Lab(8) => (PixelLayout::Rgb, 8),
        other => return Err(Error::unsupported(format!("TIFF with {other:?} samples"))),
    };
    let samples = match d.read_image().map_err(corrupt)? {
        DecodingResult::U8(v) if depth == 8 => v,
        DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        DecodingResult::U8(v) if depth < 8 && layout == PixelLayout::Gray => {
            unpack_gray(&v, w, h, depth)?
        }
        _ => return Err(Error::unsupported(format!("TIFF with {ct:?} samples"))),
    };
    let mut bitmap = Bitmap::new(w, h, layout, samples)
        .map_err(|_| Error::corrupt("TIFF", "pixel data is shorter than the image"))?;
    if matches!(ct, ColorType::Lab(_)) {
        lab_to_srgb(bitmap.data_mut());
        return Ok(Decoded {
            bitmap,
            icc: None,
            orientation: Default::default(),
            scale: 1,
        });
    }
    Ok(Decoded {
        bitmap,
        icc,
        orientation: Default::default(),
        scale: 1,
    })
}

/// CCITT Group 3 (one-dimensional) fax data, which the tiff crate does not decode, through the
/// `fax` crate the tiff crate already uses for Group 4.
fn decode_g3(data: &[u8], d: &mut Decoder<Cursor<&[u8]>>) -> Result<Decoded> {
    let (w, h) = d.dimensions().map_err(corrupt)?;
    let t4_options = tag(d, Tag::Unknown(292)).unwrap_or(0);
    if t4_options & 1 != 0 {
        return Err(Error::unsupported(
            "TIFF with two-dimensional CCITT Group 3 coding",
        ));
    }
    let width =
        u16::try_from(w).map_err(|_| Error::corrupt("TIFF", "fax image wider than 65535"))?;
    let reverse_bits = tag(d, Tag::FillOrder) == Some(2);
    let black_is_zero = tag(d, Tag::PhotometricInterpretation) == Some(1);
    let offsets = d
        .find_tag(Tag::StripOffsets)
        .ok()
        .flatten()
        .and_then(|v| v.into_u32_vec().ok())
        .ok_or_else(|| Error::corrupt("TIFF", "no strip offsets"))?;
    let counts = d
        .find_tag(Tag::StripByteCounts)
        .ok()
        .flatten()
        .and_then(|v| v.into_u32_vec().ok())
        .ok_or_else(|| Error::corrupt("TIFF", "no strip byte counts"))?;
    let (wu, hu) = (w as usize, h as usize);
    let mut out = vec![255u8; crate::pixels::byte_len(w, h, PixelLayout::Gray)?];
    let mut y = 0usize;
    for (&off, &len) in offsets.iter().zip(&counts) {
        let strip = data
            .get(off as usize..(off as usize).saturating_add(len as usize))
            .ok_or_else(|| Error::corrupt("TIFF", "strip runs past the end of the file"))?;
        let bytes = strip
            .iter()
            .map(|&b| if reverse_bits { b.reverse_bits() } else { b });
        fax::decoder::decode_g3(bytes, |transitions| {
            if y < hu {
                let row = &mut out[y * wu..(y + 1) * wu];
                for (px, colour) in row.iter_mut().zip(fax::decoder::pels(transitions, width)) {
                    let white = colour == fax::Color::White;
                    *px = if white != black_is_zero { 255 } else { 0 };
                }
            }
            y += 1;
        });
    }
    if y == 0 {
        return Err(Error::corrupt("TIFF", "no fax lines could be decoded"));
    }
    Ok(Decoded {
        bitmap: Bitmap::new(w, h, PixelLayout::Gray, out)?,
        icc: None,
        orientation: Default::default(),
        scale: 1,
    })
}

/// CIELab (photometric 8: L unsigned, a and b signed), which the tiff crate refuses by name.
///
/// The bytes are the same as RGB's apart from that one tag, and the tiff crate's decompression
/// and predictor work on wrapping integers, so a copy with the tag changed to RGB decodes to
/// the raw Lab samples, which are then converted here.
fn decode_cielab(data: &[u8], limits: &Limits) -> Result<Decoded> {
    let mut patched = data.to_vec();
    set_photometric_rgb(&mut patched).ok_or_else(|| Error::corrupt("TIFF", "bad first IFD"))?;
    let mut d = decoder(&patched, limits)?;
    let (w, h) = d.dimensions().map_err(corrupt)?;
    let lab: Vec<[f32; 3]> = match (
        d.colortype().map_err(corrupt)?,
        d.read_image().map_err(corrupt)?,
    ) {
        (ColorType::RGB(8), DecodingResult::U8(v)) => v
            .chunks_exact(3)
            .map(|p| {
                [
                    f32::from(p[0]) * 100.0 / 255.0,
                    f32::from(p[1] as i8),
                    f32::from(p[2] as i8),
                ]
            })
            .collect(),
        (ColorType::RGB(16), DecodingResult::U16(v)) => v
            .chunks_exact(3)
            .map(|p| {
                [
                    f32::from(p[0]) * 100.0 / 65535.0,
                    f32::from(p[1] as i16) / 256.0,
                    f32::from(p[2] as i16) / 256.0,
                ]
            })
            .collect(),
        (ct, _) => {
            return Err(Error::unsupported(format!(
                "CIELab TIFF with {ct:?} samples"
            )));
        }
    };
    let rgb: Vec<u8> = lab.into_iter().flat_map(lab_d50_to_srgb).collect();
    Ok(Decoded {
        bitmap: Bitmap::new(w, h, PixelLayout::Rgb, rgb)
            .map_err(|_| Error::corrupt("TIFF", "pixel data is shorter than the image"))?,
        icc: None,
        orientation: Default::default(),
        scale: 1,
    })
}

/// Rewrites the PhotometricInterpretation entry of the first IFD to RGB (2).
fn set_photometric_rgb(tiff: &mut [u8]) -> Option<()> {
    let be = tiff.get(0..2)? == b"MM";
    let rd16 = |t: &[u8], at: usize| -> Option<u16> {
        let b = t.get(at..at + 2)?;
        Some(if be {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let b = tiff.get(4..8)?;
    let ifd = if be {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    } else {
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    } as usize;
    let n = usize::from(rd16(tiff, ifd)?);
    for i in 0..n {
        let e = ifd + 2 + 12 * i;
        if rd16(tiff, e)? == 262 {
            let v = if be {
                2u16.to_be_bytes()
            } else {
                2u16.to_le_bytes()
            };
            tiff.get_mut(e + 8..e + 10)?.copy_from_slice(&v);
            return Some(());
        }
    }
    None
}

/// 1, 2 or 4-bit gray, rows padded to a byte, to 8-bit gray.
fn unpack_gray(packed: &[u8], w: u32, h: u32, depth: u8) -> Result<Vec<u8>> {
    let depth = usize::from(depth);
    let (w, h) = (w as usize, h as usize);
    let row_bytes = (w * depth).div_ceil(8);
    if packed.len() < row_bytes * h {
        return Err(Error::corrupt(
            "TIFF",
            "bilevel data is shorter than the image",
        ));
    }
    let max = (1u16 << depth) - 1;
    let mut out = Vec::with_capacity(w * h);
    for row in packed.chunks_exact(row_bytes).take(h) {
        for x in 0..w {
            let bit = x * depth;
            let v = (row[bit / 8] >> (8 - depth - bit % 8)) as u16 & max;
            out.push((v * 255 / max) as u8);
        }
    }
    Ok(out)
}

/// ICC-encoded 8-bit L*a*b* (L 0..255 = 0..100, a/b offset by 128), D50, to sRGB in place.
fn lab_to_srgb(px: &mut [u8]) {
    for p in px.chunks_exact_mut(3) {
        let lab = [
            f32::from(p[0]) * 100.0 / 255.0,
            f32::from(p[1]) - 128.0,
            f32::from(p[2]) - 128.0,
        ];
        p.copy_from_slice(&lab_d50_to_srgb(lab));
    }
}

/// One L*a*b* colour (D50) to 8-bit sRGB.
fn lab_d50_to_srgb([l, a, b]: [f32; 3]) -> [u8; 3] {
    {
        let fy = (l + 16.0) / 116.0;
        let fx = fy + a / 500.0;
        let fz = fy - b / 200.0;
        let finv = |t: f32| {
            if t > 6.0 / 29.0 {
                t * t * t
            } else {
                3.0 * (6.0f32 / 29.0).powi(2) * (t - 4.0 / 29.0)
            }
        };
        // D50 white, then Bradford-adapted XYZ(D50) -> linear sRGB.
        let (x, y, z) = (0.9642 * finv(fx), finv(fy), 0.8249 * finv(fz));
        let r = 3.134_522 * x - 1.617_278 * y - 0.490_704 * z;
        let g = -0.978_720 * x + 1.916_174 * y + 0.033_448 * z;
        let bb = 0.071_950 * x - 0.228_952 * y + 1.405_253 * z;
        let enc = |c: f32| {
            let c = c.clamp(0.0, 1.0);
            let v = if c <= 0.003_130_8 {
                12.92 * c
            } else {
                1.055 * c.powf(1.0 / 2.4) - 0.055
            };
            (v * 255.0).round() as u8
        };
        [enc(r), enc(g), enc(bb)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_bilevel_rows_with_padding() {
        // 3 pixels wide, 2 rows: 101 / 010, each row padded to a byte.
        let got = unpack_gray(&[0b1010_0000, 0b0100_0000], 3, 2, 1).unwrap();
        assert_eq!(got, vec![255, 0, 255, 0, 255, 0]);
    }

    #[test]
    fn lab_white_and_black() {
        let mut px = [255, 128, 128, 0, 128, 128];
        lab_to_srgb(&mut px);
        assert!(px[..3].iter().all(|&v| v >= 254), "{px:?}");
        assert!(px[3..].iter().all(|&v| v <= 1), "{px:?}");
    }
}

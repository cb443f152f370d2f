//! TIFF through the `tiff` crate: the first image, gray/RGB/CMYK/ICC-Lab, 1 to 16 bits.

use std::io::Cursor;

use tiff::ColorType;
use tiff::decoder::{ChunkType, Decoder, DecodingResult};
use tiff::tags::Tag;

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::orient::Orientation;
use crate::pixels::{Bitmap, PixelLayout};
use crate::reduce::{BoxReducer, GridReducer};
use crate::spec::Limits;

fn corrupt(e: tiff::TiffError) -> Error {
    match e {
        tiff::TiffError::UnsupportedError(u) => Error::unsupported(format!("TIFF variant: {u}")),
        other => Error::corrupt("TIFF", other),
    }
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> Result<Decoder<Cursor<&'a [u8]>>> {
    let mut l = tiff::decoder::Limits::default();
    // One chunk at a time is ever decoded; `stream_chunks` refuses a larger one by name first.
    // Compressed data is read from the file, so never needs more than the file; tag values
    // (strip tables, an ICC profile) are small in any real file.
    let cap = usize::try_from(limits.max_memory).unwrap_or(usize::MAX);
    l.decoding_buffer_size = cap;
    l.intermediate_buffer_size = cap.min(data.len().saturating_add(1 << 16));
    l.ifd_value_size = cap.min(4 << 20);
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
        animated: false,
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

pub(super) fn decode(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    let mut d = decoder(data, limits)?;
    if tag(&mut d, Tag::Compression) == Some(COMPRESSION_CCITT_G3) {
        return decode_g3(data, &mut d, limits, reduction);
    }
    if tag(&mut d, Tag::PhotometricInterpretation) == Some(PHOTOMETRIC_CIELAB) {
        return decode_cielab(data, limits, reduction);
    }
    let ct = d.colortype().map_err(corrupt)?;
    let icc = icc(&mut d);
    let (layout, depth, samples) = match ct {
        ColorType::Gray(b) => (PixelLayout::Gray, b, Samples::Plain),
        ColorType::GrayA(b) => (PixelLayout::GrayAlpha, b, Samples::Plain),
        ColorType::RGB(b) => (PixelLayout::Rgb, b, Samples::Plain),
        ColorType::RGBA(b) => (PixelLayout::Rgba, b, Samples::Plain),
        ColorType::CMYK(b) => (PixelLayout::Cmyk, b, Samples::Plain),
        ColorType::Lab(8) => (PixelLayout::Rgb, 8, Samples::IccLab),
        other => return Err(Error::unsupported(format!("TIFF with {other:?} samples"))),
    };
    if depth != 8 && depth != 16 && !(depth < 8 && layout == PixelLayout::Gray) {
        return Err(Error::unsupported(format!("TIFF with {ct:?} samples")));
    }
    let (bitmap, scale) = stream_chunks(&mut d, layout, depth, samples, limits, reduction)?;
    let icc = if samples == Samples::Plain { icc } else { None };
    Ok(Decoded {
        bitmap,
        icc,
        orientation: Default::default(),
        scale,
    })
}

/// How a chunk's samples become 8-bit pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Samples {
    Plain,
    /// ICC-encoded 8-bit L*a*b* (a and b offset by 128), converted to sRGB.
    IccLab,
    /// CIELab (a and b signed), 8 or 16-bit, converted to sRGB.
    CieLab,
}

/// Reads the image a strip or tile at a time, each into the reduction as it is decoded:
/// memory is the reduced image plus one chunk, and a chunk over the memory limit is refused
/// before it is read.
fn stream_chunks(
    d: &mut Decoder<Cursor<&[u8]>>,
    layout: PixelLayout,
    depth: u8,
    samples: Samples,
    limits: &Limits,
    reduction: u32,
) -> Result<(Bitmap, u32)> {
    let (w, h) = d.dimensions().map_err(corrupt)?;
    if tag(d, Tag::PlanarConfiguration) == Some(2) {
        return Err(Error::unsupported("TIFF with separate colour planes"));
    }
    let tiled = d.get_chunk_type() == ChunkType::Tile;
    let (cw, ch) = if tiled {
        (
            tag(d, Tag::TileWidth).unwrap_or(0),
            tag(d, Tag::TileLength).unwrap_or(0),
        )
    } else {
        (w, tag(d, Tag::RowsPerStrip).unwrap_or(h).min(h))
    };
    if cw == 0 || ch == 0 {
        return Err(Error::corrupt("TIFF", "chunk of zero size"));
    }
    let c = layout.channels();
    let sample_bytes = if depth > 8 { 2 } else { 1 };
    let chunk_bytes = u64::from(cw) * u64::from(ch) * c as u64 * sample_bytes;
    let what = if tiled { "tile" } else { "strip" };
    limits.check_memory(format_args!("one TIFF {what} of {cw}x{ch}"), chunk_bytes)?;
    let (across, down) = (w.div_ceil(cw), h.div_ceil(ch));
    let mut sink = if tiled {
        Sink::Grid(GridReducer::try_new(w, h, layout, reduction, limits)?)
    } else {
        Sink::Rows(BoxReducer::try_new(w, h, layout, reduction, limits)?)
    };
    for i in 0..across * down {
        limits.check_deadline()?;
        let (tx, ty) = (i % across, i / across);
        let (x0, y0) = (tx * cw, ty * ch);
        let (dw, dh) = ((w - x0).min(cw), (h - y0).min(ch));
        let chunk = match d.read_chunk(i) {
            Ok(v) => v,
            // A file that ends early keeps the chunks it has.
            Err(_) if i > 0 => break,
            Err(e) => return Err(corrupt(e)),
        };
        let px = to_8bit(chunk, dw, dh, depth, layout, samples)?;
        let stride = px.len() / dh.max(1) as usize;
        if stride < dw as usize * c {
            return Err(Error::corrupt("TIFF", "a chunk is shorter than its rows"));
        }
        for (r, row) in px.chunks_exact(stride).take(dh as usize).enumerate() {
            let row = &row[..dw as usize * c];
            match &mut sink {
                Sink::Grid(g) => g.push_span(y0 as usize + r, x0 as usize, 1, row),
                Sink::Rows(b) => b.push_row(row),
            }
        }
    }
    Ok(match sink {
        Sink::Grid(g) => {
            let f = g.factor();
            (g.finish()?, f)
        }
        Sink::Rows(b) => {
            let f = b.factor();
            let bmp = b
                .finish()
                .ok_or_else(|| Error::corrupt("TIFF", "no strip could be read"))?;
            (bmp, f)
        }
    })
}

enum Sink {
    Grid(GridReducer),
    Rows(BoxReducer),
}

/// One chunk's samples as 8-bit pixels of `layout`.
fn to_8bit(
    chunk: DecodingResult,
    w: u32,
    h: u32,
    depth: u8,
    layout: PixelLayout,
    samples: Samples,
) -> Result<Vec<u8>> {
    let unsupported = || Error::unsupported(format!("TIFF with {depth}-bit {layout:?} samples"));
    Ok(match (samples, chunk) {
        (Samples::Plain, DecodingResult::U8(v)) if depth == 8 => v,
        (Samples::Plain, DecodingResult::U8(v)) if depth < 8 => unpack_gray(&v, w, h, depth)?,
        (Samples::Plain, DecodingResult::U16(v)) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        (Samples::IccLab, DecodingResult::U8(mut v)) => {
            lab_to_srgb(&mut v);
            v
        }
        (Samples::CieLab, DecodingResult::U8(v)) => v
            .chunks_exact(3)
            .flat_map(|p| {
                lab_d50_to_srgb([
                    f32::from(p[0]) * 100.0 / 255.0,
                    f32::from(p[1] as i8),
                    f32::from(p[2] as i8),
                ])
            })
            .collect(),
        (Samples::CieLab, DecodingResult::U16(v)) => v
            .chunks_exact(3)
            .flat_map(|p| {
                lab_d50_to_srgb([
                    f32::from(p[0]) * 100.0 / 65535.0,
                    f32::from(p[1] as i16) / 256.0,
                    f32::from(p[2] as i16) / 256.0,
                ])
            })
            .collect(),
        _ => return Err(unsupported()),
    })
}

/// CCITT Group 3 (one-dimensional) fax data, which the tiff crate does not decode, through the
/// `fax` crate the tiff crate already uses for Group 4; lines stream into the reduction.
fn decode_g3(
    data: &[u8],
    d: &mut Decoder<Cursor<&[u8]>>,
    limits: &Limits,
    reduction: u32,
) -> Result<Decoded> {
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
    let hu = h as usize;
    let mut reducer = BoxReducer::try_new(w, h, PixelLayout::Gray, reduction, limits)?;
    let mut line = vec![255u8; w as usize];
    let mut y = 0usize;
    for (&off, &len) in offsets.iter().zip(&counts) {
        limits.check_deadline()?;
        let strip = data
            .get(off as usize..(off as usize).saturating_add(len as usize))
            .ok_or_else(|| Error::corrupt("TIFF", "strip runs past the end of the file"))?;
        let bytes = strip
            .iter()
            .map(|&b| if reverse_bits { b.reverse_bits() } else { b });
        fax::decoder::decode_g3(bytes, |transitions| {
            if y < hu {
                for (px, colour) in line.iter_mut().zip(fax::decoder::pels(transitions, width)) {
                    let white = colour == fax::Color::White;
                    *px = if white != black_is_zero { 255 } else { 0 };
                }
                reducer.push_row(&line);
            }
            y += 1;
        });
    }
    if y == 0 {
        return Err(Error::corrupt("TIFF", "no fax lines could be decoded"));
    }
    let scale = reducer.factor();
    Ok(Decoded {
        bitmap: reducer
            .finish()
            .ok_or_else(|| Error::corrupt("TIFF", "no fax lines could be decoded"))?,
        icc: None,
        orientation: Default::default(),
        scale,
    })
}

/// CIELab (photometric 8: L unsigned, a and b signed), which the tiff crate refuses by name.
///
/// The bytes are the same as RGB's apart from that one tag, and the tiff crate's decompression
/// and predictor work on wrapping integers, so a copy with the tag changed to RGB decodes to
/// the raw Lab samples, which are then converted here.
fn decode_cielab(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    let mut patched = data.to_vec();
    set_photometric_rgb(&mut patched).ok_or_else(|| Error::corrupt("TIFF", "bad first IFD"))?;
    let mut d = decoder(&patched, limits)?;
    let depth = match d.colortype().map_err(corrupt)? {
        ColorType::RGB(b @ (8 | 16)) => b,
        ct => {
            return Err(Error::unsupported(format!(
                "CIELab TIFF with {ct:?} samples"
            )));
        }
    };
    let (bitmap, scale) = stream_chunks(
        &mut d,
        PixelLayout::Rgb,
        depth,
        Samples::CieLab,
        limits,
        reduction,
    )?;
    Ok(Decoded {
        bitmap,
        icc: None,
        orientation: Default::default(),
        scale,
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

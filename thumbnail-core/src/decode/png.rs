//! PNG through the `png` crate: 8/16-bit, palette, tRNS, alpha, Adam7; first frame of an APNG.

use std::io::Cursor;

use png::{ColorType, Decoder, Transformations};

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::exif;
use crate::format::InputFormat;
use crate::pixels::{Bitmap, PixelLayout};
use crate::reduce::BoxReducer;
use crate::spec::Limits;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::corrupt("PNG", e)
}

fn reader<'a>(data: &'a [u8], limits: &Limits) -> Result<png::Reader<Cursor<&'a [u8]>>> {
    let mut decoder = Decoder::new_with_limits(
        Cursor::new(data),
        png::Limits {
            bytes: super::decoder_memory_cap(limits),
        },
    );
    // Expand palettes, tRNS and low bit depths; strip 16-bit to 8.
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    decoder.read_info().map_err(corrupt)
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let r = reader(data, &Limits::default())?;
    let info = r.info();
    let color = match info.color_type {
        ColorType::Grayscale | ColorType::GrayscaleAlpha => ColorModel::Gray,
        ColorType::Indexed => ColorModel::Indexed,
        _ => ColorModel::Rgb,
    };
    Ok(ImageInfo {
        format: InputFormat::Png,
        width: info.width,
        height: info.height,
        orientation: info
            .exif_metadata
            .as_deref()
            .and_then(exif::orientation)
            .unwrap_or_default(),
        color,
        has_alpha: info.color_type.samples() % 2 == 0 || info.trns.is_some(),
        icc_description: icc_description(info.icc_profile.as_deref()),
    })
}

pub(super) fn decode(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    let mut r = reader(data, limits)?;
    let icc = r.info().icc_profile.as_ref().map(|c| c.to_vec());
    let (width, height, interlaced) = (r.info().width, r.info().height, r.info().interlaced);
    let layout = match r.output_color_type().0 {
        ColorType::Grayscale => PixelLayout::Gray,
        ColorType::GrayscaleAlpha => PixelLayout::GrayAlpha,
        ColorType::Rgb => PixelLayout::Rgb,
        ColorType::Rgba => PixelLayout::Rgba,
        ColorType::Indexed => return Err(corrupt("palette was not expanded")),
    };
    let (bitmap, scale) = if reduction > 1 && !interlaced {
        // Stream rows into the reducer: memory stays at the reduced size.
        let mut reducer = BoxReducer::new(width, height, layout, reduction);
        loop {
            match r.next_row() {
                Ok(Some(row)) => reducer.push_row(row.data()),
                Ok(None) => break,
                Err(e) => return Err(corrupt(e)),
            }
        }
        let bmp = reducer.finish().ok_or_else(|| corrupt("no rows"))?;
        (bmp, reduction.min(crate::reduce::MAX_FACTOR))
    } else {
        let size = r
            .output_buffer_size()
            .ok_or_else(|| corrupt("image too large for memory"))?;
        let mut buf = vec![0; size];
        let out = r.next_frame(&mut buf).map_err(corrupt)?;
        buf.truncate(out.buffer_size());
        (Bitmap::new(out.width, out.height, layout, buf)?, 1)
    };
    Ok(Decoded {
        bitmap,
        icc,
        orientation: Default::default(),
        scale,
    })
}

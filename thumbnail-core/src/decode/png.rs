//! PNG through the `png` crate: 8/16-bit, palette, tRNS, alpha, Adam7; first frame of an APNG.

use std::io::Cursor;

use png::{Adam7Info, ColorType, Decoder, InterlaceInfo, Transformations};

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::exif;
use crate::format::InputFormat;
use crate::pixels::PixelLayout;
use crate::reduce::{BoxReducer, GridReducer};
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
        animated: info.animation_control.is_some_and(|a| a.num_frames > 1),
    })
}

/// Adam7's passes: first column, first row, column step, row step.
const ADAM7: [(usize, usize, usize, usize); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// Rows stream into the reduction as they are decoded, interlaced or not: memory is the
/// reduced image plus a few rows, never the full frame.
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
    let (bitmap, scale) = if interlaced {
        let mut grid = GridReducer::try_new(width, height, layout, reduction, limits)?;
        let (w, h) = (width as usize, height as usize);
        'passes: for (pass, &(x0, y0, dx, dy)) in ADAM7.iter().enumerate() {
            if x0 >= w || y0 >= h {
                continue;
            }
            for (line, y) in (y0..h).step_by(dy).enumerate() {
                if line % 64 == 0 {
                    limits.check_deadline()?;
                }
                let row = match r.next_interlaced_row() {
                    Ok(Some(row)) => row,
                    // A truncated file keeps the passes it has.
                    Ok(None) | Err(_) if pass > 0 || line > 0 => break 'passes,
                    Ok(None) => return Err(corrupt("no rows")),
                    Err(e) => return Err(corrupt(e)),
                };
                let expected = Adam7Info::new(pass as u8 + 1, line as u32, width);
                if !matches!(row.interlace(), InterlaceInfo::Adam7(i) if *i == expected) {
                    return Err(corrupt("interlaced rows out of order"));
                }
                grid.push_span(y, x0, dx, row.data());
            }
        }
        let factor = grid.factor();
        (grid.finish()?, factor)
    } else {
        let mut reducer = BoxReducer::try_new(width, height, layout, reduction, limits)?;
        for y in 0.. {
            if y % 64 == 0 {
                limits.check_deadline()?;
            }
            match r.next_row() {
                Ok(Some(row)) => reducer.push_row(row.data()),
                Ok(None) => break,
                // A truncated file keeps the rows it has.
                Err(_) if y > 0 => break,
                Err(e) => return Err(corrupt(e)),
            }
        }
        let factor = reducer.factor();
        (reducer.finish().ok_or_else(|| corrupt("no rows"))?, factor)
    };
    Ok(Decoded {
        bitmap,
        icc,
        orientation: Default::default(),
        scale,
    })
}

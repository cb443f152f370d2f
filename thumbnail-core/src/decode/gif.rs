//! GIF through the `gif` crate: the first frame, composited onto the logical screen.

use std::io::Cursor;
use std::num::NonZeroU64;

use gif::{ColorOutput, DecodeOptions, MemoryLimit};

use super::{ColorModel, Decoded, ImageInfo};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::pixels::PixelLayout;
use crate::reduce::GridReducer;
use crate::spec::Limits;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::corrupt("GIF", e)
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> Result<gif::Decoder<Cursor<&'a [u8]>>> {
    let mut opts = DecodeOptions::new();
    opts.set_color_output(ColorOutput::RGBA);
    let cap = u64::try_from(super::decoder_memory_cap(limits)).unwrap_or(u64::MAX);
    opts.set_memory_limit(NonZeroU64::new(cap).map_or(MemoryLimit::Unlimited, MemoryLimit::Bytes));
    opts.read_info(Cursor::new(data)).map_err(corrupt)
}

/// The canvas: the logical screen, or the first frame's extent when the screen is declared 0.
fn canvas(screen: (u16, u16), frame: &gif::Frame<'_>) -> (u32, u32) {
    let (sw, sh) = (u32::from(screen.0), u32::from(screen.1));
    let fw = u32::from(frame.left) + u32::from(frame.width);
    let fh = u32::from(frame.top) + u32::from(frame.height);
    (if sw == 0 { fw } else { sw }, if sh == 0 { fh } else { sh })
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let mut d = decoder(data, &Limits::default())?;
    let screen = (d.width(), d.height());
    let frame = d
        .next_frame_info()
        .map_err(corrupt)?
        .ok_or_else(|| corrupt("no image in the file"))?;
    let (width, height) = canvas(screen, frame);
    let covers = frame.left == 0
        && frame.top == 0
        && u32::from(frame.width) >= width
        && u32::from(frame.height) >= height;
    Ok(ImageInfo {
        format: InputFormat::Gif,
        width,
        height,
        orientation: Default::default(),
        color: ColorModel::Indexed,
        has_alpha: frame.transparent.is_some() || !covers,
        icc_description: None,
        animated: frames_at_least(data, 2),
    })
}

/// Whether the file has at least `n` image descriptors, found by walking its blocks without
/// decoding any.
fn frames_at_least(data: &[u8], n: usize) -> bool {
    let byte = |i: usize| data.get(i).copied();
    // Sub-blocks: a length byte, that many bytes, until a zero length.
    let skip_blocks = |mut i: usize| {
        while let Some(len) = byte(i) {
            i += 1 + usize::from(len);
            if len == 0 {
                return Some(i);
            }
        }
        None
    };
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let Some(flags) = byte(10) else { return false };
    let mut i = 13 + table(flags);
    let mut seen = 0;
    loop {
        match byte(i) {
            Some(0x2C) => {
                seen += 1;
                if seen >= n {
                    return true;
                }
                let Some(local) = byte(i + 9) else {
                    return false;
                };
                // Descriptor, local table, LZW code size, then the data's sub-blocks.
                match skip_blocks(i + 10 + table(local) + 1) {
                    Some(next) => i = next,
                    None => return false,
                }
            }
            Some(0x21) => match skip_blocks(i + 2) {
                Some(next) => i = next,
                None => return false,
            },
            _ => return false,
        }
    }
}

/// The canvas row of each of a frame's `height` stored rows: interlaced frames store every
/// 8th row from 0, every 8th from 4, every 4th from 2, then every 2nd from 1.
fn row_order(height: usize, interlaced: bool) -> impl Iterator<Item = usize> {
    let passes: &[(usize, usize)] = if interlaced {
        &[(0, 8), (4, 8), (2, 4), (1, 2)]
    } else {
        &[(0, 1)]
    };
    passes
        .iter()
        .flat_map(move |&(start, step)| (start..height).step_by(step))
}

/// The first frame, streamed row by row into the reduction at its place on the canvas;
/// what the frame does not cover stays transparent.
pub(super) fn decode(
    data: &[u8],
    info: &ImageInfo,
    limits: &Limits,
    reduction: u32,
) -> Result<Decoded> {
    let mut d = decoder(data, limits)?;
    let frame = d
        .next_frame_info()
        .map_err(corrupt)?
        .ok_or_else(|| corrupt("no image in the file"))?;
    let (fx, fy) = (usize::from(frame.left), usize::from(frame.top));
    let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
    let interlaced = frame.interlaced;
    let mut grid = GridReducer::try_new(
        info.width,
        info.height,
        PixelLayout::Rgba,
        reduction,
        limits,
    )?;
    let mut row = vec![0u8; fw * 4];
    for (i, y) in row_order(fh, interlaced).enumerate() {
        if i % 64 == 0 {
            limits.check_deadline()?;
        }
        match d.fill_buffer(&mut row) {
            Ok(true) => grid.push_span(fy + y, fx, 1, &row),
            // A frame whose data ends early keeps the rows it has.
            Ok(false) => break,
            Err(_) if i > 0 => break,
            Err(e) => return Err(corrupt(e)),
        }
    }
    let scale = grid.factor();
    Ok(Decoded {
        bitmap: grid.finish()?,
        icc: None,
        orientation: Default::default(),
        scale,
    })
}

//! GIF through the `gif` crate: the first frame, composited onto the logical screen.

use std::io::Cursor;
use std::num::NonZeroU64;

use gif::{ColorOutput, DecodeOptions, MemoryLimit};

use super::{ColorModel, Decoded, ImageInfo};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::pixels::{Bitmap, PixelLayout};
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
    })
}

pub(super) fn decode(data: &[u8], info: &ImageInfo, limits: &Limits) -> Result<Decoded> {
    let mut d = decoder(data, limits)?;
    let frame = d
        .read_next_frame()
        .map_err(corrupt)?
        .ok_or_else(|| corrupt("no image in the file"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let mut canvas =
        vec![0u8; crate::pixels::byte_len(info.width, info.height, PixelLayout::Rgba)?];
    let (fx, fy) = (usize::from(frame.left), usize::from(frame.top));
    let fw = usize::from(frame.width);
    let copy_w = w.saturating_sub(fx).min(fw);
    if copy_w > 0 {
        for (row_i, src) in frame.buffer.chunks_exact(fw * 4).enumerate() {
            let y = fy + row_i;
            if y >= h {
                break;
            }
            let at = (y * w + fx) * 4;
            canvas[at..at + copy_w * 4].copy_from_slice(&src[..copy_w * 4]);
        }
    }
    Ok(Decoded {
        bitmap: Bitmap::new(info.width, info.height, PixelLayout::Rgba, canvas)?,
        icc: None,
        orientation: Default::default(),
        scale: 1,
    })
}

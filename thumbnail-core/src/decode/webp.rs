//! WebP through `image-webp`: lossy, lossless, alpha; the first frame of an animation.

use std::io::Cursor;

use image_webp::WebPDecoder;

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::exif;
use crate::format::InputFormat;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::corrupt("WebP", e)
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> Result<WebPDecoder<Cursor<&'a [u8]>>> {
    let mut d = WebPDecoder::new(Cursor::new(data)).map_err(corrupt)?;
    d.set_memory_limit(super::decoder_memory_cap(limits));
    Ok(d)
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let mut d = decoder(data, &Limits::default())?;
    let (width, height) = d.dimensions();
    let icc = d.icc_profile().ok().flatten();
    let orientation = d
        .exif_metadata()
        .ok()
        .flatten()
        .as_deref()
        .and_then(exif::orientation)
        .unwrap_or_default();
    Ok(ImageInfo {
        format: InputFormat::WebP,
        width,
        height,
        orientation,
        color: ColorModel::Rgb,
        has_alpha: d.has_alpha(),
        icc_description: icc_description(icc.as_deref()),
    })
}

pub(super) fn decode(data: &[u8], limits: &Limits) -> Result<Decoded> {
    let mut d = decoder(data, limits)?;
    let (w, h) = d.dimensions();
    let layout = if d.has_alpha() {
        PixelLayout::Rgba
    } else {
        PixelLayout::Rgb
    };
    let size = d
        .output_buffer_size()
        .ok_or_else(|| corrupt("image too large for memory"))?;
    let mut buf = vec![0; size];
    d.read_image(&mut buf).map_err(corrupt)?;
    let icc = d.icc_profile().ok().flatten();
    Ok(Decoded {
        bitmap: Bitmap::new(w, h, layout, buf)?,
        icc,
        orientation: Default::default(),
        scale: 1,
    })
}

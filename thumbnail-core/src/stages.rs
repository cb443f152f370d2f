//! The pipeline's stages, one function each.
//!
//! [`thumbnails`](crate::thumbnails) is exactly [`probe`](crate::probe), [`decode`],
//! [`normalise`], then [`resize`] and [`encode`] per spec. With the `bench-internals` feature
//! they are public (and hidden from the docs) so benchmarks can time each stage, the fuzzer can
//! reach the decoders, and tests can hold the shrink-on-load JPEG decoder against a full-size
//! reference. They are not part of the stable API.
//!
//! ```
//! use thumbnail_core::{stages, Limits, ThumbnailSpec};
//! # let mut bmp = b"BM".to_vec();
//! # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
//! # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
//! # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
//! # bmp.extend([0u8; 24]);
//! let specs = [ThumbnailSpec::default()];
//! let info = thumbnail_core::probe(&bmp)?;
//! let decoded = stages::decode(&bmp, &info, &specs, &Limits::default())?;
//! let upright = stages::normalise(decoded, &info, &specs);
//! let pixels = stages::resize(&upright, info.upright_size(), &specs[0])?;
//! let jpeg = stages::encode(&pixels, &specs[0])?;
//! assert!(jpeg.starts_with(&[0xFF, 0xD8]));
//! # Ok::<(), thumbnail_core::Error>(())
//! ```

use crate::color;
use crate::decode::jpeg;
pub use crate::decode::jpeg::decoder::Detail as JpegDetail;
use crate::decode::{self, ImageInfo, Probed, Reduction};
use crate::error::{Error, Result};
use crate::geometry;
use crate::orient::Orientation;
use crate::pixels::Bitmap;
use crate::reduce;
use crate::resize as resample;
use crate::spec::{Fit, Limits, ThumbnailSpec};

/// How much resolution the final Lanczos3 filter gets at least, as a multiple of the output.
///
/// An area pre-reduction that goes down to 2x the output softens the result visibly (SSIM
/// against a full-resolution Lanczos reference on the photo corpus: 0.993 at 2x, 0.997 at 3x,
/// before JPEG encoding), so the box stage stops at 3x.
pub(crate) const BOX_MARGIN: f64 = 3.0;

/// The same for JPEG's DCT scaling, which keeps more detail than an area average (the scaled
/// IDCT of the low frequencies, as libjpeg does): 2x, like libvips, Pillow and ImageMagick.
pub(crate) const DCT_MARGIN: f64 = 2.0;

/// The largest integer factor the source may be shrunk by before the final filter, so that
/// every spec still has at least `margin` times its output resolution to resample from.
pub(crate) fn max_reduction(upright: (u32, u32), specs: &[ThumbnailSpec], margin: f64) -> u32 {
    specs
        .iter()
        .map(|s| {
            let scale = geometry::scale(upright, s);
            let r = (1.0 / (margin * scale)).floor();
            if r.is_finite() && r >= 1.0 {
                r.min(f64::from(u32::MAX)) as u32
            } else {
                1
            }
        })
        .min()
        .unwrap_or(1)
}

/// A decoded image, possibly shrunk on load, still in its stored orientation and colours.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub bitmap: Bitmap,
    /// The embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
    pub orientation: Orientation,
    /// The factor the decoder already shrank the image by (1 = full size).
    pub scale: u32,
}

/// Decodes, shrinking while decoding as far as every spec allows.
///
/// JPEG is decoded in the DCT domain at 1/2, 1/4 or 1/8 when that still leaves twice the
/// output resolution; PNG is area-averaged row by row as it is read.
pub fn decode(
    data: &[u8],
    info: &ImageInfo,
    specs: &[ThumbnailSpec],
    limits: &Limits,
) -> Result<Decoded> {
    let probed = Probed {
        info: info.clone(),
        jpeg: None,
    };
    decode_probed(data, &probed, specs, limits)
}

/// [`decode`] with the header already read: the pipeline's path, so a header is parsed once.
pub(crate) fn decode_probed(
    data: &[u8],
    probed: &Probed<'_>,
    specs: &[ThumbnailSpec],
    limits: &Limits,
) -> Result<Decoded> {
    let upright = probed.info.upright_size();
    let reduction = Reduction {
        dct: max_reduction(upright, specs, DCT_MARGIN),
        area: max_reduction(upright, specs, BOX_MARGIN),
    };
    let limits = for_output(limits, specs);
    let d = decode::decode(data, probed, reduction, &limits)?;
    Ok(Decoded {
        bitmap: d.bitmap,
        icc: d.icc,
        orientation: d.orientation,
        scale: d.scale,
    })
}

/// Bytes of working memory each output pixel may call for: the decoder keeps up to 3x the
/// output resolution each way (see `BOX_MARGIN`), 9 source pixels an output pixel, and a
/// progressive JPEG needs its coefficients (2 bytes for each of up to 3 components) and the
/// decoded pixels (up to 4 bytes) of each: about 10 bytes a source pixel, so 96 an output
/// pixel. (At 36, a 999-pixel-wide thumbnail of a 4 MP progressive photo was refused.)
const BYTES_PER_OUTPUT_PIXEL: u64 = 96;

/// `limits` with the memory limit raised to what the largest spec itself needs, so a big
/// thumbnail of a big image is not refused while a small one of a hostile file still is.
fn for_output(limits: &Limits, specs: &[ThumbnailSpec]) -> Limits {
    let biggest = specs
        .iter()
        .map(|s| u64::from(s.width) * u64::from(s.height))
        .max()
        .unwrap_or(0);
    Limits {
        max_memory: limits
            .max_memory
            .max(biggest.saturating_mul(BYTES_PER_OUTPUT_PIXEL)),
        ..*limits
    }
}

/// Finishes the reduction by area averaging, converts to sRGB and applies the orientation.
pub fn normalise(decoded: Decoded, info: &ImageInfo, specs: &[ThumbnailSpec]) -> Bitmap {
    let area = max_reduction(info.upright_size(), specs, BOX_MARGIN);
    let remaining = area / decoded.scale.max(1);
    let bitmap = if remaining >= 2 {
        reduce::box_reduce(&decoded.bitmap, remaining.min(reduce::MAX_FACTOR))
    } else {
        decoded.bitmap
    };
    let bitmap = to_srgb(bitmap, decoded.icc.as_deref());
    decoded.orientation.apply(bitmap)
}

/// Converts to 8-bit sRGB (RGB, or RGBA with alpha) using the ICC profile when there is one.
pub fn to_srgb(bitmap: Bitmap, icc: Option<&[u8]>) -> Bitmap {
    color::to_srgb(bitmap, icc)
}

/// Crops, resamples (Lanczos3), pads and flattens an upright sRGB image for one spec: the
/// pixels that [`encode`] writes.
///
/// `original` is the upright size of the source before any shrinking on load: sizes and crops
/// are planned on it, so the output does not depend on how far the decoder reduced (a 658x217
/// image fitted inside 13x2 is 6x2 however it was decoded).
pub fn resize(upright: &Bitmap, original: (u32, u32), spec: &ThumbnailSpec) -> Result<Bitmap> {
    let anchor = geometry::entropy_anchor(upright, spec);
    let plan = geometry::plan(original, spec, anchor);
    let plan = plan.on((upright.width(), upright.height()), original);
    let resized = resample::resize(upright, plan.crop, plan.resized.0, plan.resized.1)?;
    let composed = if spec.fit == Fit::Contain && plan.resized != plan.canvas {
        resample::place(&resized, plan.canvas, plan.offset, spec.background)
    } else {
        resized
    };
    Ok(if spec.format.supports_alpha() {
        resample::drop_opaque_alpha(composed)
    } else {
        resample::flatten(composed, spec.background)
    })
}

/// Encodes RGB or RGBA pixels as the spec's format. No metadata is written.
pub fn encode(pixels: &Bitmap, spec: &ThumbnailSpec) -> Result<Vec<u8>> {
    crate::encode::encode(pixels, spec)
}

/// JPEG only: our DCT-domain decoder at 1/`scale` (1, 2, 4 or 8), reading the `detail` of
/// each block ([`decode`] reads `Low` or `Coarse`), in the stored colour model (gray, RGB,
/// or CMYK as ink amounts). Files it does not cover are an error here; the pipeline hands
/// those to zune-jpeg.
pub fn decode_jpeg_scaled(
    data: &[u8],
    scale: u32,
    detail: JpegDetail,
    limits: &Limits,
) -> Result<Bitmap> {
    if !matches!(scale, 1 | 2 | 4 | 8) {
        return Err(Error::InvalidSpec(format!(
            "JPEG scale 1/{scale} is not 1, 2, 4 or 8"
        )));
    }
    limits.check_input(data.len())?;
    let header = jpeg::markers::JpegHeader::parse(data)?;
    decode::check_jpeg_supported(&header)?;
    let frame = header.frame()?;
    limits.check_pixels(frame.width, frame.height)?;
    jpeg::decoder::check_scans(data, header.first_scan, limits)?;
    match jpeg::decoder::decode(data, &header, scale, detail, limits)? {
        Ok(d) => Ok(d.bitmap),
        Err(why) => Err(Error::unsupported(format!(
            "JPEG layout outside the scaled decoder: {why:?}"
        ))),
    }
}

/// JPEG only: zune-jpeg at full size, in the same colour model as [`decode_jpeg_scaled`].
/// The reference the scaled decoder is checked against.
pub fn decode_jpeg_reference(data: &[u8], limits: &Limits) -> Result<Bitmap> {
    limits.check_input(data.len())?;
    let info = decode::probe(data)?;
    limits.check_pixels(info.width, info.height)?;
    decode::decode_jpeg_with_zune(data, &info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_twice_the_output() {
        let cover = ThumbnailSpec::default();
        assert_eq!(max_reduction((4000, 3000), &[cover], 2.0), 15);
        assert_eq!(max_reduction((4000, 3000), &[cover], 3.0), 10);
        assert_eq!(max_reduction((400, 300), &[cover], 2.0), 1);
        assert_eq!(max_reduction((100, 68), &[cover], 2.0), 1);
        let big = ThumbnailSpec::sized(1000, 1000);
        assert_eq!(max_reduction((4000, 3000), &[cover, big], 2.0), 1);
    }
}

//! The ThumbHash placeholder: a tiny, blurred description of the image that a page draws
//! before the thumbnail arrives.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::{Fit, OutputFormat, ThumbnailSpec};

/// ThumbHash keeps at most 7x7 frequencies of the image; 32 pixels on the long side carry
/// them all, and its encoder refuses more than 100.
const SIDE: u32 = 32;

/// The spec of the bitmap the hash is computed from: the whole upright image (no crop) at
/// most 32 pixels on its long side, with its alpha.
pub(crate) fn spec((w, h): (u32, u32)) -> ThumbnailSpec {
    let long = w.max(h).max(1);
    let side =
        |v: u32| ((u64::from(v) * u64::from(SIDE)).div_ceil(u64::from(long)) as u32).clamp(1, SIDE);
    let (pw, ph) = if long <= SIDE {
        (w.max(1), h.max(1))
    } else {
        (side(w), side(h))
    };
    ThumbnailSpec::sized(pw, ph)
        .with_fit(Fit::Fill)
        .with_format(OutputFormat::Png)
}

/// The ThumbHash of `pixels` (RGB or RGBA, at most 100x100), base64 with padding, as the
/// reference decoders take it.
pub(crate) fn thumbhash(pixels: &Bitmap) -> String {
    let (w, h) = (pixels.width() as usize, pixels.height() as usize);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for row in pixels.rows() {
        match pixels.layout() {
            PixelLayout::Rgba => rgba.extend_from_slice(&row[..w * 4]),
            PixelLayout::Rgb => {
                for p in row[..w * 3].chunks_exact(3) {
                    rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
                }
            }
            PixelLayout::GrayAlpha => {
                for p in row[..w * 2].chunks_exact(2) {
                    rgba.extend_from_slice(&[p[0], p[0], p[0], p[1]]);
                }
            }
            // The pipeline hands over sRGB; gray (and, defensively, ink) as its first channel.
            PixelLayout::Gray | PixelLayout::Cmyk => {
                let n = pixels.layout().channels();
                for p in row[..w * n].chunks_exact(n) {
                    rgba.extend_from_slice(&[p[0], p[0], p[0], 255]);
                }
            }
        }
    }
    STANDARD.encode(thumbhash::rgba_to_thumb_hash(w, h, &rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_bitmap_keeps_the_aspect_ratio_within_32() {
        let size = |s: ThumbnailSpec| (s.width, s.height);
        assert_eq!(size(spec((4000, 3000))), (32, 24));
        assert_eq!(size(spec((3000, 4000))), (24, 32));
        assert_eq!(size(spec((10000, 10))), (32, 1));
        assert_eq!(size(spec((20, 10))), (20, 10));
    }

    #[test]
    fn a_flat_colour_hashes_to_that_colour() {
        let red = Bitmap::filled(32, 24, PixelLayout::Rgb, &[255, 0, 0]).unwrap();
        let hash = STANDARD.decode(thumbhash(&red)).unwrap();
        let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&hash).unwrap();
        let centre = &rgba[((h / 2) * w + w / 2) * 4..][..4];
        assert!(
            centre[0] > 240 && centre[1] < 20 && centre[2] < 20,
            "{centre:?}"
        );
        assert_eq!(centre[3], 255);
    }
}

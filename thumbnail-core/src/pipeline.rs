//! The one pipeline: probe, refuse, decode (shrinking on load), reduce, colour, orient, and
//! for each spec resize, compose and encode.

use crate::error::Result;
use crate::geometry;
use crate::spec::{Limits, OutputFormat, ThumbnailSpec};
use crate::stages;

/// One encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
}

impl Thumbnail {
    /// The MIME type of [`Thumbnail::bytes`].
    pub fn mime(&self) -> &'static str {
        self.format.mime()
    }
}

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

pub(crate) fn run(data: &[u8], specs: &[ThumbnailSpec], limits: &Limits) -> Result<Vec<Thumbnail>> {
    // An oversized input is refused before anything else is looked at, even a bad spec.
    limits.check_input(data.len())?;
    for s in specs {
        s.validate()?;
    }
    let info = crate::admit(data, limits)?;
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    limits.check_deadline()?;
    let decoded = stages::decode(data, &info, specs, limits)?;
    limits.check_deadline()?;
    let upright = stages::normalise(decoded, &info, specs);
    specs
        .iter()
        .map(|spec| {
            limits.check_deadline()?;
            let ready = stages::resize(&upright, info.upright_size(), spec)?;
            Ok(Thumbnail {
                bytes: stages::encode(&ready, spec)?,
                width: ready.width(),
                height: ready.height(),
                format: spec.format,
            })
        })
        .collect()
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

//! What to make ([`ThumbnailSpec`]) and what to refuse ([`Limits`]).

use std::fmt;
use std::time::Instant;

use crate::error::{Error, Result};

/// Largest accepted output width or height.
pub const MAX_DIMENSION: u32 = 16384;

/// How the source is fitted into the `width` x `height` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Fit {
    /// Fill the box exactly, cropping the overflow according to [`Gravity`].
    #[default]
    Cover,
    /// Fit inside the box and pad to exactly `width` x `height` with the background.
    Contain,
    /// Stretch to exactly `width` x `height`, ignoring the aspect ratio.
    Fill,
    /// Fit inside the box, keep the aspect ratio, never enlarge. The output may be smaller.
    Inside,
}

/// Which part of the image survives a [`Fit::Cover`] crop (and where [`Fit::Contain`] places it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Gravity {
    #[default]
    Centre,
    North,
    NorthEast,
    East,
    SouthEast,
    South,
    SouthWest,
    West,
    NorthWest,
    /// Content-aware: keep the part of the image with the most detail (highest entropy).
    Entropy,
}

impl Gravity {
    /// Horizontal and vertical anchor in 0..=1 (0 = left/top); `None` for content-aware gravity.
    pub(crate) fn anchor(self) -> Option<(f64, f64)> {
        Some(match self {
            Gravity::Centre => (0.5, 0.5),
            Gravity::North => (0.5, 0.0),
            Gravity::NorthEast => (1.0, 0.0),
            Gravity::East => (1.0, 0.5),
            Gravity::SouthEast => (1.0, 1.0),
            Gravity::South => (0.5, 1.0),
            Gravity::SouthWest => (0.0, 1.0),
            Gravity::West => (0.0, 0.5),
            Gravity::NorthWest => (0.0, 0.0),
            Gravity::Entropy => return None,
        })
    }
}

/// Output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OutputFormat {
    #[default]
    Jpeg,
    Png,
    WebP,
    /// AV1 in HEIF (the `avif` feature, on by default, builds the encoder).
    Avif,
    /// The best the client takes, chosen by the front end (an HTTP `Accept` header) before
    /// the engine runs; what is left to the engine becomes PNG when the source has alpha,
    /// JPEG otherwise.
    Auto,
}

impl OutputFormat {
    /// The MIME type of this format (`Auto`'s is only known once the source is:
    /// `application/octet-stream`).
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::WebP => "image/webp",
            OutputFormat::Avif => "image/avif",
            OutputFormat::Auto => "application/octet-stream",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::WebP => "webp",
            OutputFormat::Avif => "avif",
            OutputFormat::Auto => "auto",
        }
    }

    /// Whether the format can carry an alpha channel.
    pub fn supports_alpha(self) -> bool {
        !matches!(self, OutputFormat::Jpeg)
    }

    /// The format the engine writes for a source with or without alpha: `Auto` resolved.
    pub fn for_source(self, has_alpha: bool) -> Self {
        match self {
            OutputFormat::Auto if has_alpha => OutputFormat::Png,
            OutputFormat::Auto => OutputFormat::Jpeg,
            other => other,
        }
    }
}

/// JPEG chroma subsampling of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Subsampling {
    /// Half-resolution chroma in both directions: smallest files, the web default.
    #[default]
    S420,
    /// Full-resolution chroma: sharper colour edges, bigger files.
    S444,
}

/// An sRGB colour with alpha, used to flatten transparency and to pad [`Fit::Contain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    pub const WHITE: Rgba = Rgba([255, 255, 255, 255]);
    pub const BLACK: Rgba = Rgba([0, 0, 0, 255]);
    pub const TRANSPARENT: Rgba = Rgba([0, 0, 0, 0]);
}

impl Default for Rgba {
    fn default() -> Self {
        Rgba::WHITE
    }
}

/// One thumbnail to make.
///
/// ```
/// use thumbnail_core::{Fit, OutputFormat, ThumbnailSpec};
///
/// let spec = ThumbnailSpec::default();
/// assert_eq!((spec.width, spec.height, spec.fit, spec.quality), (100, 100, Fit::Cover, 80));
/// assert_eq!(spec.format, OutputFormat::Jpeg);
///
/// let webp = spec.with_size(320, 180).with_format(OutputFormat::WebP);
/// webp.validate().unwrap();
/// // One side may be 0: it follows from the source's aspect ratio. Not both.
/// spec.with_size(0, 100).validate().unwrap();
/// assert!(spec.with_size(0, 0).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ThumbnailSpec {
    pub width: u32,
    pub height: u32,
    pub fit: Fit,
    pub gravity: Gravity,
    pub format: OutputFormat,
    /// 1..=100, for JPEG and WebP.
    pub quality: u8,
    /// Flattening colour for JPEG and the padding of [`Fit::Contain`].
    pub background: Rgba,
    /// Progressive JPEG instead of baseline.
    pub progressive: bool,
    /// JPEG chroma subsampling.
    pub subsampling: Subsampling,
}

impl Default for ThumbnailSpec {
    fn default() -> Self {
        ThumbnailSpec {
            width: 100,
            height: 100,
            fit: Fit::Cover,
            gravity: Gravity::Centre,
            format: OutputFormat::Jpeg,
            quality: 80,
            background: Rgba::WHITE,
            progressive: false,
            subsampling: Subsampling::S420,
        }
    }
}

impl ThumbnailSpec {
    /// A default spec with another size.
    pub fn sized(width: u32, height: u32) -> Self {
        ThumbnailSpec {
            width,
            height,
            ..Self::default()
        }
    }

    /// This spec with another size.
    pub fn with_size(self, width: u32, height: u32) -> Self {
        ThumbnailSpec {
            width,
            height,
            ..self
        }
    }

    /// This spec with another fit.
    pub fn with_fit(self, fit: Fit) -> Self {
        ThumbnailSpec { fit, ..self }
    }

    /// This spec with another gravity.
    pub fn with_gravity(self, gravity: Gravity) -> Self {
        ThumbnailSpec { gravity, ..self }
    }

    /// This spec with another output format.
    pub fn with_format(self, format: OutputFormat) -> Self {
        ThumbnailSpec { format, ..self }
    }

    /// This spec with another quality (checked by [`ThumbnailSpec::validate`]).
    pub fn with_quality(self, quality: u8) -> Self {
        ThumbnailSpec { quality, ..self }
    }

    /// This spec with another background.
    pub fn with_background(self, background: Rgba) -> Self {
        ThumbnailSpec { background, ..self }
    }

    /// This spec, progressive (JPEG) or not.
    pub fn with_progressive(self, progressive: bool) -> Self {
        ThumbnailSpec {
            progressive,
            ..self
        }
    }

    /// This spec with another JPEG chroma subsampling.
    pub fn with_subsampling(self, subsampling: Subsampling) -> Self {
        ThumbnailSpec {
            subsampling,
            ..self
        }
    }

    /// Checks the size and quality ranges. One side may be 0, [auto](ThumbnailSpec::resolved).
    pub fn validate(&self) -> Result<()> {
        if self.width == 0 && self.height == 0 {
            return Err(Error::InvalidSpec(
                "width and height are both 0: at least one side is needed".into(),
            ));
        }
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if v > MAX_DIMENSION {
                return Err(Error::InvalidSpec(format!(
                    "{name} {v} is outside 1..={MAX_DIMENSION}"
                )));
            }
        }
        if !(1..=100).contains(&self.quality) {
            return Err(Error::InvalidSpec(format!(
                "quality {} is outside 1..=100",
                self.quality
            )));
        }
        Ok(())
    }

    /// This spec for a source of `size` (upright) pixels: a side that is 0 ("auto": a
    /// `width` or `height` given alone) takes the value that keeps the source's aspect ratio,
    /// so nothing is cropped or padded.
    ///
    /// ```
    /// use thumbnail_core::ThumbnailSpec;
    ///
    /// let wide = ThumbnailSpec::sized(320, 0).resolved((4000, 3000));
    /// assert_eq!((wide.width, wide.height), (320, 240));
    /// let tall = ThumbnailSpec::sized(0, 100).resolved((3000, 4000));
    /// assert_eq!((tall.width, tall.height), (75, 100));
    /// ```
    pub fn resolved(self, size: (u32, u32)) -> Self {
        let (sw, sh) = (f64::from(size.0.max(1)), f64::from(size.1.max(1)));
        let side = |v: f64| (v.round() as u32).clamp(1, MAX_DIMENSION);
        match (self.width, self.height) {
            (0, 0) => self,
            (0, h) => self.with_size(side(f64::from(h) * sw / sh), h),
            (w, 0) => self.with_size(w, side(f64::from(w) * sh / sw)),
            _ => self,
        }
    }

    /// A canonical, file-name-safe text that differs whenever the output would differ.
    ///
    /// Used to derive deterministic storage keys: the same spec always gives the same text.
    ///
    /// ```
    /// let spec = thumbnail_core::ThumbnailSpec::default();
    /// assert_eq!(spec.canonical(), "100x100-cover-centre-jpeg-q80-ffffffff-420");
    /// ```
    pub fn canonical(&self) -> String {
        let [r, g, b, a] = self.background.0;
        let mut s = format!(
            "{}x{}-{}-{}-{}-q{}-{r:02x}{g:02x}{b:02x}{a:02x}",
            self.width, self.height, self.fit, self.gravity, self.format, self.quality
        );
        if self.format == OutputFormat::Jpeg {
            s.push_str(match self.subsampling {
                Subsampling::S420 => "-420",
                Subsampling::S444 => "-444",
            });
            if self.progressive {
                s.push_str("-prog");
            }
        }
        s
    }
}

/// Bounds on what the engine will accept and spend, checked before anything big is allocated
/// and, for time, inside every decoder loop.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let limits = thumbnail_core::Limits::default();
/// assert_eq!(limits.max_input_bytes, 50 * 1024 * 1024);
/// assert_eq!(limits.max_pixels, 100_000_000);
/// assert_eq!(limits.max_scans, 100);
/// assert_eq!(limits.max_memory, 32 * 1024 * 1024);
/// assert_eq!(limits.deadline, None);
/// assert_eq!(limits.max_output_dimension, thumbnail_core::MAX_DIMENSION);
/// assert_eq!(limits.max_threads, 1);
///
/// // A request with 30 s to live hands its deadline to the engine, which stops there.
/// let request = limits.with_deadline(Some(Instant::now() + Duration::from_secs(30)));
/// # let _ = request;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest encoded input accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest width x height accepted, as declared by the image header.
    pub max_pixels: u64,
    /// Most scans a JPEG may have (a progressive file needs about ten). Each scan walks the
    /// whole image, so thousands of tiny refinement scans are a CPU bomb; libjpeg-turbo
    /// offers the same cap.
    pub max_scans: u32,
    /// Working memory a decoder may hold beyond the reduced image it produces, in bytes:
    /// what a full-size frame (formats or layouts that cannot stream), a TIFF strip or tile,
    /// or a coarse reduction grid would need. Streaming decoders need a few rows and stay far
    /// below it; anything over it is refused with an error that names it. A large thumbnail
    /// raises it to what the output itself needs (96 bytes an output pixel: 3x its
    /// resolution each way, about 10 bytes a pixel for a progressive JPEG's coefficients and
    /// pixels), so the limit bites on hostile files, not on big outputs.
    pub max_memory: u64,
    /// Longest side of a thumbnail, checked once an auto side (a `width` or `height` given
    /// alone) is known from the source: a service that caps the sizes clients ask for caps
    /// the sizes an aspect ratio makes too.
    pub max_output_dimension: u32,
    /// When the work must stop: checked per scan, per row band and per stage, so a decode
    /// past it ends with [`Error::DeadlineExceeded`] within milliseconds. `None`: no deadline.
    pub deadline: Option<Instant>,
    /// Most threads one image's work may run on, the caller's included. A big JPEG whose
    /// restart intervals let its rows be decoded independently is split over up to this
    /// many (each part has its own bit reader and writes its own rows, so memory does not
    /// grow); everything else runs on the caller's thread. 0 counts as 1.
    pub max_threads: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_scans: 100,
            max_memory: 32 * 1024 * 1024,
            max_output_dimension: MAX_DIMENSION,
            deadline: None,
            max_threads: 1,
        }
    }
}

impl Limits {
    /// These limits with another input size limit.
    pub fn with_max_input_bytes(self, max_input_bytes: u64) -> Self {
        Limits {
            max_input_bytes,
            ..self
        }
    }

    /// These limits with another pixel limit.
    pub fn with_max_pixels(self, max_pixels: u64) -> Self {
        Limits { max_pixels, ..self }
    }

    /// These limits with another JPEG scan limit.
    pub fn with_max_scans(self, max_scans: u32) -> Self {
        Limits { max_scans, ..self }
    }

    /// These limits with another working-memory limit.
    pub fn with_max_memory(self, max_memory: u64) -> Self {
        Limits { max_memory, ..self }
    }

    /// These limits with another longest thumbnail side.
    pub fn with_max_output_dimension(self, max_output_dimension: u32) -> Self {
        Limits {
            max_output_dimension,
            ..self
        }
    }

    /// These limits with a deadline (or none).
    pub fn with_deadline(self, deadline: Option<Instant>) -> Self {
        Limits { deadline, ..self }
    }

    /// These limits with another number of threads one image may run on.
    pub fn with_max_threads(self, max_threads: u32) -> Self {
        Limits {
            max_threads,
            ..self
        }
    }

    pub(crate) fn check_input(&self, len: usize) -> Result<()> {
        let size = len as u64;
        if size > self.max_input_bytes {
            return Err(Error::InputTooLarge {
                size,
                limit: self.max_input_bytes,
            });
        }
        Ok(())
    }

    /// Refuses a (resolved) spec with a side over [`Limits::max_output_dimension`].
    pub(crate) fn check_output(&self, spec: &ThumbnailSpec) -> Result<()> {
        let max = self.max_output_dimension;
        if spec.width > max || spec.height > max {
            return Err(Error::InvalidSpec(format!(
                "a {}x{} thumbnail is over the largest size allowed here, {max}x{max}",
                spec.width, spec.height
            )));
        }
        Ok(())
    }

    pub(crate) fn check_pixels(&self, width: u32, height: u32) -> Result<()> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(Error::TooManyPixels {
                width,
                height,
                pixels,
                limit: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Refuses `bytes` of working memory for `what` when they are over [`Limits::max_memory`].
    pub(crate) fn check_memory(&self, what: impl fmt::Display, bytes: u64) -> Result<()> {
        if bytes > self.max_memory {
            return Err(Error::OverLimit {
                reason: format!(
                    "{what} needs {} of memory, over the limit of {}",
                    mib(bytes),
                    mib(self.max_memory)
                ),
            });
        }
        Ok(())
    }

    /// Fails once the deadline has passed.
    #[inline]
    pub(crate) fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Error::DeadlineExceeded),
            _ => Ok(()),
        }
    }
}

/// A byte count for messages: MiB, or KiB under one MiB.
fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes.div_ceil(1 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1 << 10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_bounds() {
        let ok = ThumbnailSpec::default();
        ok.validate().unwrap();
        for bad in [
            ThumbnailSpec {
                width: 0,
                height: 0,
                ..ok
            },
            ThumbnailSpec { width: 16385, ..ok },
            ThumbnailSpec { quality: 0, ..ok },
            ThumbnailSpec { quality: 101, ..ok },
        ] {
            assert_eq!(
                bad.validate().unwrap_err().kind(),
                crate::ErrorKind::InvalidSpec
            );
        }
        // One side may be left to the aspect ratio, not both.
        ThumbnailSpec { width: 0, ..ok }.validate().unwrap();
        ThumbnailSpec { height: 0, ..ok }.validate().unwrap();
        ThumbnailSpec {
            width: 16384,
            height: 1,
            quality: 100,
            ..ok
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn canonical_distinguishes_outputs() {
        let a = ThumbnailSpec::default();
        let b = ThumbnailSpec { quality: 81, ..a };
        let c = ThumbnailSpec {
            format: OutputFormat::Png,
            ..a
        };
        assert_ne!(a.canonical(), b.canonical());
        assert_ne!(a.canonical(), c.canonical());
        assert_eq!(a.canonical(), ThumbnailSpec::default().canonical());
    }
}

//! # thumbnail-core
//!
//! Bytes of an image in, bytes of a thumbnail out. No I/O, no async, no global state.
//!
//! The pipeline: sniff the format from magic bytes, read the header, refuse what is over the
//! [`Limits`], decode (shrinking on load where the format allows), convert to sRGB with the
//! embedded ICC profile, apply the EXIF orientation, then for each [`ThumbnailSpec`] crop or pad
//! per its [`Fit`] and [`Gravity`], resample with a Lanczos3 convolution and encode.
//!
//! ```
//! use thumbnail_core::{thumbnail, Limits, ThumbnailSpec};
//!
//! // A 3x2 BMP made by hand, so the example needs no files.
//! # let mut bmp = b"BM".to_vec();
//! # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
//! # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
//! # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
//! # bmp.extend([0u8; 24]);
//! let thumb = thumbnail(&bmp, &ThumbnailSpec::default(), &Limits::default())?;
//! assert_eq!((thumb.width, thumb.height), (100, 100));
//! assert_eq!(thumb.mime(), "image/jpeg");
//! # Ok::<(), thumbnail_core::Error>(())
//! ```

mod color;
mod decode;
mod encode;
mod error;
mod exif;
mod format;
mod geometry;
mod options;
mod orient;
mod pipeline;
mod pixels;
mod placeholder;
mod reduce;
mod resize;
mod spec;
// Test and benchmark hooks, not stable API: public only with the `bench-internals` feature.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod stages;
#[cfg(not(feature = "bench-internals"))]
#[allow(dead_code)]
mod stages;

pub use decode::{ColorModel, ImageInfo};
pub use error::{Error, ErrorKind, Result};
pub use format::{InputFormat, sniff};
pub use options::{MAX_DPR, SPEC_OPTIONS, parse_size};
pub use orient::Orientation;
pub use pipeline::{Processed, Thumbnail};
pub use pixels::{Bitmap, PixelLayout};
pub use spec::{
    Fit, Gravity, Limits, MAX_DIMENSION, OutputFormat, Rgba, Subsampling, ThumbnailSpec,
};

/// Reads format, size, orientation and colour facts from the header, without decoding pixels.
///
/// ```
/// use thumbnail_core::{probe, ColorModel, InputFormat};
///
/// // SOI, a baseline frame header for a 2x3 one-component image, EOI.
/// let jpeg = b"\xFF\xD8\xFF\xC0\x00\x0B\x08\x00\x03\x00\x02\x01\x01\x11\x00\xFF\xD9";
/// let info = probe(jpeg)?;
/// assert_eq!((info.format, info.width, info.height), (InputFormat::Jpeg, 2, 3));
/// assert_eq!(info.color, ColorModel::Gray);
/// # Ok::<(), thumbnail_core::Error>(())
/// ```
pub fn probe(data: &[u8]) -> Result<ImageInfo> {
    decode::probe(data)
}

/// Probes `data` and refuses it when it is over `limits` (bytes, then pixels from the
/// header): the check the pipeline makes before decoding, for callers that must decide
/// before doing anything else with the bytes (storing them, say).
///
/// ```
/// use thumbnail_core::{admit, ErrorKind, Limits};
///
/// let jpeg = b"\xFF\xD8\xFF\xC0\x00\x0B\x08\x00\x03\x00\x02\x01\x01\x11\x00\xFF\xD9";
/// assert_eq!(admit(jpeg, &Limits::default())?.width, 2);
/// let tiny = Limits::default().with_max_pixels(5);
/// assert_eq!(admit(jpeg, &tiny).unwrap_err().kind(), ErrorKind::TooManyPixels);
/// # Ok::<(), thumbnail_core::Error>(())
/// ```
pub fn admit(data: &[u8], limits: &Limits) -> Result<ImageInfo> {
    limits.check_input(data.len())?;
    let info = decode::probe(data)?;
    limits.check_pixels(info.width, info.height)?;
    Ok(info)
}

/// Makes one thumbnail. See [`thumbnails`] for several sizes from one decode.
pub fn thumbnail(data: &[u8], spec: &ThumbnailSpec, limits: &Limits) -> Result<Thumbnail> {
    let mut v = pipeline::run(data, std::slice::from_ref(spec), limits, false)?.thumbnails;
    v.pop()
        .ok_or_else(|| Error::InvalidSpec("no thumbnail was produced".into()))
}

/// Makes one thumbnail per spec from a single decode, in the order of `specs`.
///
/// The source is decoded once, at the smallest size that still serves the largest spec.
///
/// ```
/// use thumbnail_core::{thumbnails, Limits, ThumbnailSpec};
/// # let mut bmp = b"BM".to_vec();
/// # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
/// # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
/// # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
/// # bmp.extend([0u8; 24]);
/// let specs = [ThumbnailSpec::sized(64, 64), ThumbnailSpec::sized(320, 180)];
/// let out = thumbnails(&bmp, &specs, &Limits::default())?;
/// assert_eq!(out.iter().map(|t| (t.width, t.height)).collect::<Vec<_>>(), [(64, 64), (320, 180)]);
/// # Ok::<(), thumbnail_core::Error>(())
/// ```
pub fn thumbnails(data: &[u8], specs: &[ThumbnailSpec], limits: &Limits) -> Result<Vec<Thumbnail>> {
    pipeline::run(data, specs, limits, false).map(|p| p.thumbnails)
}

/// [`thumbnails`], and the source's [`ImageInfo`] from the same single read of its header:
/// for callers that act on both (store an original under its content type once its
/// thumbnails are made, say) without probing the bytes a second time.
///
/// ```
/// use thumbnail_core::{process, InputFormat, Limits, ThumbnailSpec};
/// # let mut bmp = b"BM".to_vec();
/// # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
/// # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
/// # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
/// # bmp.extend([0u8; 24]);
/// let out = process(&bmp, &[ThumbnailSpec::sized(64, 64)], &Limits::default())?;
/// assert_eq!((out.info.format, out.info.width, out.info.height), (InputFormat::Bmp, 3, 2));
/// assert_eq!(out.thumbnails[0].width, 64);
/// # Ok::<(), thumbnail_core::Error>(())
/// ```
pub fn process(data: &[u8], specs: &[ThumbnailSpec], limits: &Limits) -> Result<Processed> {
    pipeline::run(data, specs, limits, false)
}

/// [`process`], and a [ThumbHash](https://evanw.github.io/thumbhash/) placeholder of the
/// upright image in [`Processed::placeholder`], from the same decode: a blurred stand-in a
/// page can draw (from about 30 base64 characters) while the thumbnail loads. It costs one
/// resize to at most 32x32 of the bitmap already reduced for the thumbnails. With no specs
/// the image is decoded for the placeholder alone.
///
/// ```
/// use thumbnail_core::{process_with_placeholder, Limits, ThumbnailSpec};
/// # let mut bmp = b"BM".to_vec();
/// # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
/// # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
/// # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
/// # bmp.extend([0u8; 24]);
/// let out = process_with_placeholder(&bmp, &[ThumbnailSpec::default()], &Limits::default())?;
/// let hash = out.placeholder.unwrap();
/// assert!(hash.len() < 40);
/// assert_eq!(out.thumbnails.len(), 1);
/// # Ok::<(), thumbnail_core::Error>(())
/// ```
pub fn process_with_placeholder(
    data: &[u8],
    specs: &[ThumbnailSpec],
    limits: &Limits,
) -> Result<Processed> {
    pipeline::run(data, specs, limits, true)
}

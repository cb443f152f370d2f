//! Per-format header probes and decoders, behind one dispatch.

mod bmp;
mod gif;
mod heif;
pub(crate) mod jpeg;
#[cfg(feature = "jxl")]
mod jxl;
mod png;
mod tiff;
mod webp;

use std::fmt;

use crate::color;
use crate::decode::jpeg::markers::JpegHeader;
use crate::error::Result;
use crate::format::{InputFormat, sniff};
use crate::orient::Orientation;
use crate::pixels::Bitmap;
use crate::spec::Limits;

/// How the colour channels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColorModel {
    Gray,
    Rgb,
    Cmyk,
    /// Palette-based (PNG, GIF, BMP).
    Indexed,
    /// CIE L*a*b* (TIFF).
    Lab,
    /// 1-bit black and white.
    Bilevel,
}

impl fmt::Display for ColorModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorModel::Gray => "gray",
            ColorModel::Rgb => "rgb",
            ColorModel::Cmyk => "cmyk",
            ColorModel::Indexed => "indexed",
            ColorModel::Lab => "lab",
            ColorModel::Bilevel => "bilevel",
        })
    }
}

/// What the header says about an image, read without decoding any pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageInfo {
    pub format: InputFormat,
    /// Stored width, before orientation is applied.
    pub width: u32,
    /// Stored height, before orientation is applied.
    pub height: u32,
    pub orientation: Orientation,
    pub color: ColorModel,
    pub has_alpha: bool,
    /// The description of the embedded ICC profile, if there is one.
    pub icc_description: Option<String>,
    /// More than one frame (an animated GIF, WebP, PNG or JPEG XL): the thumbnail is of the first.
    pub animated: bool,
}

impl ImageInfo {
    /// Width and height as displayed, after orientation.
    pub fn upright_size(&self) -> (u32, u32) {
        self.orientation.upright(self.width, self.height)
    }
}

/// A decoded image, still in its stored orientation and colour space.
pub(crate) struct Decoded {
    pub bitmap: Bitmap,
    pub icc: Option<Vec<u8>>,
    pub orientation: Orientation,
    /// The factor the decoder already shrank the image by (1 = full size).
    pub scale: u32,
}

/// A header read once: the facts every caller wants, and what the decoder needs of the
/// header so that it does not parse it again (a JPEG's markers and tables).
pub(crate) struct Probed<'a> {
    pub info: ImageInfo,
    pub jpeg: Option<JpegHeader<'a>>,
}

/// Reads the header of any supported format.
pub(crate) fn probe(data: &[u8]) -> Result<ImageInfo> {
    probe_parsed(data).map(|p| p.info)
}

/// Reads the header of any supported format, keeping what the decoder will need.
pub(crate) fn probe_parsed(data: &[u8]) -> Result<Probed<'_>> {
    let format = sniff(data)?;
    let mut jpeg_header = None;
    let mut info = match format {
        InputFormat::Jpeg => jpeg::probe(data).map(|(info, header)| {
            jpeg_header = Some(header);
            info
        }),
        InputFormat::Png => png::probe(data),
        InputFormat::Gif => gif::probe(data),
        InputFormat::WebP => webp::probe(data),
        InputFormat::Tiff => tiff::probe(data),
        InputFormat::Bmp => bmp::probe(data),
        InputFormat::Heic | InputFormat::Avif => heif::probe(data, format),
        #[cfg(feature = "jxl")]
        InputFormat::Jxl => jxl::probe(data),
        #[cfg(not(feature = "jxl"))]
        InputFormat::Jxl => Err(crate::Error::unsupported(format.name())),
    }?;
    if info.width == 0 || info.height == 0 {
        return Err(crate::Error::corrupt(
            format.name(),
            format!("header declares {}x{}", info.width, info.height),
        ));
    }
    info.format = format;
    Ok(Probed {
        info,
        jpeg: jpeg_header,
    })
}

/// How far a decoder may shrink the image while decoding; it is free to shrink less.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reduction {
    /// For JPEG's DCT scaling (a scaled IDCT keeps detail, so it may go to 2x the output).
    pub dct: u32,
    /// For area averaging (softer, so it stops at 3x the output).
    pub area: u32,
}

/// Decodes the image whose header `probed` was read from `data`.
pub(crate) fn decode(
    data: &[u8],
    probed: &Probed<'_>,
    reduction: Reduction,
    limits: &Limits,
) -> Result<Decoded> {
    let info = &probed.info;
    let mut decoded = match (info.format, &probed.jpeg) {
        (InputFormat::Jpeg, Some(header)) => {
            jpeg::decode(data, header, info, limits, reduction.dct)
        }
        (InputFormat::Jpeg, None) => {
            let header = JpegHeader::parse(data)?;
            jpeg::decode(data, &header, info, limits, reduction.dct)
        }
        (InputFormat::Png, _) => png::decode(data, limits, reduction.area),
        (InputFormat::Gif, _) => gif::decode(data, info, limits, reduction.area),
        (InputFormat::WebP, _) => webp::decode(data, info, limits, reduction.area),
        (InputFormat::Tiff, _) => tiff::decode(data, limits, reduction.area),
        (InputFormat::Bmp, _) => bmp::decode(data, limits, reduction.area),
        (InputFormat::Heic | InputFormat::Avif, _) => {
            heif::decode(data, info.format, limits, reduction.area)
        }
        // jxl-oxide renders upright: its decoder says so in what it returns.
        #[cfg(feature = "jxl")]
        (InputFormat::Jxl, _) => return jxl::decode(data, limits, reduction.area),
        #[cfg(not(feature = "jxl"))]
        (InputFormat::Jxl, _) => Err(crate::Error::unsupported(info.format.name())),
    }?;
    decoded.orientation = info.orientation;
    Ok(decoded)
}

pub(crate) use jpeg::check_supported as check_jpeg_supported;

/// zune-jpeg at full size (see [`crate::stages::decode_jpeg_reference`]).
pub(crate) fn decode_jpeg_with_zune(data: &[u8], info: &ImageInfo) -> Result<Bitmap> {
    jpeg::decode_zune(data, info)
}

/// Probe helper: the description of an ICC profile, if it parses.
pub(crate) fn icc_description(icc: Option<&[u8]>) -> Option<String> {
    icc.and_then(color::profile_description)
}

/// A memory cap for decoders that take one: the pixels the limits allow, at 8 bytes a pixel
/// (16-bit RGBA), plus slack for tables.
pub(crate) fn decoder_memory_cap(limits: &Limits) -> usize {
    usize::try_from(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20))
        .unwrap_or(usize::MAX)
}

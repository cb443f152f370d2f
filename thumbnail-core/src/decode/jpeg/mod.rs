//! JPEG, all in one place: the marker walker every probe uses (`markers`), our shrink-on-load
//! decoder (`decoder`, with its entropy reader `bits`, Huffman and quantisation `tables` and
//! scaled `idct`), and this adapter, which picks that decoder or zune-jpeg for each file.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

pub(crate) mod bits;
pub(crate) mod decoder;
pub(crate) mod idct;
pub(crate) mod markers;
pub(crate) mod tables;

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::decode::jpeg::decoder::{Detail, NotCovered};
use crate::decode::jpeg::markers::{JpegHeader, Process};
use crate::error::{Error, ErrorKind, Result};
use crate::format::InputFormat;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

pub(super) fn probe(data: &[u8]) -> Result<(ImageInfo, JpegHeader<'_>)> {
    let header = JpegHeader::parse(data)?;
    let frame = header.frame()?;
    let color = match frame.components.len() {
        1 => ColorModel::Gray,
        4 => ColorModel::Cmyk,
        _ => ColorModel::Rgb,
    };
    let info = ImageInfo {
        format: InputFormat::Jpeg,
        width: frame.width,
        height: frame.height,
        orientation: header.orientation(),
        color,
        has_alpha: false,
        icc_description: icc_description(header.icc_profile().as_deref()),
        animated: false,
    };
    Ok((info, header))
}

/// Refuses the JPEG variants no decoder here handles, naming the variant.
pub(crate) fn check_supported(header: &JpegHeader<'_>) -> Result<()> {
    let frame = header.frame()?;
    let variant = match frame.process {
        Process::Arithmetic => Some("JPEG with arithmetic coding"),
        Process::Lossless => Some("lossless JPEG (SOF3)"),
        Process::Hierarchical => Some("hierarchical JPEG"),
        _ if frame.precision != 8 => Some("JPEG with 12-bit or 16-bit samples"),
        _ => None,
    };
    if let Some(v) = variant {
        return Err(Error::unsupported(v));
    }
    if !matches!(frame.components.len(), 1 | 3 | 4) {
        return Err(Error::unsupported(format!(
            "JPEG with {} colour components",
            frame.components.len()
        )));
    }
    Ok(())
}

/// The decoder a JPEG goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Ours, shrinking by 2, 4 or 8 in the DCT domain; or at full size for progressive files
    /// (so the deadline can stop them) and where zune-jpeg is known to mis-decode the file
    /// (sequential, one scan per component, subsampled chroma).
    Ours(u32),
    /// zune-jpeg, full size: its SIMD decoder is the fastest choice when nothing can be
    /// skipped, and it takes the sampling layouts ours leaves out (non-integer ratios).
    Zune,
}

fn choose(header: &JpegHeader<'_>, data: &[u8], dct_limit: u32) -> Result<Path> {
    let scale = [8, 4, 2].into_iter().find(|&s| s <= dct_limit).unwrap_or(1);
    if scale > 1 {
        return Ok(Path::Ours(scale));
    }
    let frame = header.frame()?;
    let sequential = matches!(frame.process, Process::Baseline | Process::Extended);
    let subsampled = frame
        .components
        .iter()
        .any(|c| c.h != frame.components[0].h || c.v != frame.components[0].v);
    let first_scan_components = header
        .first_scan
        .and_then(|at| data.get(at + 4))
        .map_or(frame.components.len(), |&n| usize::from(n));
    if sequential && subsampled && first_scan_components < frame.components.len() {
        return Ok(Path::Ours(1));
    }
    // A progressive file's cost grows with its scans: ours checks the deadline per scan and
    // per row of blocks, zune-jpeg cannot be stopped.
    if frame.process == Process::Progressive {
        return Ok(Path::Ours(1));
    }
    Ok(Path::Zune)
}

/// Decodes, shrinking by up to `dct_limit` (rounded down to 8, 4, 2 or 1) while decoding.
pub(super) fn decode(
    data: &[u8],
    header: &JpegHeader<'_>,
    info: &ImageInfo,
    limits: &Limits,
    dct_limit: u32,
) -> Result<Decoded> {
    check_supported(header)?;
    crate::decode::jpeg::decoder::check_scans(data, header.first_scan, limits)?;
    let frame = header.frame()?;
    let icc = header.icc_profile();
    if let Path::Ours(mut scale) = choose(header, data, dct_limit)? {
        loop {
            // The pipeline always filters a reduced decode down by 2x or more (`DCT_MARGIN`).
            // Subsampled chroma is decoded at its own size when that still gives 1.5x the
            // thumbnail's resolution: at 1.0x (a 2560x1600 photo, 100x100) colour edges were
            // 1.9 levels off on average; at 1.5x and over, under 1 (`jpeg_oracle.rs`).
            let detail = if 2 * dct_limit >= 3 * scale {
                Detail::Coarse
            } else {
                Detail::Low
            };
            match crate::decode::jpeg::decoder::decode(data, header, scale, detail, limits) {
                Ok(Ok(d)) => {
                    return Ok(Decoded {
                        bitmap: d.bitmap,
                        icc,
                        orientation: info.orientation,
                        scale,
                    });
                }
                Ok(Err(NotCovered::SamplingRatio)) => break,
                // A shrunk decode over the memory limit (a huge progressive file keeps its
                // coefficients) tries the next smaller scale: softer, but bounded.
                Err(e) if e.kind() == ErrorKind::OverLimit && (2..8).contains(&scale) => {
                    scale *= 2;
                }
                Err(e) => return Err(e),
            }
        }
    }
    // zune-jpeg holds the whole frame, and a progressive file's coefficients besides.
    let px = u64::from(frame.width) * u64::from(frame.height) * frame.components.len() as u64;
    let coefficients = if frame.process == Process::Progressive {
        2 * px
    } else {
        0
    };
    limits.check_memory(
        format_args!(
            "a {}x{} JPEG decoded at full size",
            frame.width, frame.height
        ),
        px + coefficients,
    )?;
    decode_full(
        data,
        frame.components.len(),
        header.adobe_transform,
        info,
        icc,
    )
}

/// zune-jpeg at full size, in the stored colour model.
pub(super) fn decode_zune(data: &[u8], info: &ImageInfo) -> Result<Bitmap> {
    let header = JpegHeader::parse(data)?;
    check_supported(&header)?;
    let frame = header.frame()?;
    let d = decode_full(
        data,
        frame.components.len(),
        header.adobe_transform,
        info,
        None,
    )?;
    Ok(d.bitmap)
}

pub(crate) fn decode_full(
    data: &[u8],
    components: usize,
    adobe_transform: Option<u8>,
    info: &ImageInfo,
    icc: Option<Vec<u8>>,
) -> Result<Decoded> {
    // Four-component JPEGs come out as the raw channels; we do the CMYK maths ourselves so an
    // embedded CMYK profile can be applied.
    let (out, layout) = match components {
        1 => (ColorSpace::Luma, PixelLayout::Gray),
        4 if adobe_transform == Some(2) => (ColorSpace::YCCK, PixelLayout::Cmyk),
        4 => (ColorSpace::CMYK, PixelLayout::Cmyk),
        _ => (ColorSpace::RGB, PixelLayout::Rgb),
    };
    let options = DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .set_strict_mode(false)
        .jpeg_set_out_colorspace(out);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(data), options);
    decoder
        .decode_headers()
        .map_err(|e| Error::corrupt("JPEG", e))?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| Error::corrupt("JPEG", "no dimensions after the headers"))?;
    let (w, h) = (w as u32, h as u32);
    if (w, h) != (info.width, info.height) {
        return Err(Error::corrupt(
            "JPEG",
            format!(
                "decoder saw {w}x{h}, header said {}x{}",
                info.width, info.height
            ),
        ));
    }
    // zune may settle on another colourspace than asked (e.g. YCCK declared but 3 components).
    let got = decoder.output_colorspace().unwrap_or(out);
    let layout = match got {
        ColorSpace::Luma => PixelLayout::Gray,
        ColorSpace::RGB => PixelLayout::Rgb,
        ColorSpace::CMYK | ColorSpace::YCCK => layout,
        other => {
            return Err(Error::unsupported(format!("JPEG decoded as {other:?}")));
        }
    };
    let mut pixels = decoder.decode().map_err(|e| Error::corrupt("JPEG", e))?;
    if pixels.len() != w as usize * h as usize * layout.channels() {
        return Err(Error::corrupt("JPEG", "decoder returned a short buffer"));
    }
    if layout == PixelLayout::Cmyk {
        let adobe = adobe_transform.is_some();
        if got == ColorSpace::YCCK {
            ycck_to_ink(&mut pixels);
        } else if adobe {
            // Adobe writes CMYK inverted (0 = full ink).
            pixels.iter_mut().for_each(|v| *v = 255 - *v);
        }
    }
    Ok(Decoded {
        bitmap: Bitmap::new(w, h, layout, pixels)?,
        icc,
        orientation: info.orientation,
        scale: 1,
    })
}

/// Adobe YCCK: the YCbCr part encodes the inverted CMY as if it were RGB; K is stored inverted.
/// Converts in place to ink amounts (0 = no ink).
pub(crate) fn ycck_to_ink(px: &mut [u8]) {
    for p in px.chunks_exact_mut(4) {
        let [r, g, b] = crate::color::ycbcr_to_rgb(p[0], p[1], p[2]);
        // r,g,b are the stored (inverted) C,M,Y; the ink is their complement... twice inverted.
        p[0] = r;
        p[1] = g;
        p[2] = b;
        p[3] = 255 - p[3];
    }
}

//! HEVC-coded items (`hvc1`) through heifer's pure-Rust decoder: one coded picture at a time.

use heifer_hevc_dec::decoder::{DecodeOptions, decode_picture};
use heifer_isobmff::{HeifFile, ItemId};

use super::planes::Planes;
use crate::error::{Error, Result};

/// Decodes item `id`, a picture of at most `max_pixels` luma samples (its `ispe` rounded up
/// to whole coding blocks): a stream that declares more is refused before it is decoded.
pub(super) fn decode(file: &HeifFile<'_>, id: ItemId, max_pixels: u64) -> Result<Planes> {
    let stream = file
        .hevc_bitstream(id)
        .map_err(|e| Error::corrupt("HEIC", e))?;
    let options = DecodeOptions {
        max_pixels: max_pixels.max(1),
        ..DecodeOptions::default()
    };
    let frame = decode_picture(&stream, options).map_err(|e| match e {
        heifer_hevc_dec::Error::Unimplemented(what) => {
            Error::unsupported(format!("HEIC using {what}"))
        }
        e => Error::corrupt("HEIC", e),
    })?;
    let shift = match frame.chroma_format {
        0 => None,
        1 => Some((1, 1)),
        2 => Some((1, 0)),
        _ => Some((0, 0)),
    };
    let strides = frame.widths.map(|w| w as usize);
    let depth = frame.bit_depth[0];
    if !(8..=16).contains(&depth) || frame.bit_depth[1] != depth && shift.is_some() {
        return Err(Error::unsupported(format!(
            "HEIC with {}-bit luma and {}-bit chroma",
            frame.bit_depth[0], frame.bit_depth[1]
        )));
    }
    Ok(Planes {
        width: frame.widths[0],
        height: frame.heights[0],
        depth,
        chroma_shift: shift,
        planes: frame.planes,
        strides,
        full_range: frame.full_range,
        matrix: u16::from(frame.matrix_coeffs),
    })
}

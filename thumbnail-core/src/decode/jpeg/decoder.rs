//! Our JPEG decoder: 8-bit Huffman (baseline, extended, progressive) at 1/1, 1/2, 1/4, 1/8.
//!
//! A thumbnail needs a few percent of a photo's pixels, so the decoder works in the DCT
//! domain: each 8x8 block becomes `n x n` pixels (`n = 8 / scale`) straight from its
//! lowest-frequency coefficients, and coefficients the chosen scale cannot use are skipped
//! without being stored, dequantised or transformed. Progressive files go further: every scan
//! that holds only unused coefficients is skipped without even being entropy-decoded, so a 1/8
//! decode reads the DC scans alone.
//!
//! Memory is bounded by the reduced image (plus, for progressive files, the kept coefficients
//! of each block), never by the full-size source.

use super::bits::{BitReader, EntropyData};
use super::idct::Idct;
use super::markers::{Frame, JpegHeader, Process};
use super::tables::{Huffman, LOOKAHEAD, ZIGZAG};
use crate::error::{Error, Result};
use crate::pixels::Bitmap;
use crate::spec::Limits;

mod blocks;
mod budget;
mod output;
mod parallel;
mod progressive;
mod scan;
mod state;

pub(crate) use budget::check_scans;
use output::dc_pixel;

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::corrupt("JPEG", why)
}

/// Why our decoder hands a file to zune-jpeg instead.
#[derive(Debug)]
pub(crate) enum NotCovered {
    /// Sampling factors whose ratios are not whole numbers (e.g. 3x1 next to 2x1).
    SamplingRatio,
}

/// What the scan data decodes into: colour model of the stored channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Gray,
    YCbCr,
    Rgb,
    /// Adobe-inverted CMYK when `inverted`.
    Cmyk {
        inverted: bool,
    },
    Ycck,
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Blocks covering the component (what a non-interleaved scan visits).
    blocks_w: usize,
    blocks_h: usize,
    /// Blocks covering whole MCUs (what an interleaved scan visits).
    padded_w: usize,
    padded_h: usize,
    /// Pixels a block becomes, across and down, at this component's scale.
    nx: usize,
    ny: usize,
    /// For each zigzag index: its slot in a block's kept coefficients, or 255.
    zone: [u8; 64],
    /// Highest zigzag index inside the zone.
    zone_last: usize,
    /// Progressive: coefficients a block keeps (slots of the zone).
    kept: usize,
    idct: Idct,
    /// Whole-number upsampling from this component's plane to the output grid.
    rx: usize,
    ry: usize,
    /// Reduced pixels, `padded_w * n` wide.
    plane: Vec<u8>,
    /// Progressive: the kept coefficients of each block (see `kept`).
    coefs: Vec<i16>,
    /// Progressive: which of the 64 coefficients are non-zero so far (refinement needs it).
    nonzero: Vec<u64>,
    /// Progressive: zigzag indices this component needs decoded (bit k = coefficient k).
    needed: u64,
    /// The quantisation table latched at the component's first scan.
    quant: Option<[u16; 64]>,
}

/// A decoded image at reduced size, still in its stored colour model. Where the entropy data
/// ends early the rest of the image is mid-gray, as libjpeg-based viewers show it.
pub(crate) struct Decoded {
    pub bitmap: Bitmap,
    /// The most threads a scan was decoded on.
    #[cfg_attr(not(test), allow(dead_code))]
    pub parts: usize,
}

/// How much of each block a reduced decode reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every coefficient: each output pixel is the exact mean of the area it covers. The
    /// pipeline reads `Low`; this is for the stages API (the oracle tests, benchmarks).
    #[cfg_attr(not(feature = "bench-internals"), allow(dead_code))]
    Exact,
    /// Only the low frequencies the reduced block can show, as libjpeg's scaled decoding
    /// reads; the rest are skipped unread (11% fewer instructions over the photo corpus, whose
    /// 1/4- and 1/2-scale files decoded every AC value). A thumbnail loses nothing by it: the
    /// final filter reduces at least 2x more and removes those frequencies anyway (SSIM over
    /// the corpus photos unchanged to four places).
    Low,
    /// As `Low`, and subsampled chroma at its own reduced size (at 1/8 of 4:2:0, from its DC
    /// alone), upsampled, instead of decoded at the luma's size from its low frequencies: at
    /// 1/8, a fifth of a baseline photo's decode skipped. For when the chroma still has more
    /// resolution than the thumbnail needs (see `jpeg::decode`).
    Coarse,
}

/// Decodes at `scale` (1, 2, 4 or 8), stopping at the deadline of `limits`.
pub(crate) fn decode(
    data: &[u8],
    header: &JpegHeader<'_>,
    scale: u32,
    detail: Detail,
    limits: &Limits,
) -> Result<std::result::Result<Decoded, NotCovered>> {
    let frame = header.frame()?;
    if !matches!(
        frame.process,
        Process::Baseline | Process::Extended | Process::Progressive
    ) || frame.precision != 8
    {
        return Err(Error::unsupported(
            "JPEG variant outside 8-bit Huffman coding",
        ));
    }
    let n = (8 / scale.clamp(1, 8)) as usize;
    let stored = stored_model(header, frame)?;
    // A progressive file keeps every block's coefficients until its last scan: those the
    // detail reads, and when the 64 of an exact area mean do not fit the memory limit, only
    // the low frequencies the reduced block shows, a quarter or less of the memory.
    let (low_only, grow_chroma) = match detail {
        Detail::Exact => (false, true),
        Detail::Low => (true, true),
        Detail::Coarse => (true, false),
    };
    let state = match State::new(frame, n, *limits, low_only, grow_chroma) {
        Err(e) if e.kind() == crate::ErrorKind::OverLimit && n > 1 => {
            let progressive = frame.process == Process::Progressive;
            State::new(frame, n, *limits, progressive, grow_chroma)
        }
        other => other,
    };
    let Some(mut state) = state? else {
        return Ok(Err(NotCovered::SamplingRatio));
    };
    state.run(data, header)?;
    let parts = state.parts;
    let bitmap = state.output(stored)?;
    Ok(Ok(Decoded { bitmap, parts }))
}

/// The colour model of the stored channels, by libjpeg's rules.
fn stored_model(header: &JpegHeader<'_>, frame: &Frame) -> Result<Stored> {
    Ok(match frame.components.len() {
        1 => Stored::Gray,
        3 => {
            let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
            match header.adobe_transform {
                Some(0) => Stored::Rgb,
                Some(_) => Stored::YCbCr,
                None if !header.jfif && ids == b"RGB" => Stored::Rgb,
                None => Stored::YCbCr,
            }
        }
        4 => match header.adobe_transform {
            Some(2) => Stored::Ycck,
            Some(_) => Stored::Cmyk { inverted: true },
            None => Stored::Cmyk { inverted: false },
        },
        k => {
            return Err(Error::unsupported(format!(
                "JPEG with {k} colour components"
            )));
        }
    })
}

/// One scan's header.
#[derive(Debug, Clone)]
struct Scan {
    /// Indices into the frame's components, with their DC and AC table ids.
    comps: Vec<(usize, usize, usize)>,
    ss: usize,
    se: usize,
    ah: u32,
    al: u32,
}

/// The decoder's working state: the frame's geometry, its components and the tables in force.
/// Built in `state`, fed by `scan` (and `progressive`), turned into pixels by `output`.
struct State {
    width: usize,
    height: usize,
    n: usize,
    mcus_w: usize,
    mcus_h: usize,
    progressive: bool,
    comps: Vec<Component>,
    quant: [Option<[u16; 64]>; 4],
    dc: [Option<Box<Huffman>>; 4],
    ac: [Option<Box<Huffman>>; 4],
    restart_interval: usize,
    limits: Limits,
    /// The most parts any scan was decoded in at once (see `parallel`).
    parts: usize,
}

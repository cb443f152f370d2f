//! What a decode may cost, checked before it starts: memory for planes and coefficients,
//! and the number of scans.

use super::{Error, Frame, Limits, Process, Result};
use crate::decode::jpeg::markers::{self, next_segment};

/// Refuses a decode whose planes, kept coefficients and output would be over the memory
/// limit, before any of them is allocated.
pub(super) fn check_memory(
    frame: &Frame,
    n: usize,
    (hmax, vmax): (usize, usize),
    low_only: bool,
    grow_chroma: bool,
    limits: &Limits,
) -> Result<()> {
    let (width, height) = (u64::from(frame.width), u64::from(frame.height));
    let progressive = frame.process == Process::Progressive;
    let single = frame.components.len() == 1;
    // Pixels a block becomes: `n`, doubled for subsampled sequential chroma (as in `new`).
    let grows = !single && !progressive && grow_chroma;
    let grow = |max: usize, f: usize| {
        let mut m = n;
        while grows && m < 8 && (max * n).is_multiple_of(f * m * 2) {
            m *= 2;
        }
        m as u64
    };
    let mut bytes = 0u64;
    for c in &frame.components {
        let (h, v) = (u64::from(c.h), u64::from(c.v));
        let blocks = (width * h).div_ceil(hmax as u64 * 8) * (height * v).div_ceil(vmax as u64 * 8);
        bytes += blocks * grow(hmax, usize::from(c.h)) * grow(vmax, usize::from(c.v));
        if progressive {
            // Kept coefficients (i16, the low n x n) and, when AC is decoded, a bit mask.
            let nn = match (n, low_only) {
                (1, _) => 1,
                (_, true) => (n * n) as u64,
                (_, false) => 64,
            };
            bytes += 2 * nn * blocks + if n == 1 { 0 } else { 8 * blocks };
        }
    }
    let s = (8 / n) as u64;
    bytes += width.div_ceil(s) * height.div_ceil(s) * frame.components.len() as u64;
    limits.check_memory(
        format_args!("a {width}x{height} JPEG decoded at 1/{s}"),
        bytes,
    )
}

/// Refuses a file with more scans than [`Limits::max_scans`], before any is decoded: each
/// scan walks the whole image, so many tiny ones are a CPU bomb.
pub(crate) fn check_scans(data: &[u8], first_scan: Option<usize>, limits: &Limits) -> Result<()> {
    let Some(mut pos) = first_scan else {
        return Ok(());
    };
    let mut scans = 0u32;
    while let Ok(Some(seg)) = next_segment(data, pos) {
        if seg.marker == markers::EOI {
            break;
        }
        pos = seg.end;
        if seg.marker == markers::SOS {
            scans += 1;
            if scans > limits.max_scans {
                return Err(Error::OverLimit {
                    reason: format!(
                        "JPEG has more than {} scans (the scan limit)",
                        limits.max_scans
                    ),
                });
            }
            pos = skip_entropy(data, seg.end);
        }
    }
    Ok(())
}

/// Offset of the first marker after entropy-coded data starting at `pos` (RSTn and stuffed
/// bytes are part of the data, and so is a byte after 0xFF that is no marker's, under SOF0's
/// code: damage, which the scan decoder skips as libjpeg does; see `bits::EntropyData`).
pub(super) fn skip_entropy(data: &[u8], mut pos: usize) -> usize {
    while let Some(rel) = data.get(pos..).and_then(memchr_ff) {
        let at = pos + rel;
        match data.get(at + 1) {
            Some(0x00..0xC0) | Some(0xD0..=0xD7) | Some(0xFF) => pos = at + 1,
            Some(_) => return at,
            None => return data.len(),
        }
    }
    data.len()
}

fn memchr_ff(d: &[u8]) -> Option<usize> {
    memchr::memchr(0xFF, d)
}

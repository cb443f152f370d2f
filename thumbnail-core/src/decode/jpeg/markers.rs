//! JPEG marker segments: walking them, and the header facts read from them.

use crate::error::{Error, Result};
use crate::exif;
use crate::orient::Orientation;

pub(crate) const SOI: u8 = 0xD8;
pub(crate) const EOI: u8 = 0xD9;
pub(crate) const SOS: u8 = 0xDA;
pub(crate) const DQT: u8 = 0xDB;
pub(crate) const DHT: u8 = 0xC4;
pub(crate) const DRI: u8 = 0xDD;
/// Arithmetic-coding conditioning tables: their presence means arithmetic coding.
pub(crate) const DAC: u8 = 0xCC;
pub(crate) const APP1: u8 = 0xE1;
pub(crate) const APP2: u8 = 0xE2;
pub(crate) const APP14: u8 = 0xEE;

/// Whether `m` stands alone (no length field).
pub(crate) fn is_standalone(m: u8) -> bool {
    matches!(m, 0x01 | 0xD0..=0xD9)
}

/// One marker segment: the marker byte and its payload (after the length field).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub marker: u8,
    pub payload: &'a [u8],
    /// Offset of the 0xFF that starts the marker.
    pub start: usize,
    /// Offset just past the segment.
    pub end: usize,
}

/// Reads the marker segment starting at or after `pos`.
///
/// Junk before the marker (seen in damaged files) is skipped the way libjpeg does: scan to the
/// next 0xFF. Returns `None` at the end of the data.
pub(crate) fn next_segment(data: &[u8], mut pos: usize) -> Result<Option<Segment<'_>>> {
    loop {
        let Some(rel) = data
            .get(pos..)
            .and_then(|d| d.iter().position(|&b| b == 0xFF))
        else {
            return Ok(None);
        };
        pos += rel;
        // Any number of 0xFF fill bytes may precede a marker.
        while data.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = data.get(pos + 1) else {
            return Ok(None);
        };
        if marker == 0x00 {
            // A stuffed byte in stray entropy data: not a marker.
            pos += 2;
            continue;
        }
        if is_standalone(marker) {
            return Ok(Some(Segment {
                marker,
                payload: &[],
                start: pos,
                end: pos + 2,
            }));
        }
        let len = data
            .get(pos + 2..pos + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| Error::corrupt("JPEG", format!("marker {marker:02X} is truncated")))?;
        if len < 2 {
            return Err(Error::corrupt(
                "JPEG",
                format!("marker {marker:02X} has length {len}"),
            ));
        }
        let start = pos + 4;
        let end = pos + 2 + len;
        let payload = data.get(start..end).ok_or_else(|| {
            Error::corrupt("JPEG", format!("marker {marker:02X} runs past the end"))
        })?;
        return Ok(Some(Segment {
            marker,
            payload,
            start: pos,
            end,
        }));
    }
}

/// The coding process named by a SOF marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Process {
    /// SOF0.
    Baseline,
    /// SOF1: Huffman, sequential, 8 or 12 bit.
    Extended,
    /// SOF2.
    Progressive,
    /// SOF3.
    Lossless,
    /// SOF9..SOF11.
    Arithmetic,
    /// SOF5..SOF7, SOF13..SOF15.
    Hierarchical,
}

impl Process {
    fn from_marker(m: u8) -> Option<Self> {
        Some(match m {
            0xC0 => Process::Baseline,
            0xC1 => Process::Extended,
            0xC2 => Process::Progressive,
            0xC3 => Process::Lossless,
            0xC9..=0xCB => Process::Arithmetic,
            0xC5..=0xC7 | 0xCD..=0xCF => Process::Hierarchical,
            _ => return None,
        })
    }
}

/// One component of the frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameComponent {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    pub tq: u8,
}

/// The SOF segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub process: Process,
    pub precision: u8,
    pub width: u32,
    pub height: u32,
    pub components: Vec<FrameComponent>,
}

impl Frame {
    fn parse(process: Process, p: &[u8]) -> Result<Frame> {
        let bad = |why: &str| Error::corrupt("JPEG", format!("frame header: {why}"));
        if p.len() < 6 {
            return Err(bad("too short"));
        }
        let precision = p[0];
        let height = u32::from(u16::from_be_bytes([p[1], p[2]]));
        let width = u32::from(u16::from_be_bytes([p[3], p[4]]));
        let n = usize::from(p[5]);
        if n == 0 || p.len() < 6 + 3 * n {
            return Err(bad("component list is truncated"));
        }
        let components = p[6..6 + 3 * n]
            .chunks_exact(3)
            .map(|c| FrameComponent {
                id: c[0],
                h: c[1] >> 4,
                v: c[1] & 15,
                tq: c[2],
            })
            .collect();
        Ok(Frame {
            process,
            precision,
            width,
            height,
            components,
        })
    }
}

/// Facts from the segments before the first scan.
#[derive(Debug, Default)]
pub(crate) struct JpegHeader<'a> {
    pub frame: Option<Frame>,
    pub exif: Option<&'a [u8]>,
    icc_chunks: Vec<(u8, u8, &'a [u8])>,
    /// The APP14 "Adobe" colour transform flag (0: none/CMYK, 1: YCbCr, 2: YCCK).
    pub adobe_transform: Option<u8>,
    pub jfif: bool,
    /// Offset of the first SOS marker.
    pub first_scan: Option<usize>,
}

impl<'a> JpegHeader<'a> {
    /// Walks the segments from SOI to the first SOS.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        if data.get(0..2) != Some(&[0xFF, SOI]) {
            return Err(Error::corrupt("JPEG", "no SOI marker"));
        }
        let mut h = JpegHeader::default();
        let mut pos = 2;
        while let Some(seg) = next_segment(data, pos)? {
            pos = seg.end;
            match seg.marker {
                SOS => {
                    h.first_scan = Some(seg.start);
                    break;
                }
                EOI => break,
                m if Process::from_marker(m).is_some() => {
                    if h.frame.is_some() {
                        return Err(Error::corrupt("JPEG", "more than one frame header"));
                    }
                    let process = Process::from_marker(m).unwrap_or(Process::Baseline);
                    h.frame = Some(Frame::parse(process, seg.payload)?);
                }
                APP1 if h.exif.is_none() && seg.payload.starts_with(b"Exif\0") => {
                    // Some writers use a single NUL; skip to the TIFF header either way.
                    let tiff = &seg.payload[5..];
                    h.exif = Some(tiff.strip_prefix(b"\0").unwrap_or(tiff));
                }
                APP2 if seg.payload.starts_with(b"ICC_PROFILE\0") && seg.payload.len() >= 14 => {
                    let p = seg.payload;
                    h.icc_chunks.push((p[12], p[13], &p[14..]));
                }
                APP14 if seg.payload.starts_with(b"Adobe") && seg.payload.len() >= 12 => {
                    h.adobe_transform = Some(seg.payload[11]);
                }
                0xE0 if seg.payload.starts_with(b"JFIF\0") => h.jfif = true,
                _ => {}
            }
        }
        Ok(h)
    }

    /// The frame header, or a corrupt-image error when there is none.
    pub fn frame(&self) -> Result<&Frame> {
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| Error::corrupt("JPEG", "no frame header (SOF) before the image data"))?;
        if frame.width == 0 || frame.height == 0 {
            return Err(Error::corrupt(
                "JPEG",
                format!(
                    "frame header declares {}x{} (a height set later by DNL is not supported)",
                    frame.width, frame.height
                ),
            ));
        }
        Ok(frame)
    }

    pub fn orientation(&self) -> Orientation {
        self.exif.and_then(exif::orientation).unwrap_or_default()
    }

    /// The embedded ICC profile, when every chunk is present exactly once.
    ///
    /// A broken chunk sequence reads as no profile: the image is then treated as sRGB, like
    /// browsers do, rather than refused.
    pub fn icc_profile(&self) -> Option<Vec<u8>> {
        let count = self.icc_chunks.first()?.1;
        if count == 0 || self.icc_chunks.len() != usize::from(count) {
            return None;
        }
        let mut chunks = self.icc_chunks.clone();
        chunks.sort_by_key(|c| c.0);
        for (i, &(seq, n, _)) in chunks.iter().enumerate() {
            if n != count || usize::from(seq) != i + 1 {
                return None;
            }
        }
        Some(chunks.iter().flat_map(|c| c.2.iter().copied()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_and_fill_bytes_are_skipped() {
        let data = [
            0xFF, SOI, 0x12, 0x34, 0xFF, 0xFF, 0xFE, 0x00, 0x03, 0xAA, 0xFF, EOI,
        ];
        let seg = next_segment(&data, 2).unwrap().unwrap();
        assert_eq!(seg.marker, 0xFE);
        assert_eq!(seg.payload, &[0xAA]);
        let eoi = next_segment(&data, seg.end).unwrap().unwrap();
        assert_eq!(eoi.marker, EOI);
        assert!(next_segment(&data, eoi.end).unwrap().is_none());
    }

    #[test]
    fn truncated_segment_is_an_error() {
        let data = [0xFF, SOI, 0xFF, 0xE1, 0x00, 0x10, 1, 2];
        assert!(next_segment(&data, 2).is_err());
        assert!(JpegHeader::parse(&data).is_err());
    }

    #[test]
    fn icc_chunks_must_be_complete() {
        let mut h = JpegHeader {
            icc_chunks: vec![(2, 2, b"cd".as_slice()), (1, 2, b"ab".as_slice())],
            ..JpegHeader::default()
        };
        assert_eq!(h.icc_profile().unwrap(), b"abcd");
        h.icc_chunks.pop();
        assert!(h.icc_profile().is_none());
        h.icc_chunks = vec![(1, 2, b"ab".as_slice()), (1, 2, b"ab".as_slice())];
        assert!(h.icc_profile().is_none());
    }
}

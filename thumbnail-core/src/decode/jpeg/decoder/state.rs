//! The decoder's state from the frame header, and the walk over the file's segments.

use super::blocks::zone;
use super::budget::check_memory;
use super::scan::parse_sos;
use super::{Component, State, corrupt};
use crate::decode::jpeg::idct::Idct;
use crate::decode::jpeg::markers::{self, Frame, JpegHeader, Process, Segment, next_segment};
use crate::decode::jpeg::tables::{parse_dht, parse_dqt};
use crate::error::{Error, Result};
use crate::spec::Limits;

impl State {
    /// The state for decoding `frame` at `n` pixels a block side, or `None` when its
    /// sampling ratios are not whole numbers (zune-jpeg decodes those).
    pub(super) fn new(
        frame: &Frame,
        n: usize,
        limits: Limits,
        low_only: bool,
        grow_chroma: bool,
    ) -> Result<Option<Self>> {
        let max = |f: fn(&markers::FrameComponent) -> u8| {
            frame
                .components
                .iter()
                .map(|c| usize::from(f(c)))
                .max()
                .unwrap_or(1)
        };
        let (hmax, vmax) = (max(|c| c.h), max(|c| c.v));
        for c in &frame.components {
            if !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) || c.tq > 3 {
                return Err(corrupt(
                    "component sampling factors or table are out of range",
                ));
            }
            if hmax % usize::from(c.h) != 0 || vmax % usize::from(c.v) != 0 {
                return Ok(None);
            }
        }
        let (width, height) = (frame.width as usize, frame.height as usize);
        let progressive = frame.process == Process::Progressive;
        check_memory(frame, n, (hmax, vmax), low_only, grow_chroma, &limits)?;
        let geometry = Geometry {
            width,
            height,
            hmax,
            vmax,
            mcus_w: width.div_ceil(8 * hmax),
            mcus_h: height.div_ceil(8 * vmax),
            n,
            single: frame.components.len() == 1,
            progressive,
            low_only,
            grow_chroma,
        };
        let comps = frame
            .components
            .iter()
            .map(|c| geometry.component(c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(State {
            width,
            height,
            n,
            mcus_w: geometry.mcus_w,
            mcus_h: geometry.mcus_h,
            progressive,
            comps,
            quant: [None; 4],
            dc: [None, None, None, None],
            ac: [None, None, None, None],
            restart_interval: 0,
            limits,
            parts: 1,
        }))
    }

    /// Walks every segment and scan; returns whether the data ended early.
    pub(super) fn run(&mut self, data: &[u8], header: &JpegHeader<'_>) -> Result<bool> {
        // Tables defined before the first scan.
        let mut pos = 2;
        let first_scan = header
            .first_scan
            .ok_or_else(|| corrupt("no scan (SOS) in the file"))?;
        while pos < first_scan {
            let Some(seg) = next_segment(data, pos)? else {
                break;
            };
            self.table_segment(&seg)?;
            pos = seg.end;
        }
        if self.progressive {
            self.plan_progressive(data, first_scan)?;
        }
        let mut pos = first_scan;
        let mut seen_scan = false;
        let mut truncated = false;
        loop {
            let Some(seg) = next_segment(data, pos)? else {
                truncated = true;
                break;
            };
            pos = seg.end;
            match seg.marker {
                markers::EOI => break,
                markers::SOS => {
                    self.limits.check_deadline()?;
                    let scan = parse_sos(seg.payload, &self.comps)?;
                    let (end, short) = self.scan(data, seg.end, &scan)?;
                    seen_scan = true;
                    pos = end;
                    if short {
                        truncated = true;
                        break;
                    }
                }
                _ => self.table_segment(&seg)?,
            }
        }
        if !seen_scan {
            return Err(corrupt("no scan could be read"));
        }
        if self.progressive {
            self.transform_progressive()?;
        }
        Ok(truncated)
    }

    fn table_segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        match seg.marker {
            markers::DQT => parse_dqt(seg.payload, &mut self.quant),
            markers::DHT => parse_dht(seg.payload, &mut self.dc, &mut self.ac, !self.progressive),
            markers::DRI => {
                let p = seg.payload;
                let ri = p.get(..2).ok_or_else(|| corrupt("DRI is truncated"))?;
                self.restart_interval = usize::from(u16::from_be_bytes([ri[0], ri[1]]));
                Ok(())
            }
            markers::DAC => Err(Error::unsupported("JPEG with arithmetic coding")),
            _ => Ok(()),
        }
    }
}

/// What every component's layout is derived from.
struct Geometry {
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    mcus_w: usize,
    mcus_h: usize,
    n: usize,
    /// A lone component is never interleaved: its MCU is one block.
    single: bool,
    progressive: bool,
    /// Blocks keep only the low frequencies of the chosen scale.
    low_only: bool,
    /// Subsampled components' blocks are made larger (see `component`).
    grow_chroma: bool,
}

impl Geometry {
    fn component(&self, c: &markers::FrameComponent) -> Result<Component> {
        let (h, v) = (usize::from(c.h), usize::from(c.v));
        let (n, single) = (self.n, self.single);
        let cw = (self.width * h).div_ceil(self.hmax);
        let ch = (self.height * v).div_ceil(self.vmax);
        let (blocks_w, blocks_h) = (cw.div_ceil(8), ch.div_ceil(8));
        let (padded_w, padded_h) = if single {
            (blocks_w, blocks_h)
        } else {
            (self.mcus_w * h, self.mcus_h * v)
        };
        // Like libjpeg (jpeg_calc_output_dimensions), a subsampled component's IDCT output
        // is doubled while its sampling ratio allows, instead of upsampling afterwards;
        // unlike libjpeg, each direction on its own, so 4:2:2 chroma is exact too. Not for
        // progressive files: there the larger IDCT would need AC scans that a DC-only
        // decode skips unread, which costs 30% of the corpus time for 0.0001 of SSIM. Nor
        // with `Detail::Coarse`.
        let grows = !single && !self.progressive && self.grow_chroma;
        let grow = |mut m: usize, max: usize, f: usize| {
            while grows && m < 8 && (max * n).is_multiple_of(f * m * 2) {
                m *= 2;
            }
            m
        };
        let (nx, ny) = (grow(n, self.hmax, h), grow(n, self.vmax, v));
        let (rx, ry) = if single {
            (1, 1)
        } else {
            (self.hmax * n / (h * nx), self.vmax * n / (v * ny))
        };
        let plane_len = (padded_w * nx)
            .checked_mul(padded_h * ny)
            .ok_or_else(|| corrupt("image size overflows"))?;
        // At 1/8 a grown (subsampled) component becomes 2x2 from its four lowest
        // frequencies, as in libjpeg, and skips the rest unread: an exact 2x2 area mean would
        // decode all 63 AC values of every chroma block, a third of a baseline photo's decode.
        // (Detail is kept: DC alone, upsampled, is 37 levels off on small colourful images.)
        let low_only = self.low_only || (!self.progressive && n == 1);
        let (zone, zone_last, kept) = zone(low_only, nx, ny);
        Ok(Component {
            id: c.id,
            h,
            v,
            tq: usize::from(c.tq),
            blocks_w,
            blocks_h,
            padded_w,
            padded_h,
            nx,
            ny,
            zone,
            zone_last,
            idct: Idct::new(nx, ny),
            rx,
            ry,
            plane: vec![128; plane_len],
            kept,
            coefs: if self.progressive {
                vec![0; padded_w * padded_h * kept]
            } else {
                Vec::new()
            },
            nonzero: Vec::new(),
            needed: 0,
            quant: None,
        })
    }
}

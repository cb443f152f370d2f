//! Progressive files: which scans matter at the chosen scale, and the transform of every block
//! once the last scan is in.

use super::State;
use super::budget::skip_entropy;
use super::output::dc_pixel;
use super::scan::{band, parse_sos};
use crate::decode::jpeg::markers::{self, next_segment};
use crate::decode::jpeg::tables::ZIGZAG;
use crate::error::Result;

impl State {
    /// For progressive files: which coefficients each component must decode, so that scans
    /// holding only unneeded ones can be skipped unread.
    pub(super) fn plan_progressive(&mut self, data: &[u8], first_scan: usize) -> Result<()> {
        let mut scans = Vec::new();
        let mut pos = first_scan;
        while let Some(seg) = next_segment(data, pos)? {
            if seg.marker == markers::EOI {
                break;
            }
            pos = seg.end;
            if seg.marker == markers::SOS {
                if let Ok(scan) = parse_sos(seg.payload, &self.comps) {
                    scans.push(scan);
                }
                pos = skip_entropy(data, seg.end);
            }
        }
        for (ci, comp) in self.comps.iter_mut().enumerate() {
            let mut needed = (0..64)
                .filter(|&k| comp.zone[k] != 255)
                .fold(0u64, |m, k| m | 1 << k);
            loop {
                let before = needed;
                for s in scans.iter().filter(|s| s.comps.iter().any(|c| c.0 == ci)) {
                    let b = band(s.ss, s.se);
                    if b & needed != 0 {
                        needed |= b;
                    }
                }
                if needed == before {
                    break;
                }
            }
            comp.needed = needed;
            if needed & !1 != 0 {
                comp.nonzero = vec![0; comp.padded_w * comp.padded_h];
            }
        }
        Ok(())
    }

    /// After the last progressive scan: dequantise and transform every block.
    pub(super) fn transform_progressive(&mut self) -> Result<()> {
        let mut coef = [0f32; 64];
        // Quantiser of each zone slot, per component.
        for c in &mut self.comps {
            let Some(q) = c.quant else { continue };
            let (nx, ny) = (c.nx, c.ny);
            let nn = c.kept;
            let mut qslot = [0i32; 64];
            let mut nat_of = [0usize; 64];
            for k in 0..64 {
                if c.zone[k] != 255 {
                    let slot = usize::from(c.zone[k]);
                    qslot[slot] = i32::from(q[k]);
                    nat_of[slot] = usize::from(ZIGZAG[k]);
                }
            }
            let stride = c.padded_w * nx;
            for by in 0..c.padded_h {
                self.limits.check_deadline()?;
                for bx in 0..c.padded_w {
                    let b = by * c.padded_w + bx;
                    let kept = &c.coefs[b * nn..b * nn + nn];
                    let at = by * ny * stride + bx * nx;
                    if nn == 1 {
                        c.plane[at] = dc_pixel(i32::from(kept[0]) * qslot[0]);
                        continue;
                    }
                    coef.fill(0.0);
                    let (mut rows, mut cols) = (0u8, 0u8);
                    for s in 0..nn {
                        if kept[s] != 0 {
                            coef[nat_of[s]] = (i32::from(kept[s]) * qslot[s]) as f32;
                            rows |= 1 << (nat_of[s] >> 3);
                            cols |= 1 << (nat_of[s] & 7);
                        }
                    }
                    c.idct
                        .transform(&coef, rows, cols, &mut c.plane[at..], stride);
                }
            }
        }
        Ok(())
    }
}

//! One scan: its header, and the entropy-coded units it covers, restart interval by restart
//! interval.

use super::blocks::{Ctx, Kind, decode_unit, fill_unit};
use super::budget::skip_entropy;
use super::{Component, EntropyData, Scan, State, corrupt};
use crate::decode::jpeg::tables::{Slots, standard_table};
use crate::error::Result;
use crate::spec::Limits;

pub(super) fn parse_sos(p: &[u8], comps: &[Component]) -> Result<Scan> {
    let ns = usize::from(*p.first().ok_or_else(|| corrupt("empty scan header"))?);
    if ns == 0 || ns > 4 || p.len() < 1 + 2 * ns + 3 {
        return Err(corrupt("scan header is truncated"));
    }
    let mut sel = Vec::with_capacity(ns);
    for i in 0..ns {
        let id = p[1 + 2 * i];
        let t = p[2 + 2 * i];
        let idx = comps
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| corrupt(format!("scan names component {id}, not in the frame")))?;
        let (td, ta) = (usize::from(t >> 4), usize::from(t & 15));
        if td > 3 || ta > 3 {
            return Err(corrupt("scan names a Huffman table above 3"));
        }
        sel.push((idx, td, ta));
    }
    let q = &p[1 + 2 * ns..];
    Ok(Scan {
        comps: sel,
        ss: usize::from(q[0]),
        se: usize::from(q[1]),
        ah: u32::from(q[2] >> 4),
        al: u32::from(q[2] & 15),
    })
}

/// Bit mask of zigzag indices `ss..=se`.
pub(super) fn band(ss: usize, se: usize) -> u64 {
    if ss > se || se > 63 {
        return 0;
    }
    let hi = if se == 63 {
        u64::MAX
    } else {
        (1u64 << (se + 1)) - 1
    };
    hi & !((1u64 << ss) - 1)
}

impl State {
    /// Decodes one scan starting at `start`; returns where the next segment starts and whether
    /// the data ran out.
    pub(super) fn scan(&mut self, data: &[u8], start: usize, scan: &Scan) -> Result<(usize, bool)> {
        let kind = match (self.progressive, scan.ss, scan.ah) {
            (false, _, _) => Kind::Sequential,
            (true, 0, 0) => Kind::DcFirst,
            (true, 0, _) => Kind::DcRefine,
            (true, _, 0) => Kind::AcFirst,
            (true, _, _) => Kind::AcRefine,
        };
        if self.progressive && !self.progressive_scan_needed(scan)? {
            return Ok((skip_entropy(data, start), false));
        }
        // Tables no DHT defined: the standard ones (MJPEG frames and some cameras rely on them).
        for &(_, td, ta) in &scan.comps {
            if self.dc[td].is_none() {
                self.dc[td] = standard_table(false, td, false);
            }
            if self.ac[ta].is_none() {
                self.ac[ta] = standard_table(true, ta, !self.progressive);
            }
        }
        let State {
            comps,
            quant,
            dc,
            ac,
            restart_interval,
            mcus_w,
            mcus_h,
            eobrun,
            limits,
            ..
        } = self;
        let ctxs = contexts(comps, quant, dc, ac, scan, kind)?;
        *eobrun = 0;
        let (units_w, units_h) = if scan.comps.len() > 1 {
            (*mcus_w, *mcus_h)
        } else {
            let c = &comps[scan.comps[0].0];
            (c.blocks_w, c.blocks_h)
        };
        let entropy = EntropyData::new(data, start);
        let walk = Walk {
            ctxs: &ctxs,
            kind,
            scan,
            units_w,
            total: units_w * units_h,
            ri: *restart_interval,
            limits,
        };
        let short = walk.run(&entropy, comps, eobrun)?;
        Ok((entropy.next_marker, short))
    }

    /// Checks a progressive scan's parameters; `false` when it holds only coefficients that
    /// no component needs at this scale (it is then skipped unread).
    fn progressive_scan_needed(&self, scan: &Scan) -> Result<bool> {
        let dc_scan = scan.ss == 0;
        if (dc_scan && scan.se != 0)
            || (!dc_scan && (scan.comps.len() != 1 || scan.se < scan.ss || scan.se > 63))
            || scan.al > 13
        {
            return Err(corrupt("invalid progressive scan parameters"));
        }
        let b = band(scan.ss, scan.se);
        Ok(dc_scan || scan.comps.iter().any(|c| self.comps[c.0].needed & b != 0))
    }
}

/// Everything a block of each of the scan's components needs, looked up once per scan.
fn contexts<'t>(
    comps: &mut [Component],
    quant: &[Option<[u16; 64]>; 4],
    dc: &'t Slots,
    ac: &'t Slots,
    scan: &Scan,
    kind: Kind,
) -> Result<Vec<Ctx<'t>>> {
    let interleaved = scan.comps.len() > 1;
    let mut ctxs = Vec::with_capacity(scan.comps.len());
    for &(ci, td, ta) in &scan.comps {
        let c = &mut comps[ci];
        if c.quant.is_none() {
            c.quant = quant[c.tq];
        }
        let q = c.quant.ok_or_else(|| {
            corrupt(format!(
                "no quantisation table {} for component {}",
                c.tq, c.id
            ))
        })?;
        let dc_table = dc[td].as_deref();
        let ac_table = ac[ta].as_deref();
        let needs_dc = matches!(kind, Kind::Sequential | Kind::DcFirst);
        let needs_ac = matches!(kind, Kind::Sequential | Kind::AcFirst | Kind::AcRefine);
        if needs_dc && dc_table.is_none() {
            return Err(corrupt(format!("no DC Huffman table {td}")));
        }
        if needs_ac && ac_table.is_none() {
            return Err(corrupt(format!("no AC Huffman table {ta}")));
        }
        c.dc_pred = 0;
        let (bh, bv) = if interleaved { (c.h, c.v) } else { (1, 1) };
        ctxs.push(Ctx {
            ci,
            dc: dc_table,
            ac: ac_table,
            q,
            bh,
            bv,
        });
    }
    Ok(ctxs)
}

/// One scan's walk over its units.
struct Walk<'a, 't> {
    ctxs: &'a [Ctx<'t>],
    kind: Kind,
    scan: &'a Scan,
    units_w: usize,
    total: usize,
    /// Units per restart interval (0: none).
    ri: usize,
    limits: &'a Limits,
}

impl Walk<'_, '_> {
    /// Decodes every unit; returns whether the data ran out before the last one.
    ///
    /// Restart intervals are placed by their RSTn numbers, so damage costs only the intervals
    /// it touches: the rest of a damaged interval, and any interval whose data is missing, is
    /// filled with the last good DC of each component (libjpeg fills it with gray), and
    /// decoding resumes at the next marker.
    fn run(
        &self,
        entropy: &EntropyData,
        comps: &mut [Component],
        eobrun: &mut u32,
    ) -> Result<bool> {
        const SEQ: u8 = Kind::Sequential as u8;
        // A scan whose every block becomes one pixel gets a loop of its own: with no call
        // out to `sequential_block`, the bit reader stays in registers.
        let dc_only = self.ctxs.iter().all(|ctx| {
            let c = &comps[ctx.ci];
            c.nx * c.ny == 1
        });
        match self.kind {
            Kind::Sequential if dc_only => self.run_as::<SEQ, true>(entropy, comps, eobrun),
            Kind::Sequential => self.run_as::<SEQ, false>(entropy, comps, eobrun),
            Kind::DcFirst => self.run_as::<{ Kind::DcFirst as u8 }, false>(entropy, comps, eobrun),
            Kind::DcRefine => {
                self.run_as::<{ Kind::DcRefine as u8 }, false>(entropy, comps, eobrun)
            }
            Kind::AcFirst => self.run_as::<{ Kind::AcFirst as u8 }, false>(entropy, comps, eobrun),
            Kind::AcRefine => {
                self.run_as::<{ Kind::AcRefine as u8 }, false>(entropy, comps, eobrun)
            }
        }
    }

    /// [`Self::run`] for scans of kind `K` (with `DC`, sequential ones whose blocks are
    /// all one pixel).
    fn run_as<const K: u8, const DC: bool>(
        &self,
        entropy: &EntropyData,
        comps: &mut [Component],
        eobrun: &mut u32,
    ) -> Result<bool> {
        let (ri, total, units_w) = (self.ri, self.total, self.units_w);
        let map = entropy.map_intervals(if ri > 0 { total.div_ceil(ri) } else { 1 });
        let last_stored = map.iter().rposition(Option::is_some).unwrap_or(0);
        let mut r = entropy.interval(0);
        let mut damaged = false;
        let mut good_dc = [0i32; 4];
        let mut coef = [0f32; 64];
        let (mut ux, mut uy) = (0, 0);
        for unit in 0..total {
            if ri > 0 && unit > 0 && unit % ri == 0 {
                let ui = unit / ri;
                if ui > last_stored {
                    // Nothing stored past here: a truncated file keeps what was decoded.
                    return Ok(true);
                }
                damaged = map[ui].is_none();
                r = entropy.interval(map[ui].unwrap_or(usize::MAX));
                for ctx in self.ctxs {
                    comps[ctx.ci].dc_pred = 0;
                }
                *eobrun = 0;
            }
            let (ctxs, kind, scan) = (self.ctxs, self.kind, self.scan);
            if damaged {
                fill_unit(ctxs, comps, kind, scan, &good_dc, ux, uy);
            } else {
                decode_unit::<K, DC>(&mut r, ctxs, comps, scan, eobrun, ux, uy, &mut coef);
                // Damage is only ever confined to a restart interval: without them there is
                // no good DC to keep.
                if ri > 0 {
                    if r.overran(0) {
                        damaged = true;
                    } else {
                        for (g, ctx) in good_dc.iter_mut().zip(ctxs) {
                            *g = comps[ctx.ci].dc_pred;
                        }
                    }
                }
            }
            ux += 1;
            if ux == units_w {
                self.limits.check_deadline()?;
                // A stream that ran dry: stop at the end of this row of units.
                if ri == 0 && r.overran(8) {
                    return Ok(unit + 1 < total);
                }
                (ux, uy) = (0, uy + 1);
            }
        }
        Ok(false)
    }
}

//! One scan: its header, and the entropy-coded units it covers, restart interval by restart
//! interval (on several threads when `parallel` splits it).

use super::blocks::{Ctx, Kind, Lane, decode_unit, fill_unit};
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
            limits,
            parts,
            ..
        } = self;
        latch_quant(comps, quant, scan)?;
        let (units_w, units_h) = if scan.comps.len() > 1 {
            (*mcus_w, *mcus_h)
        } else {
            let c = &comps[scan.comps[0].0];
            (c.blocks_w, c.blocks_h)
        };
        // The written buffers leave their components for the scan, so that the components'
        // geometry can be shared by every thread decoding it.
        let mut bufs: Vec<Buffers> = scan
            .comps
            .iter()
            .map(|s| Buffers::take(comps, s.0))
            .collect();
        let entropy = EntropyData::new(data, start);
        let walked = contexts(comps, dc, ac, scan, kind).and_then(|ctxs| {
            let walk = Walk {
                ctxs: &ctxs,
                kind,
                scan,
                units_w,
                units_h,
                ri: *restart_interval,
                map: &entropy.map_intervals(if *restart_interval > 0 {
                    (units_w * units_h).div_ceil(*restart_interval)
                } else {
                    1
                }),
                limits,
            };
            walk.run(&entropy, &mut bufs)
        });
        // In reverse, so that a component a scan names twice gets back its own buffers.
        for b in bufs.into_iter().rev() {
            b.put_back(comps);
        }
        let (short, used) = walked?;
        *parts = (*parts).max(used);
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

/// Latches each scanned component's quantisation table at its first scan.
fn latch_quant(comps: &mut [Component], quant: &[Option<[u16; 64]>; 4], scan: &Scan) -> Result<()> {
    for &(ci, _, _) in &scan.comps {
        let c = &mut comps[ci];
        if c.quant.is_none() {
            c.quant = quant[c.tq];
        }
        if c.quant.is_none() {
            return Err(corrupt(format!(
                "no quantisation table {} for component {}",
                c.tq, c.id
            )));
        }
    }
    Ok(())
}

/// Everything a block of each of the scan's components needs, looked up once per scan.
fn contexts<'t>(
    comps: &'t [Component],
    dc: &'t Slots,
    ac: &'t Slots,
    scan: &Scan,
    kind: Kind,
) -> Result<Vec<Ctx<'t>>> {
    let interleaved = scan.comps.len() > 1;
    let mut ctxs = Vec::with_capacity(scan.comps.len());
    for &(ci, td, ta) in &scan.comps {
        let c = &comps[ci];
        let q = c.quant.unwrap_or([1; 64]);
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
        let (bh, bv) = if interleaved { (c.h, c.v) } else { (1, 1) };
        ctxs.push(Ctx {
            c,
            dc: dc_table,
            ac: ac_table,
            q,
            bh,
            bv,
        });
    }
    Ok(ctxs)
}

/// What a scan writes of one component, out of the component while the scan runs.
pub(super) struct Buffers {
    ci: usize,
    pub plane: Vec<u8>,
    pub coefs: Vec<i16>,
    pub nonzero: Vec<u64>,
}

impl Buffers {
    fn take(comps: &mut [Component], ci: usize) -> Self {
        let c = &mut comps[ci];
        Buffers {
            ci,
            plane: std::mem::take(&mut c.plane),
            coefs: std::mem::take(&mut c.coefs),
            nonzero: std::mem::take(&mut c.nonzero),
        }
    }

    fn put_back(self, comps: &mut [Component]) {
        let c = &mut comps[self.ci];
        (c.plane, c.coefs, c.nonzero) = (self.plane, self.coefs, self.nonzero);
    }
}

/// One scan's walk over its units.
pub(super) struct Walk<'a, 't> {
    pub ctxs: &'a [Ctx<'t>],
    pub kind: Kind,
    pub scan: &'a Scan,
    pub units_w: usize,
    pub units_h: usize,
    /// Units per restart interval (0: none).
    pub ri: usize,
    /// Which stored interval holds each restart interval's data (see `map_intervals`).
    pub map: &'a [Option<usize>],
    pub limits: &'a Limits,
}

impl Walk<'_, '_> {
    /// Decodes the rows of units `rows` into `lanes` (whose first rows are those of
    /// `rows.start`); returns whether the data ran out before the last unit.
    ///
    /// Restart intervals are placed by their RSTn numbers, so damage costs only the intervals
    /// it touches: the rest of a damaged interval, and any interval whose data is missing, is
    /// filled with the last good DC of each component (libjpeg fills it with gray), and
    /// decoding resumes at the next marker. `rows` starts with a restart interval.
    pub fn rows(
        &self,
        entropy: &EntropyData,
        lanes: &mut [Lane<'_>],
        rows: std::ops::Range<usize>,
    ) -> Result<bool> {
        const SEQ: u8 = Kind::Sequential as u8;
        // A scan whose every block becomes one pixel gets a loop of its own: with no call
        // out to `sequential_block`, the bit reader stays in registers.
        let dc_only = self.ctxs.iter().all(|ctx| ctx.c.nx * ctx.c.ny == 1);
        match self.kind {
            Kind::Sequential if dc_only => self.run_as::<SEQ, true>(entropy, lanes, rows),
            Kind::Sequential => self.run_as::<SEQ, false>(entropy, lanes, rows),
            Kind::DcFirst => self.run_as::<{ Kind::DcFirst as u8 }, false>(entropy, lanes, rows),
            Kind::DcRefine => self.run_as::<{ Kind::DcRefine as u8 }, false>(entropy, lanes, rows),
            Kind::AcFirst => self.run_as::<{ Kind::AcFirst as u8 }, false>(entropy, lanes, rows),
            Kind::AcRefine => self.run_as::<{ Kind::AcRefine as u8 }, false>(entropy, lanes, rows),
        }
    }

    /// [`Self::rows`] for scans of kind `K` (with `DC`, sequential ones whose blocks are
    /// all one pixel).
    fn run_as<const K: u8, const DC: bool>(
        &self,
        entropy: &EntropyData,
        lanes: &mut [Lane<'_>],
        rows: std::ops::Range<usize>,
    ) -> Result<bool> {
        let (ri, units_w, map) = (self.ri, self.units_w, self.map);
        let (first, end) = (rows.start * units_w, rows.end * units_w);
        let last_stored = map.iter().rposition(Option::is_some).unwrap_or(0);
        let at = |unit: usize| map.get(unit / ri.max(1)).copied().flatten();
        if ri > 0 && first / ri > last_stored {
            return Ok(true);
        }
        let mut r = entropy.interval(at(first).unwrap_or(usize::MAX));
        let mut damaged = at(first).is_none();
        let mut good_dc = [0i32; 4];
        let mut coef = [0f32; 64];
        let mut eobrun = 0;
        let (mut ux, mut uy) = (0, 0);
        for unit in first..end {
            if ri > 0 && unit > first && unit % ri == 0 {
                if unit / ri > last_stored {
                    // Nothing stored past here: a truncated file keeps what was decoded.
                    return Ok(true);
                }
                damaged = at(unit).is_none();
                r = entropy.interval(at(unit).unwrap_or(usize::MAX));
                for lane in lanes.iter_mut() {
                    lane.dc_pred = 0;
                }
                eobrun = 0;
            }
            let (kind, scan) = (self.kind, self.scan);
            if damaged {
                fill_unit(lanes, kind, scan, &good_dc, ux, uy);
            } else {
                decode_unit::<K, DC>(&mut r, lanes, scan, &mut eobrun, ux, uy, &mut coef);
                // Damage is only ever confined to a restart interval: without them there is
                // no good DC to keep.
                if ri > 0 {
                    if r.overran(0) {
                        damaged = true;
                    } else {
                        for (g, lane) in good_dc.iter_mut().zip(lanes.iter()) {
                            *g = lane.dc_pred;
                        }
                    }
                }
            }
            ux += 1;
            if ux == units_w {
                self.limits.check_deadline()?;
                // A stream that ran dry: stop at the end of this row of units.
                if ri == 0 && r.overran(8) {
                    return Ok(unit + 1 < end);
                }
                (ux, uy) = (0, uy + 1);
            }
        }
        Ok(false)
    }
}

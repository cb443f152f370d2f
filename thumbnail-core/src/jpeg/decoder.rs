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
use super::markers::{self, Frame, JpegHeader, Process, Segment, next_segment};
use super::tables::{Huffman, LOOKAHEAD, ZIGZAG, parse_dht, parse_dqt, standard_tables};
use crate::error::{Error, Result};
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

mod blocks;
mod budget;
mod output;

use blocks::{Ctx, Kind, decode_unit, fill_unit, zone};
pub(crate) use budget::check_scans;
use budget::{check_memory, skip_entropy};
use output::{upsample, ycc_to_rgb};

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
    dc_pred: i32,
}

/// A decoded image at reduced size, still in its stored colour model. Where the entropy data
/// ends early the rest of the image is mid-gray, as libjpeg-based viewers show it.
pub(crate) struct Decoded {
    pub bitmap: Bitmap,
}

/// Decodes at `scale` (1, 2, 4 or 8), stopping at the deadline of `limits`.
pub(crate) fn decode(
    data: &[u8],
    scale: u32,
    limits: &Limits,
) -> Result<std::result::Result<Decoded, NotCovered>> {
    let header = JpegHeader::parse(data)?;
    let frame = header.frame()?.clone();
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
    let stored = stored_model(&header, &frame)?;
    // A progressive file keeps every block's coefficients until its last scan: all 64 for
    // an exact area mean when they fit the memory limit, else only the low frequencies the
    // reduced block shows (libjpeg's scaled IDCT), a quarter or less of the memory.
    let state = match State::new(&frame, n, *limits, false) {
        Err(e) if e.kind() == crate::ErrorKind::OverLimit && n > 1 => {
            State::new(&frame, n, *limits, frame.process == Process::Progressive)
        }
        other => other,
    };
    let Some(mut state) = state? else {
        return Ok(Err(NotCovered::SamplingRatio));
    };
    state.run(data, &header)?;
    let bitmap = state.output(stored)?;
    Ok(Ok(Decoded { bitmap }))
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

fn parse_sos(p: &[u8], comps: &[Component]) -> Result<Scan> {
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
fn band(ss: usize, se: usize) -> u64 {
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
    eobrun: u32,
    limits: Limits,
}

impl State {
    fn new(frame: &Frame, n: usize, limits: Limits, low_only: bool) -> Result<Option<Self>> {
        let hmax = frame
            .components
            .iter()
            .map(|c| usize::from(c.h))
            .max()
            .unwrap_or(1);
        let vmax = frame
            .components
            .iter()
            .map(|c| usize::from(c.v))
            .max()
            .unwrap_or(1);
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
        let low_only = low_only && frame.process == Process::Progressive;
        check_memory(frame, n, hmax, vmax, low_only, &limits)?;
        let mcus_w = width.div_ceil(8 * hmax);
        let mcus_h = height.div_ceil(8 * vmax);
        let single = frame.components.len() == 1;
        let progressive = frame.process == Process::Progressive;
        let (standard_dc, standard_ac) = standard_tables();
        let mut comps = Vec::new();
        for c in &frame.components {
            let (h, v) = (usize::from(c.h), usize::from(c.v));
            let cw = (width * h).div_ceil(hmax);
            let ch = (height * v).div_ceil(vmax);
            let (blocks_w, blocks_h) = (cw.div_ceil(8), ch.div_ceil(8));
            // A lone component is never interleaved: its MCU is one block.
            let (padded_w, padded_h) = if single {
                (blocks_w, blocks_h)
            } else {
                (mcus_w * h, mcus_h * v)
            };
            // Like libjpeg (jpeg_calc_output_dimensions), a subsampled component's IDCT output
            // is doubled while its sampling ratio allows, instead of upsampling afterwards;
            // unlike libjpeg, each direction on its own, so 4:2:2 chroma is exact too. Not for
            // progressive files: there the larger IDCT would need AC scans that a DC-only
            // decode skips unread, which costs 30% of the corpus time for 0.0001 of SSIM.
            let grow = |mut m: usize, max: usize, f: usize| {
                while !single && !progressive && m < 8 && (max * n).is_multiple_of(f * m * 2) {
                    m *= 2;
                }
                m
            };
            let (nx, ny) = (grow(n, hmax, h), grow(n, vmax, v));
            let (rx, ry) = if single {
                (1, 1)
            } else {
                (hmax * n / (h * nx), vmax * n / (v * ny))
            };
            let plane_len = (padded_w * nx)
                .checked_mul(padded_h * ny)
                .ok_or_else(|| corrupt("image size overflows"))?;
            let blocks = padded_w * padded_h;
            let (zone, zone_last, kept) = zone(low_only, nx, ny);
            comps.push(Component {
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
                coefs: if progressive {
                    vec![0; blocks * kept]
                } else {
                    Vec::new()
                },
                nonzero: Vec::new(),
                needed: 0,
                quant: None,
                dc_pred: 0,
            });
        }
        Ok(Some(State {
            width,
            height,
            n,
            mcus_w,
            mcus_h,
            progressive,
            comps,
            quant: [None; 4],
            dc: standard_dc,
            ac: standard_ac,
            restart_interval: 0,
            eobrun: 0,
            limits,
        }))
    }

    /// Walks every segment and scan; returns whether the data ended early.
    fn run(&mut self, data: &[u8], header: &JpegHeader<'_>) -> Result<bool> {
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
            0xDB => parse_dqt(seg.payload, &mut self.quant),
            0xC4 => parse_dht(seg.payload, &mut self.dc, &mut self.ac),
            0xDD => {
                let p = seg.payload;
                let ri = p.get(..2).ok_or_else(|| corrupt("DRI is truncated"))?;
                self.restart_interval = usize::from(u16::from_be_bytes([ri[0], ri[1]]));
                Ok(())
            }
            0xCC => Err(Error::unsupported("JPEG with arithmetic coding")),
            _ => Ok(()),
        }
    }

    /// For progressive files: which coefficients each component must decode, so that scans
    /// holding only unneeded ones can be skipped unread.
    fn plan_progressive(&mut self, data: &[u8], first_scan: usize) -> Result<()> {
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

    /// Decodes one scan starting at `start`; returns where the next segment starts and whether
    /// the data ran out.
    fn scan(&mut self, data: &[u8], start: usize, scan: &Scan) -> Result<(usize, bool)> {
        let kind = match (self.progressive, scan.ss, scan.ah) {
            (false, _, _) => Kind::Sequential,
            (true, 0, 0) => Kind::DcFirst,
            (true, 0, _) => Kind::DcRefine,
            (true, _, 0) => Kind::AcFirst,
            (true, _, _) => Kind::AcRefine,
        };
        if self.progressive {
            let b = band(scan.ss, scan.se);
            let dc_scan = scan.ss == 0;
            if (dc_scan && scan.se != 0)
                || (!dc_scan && (scan.comps.len() != 1 || scan.se < scan.ss || scan.se > 63))
                || scan.al > 13
            {
                return Err(corrupt("invalid progressive scan parameters"));
            }
            if !dc_scan && scan.comps.iter().all(|c| self.comps[c.0].needed & b == 0) {
                return Ok((skip_entropy(data, start), false));
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
        let interleaved = scan.comps.len() > 1;
        // Everything a block needs, looked up once per scan.
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
        *eobrun = 0;
        let entropy = EntropyData::new(data, start);
        let (units_w, units_h) = if interleaved {
            (*mcus_w, *mcus_h)
        } else {
            let c = &comps[scan.comps[0].0];
            (c.blocks_w, c.blocks_h)
        };
        let total = units_w * units_h;
        let ri = *restart_interval;
        // Restart intervals are placed by their RSTn numbers, so damage costs only the
        // intervals it touches: the rest of a damaged interval, and any interval whose data
        // is missing, is filled with the last good DC of each component (libjpeg fills it
        // with gray), and decoding resumes at the next marker.
        let map = entropy.map_intervals(if ri > 0 { total.div_ceil(ri) } else { 1 });
        let last_stored = map.iter().rposition(Option::is_some).unwrap_or(0);
        let mut r = entropy.interval(0);
        let mut damaged = false;
        let mut good_dc = [0i32; 4];
        let mut short = false;
        let mut coef = [0f32; 64];
        for unit in 0..total {
            if ri > 0 && unit > 0 && unit % ri == 0 {
                let ui = unit / ri;
                if ui > last_stored {
                    // Nothing stored past here: a truncated file keeps what was decoded.
                    short = true;
                    break;
                }
                damaged = map[ui].is_none();
                r = entropy.interval(map[ui].unwrap_or(usize::MAX));
                for ctx in &ctxs {
                    comps[ctx.ci].dc_pred = 0;
                }
                *eobrun = 0;
            }
            let (ux, uy) = (unit % units_w, unit / units_w);
            if damaged {
                fill_unit(&ctxs, comps, kind, scan, &good_dc, ux, uy);
            } else {
                decode_unit(&mut r, &ctxs, comps, kind, scan, eobrun, ux, uy, &mut coef);
                if ri > 0 && r.overran(0) {
                    damaged = true;
                } else {
                    for (g, ctx) in good_dc.iter_mut().zip(&ctxs) {
                        *g = comps[ctx.ci].dc_pred;
                    }
                }
            }
            if ux == units_w - 1 {
                limits.check_deadline()?;
                // A stream that ran dry: stop at the end of this row of units.
                if ri == 0 && r.overran(8) {
                    short = unit + 1 < total;
                    break;
                }
            }
        }
        Ok((entropy.next_marker, short))
    }

    /// After the last progressive scan: dequantise and transform every block.
    fn transform_progressive(&mut self) -> Result<()> {
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
                    let mut rows = 0u8;
                    for s in 0..nn {
                        if kept[s] != 0 {
                            coef[nat_of[s]] = (i32::from(kept[s]) * qslot[s]) as f32;
                            rows |= 1 << (nat_of[s] >> 3);
                        }
                    }
                    c.idct.transform(&coef, rows, &mut c.plane[at..], stride);
                }
            }
        }
        Ok(())
    }

    /// Upsamples the planes to the reduced image size and converts the colour model.
    fn output(self, stored: Stored) -> Result<Bitmap> {
        let s = 8 / self.n;
        let ow = self.width.div_ceil(s);
        let oh = self.height.div_ceil(s);
        let planes: Vec<Vec<u8>> = self
            .comps
            .iter()
            .map(|c| {
                upsample(
                    &c.plane,
                    c.padded_w * c.nx,
                    c.padded_h * c.ny,
                    c.rx,
                    c.ry,
                    ow,
                    oh,
                )
            })
            .collect();
        let (w, h) = (ow as u32, oh as u32);
        let px = ow * oh;
        let layout = match stored {
            Stored::Gray => PixelLayout::Gray,
            Stored::Cmyk { .. } | Stored::Ycck => PixelLayout::Cmyk,
            Stored::YCbCr | Stored::Rgb => PixelLayout::Rgb,
        };
        if stored == Stored::Gray {
            let gray = planes.into_iter().next().unwrap_or_default();
            return Bitmap::new(w, h, layout, gray);
        }
        let mut out = vec![0u8; px * layout.channels()];
        let (p0, p1, p2) = (&planes[0], &planes[1], &planes[2]);
        let three = p0.iter().zip(p1).zip(p2).map(|((&a, &b), &c)| (a, b, c));
        match stored {
            Stored::Rgb => {
                for (o, (r, g, b)) in out.chunks_exact_mut(3).zip(three) {
                    o.copy_from_slice(&[r, g, b]);
                }
            }
            Stored::YCbCr => {
                for (o, (y, cb, cr)) in out.chunks_exact_mut(3).zip(three) {
                    o.copy_from_slice(&ycc_to_rgb(y, cb, cr));
                }
            }
            Stored::Cmyk { inverted } => {
                let flip = if inverted { 255 } else { 0 };
                for (o, ((c, m, y), &k)) in out.chunks_exact_mut(4).zip(three.zip(&planes[3])) {
                    o.copy_from_slice(&[c ^ flip, m ^ flip, y ^ flip, k ^ flip]);
                }
            }
            Stored::Ycck => {
                // Adobe YCCK holds the inverted CMY as YCbCr and K inverted; as ink that is
                // the converted RGB itself and 255 - K.
                for (o, ((y, cb, cr), &k)) in out.chunks_exact_mut(4).zip(three.zip(&planes[3])) {
                    let [r, g, b] = ycc_to_rgb(y, cb, cr);
                    o.copy_from_slice(&[r, g, b, 255 - k]);
                }
            }
            Stored::Gray => {}
        }
        Bitmap::new(w, h, layout, out)
    }
}

/// DC / 8, level-shifted: the mean of the block.
#[inline(always)]
fn dc_pixel(dequantised: i32) -> u8 {
    // Round half up: (v + 4) >> 3 on the 8x DC scale.
    ((dequantised + 4).div_euclid(8) + 128).clamp(0, 255) as u8
}

//! Entropy decoding of one unit at a time: sequential blocks, progressive DC and AC passes,
//! and the fill of a damaged restart interval.

use super::{BitReader, Component, Huffman, LOOKAHEAD, Scan, ZIGZAG, dc_pixel};

/// What one thread writes of one component during a scan: the rows of its plane and (for
/// progressive files) of its coefficients from the first row of blocks of the units it
/// decodes (the whole scan, or a run of its restart intervals), and its DC prediction.
pub(super) struct Lane<'a> {
    /// The scan's view of the component.
    pub ctx: &'a Ctx<'a>,
    pub plane: &'a mut [u8],
    pub coefs: &'a mut [i16],
    pub nonzero: &'a mut [u64],
    pub dc_pred: i32,
}

/// Decodes one unit (an MCU, or one block of a non-interleaved scan) of a scan of kind `K`
/// (a [`Kind`] as `u8`: a constant, so each kind's loop is compiled without the others);
/// with `DC`, a sequential scan whose blocks all become one pixel. `uy` counts from the
/// first row of the lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn decode_unit<const K: u8, const DC: bool>(
    r: &mut BitReader<'_>,
    lanes: &mut [Lane<'_>],
    scan: &Scan,
    eobrun: &mut u32,
    ux: usize,
    uy: usize,
    coef: &mut [f32; 64],
) {
    for lane in lanes.iter_mut() {
        let (ctx, c) = (lane.ctx, lane.ctx.c);
        for by in 0..ctx.bv {
            for bx in 0..ctx.bh {
                // Always inside the padded component: units are whole MCUs (interleaved)
                // or blocks of the component (`blocks_w <= padded_w`); writes below are
                // checked all the same.
                let (x, y) = (ux * ctx.bh + bx, uy * ctx.bv + by);
                let nn = c.kept;
                match Kind::of(K) {
                    Kind::Sequential if DC || c.nx * c.ny == 1 => {
                        dc_only_block(r, ctx, lane, x, y);
                    }
                    Kind::Sequential => sequential_block(r, ctx, lane, x, y, coef),
                    Kind::DcFirst => {
                        let Some(dc) = ctx.dc else { continue };
                        lane.dc_pred = lane.dc_pred.wrapping_add(r.dc_diff(dc));
                        if let Some(v) = lane.coefs.get_mut((y * c.padded_w + x) * nn) {
                            *v = (lane.dc_pred << scan.al) as i16;
                        }
                    }
                    Kind::DcRefine => {
                        if r.bit()
                            && let Some(v) = lane.coefs.get_mut((y * c.padded_w + x) * nn)
                        {
                            *v |= (1 << scan.al) as i16;
                        }
                    }
                    Kind::AcFirst | Kind::AcRefine => {
                        let Some(ac) = ctx.ac else { continue };
                        let b = y * c.padded_w + x;
                        let mut spare = 0u64;
                        let mask = lane.nonzero.get_mut(b).unwrap_or(&mut spare);
                        let Some(coefs) = lane.coefs.get_mut(b * nn..b * nn + nn) else {
                            continue;
                        };
                        if K == Kind::AcFirst as u8 {
                            ac_first(r, ac, scan, &c.zone, coefs, mask, eobrun);
                        } else {
                            ac_refine(r, ac, scan, &c.zone, coefs, mask, eobrun);
                        }
                    }
                }
            }
        }
    }
}

/// Fills one unit of a damaged restart interval with each component's last good DC: a flat
/// block where sequential data is missing, the DC alone where a progressive first DC scan's
/// is; a refinement with no data refines nothing.
pub(super) fn fill_unit(
    lanes: &mut [Lane<'_>],
    kind: Kind,
    scan: &Scan,
    good_dc: &[i32; 4],
    ux: usize,
    uy: usize,
) {
    for (lane, &dc) in lanes.iter_mut().zip(good_dc) {
        let (ctx, c) = (lane.ctx, lane.ctx.c);
        for by in 0..ctx.bv {
            for bx in 0..ctx.bh {
                let (x, y) = (ux * ctx.bh + bx, uy * ctx.bv + by);
                if x >= c.padded_w {
                    continue;
                }
                match kind {
                    Kind::Sequential => {
                        let v = dc_pixel(dc.wrapping_mul(i32::from(ctx.q[0])));
                        let stride = c.padded_w * c.nx;
                        let at = y * c.ny * stride + x * c.nx;
                        for row in 0..c.ny {
                            if let Some(px) = lane.plane.get_mut(at + row * stride..) {
                                let n = c.nx.min(px.len());
                                px[..n].fill(v);
                            }
                        }
                    }
                    Kind::DcFirst => {
                        if let Some(v) = lane.coefs.get_mut((y * c.padded_w + x) * c.kept) {
                            *v = (dc << scan.al) as i16;
                        }
                    }
                    Kind::DcRefine | Kind::AcFirst | Kind::AcRefine => {}
                }
            }
        }
    }
}

/// What a scan holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

impl Kind {
    /// The kind a `u8` stands for (a const generic cannot be an enum).
    #[inline(always)]
    pub(super) const fn of(k: u8) -> Kind {
        match k {
            0 => Kind::Sequential,
            1 => Kind::DcFirst,
            2 => Kind::DcRefine,
            3 => Kind::AcFirst,
            _ => Kind::AcRefine,
        }
    }
}

/// A scan's view of one component.
pub(super) struct Ctx<'t> {
    pub c: &'t Component,
    pub dc: Option<&'t Huffman>,
    pub ac: Option<&'t Huffman>,
    pub q: [u16; 64],
    /// Blocks per MCU across and down (1 x 1 in a non-interleaved scan).
    pub bh: usize,
    pub bv: usize,
}

/// A sequential block that becomes one pixel (1/8 scale): its DC, and a skip over its AC
/// codes. Most of a thumbnail's decode is this, inlined in the scan's loop.
#[inline(always)]
fn dc_only_block(r: &mut BitReader<'_>, ctx: &Ctx<'_>, lane: &mut Lane<'_>, x: usize, y: usize) {
    let (Some(dc), Some(ac)) = (ctx.dc, ctx.ac) else {
        return;
    };
    lane.dc_pred = lane.dc_pred.wrapping_add(r.dc_diff(dc));
    r.skip_ac(ac, 1);
    if let Some(px) = lane.plane.get_mut(y * ctx.c.padded_w + x) {
        *px = dc_pixel(lane.dc_pred.wrapping_mul(i32::from(ctx.q[0])));
    }
}

/// A sequential (baseline or extended) block: DC, the AC coefficients the scale reads, a skip
/// over the rest, and the scaled IDCT into the plane.
#[inline(never)]
fn sequential_block(
    r: &mut BitReader<'_>,
    ctx: &Ctx<'_>,
    lane: &mut Lane<'_>,
    x: usize,
    y: usize,
    coef: &mut [f32; 64],
) {
    let (Some(dc), Some(ac)) = (ctx.dc, ctx.ac) else {
        return;
    };
    let (q, c) = (&ctx.q, ctx.c);
    lane.dc_pred = lane.dc_pred.wrapping_add(r.dc_diff(dc));
    // `coef` is all zeros between blocks: each block clears the rows it wrote.
    coef[0] = lane.dc_pred.wrapping_mul(i32::from(q[0])) as f32;
    // Rows and columns of the block (vertical and horizontal frequencies) holding a non-zero
    // coefficient.
    let (mut rows, mut cols) = (1u8, 1u8);
    let last = c.zone_last;
    let mut k = 1;
    // Coefficients inside the zone are decoded; from past the zone on, only skipped.
    while k <= last {
        r.refill();
        let fast = ac.fast_ac(r.peek(LOOKAHEAD));
        let (run, value) = if fast != 0 {
            r.consume(u32::from(fast as u16 & 15));
            (usize::from((fast as u16 >> 4) & 15), i32::from(fast >> 8))
        } else {
            let rs = ac.decode(r);
            let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run == 15 {
                    k += 16;
                    continue;
                }
                k = 64;
                break;
            }
            (run, r.receive_extend(size))
        };
        k += run;
        if k > 63 {
            break;
        }
        if c.zone[k] != 255 {
            let nat = usize::from(ZIGZAG[k]);
            coef[nat] = value.wrapping_mul(i32::from(q[k])) as f32;
            rows |= 1 << (nat >> 3);
            cols |= 1 << (nat & 7);
        }
        k += 1;
    }
    if k < 64 {
        r.skip_ac(ac, k);
    }
    let stride = c.padded_w * c.nx;
    let at = y * c.ny * stride + x * c.nx;
    if let Some(out) = lane.plane.get_mut(at..) {
        c.idct.transform(coef, rows, cols, out, stride);
    }
    for v in 0..8 {
        if rows & (1 << v) != 0 {
            coef[v * 8..v * 8 + 8].fill(0.0);
        }
    }
}

/// The coefficients a block's output reads, as slots in its kept coefficients (255 for unread
/// ones), the last zigzag index read, and how many are kept. A block mean needs the DC alone;
/// an exact finer area mean needs all 64. With `low_only` (`Detail::Low`, or a progressive
/// file whose coefficients would not fit the memory limit) only the low `nx x ny`
/// frequencies the reduced block can show are kept, as libjpeg's scaled IDCTs do.
pub(super) fn zone(low_only: bool, nx: usize, ny: usize) -> ([u8; 64], usize, usize) {
    let mut zone = [255u8; 64];
    if nx * ny == 1 {
        zone[0] = 0;
        return (zone, 0, 1);
    }
    if !low_only {
        return (ZIGZAG, 63, 64);
    }
    let (mut slot, mut last) = (0u8, 0);
    for (k, z) in zone.iter_mut().enumerate() {
        let nat = usize::from(ZIGZAG[k]);
        if nat / 8 < ny && nat % 8 < nx {
            *z = slot;
            slot += 1;
            last = k;
        }
    }
    (zone, last, usize::from(slot))
}

/// A progressive AC first pass (G.1.2.2) for one block.
fn ac_first(
    r: &mut BitReader<'_>,
    ac: &Huffman,
    scan: &Scan,
    zone: &[u8; 64],
    coefs: &mut [i16],
    nonzero: &mut u64,
    eobrun: &mut u32,
) {
    if *eobrun > 0 {
        *eobrun -= 1;
        return;
    }
    let mut k = scan.ss;
    while k <= scan.se {
        let rs = ac.decode(r);
        let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
        if size == 0 {
            if run < 15 {
                *eobrun = (1 << run) - 1;
                if run > 0 {
                    *eobrun += r.bits(run);
                }
                return;
            }
            k += 16;
            continue;
        }
        k += run as usize;
        if k > 63 {
            return;
        }
        let v = r.receive_extend(size) << scan.al;
        *nonzero |= 1 << k;
        if zone[k] != 255 {
            coefs[usize::from(zone[k])] = v as i16;
        }
        k += 1;
    }
}

/// A progressive AC refinement pass (G.1.2.3) for one block, after libjpeg's
/// `decode_mcu_AC_refine`.
fn ac_refine(
    r: &mut BitReader<'_>,
    ac: &Huffman,
    scan: &Scan,
    zone: &[u8; 64],
    coefs: &mut [i16],
    nonzero: &mut u64,
    eobrun: &mut u32,
) {
    let p1 = 1i32 << scan.al;
    let m1 = -1i32 << scan.al;
    let se = scan.se.min(63);
    let mut k = scan.ss;
    // Refines an already non-zero coefficient with its correction bit.
    let refine = |r: &mut BitReader<'_>, coefs: &mut [i16], k: usize| {
        if r.bit() && zone[k] != 255 {
            let c = &mut coefs[usize::from(zone[k])];
            if i32::from(*c) & p1 == 0 {
                *c = (i32::from(*c) + if *c >= 0 { p1 } else { m1 }) as i16;
            }
        }
    };
    if *eobrun == 0 {
        while k <= se {
            let rs = ac.decode(r);
            let (mut run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            let mut value = 0;
            if size != 0 {
                value = if r.bit() { p1 } else { m1 };
            } else if run != 15 {
                *eobrun = 1 << run;
                if run > 0 {
                    *eobrun += r.bits(run);
                }
                break;
            }
            // Step over already non-zero coefficients (refining them) and `run` zero ones.
            while k <= se {
                if *nonzero & (1 << k) != 0 {
                    refine(r, coefs, k);
                } else {
                    if run == 0 {
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            if value != 0 && k <= se {
                *nonzero |= 1 << k;
                if zone[k] != 255 {
                    coefs[usize::from(zone[k])] = value as i16;
                }
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        while k <= se {
            if *nonzero & (1 << k) != 0 {
                refine(r, coefs, k);
            }
            k += 1;
        }
        *eobrun -= 1;
    }
}

//! The inner loops of the reductions: one row's pixels added into consecutive cells of `f`
//! pixels. Specialised by channel count so a cell's sums stay in registers while its pixels
//! are added (a loop over a run-time channel count kept them in memory: a third of a deflate
//! TIFF's decode time went there).

/// Adds `pixels` (8-bit samples, or column sums of them), which start at a cell's first
/// column, into `sums` (`c` a cell), `f` pixels a cell; the last cell may be partial. Colour
/// without alpha.
pub(super) fn add_plain<T: Copy + Into<u32>>(c: usize, sums: &mut [u32], pixels: &[T], f: usize) {
    match c {
        1 => plain::<1, T>(sums, pixels, f),
        2 => plain::<2, T>(sums, pixels, f),
        3 => plain::<3, T>(sums, pixels, f),
        _ => plain::<4, T>(sums, pixels, f),
    }
}

/// The same with alpha as the last of `c` channels: colour weighted by alpha into `sums`,
/// alpha into `alpha` (one a cell).
pub(super) fn add_weighted(c: usize, sums: &mut [u32], alpha: &mut [u32], pixels: &[u8], f: usize) {
    if c == 2 {
        weighted::<2>(sums, alpha, pixels, f);
    } else {
        weighted::<4>(sums, alpha, pixels, f);
    }
}

fn plain<const C: usize, T: Copy + Into<u32>>(sums: &mut [u32], pixels: &[T], f: usize) {
    for (block, cell) in pixels.chunks(f * C).zip(sums.chunks_exact_mut(C)) {
        let mut acc = [0u32; C];
        for px in block.chunks_exact(C) {
            for (a, &v) in acc.iter_mut().zip(px) {
                *a += v.into();
            }
        }
        for (s, a) in cell.iter_mut().zip(acc) {
            *s += a;
        }
    }
}

fn weighted<const C: usize>(sums: &mut [u32], alpha: &mut [u32], pixels: &[u8], f: usize) {
    let cells = sums.chunks_exact_mut(C).zip(alpha.iter_mut());
    for (block, (cell, a_sum)) in pixels.chunks(f * C).zip(cells) {
        let mut acc = [0u32; C];
        for px in block.chunks_exact(C) {
            let a = u32::from(px[C - 1]);
            for (s, &v) in acc[..C - 1].iter_mut().zip(px) {
                *s += u32::from(v) * a;
            }
            acc[C - 1] += a;
        }
        for (s, a) in cell[..C - 1].iter_mut().zip(acc) {
            *s += a;
        }
        *a_sum += acc[C - 1];
    }
}

/// Adds a row of 8-bit samples to per-column sums: a loop the compiler vectorises, run for
/// every row, where the cells' sums are made once a band.
pub(super) fn add_columns(columns: &mut [u16], row: &[u8]) {
    for (s, &v) in columns.iter_mut().zip(row) {
        *s += u16::from(v);
    }
}

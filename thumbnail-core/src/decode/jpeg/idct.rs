//! Inverse DCTs that produce a block at 1/1, 1/2, 1/4 or 1/8 scale.
//!
//! At scale 1/s a block becomes `n = 8/s` pixels square, each the exact mean of the `s x s`
//! pixels the full 8x8 inverse DCT would give there. Averaging is linear, so it folds into the
//! transform: with `B[x][u]` the mean of the 8-point DCT basis function `u` over output pixel
//! `x`'s span, the block is `B F B^T`, one `n x 8` matrix product per axis. At 1/8 that is the
//! DC term alone, `DC / 8`.

use std::f32::consts::PI;

/// `m[x][u]`: basis function `u` averaged over output pixel `x`, for `n` outputs.
fn averaged_basis(n: usize) -> [[f32; 8]; 8] {
    let span = 8 / n;
    let mut m = [[0f32; 8]; 8];
    for (x, row) in m.iter_mut().enumerate().take(n) {
        for (u, v) in row.iter_mut().enumerate() {
            let c = if u == 0 {
                std::f32::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let mut sum = 0.0;
            for i in x * span..(x + 1) * span {
                sum += (((2 * i + 1) * u) as f32 * PI / 16.0).cos();
            }
            *v = c / 2.0 * sum / span as f32;
        }
    }
    m
}

/// A separable transform to `nx x ny` pixels (each 1, 2, 4 or 8).
pub(crate) struct Idct {
    nx: usize,
    ny: usize,
    /// Horizontal basis, transposed: `mxt[u][x]`, so a row's outputs accumulate lane-wise.
    mxt: [[f32; 8]; 8],
    my: [[f32; 8]; 8],
}

impl Idct {
    pub fn new(nx: usize, ny: usize) -> Self {
        let mx = averaged_basis(nx);
        let mxt = std::array::from_fn(|u| std::array::from_fn(|x| mx[x][u]));
        Idct {
            nx,
            ny,
            mxt,
            my: averaged_basis(ny),
        }
    }

    /// Transforms dequantised coefficients (`coef[v * 8 + u]`, natural order) into `nx x ny`
    /// pixels at `out[y * stride + x]`. Bit `v` of `rows` says row `v` of `coef` holds a
    /// non-zero coefficient (usually only the first one or two do), bit `u` of `cols` that
    /// column `u` does.
    #[inline]
    pub fn transform(&self, coef: &[f32; 64], rows: u8, cols: u8, out: &mut [u8], stride: usize) {
        // Fixed sizes let the compiler unroll and vectorise each case.
        match (self.nx, self.ny) {
            (1, 1) => out[0] = to_pixel(coef[0] / 8.0),
            (2, 2) => self.fixed::<2, 2>(coef, rows, cols, out, stride),
            (4, 4) => self.fixed::<4, 4>(coef, rows, cols, out, stride),
            (8, 8) => self.fixed::<8, 8>(coef, rows, cols, out, stride),
            (2, 1) => self.fixed::<2, 1>(coef, rows, cols, out, stride),
            (4, 2) => self.fixed::<4, 2>(coef, rows, cols, out, stride),
            (8, 4) => self.fixed::<8, 4>(coef, rows, cols, out, stride),
            (1, 2) => self.fixed::<1, 2>(coef, rows, cols, out, stride),
            (2, 4) => self.fixed::<2, 4>(coef, rows, cols, out, stride),
            (4, 8) => self.fixed::<4, 8>(coef, rows, cols, out, stride),
            _ => self.fixed::<8, 8>(coef, rows, cols, out, stride),
        }
    }

    #[inline(always)]
    fn fixed<const NX: usize, const NY: usize>(
        &self,
        coef: &[f32; 64],
        rows: u8,
        cols: u8,
        out: &mut [u8],
        stride: usize,
    ) {
        if rows == 1 && cols == 1 {
            // A flat block (most of a photo's at these scales): every output is the DC's mean.
            let v = to_pixel(coef[0] / 8.0);
            for y in 0..NY {
                if let Some(dst) = out.get_mut(y * stride..y * stride + NX) {
                    dst.fill(v);
                }
            }
            return;
        }
        if (NX < 8 || NY < 8) && u32::from(rows) >> NY == 0 && u32::from(cols) >> NX == 0 {
            return self.low::<NX, NY>(coef, out, stride);
        }
        // Vertical pass: tmp[y][u] = sum_v my[y][v] * F[v][u].
        let mut tmp = [[0f32; 8]; NY];
        for v in 0..8 {
            if rows & (1 << v) == 0 {
                continue;
            }
            let f: &[f32; 8] = coef[v * 8..v * 8 + 8].try_into().unwrap_or(&[0.0; 8]);
            for (t, my) in tmp.iter_mut().zip(&self.my) {
                let w = my[v];
                for (t, f) in t.iter_mut().zip(f) {
                    *t += w * f;
                }
            }
        }
        // Horizontal pass: out[y][x] = sum_u mx[x][u] * tmp[y][u], accumulated over u so the
        // NX outputs are computed side by side, up to the last column holding a coefficient.
        let used_cols = 8 - cols.leading_zeros() as usize;
        for (y, t) in tmp.iter().enumerate() {
            let mut acc = [0f32; NX];
            for (mxt, &tu) in self.mxt.iter().zip(t).take(used_cols) {
                for (a, m) in acc.iter_mut().zip(mxt) {
                    *a += m * tu;
                }
            }
            let Some(dst) = out.get_mut(y * stride..y * stride + NX) else {
                return;
            };
            for (px, a) in dst.iter_mut().zip(acc) {
                *px = to_pixel(a);
            }
        }
    }
}

impl Idct {
    /// [`Self::fixed`] for a block whose non-zero coefficients all lie in its low `NX x NY`
    /// frequencies (what `Detail::Low` keeps): an `NY x NY` by `NY x NX` by `NX x NX`
    /// product instead of the `8`-wide one.
    #[inline(always)]
    fn low<const NX: usize, const NY: usize>(
        &self,
        coef: &[f32; 64],
        out: &mut [u8],
        stride: usize,
    ) {
        let mut tmp = [[0f32; NX]; NY];
        for v in 0..NY {
            let Some(f) = coef.get(v * 8..v * 8 + NX) else {
                return;
            };
            for (t, my) in tmp.iter_mut().zip(&self.my) {
                let w = my[v];
                for (t, f) in t.iter_mut().zip(f) {
                    *t += w * f;
                }
            }
        }
        for (y, t) in tmp.iter().enumerate() {
            let mut acc = [0f32; NX];
            for (mxt, &tu) in self.mxt.iter().zip(t) {
                for (a, m) in acc.iter_mut().zip(mxt) {
                    *a += m * tu;
                }
            }
            let Some(dst) = out.get_mut(y * stride..y * stride + NX) else {
                return;
            };
            for (px, a) in dst.iter_mut().zip(acc) {
                *px = to_pixel(a);
            }
        }
    }
}

/// Level shift and clamp.
#[inline(always)]
fn to_pixel(v: f32) -> u8 {
    (v + 128.5).clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook 8x8 inverse DCT, for reference.
    fn naive(coef: &[f32; 64]) -> [f32; 64] {
        let mut out = [0f32; 64];
        for y in 0..8 {
            for x in 0..8 {
                let mut s = 0.0;
                for v in 0..8 {
                    for u in 0..8 {
                        let cu = if u == 0 { 1.0 / 2f32.sqrt() } else { 1.0 };
                        let cv = if v == 0 { 1.0 / 2f32.sqrt() } else { 1.0 };
                        s += cu * cv / 4.0
                            * coef[v * 8 + u]
                            * ((2 * x + 1) as f32 * u as f32 * PI / 16.0).cos()
                            * ((2 * y + 1) as f32 * v as f32 * PI / 16.0).cos();
                    }
                }
                out[y * 8 + x] = s + 128.0;
            }
        }
        out
    }

    fn sample() -> [f32; 64] {
        let mut coef = [0f32; 64];
        for (i, c) in coef.iter_mut().enumerate() {
            *c = (((i * 37) % 23) as i32 - 11 + if i == 0 { 300 } else { 0 }) as f32;
        }
        coef
    }

    #[test]
    fn full_size_matches_the_definition() {
        let coef = sample();
        let want = naive(&coef);
        let mut out = [0u8; 64];
        Idct::new(8, 8).transform(&coef, 0xFF, 0xFF, &mut out, 8);
        for i in 0..64 {
            assert!(
                (f32::from(out[i]) - want[i].clamp(0.0, 255.0)).abs() <= 1.0,
                "{i}"
            );
        }
    }

    #[test]
    fn low_frequency_and_flat_blocks_match_the_full_product() {
        let all = sample();
        for (nx, ny) in [
            (2usize, 2usize),
            (4, 4),
            (2, 1),
            (4, 2),
            (8, 4),
            (1, 2),
            (2, 4),
            (4, 8),
        ] {
            let idct = Idct::new(nx, ny);
            // Only the low nx x ny frequencies, then the DC alone.
            let mut low = [0f32; 64];
            for v in 0..ny {
                for u in 0..nx {
                    low[v * 8 + u] = all[v * 8 + u];
                }
            }
            let mut flat = [0f32; 64];
            flat[0] = all[0];
            let (rows, cols) = (((1u32 << ny) - 1) as u8, ((1u32 << nx) - 1) as u8);
            for (coef, rows, cols) in [(low, rows, cols), (flat, 1, 1)] {
                let (mut fast, mut full) = ([0u8; 64], [0u8; 64]);
                idct.transform(&coef, rows, cols, &mut fast, 8);
                idct.transform(&coef, 0xFF, 0xFF, &mut full, 8);
                assert_ne!(fast, [0u8; 64], "{nx}x{ny}: nothing written");
                for (i, (a, b)) in fast.iter().zip(&full).enumerate() {
                    assert!(
                        a.abs_diff(*b) <= 1,
                        "{nx}x{ny} rows {rows:b} at {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn reduced_sizes_are_exact_area_means() {
        let coef = sample();
        let full = naive(&coef);
        for (nx, ny) in [(1usize, 1usize), (2, 2), (4, 4), (2, 1), (8, 4), (1, 2)] {
            let (sx, sy) = (8 / nx, 8 / ny);
            let mut out = [0u8; 64];
            Idct::new(nx, ny).transform(&coef, 0xFF, 0xFF, &mut out, 8);
            for y in 0..ny {
                for x in 0..nx {
                    let mut m = 0.0;
                    for i in 0..sy {
                        for j in 0..sx {
                            m += full[(y * sy + i) * 8 + x * sx + j];
                        }
                    }
                    m /= (sx * sy) as f32;
                    let got = f32::from(out[y * 8 + x]);
                    assert!(
                        (got - m.clamp(0.0, 255.0)).abs() <= 0.51,
                        "{nx}x{ny} {x},{y}: {got} vs {m}"
                    );
                }
            }
        }
    }
}

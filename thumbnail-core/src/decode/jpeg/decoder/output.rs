//! From planes to pixels: colour conversion and upsampling of subsampled planes.

use super::{State, Stored};
use crate::error::Result;
use crate::pixels::{Bitmap, PixelLayout};

impl State {
    /// Upsamples the planes to the reduced image size and converts the colour model, a row at
    /// a time: no plane is copied whole, and upsampled chroma exists two rows at a time.
    pub(super) fn output(self, stored: Stored) -> Result<Bitmap> {
        let s = 8 / self.n;
        let ow = self.width.div_ceil(s);
        let oh = self.height.div_ceil(s);
        let layout = match stored {
            Stored::Gray => PixelLayout::Gray,
            Stored::Cmyk { .. } | Stored::Ycck => PixelLayout::Cmyk,
            Stored::YCbCr | Stored::Rgb => PixelLayout::Rgb,
        };
        let channels = layout.channels();
        let mut sources: Vec<Rows<'_>> = self.comps.iter().map(|c| Rows::new(c, ow, oh)).collect();
        let mut out = vec![0u8; ow * oh * channels];
        if ow == 0 {
            return Bitmap::new(ow as u32, oh as u32, layout, out);
        }
        for (y, o) in out.chunks_exact_mut(ow * channels).enumerate() {
            if let [only] = sources.as_mut_slice() {
                o.copy_from_slice(only.row(y));
                continue;
            }
            let [a, b, c, rest @ ..] = sources.as_mut_slice() else {
                break;
            };
            let (p0, p1, p2) = (a.row(y), b.row(y), c.row(y));
            let three = p0.iter().zip(p1).zip(p2).map(|((&a, &b), &c)| (a, b, c));
            match stored {
                Stored::Rgb => {
                    for (o, (r, g, b)) in o.chunks_exact_mut(3).zip(three) {
                        o.copy_from_slice(&[r, g, b]);
                    }
                }
                Stored::YCbCr => ycc_row(p0, p1, p2, o),
                Stored::Cmyk { inverted } => {
                    let flip = if inverted { 255 } else { 0 };
                    let k = rest.first_mut().map_or(&[][..], |k| k.row(y));
                    for (o, ((c, m, y), &k)) in o.chunks_exact_mut(4).zip(three.zip(k)) {
                        o.copy_from_slice(&[c ^ flip, m ^ flip, y ^ flip, k ^ flip]);
                    }
                }
                Stored::Ycck => {
                    // Adobe YCCK holds the inverted CMY as YCbCr and K inverted; as ink that is
                    // the converted RGB itself and 255 - K.
                    let k = rest.first_mut().map_or(&[][..], |k| k.row(y));
                    for (o, ((y, cb, cr), &k)) in o.chunks_exact_mut(4).zip(three.zip(k)) {
                        let [r, g, b] = ycc_to_rgb(y, cb, cr);
                        o.copy_from_slice(&[r, g, b, 255 - k]);
                    }
                }
                Stored::Gray => {}
            }
        }
        Bitmap::new(ow as u32, oh as u32, layout, out)
    }
}

/// One row of YCbCr to RGB: 16 pixels at a time into separate channels (which vectorises),
/// then interleaved.
fn ycc_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const L: usize = 16;
    let n = (out.len() / 3).min(y.len()).min(cb.len()).min(cr.len());
    let (y, cb, cr, out) = (&y[..n], &cb[..n], &cr[..n], &mut out[..3 * n]);
    let mut outs = out.chunks_exact_mut(3 * L);
    let lanes = y
        .chunks_exact(L)
        .zip(cb.chunks_exact(L))
        .zip(cr.chunks_exact(L));
    for (o, ((y, cb), cr)) in (&mut outs).zip(lanes) {
        let (mut r, mut g, mut b) = ([0u8; L], [0u8; L], [0u8; L]);
        for i in 0..L {
            [r[i], g[i], b[i]] = ycc_to_rgb(y[i], cb[i], cr[i]);
        }
        for (i, o) in o.chunks_exact_mut(3).enumerate() {
            o.copy_from_slice(&[r[i], g[i], b[i]]);
        }
    }
    let done = n - n % L;
    for (i, o) in outs.into_remainder().chunks_exact_mut(3).enumerate() {
        let j = done + i;
        o.copy_from_slice(&ycc_to_rgb(y[j], cb[j], cr[j]));
    }
}

/// One component's rows at the output size: borrowed from its plane where it is already that
/// size, otherwise upsampled a row at a time from the two source rows around it.
struct Rows<'a> {
    plane: &'a [u8],
    pw: usize,
    ph: usize,
    /// The plane is at the output size: rows are borrowed.
    same: bool,
    /// Horizontal upsampling factor (2 takes a path of its own).
    rx: usize,
    ow: usize,
    /// Horizontal and vertical taps (see [`taps`]) when upsampled.
    cols: Vec<(usize, usize, u32)>,
    rows: Vec<(usize, usize, u32)>,
    /// Horizontally interpolated source rows (values x256), the two most recent kept.
    cache: [(usize, Vec<u16>); 2],
    line: Vec<u8>,
}

impl<'a> Rows<'a> {
    fn new(c: &'a super::Component, ow: usize, oh: usize) -> Self {
        let (pw, ph) = (c.padded_w * c.nx, c.padded_h * c.ny);
        let same = c.rx == 1 && c.ry == 1;
        let (cols, rows, cache) = if same {
            (
                Vec::new(),
                Vec::new(),
                [(usize::MAX, Vec::new()), (usize::MAX, Vec::new())],
            )
        } else {
            (
                taps(ow, c.rx, pw),
                taps(oh, c.ry, ph),
                [(usize::MAX, vec![0; ow]), (usize::MAX, vec![0; ow])],
            )
        };
        Rows {
            plane: &c.plane,
            pw,
            ph,
            same,
            rx: c.rx,
            ow,
            cols,
            rows,
            cache,
            line: Vec::with_capacity(ow),
        }
    }

    /// Output row `y` (`ow` samples).
    fn row(&mut self, y: usize) -> &[u8] {
        let (pw, ow) = (self.pw, self.ow);
        if pw == 0 || self.ph == 0 {
            self.line.resize(ow, 128);
            return &self.line;
        }
        if self.same {
            let row = &self.plane[y.min(self.ph - 1) * pw..][..pw];
            if pw >= ow {
                return &row[..ow];
            }
            self.line.clear();
            self.line.extend_from_slice(row);
            self.line.resize(ow, row[pw - 1]);
            return &self.line;
        }
        let Some(&(ra, rb, t)) = self.rows.get(y) else {
            self.line.resize(ow, 128);
            return &self.line;
        };
        // Keep the row already cached under either slot.
        if self.cache[1].0 == ra || self.cache[0].0 == rb {
            self.cache.swap(0, 1);
        }
        let [first, second] = &mut self.cache;
        for (slot, src) in [(first, ra), (second, rb)] {
            if slot.0 != src {
                let row = &self.plane[src * pw..][..pw];
                horizontal(row, &self.cols, self.rx, &mut slot.1);
                slot.0 = src;
            }
        }
        self.line.clear();
        let (a, b) = (&self.cache[0].1, &self.cache[1].1);
        self.line.extend(a.iter().zip(b).map(|(&a, &b)| {
            ((u32::from(a) * (256 - t) + u32::from(b) * t + (1 << 15)) >> 16).min(255) as u8
        }));
        &self.line
    }
}

/// Interpolates one source row to `out.len()` samples (x256) by the taps of `cols`; the
/// common 2x case (libjpeg's "fancy" weights 3/4 and 1/4) without looking the taps up.
fn horizontal(row: &[u8], cols: &[(usize, usize, u32)], rx: usize, out: &mut [u16]) {
    let tap = |o: usize| {
        let (a, b, t) = cols[o];
        (u32::from(row[a]) * (256 - t) + u32::from(row[b]) * t) as u16
    };
    let mut done = 0;
    if rx == 2 && row.len() >= 3 && out.len() > 2 {
        // out[2i] = (p[i-1] + 3 p[i]) / 4 and out[2i+1] = (3 p[i] + p[i+1]) / 4, i >= 1.
        let pairs = out[2..].chunks_exact_mut(2).zip(row.windows(3));
        let mut n = 0;
        for (o, w) in pairs {
            let (l, m, r) = (u16::from(w[0]), u16::from(w[1]), u16::from(w[2]));
            o[0] = l * 64 + m * 192;
            o[1] = m * 192 + r * 64;
            n += 1;
        }
        for (o, v) in out.iter_mut().enumerate().take(2) {
            *v = tap(o);
        }
        done = 2 + 2 * n;
    }
    for (o, v) in out.iter_mut().enumerate().skip(done) {
        *v = tap(o);
    }
}

/// DC / 8, level-shifted: the mean of the block.
#[inline(always)]
pub(super) fn dc_pixel(dequantised: i32) -> u8 {
    // Round half up: (v + 4) >> 3 on the 8x DC scale.
    ((dequantised + 4).div_euclid(8) + 128).clamp(0, 255) as u8
}

/// JFIF YCbCr to RGB in 16-bit fixed point (the libjpeg constants).
#[inline(always)]
pub(super) fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y) << 16;
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let half = 1 << 15;
    let c = |v: i32| (v >> 16).clamp(0, 255) as u8;
    [
        c(y + 91_881 * cr + half),
        c(y - 22_554 * cb - 46_802 * cr + half),
        c(y + 116_130 * cb + half),
    ]
}

/// For each of `len` outputs upsampled by `r` from `src` samples: the two source samples and
/// the weight of the second, in 1/256.
fn taps(len: usize, r: usize, src: usize) -> Vec<(usize, usize, u32)> {
    (0..len)
        .map(|o| {
            let p = (o as f32 + 0.5) / r as f32 - 0.5;
            let i0 = p.floor();
            let t = ((p - i0) * 256.0).round() as u32;
            let a = (i0.max(0.0) as usize).min(src - 1);
            let b = ((i0 + 1.0).max(0.0) as usize).min(src - 1);
            (a, b, t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2x_path_matches_the_taps() {
        for src in [1usize, 2, 3, 4, 7, 40] {
            let row: Vec<u8> = (0..src).map(|i| (i * 97 % 256) as u8).collect();
            for ow in [1, 2 * src - 1, 2 * src, 2 * src + 1] {
                let cols = taps(ow, 2, src);
                let want: Vec<u16> = cols
                    .iter()
                    .map(|&(a, b, t)| {
                        (u32::from(row[a]) * (256 - t) + u32::from(row[b]) * t) as u16
                    })
                    .collect();
                let mut got = vec![0; ow];
                horizontal(&row, &cols, 2, &mut got);
                assert_eq!(got, want, "src {src}, ow {ow}");
            }
        }
    }

    #[test]
    fn rows_convert_as_single_pixels_do() {
        for n in [0usize, 1, 15, 16, 17, 40] {
            let y: Vec<u8> = (0..n).map(|i| (i * 53 % 256) as u8).collect();
            let cb: Vec<u8> = (0..n).map(|i| (i * 101 % 256) as u8).collect();
            let cr: Vec<u8> = (0..n).map(|i| (255 - i * 31 % 256) as u8).collect();
            let want: Vec<u8> = (0..n)
                .flat_map(|i| ycc_to_rgb(y[i], cb[i], cr[i]))
                .collect();
            let mut got = vec![0; 3 * n];
            ycc_row(&y, &cb, &cr, &mut got);
            assert_eq!(got, want, "{n} pixels");
        }
    }
}

//! From planes to pixels: colour conversion and upsampling of subsampled planes.

use super::{State, Stored};
use crate::error::Result;
use crate::pixels::{Bitmap, PixelLayout};

impl State {
    /// Upsamples the planes to the reduced image size and converts the colour model.
    pub(super) fn output(self, stored: Stored) -> Result<Bitmap> {
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

/// Upsamples a `pw x ph` plane by whole factors with centred linear interpolation (libjpeg's
/// "fancy" upsampling for 2x) and crops to `ow x oh`.
pub(super) fn upsample(
    plane: &[u8],
    pw: usize,
    ph: usize,
    rx: usize,
    ry: usize,
    ow: usize,
    oh: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ow * oh);
    if rx == 1 && ry == 1 {
        for y in 0..oh {
            let row = &plane[y.min(ph - 1) * pw..][..pw];
            out.extend_from_slice(&row[..ow.min(pw)]);
            out.resize((y + 1) * ow, row[pw - 1]);
        }
        return out;
    }
    let cols = taps(ow, rx, pw);
    let rows = taps(oh, ry, ph);
    // Horizontally interpolated source rows (values x256), the two most recent kept.
    let mut cache: [(usize, Vec<u16>); 2] = [(usize::MAX, vec![0; ow]), (usize::MAX, vec![0; ow])];
    let horizontal = |src: usize, slot: &mut (usize, Vec<u16>)| {
        if slot.0 != src {
            let row = &plane[src * pw..][..pw];
            for (o, &(a, b, t)) in slot.1.iter_mut().zip(&cols) {
                *o = (u32::from(row[a]) * (256 - t) + u32::from(row[b]) * t) as u16;
            }
            slot.0 = src;
        }
    };
    for &(ra, rb, t) in &rows {
        // Keep the row already cached under either slot.
        if cache[1].0 == ra || cache[0].0 == rb {
            cache.swap(0, 1);
        }
        let [first, second] = &mut cache;
        horizontal(ra, first);
        horizontal(rb, second);
        out.extend(first.1.iter().zip(&second.1).map(|(&a, &b)| {
            ((u32::from(a) * (256 - t) + u32::from(b) * t + (1 << 15)) >> 16).min(255) as u8
        }));
    }
    out
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

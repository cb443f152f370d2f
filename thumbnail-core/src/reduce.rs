//! Integer area reduction: each `f x f` block of pixels becomes its average.
//!
//! This is the anti-aliased first stage for big reductions: it touches every source pixel once,
//! with no sampling gaps, and leaves the final convolution filter a small image to work on.
//! Rows can be streamed in, so a decoder that produces rows needs only one band of sums, not
//! the whole source image.

use crate::pixels::{Bitmap, PixelLayout};

/// Largest factor handled in one pass: keeps `f * f * 255 * 255` inside a `u32`.
pub(crate) const MAX_FACTOR: u32 = 255;

/// Streams rows in, produces the reduced image.
pub(crate) struct BoxReducer {
    width: usize,
    height: usize,
    layout: PixelLayout,
    factor: usize,
    out_w: usize,
    /// Per output pixel and channel: sum over the current band (premultiplied when alpha).
    sums: Vec<u32>,
    /// Per output pixel: sum of alpha (only with alpha).
    alpha: Vec<u32>,
    rows_in_band: usize,
    rows_seen: usize,
    out: Vec<u8>,
}

impl BoxReducer {
    pub fn new(width: u32, height: u32, layout: PixelLayout, factor: u32) -> Self {
        let factor = factor.clamp(1, MAX_FACTOR) as usize;
        let (width, height) = (width as usize, height as usize);
        let out_w = width.div_ceil(factor);
        let out_h = height.div_ceil(factor);
        let c = layout.channels();
        BoxReducer {
            width,
            height,
            layout,
            factor,
            out_w,
            sums: vec![0; out_w * c],
            alpha: if layout.has_alpha() {
                vec![0; out_w]
            } else {
                Vec::new()
            },
            rows_in_band: 0,
            rows_seen: 0,
            out: Vec::with_capacity(out_w * out_h * c),
        }
    }

    /// Adds the next source row (`width * channels` bytes; extra bytes are ignored).
    pub fn push_row(&mut self, row: &[u8]) {
        if self.rows_seen >= self.height {
            return;
        }
        let c = self.layout.channels();
        let f = self.factor;
        let row = &row[..self.width * c];
        if self.layout.has_alpha() {
            let a_at = c - 1;
            for (ox, block) in row.chunks(f * c).enumerate() {
                let sums = &mut self.sums[ox * c..ox * c + c];
                for px in block.chunks_exact(c) {
                    let a = u32::from(px[a_at]);
                    for ch in 0..a_at {
                        sums[ch] += u32::from(px[ch]) * a;
                    }
                    self.alpha[ox] += a;
                }
            }
        } else {
            for (ox, block) in row.chunks(f * c).enumerate() {
                let sums = &mut self.sums[ox * c..ox * c + c];
                for px in block.chunks_exact(c) {
                    for (s, &v) in sums.iter_mut().zip(px) {
                        *s += u32::from(v);
                    }
                }
            }
        }
        self.rows_seen += 1;
        self.rows_in_band += 1;
        if self.rows_in_band == f || self.rows_seen == self.height {
            self.flush_band();
        }
    }

    fn flush_band(&mut self) {
        let c = self.layout.channels();
        let f = self.factor;
        let rows = self.rows_in_band as u32;
        for ox in 0..self.out_w {
            let cols = (self.width - ox * f).min(f) as u32;
            let n = cols * rows;
            let sums = &mut self.sums[ox * c..ox * c + c];
            if self.layout.has_alpha() {
                let a_sum = std::mem::take(&mut self.alpha[ox]);
                for s in &mut sums[..c - 1] {
                    let v = (*s + a_sum / 2).checked_div(a_sum).unwrap_or(0);
                    self.out.push(v.min(255) as u8);
                    *s = 0;
                }
                self.out.push(((a_sum + n / 2) / n) as u8);
                sums[c - 1] = 0;
            } else {
                for s in sums.iter_mut() {
                    self.out.push(((*s + n / 2) / n) as u8);
                    *s = 0;
                }
            }
        }
        self.rows_in_band = 0;
    }

    /// The reduced image. Rows never pushed (a truncated source) are left out.
    pub fn finish(mut self) -> Option<Bitmap> {
        if self.rows_in_band > 0 {
            self.flush_band();
        }
        let c = self.layout.channels();
        let out_h = self.out.len() / (self.out_w * c);
        if out_h == 0 {
            return None;
        }
        self.out.truncate(out_h * self.out_w * c);
        Bitmap::new(self.out_w as u32, out_h as u32, self.layout, self.out).ok()
    }
}

/// Reduces a whole bitmap by `factor` in both directions (rounding the size up).
pub(crate) fn box_reduce(src: &Bitmap, factor: u32) -> Bitmap {
    if factor <= 1 {
        return src.clone();
    }
    let mut r = BoxReducer::new(src.width(), src.height(), src.layout(), factor);
    for row in src.rows() {
        r.push_row(row);
    }
    r.finish().expect("every row was pushed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_blocks_including_partial_edges() {
        // 5x3 gray, factor 2 -> 3x2.
        let src = Bitmap::new(
            5,
            3,
            PixelLayout::Gray,
            vec![
                0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140,
            ],
        )
        .unwrap();
        let out = box_reduce(&src, 2);
        assert_eq!((out.width(), out.height()), (3, 2));
        // (0+10+50+60)/4=30, (20+30+70+80)/4=50, (40+90)/2=65, (100+110)/2=105, 125, 140
        assert_eq!(out.data(), &[30, 50, 65, 105, 125, 140]);
    }

    #[test]
    fn alpha_weights_colour() {
        // A transparent red pixel must not tint an opaque blue one.
        let src = Bitmap::new(2, 1, PixelLayout::Rgba, vec![255, 0, 0, 0, 0, 0, 255, 255]).unwrap();
        let out = box_reduce(&src, 2);
        assert_eq!(out.data(), &[0, 0, 255, 128]);
        let clear = Bitmap::new(1, 1, PixelLayout::Rgba, vec![9, 9, 9, 0]).unwrap();
        assert_eq!(box_reduce(&clear, 4).data(), &[0, 0, 0, 0]);
    }

    #[test]
    fn uniform_stays_uniform_at_max_factor() {
        let src = Bitmap::filled(600, 300, PixelLayout::Rgba, &[255, 255, 255, 255]).unwrap();
        let out = box_reduce(&src, MAX_FACTOR);
        assert_eq!((out.width(), out.height()), (3, 2));
        assert!(out.data().iter().all(|&v| v == 255));
    }
}

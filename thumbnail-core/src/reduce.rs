//! Integer area reduction: each `f x f` block of pixels becomes its average.
//!
//! This is the anti-aliased first stage for big reductions: it touches every source pixel once,
//! with no sampling gaps, and leaves the final convolution filter a small image to work on.
//! Rows can be streamed in, so a decoder that produces rows needs only one band of sums, not
//! the whole source image.

use crate::error::Result;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

/// Refuses a reduction whose grid would be over the memory limit: `bytes_per_cell` for each
/// of the `ceil(w / f) x ceil(h / f)` output pixels.
fn check(limits: &Limits, width: u32, height: u32, factor: u32, bytes_per_cell: u64) -> Result<()> {
    let f = factor.clamp(1, MAX_FACTOR);
    let cells = u64::from(width.div_ceil(f)) * u64::from(height.div_ceil(f));
    limits.check_memory(
        format_args!("a {width}x{height} image reduced by {f}"),
        cells * bytes_per_cell,
    )
}

/// Largest factor handled in one pass: keeps `f * f * 255 * 255` inside a `u32`.
pub(crate) const MAX_FACTOR: u32 = 255;

/// Streams rows in, top to bottom or bottom to top, and produces the reduced image: only
/// one band of sums is held besides the output.
pub(crate) struct BoxReducer {
    width: usize,
    height: usize,
    layout: PixelLayout,
    factor: usize,
    out_w: usize,
    bottom_up: bool,
    /// Per output pixel and channel: sum over the current band (premultiplied when alpha).
    sums: Vec<u32>,
    /// Per output pixel: sum of alpha (only with alpha).
    alpha: Vec<u32>,
    rows_in_band: usize,
    rows_seen: usize,
    out: Vec<u8>,
}

impl BoxReducer {
    /// A reducer for rows top to bottom, refused when its output is over the memory limit.
    pub fn try_new(
        width: u32,
        height: u32,
        layout: PixelLayout,
        factor: u32,
        limits: &Limits,
    ) -> Result<Self> {
        Self::try_with_order(width, height, layout, factor, false, limits)
    }

    /// The same for rows bottom to top when `bottom_up`.
    pub fn try_with_order(
        width: u32,
        height: u32,
        layout: PixelLayout,
        factor: u32,
        bottom_up: bool,
        limits: &Limits,
    ) -> Result<Self> {
        check(limits, width, height, factor, layout.channels() as u64)?;
        Ok(Self::with_order(width, height, layout, factor, bottom_up))
    }

    pub fn new(width: u32, height: u32, layout: PixelLayout, factor: u32) -> Self {
        Self::with_order(width, height, layout, factor, false)
    }

    /// Rows arrive bottom row first (as BMP stores them) when `bottom_up`.
    pub fn with_order(
        width: u32,
        height: u32,
        layout: PixelLayout,
        factor: u32,
        bottom_up: bool,
    ) -> Self {
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
            bottom_up,
            sums: vec![0; out_w * c],
            alpha: if layout.has_alpha() {
                vec![0; out_w]
            } else {
                Vec::new()
            },
            rows_in_band: 0,
            rows_seen: 0,
            out: vec![0; out_w * out_h * c],
        }
    }

    /// The factor each direction is reduced by.
    pub fn factor(&self) -> u32 {
        self.factor as u32
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
        let y = self.y_of(self.rows_seen);
        self.rows_seen += 1;
        self.rows_in_band += 1;
        let band_ends = if self.bottom_up {
            y.is_multiple_of(f)
        } else {
            y % f == f - 1 || y + 1 == self.height
        };
        if band_ends {
            self.flush_band(y / f);
        }
    }

    fn y_of(&self, nth: usize) -> usize {
        if self.bottom_up {
            self.height - 1 - nth
        } else {
            nth
        }
    }

    fn flush_band(&mut self, band: usize) {
        let c = self.layout.channels();
        let f = self.factor;
        let rows = self.rows_in_band as u32;
        let line = &mut self.out[band * self.out_w * c..(band + 1) * self.out_w * c];
        for (ox, o) in line.chunks_exact_mut(c).enumerate() {
            let cols = (self.width - ox * f).min(f) as u32;
            let sums = &mut self.sums[ox * c..ox * c + c];
            let alpha = self.alpha.get_mut(ox).map(std::mem::take);
            write_cell(o, sums, alpha, cols * rows);
        }
        self.rows_in_band = 0;
    }

    /// The reduced image, at full height even when the source ended early: the rows it
    /// never had are left black (transparent with alpha), as viewers show a truncated file.
    /// `None` when no row came at all.
    pub fn finish(mut self) -> Option<Bitmap> {
        if self.rows_seen == 0 {
            return None;
        }
        if self.rows_in_band > 0 {
            let band = self.y_of(self.rows_seen - 1) / self.factor;
            self.flush_band(band);
        }
        let out_h = self.height.div_ceil(self.factor);
        Bitmap::new(self.out_w as u32, out_h as u32, self.layout, self.out).ok()
    }
}

/// Writes one output pixel from its sums (reset to zero) over `n` source pixels: colour
/// weighted by alpha when there is alpha, so transparent pixels do not tint the average.
fn write_cell(out: &mut [u8], sums: &mut [u32], alpha: Option<u32>, n: u32) {
    let n = n.max(1);
    match alpha {
        Some(a_sum) => {
            let c = out.len();
            for (o, s) in out[..c - 1].iter_mut().zip(sums.iter_mut()) {
                let v = (*s + a_sum / 2).checked_div(a_sum).unwrap_or(0);
                *o = v.min(255) as u8;
                *s = 0;
            }
            out[c - 1] = ((a_sum + n / 2) / n) as u8;
            sums[c - 1] = 0;
        }
        None => {
            for (o, s) in out.iter_mut().zip(sums.iter_mut()) {
                *o = ((*s + n / 2) / n) as u8;
                *s = 0;
            }
        }
    }
}

/// Pieces of rows in any order (Adam7 passes, interlaced GIF rows, TIFF tiles) accumulated
/// straight into the reduced grid. Pixels never pushed count as zero: transparent with
/// alpha, which is what a GIF frame smaller than its screen leaves.
pub(crate) struct GridReducer {
    width: usize,
    height: usize,
    layout: PixelLayout,
    factor: usize,
    out_w: usize,
    out_h: usize,
    /// Factor 1: the pixels themselves.
    direct: Vec<u8>,
    /// Factor > 1: per output pixel and channel, sums (colour premultiplied by alpha).
    sums: Vec<u32>,
    alpha: Vec<u32>,
}

impl GridReducer {
    /// A grid refused when it is over the memory limit (sums take 4 bytes a channel).
    pub fn try_new(
        width: u32,
        height: u32,
        layout: PixelLayout,
        factor: u32,
        limits: &Limits,
    ) -> Result<Self> {
        let c = layout.channels() as u64;
        let per_cell = if factor <= 1 {
            c
        } else {
            4 * (c + u64::from(layout.has_alpha()))
        };
        check(limits, width, height, factor, per_cell)?;
        Ok(Self::new(width, height, layout, factor))
    }

    pub fn new(width: u32, height: u32, layout: PixelLayout, factor: u32) -> Self {
        let factor = factor.clamp(1, MAX_FACTOR) as usize;
        let (width, height) = (width as usize, height as usize);
        let (out_w, out_h) = (width.div_ceil(factor), height.div_ceil(factor));
        let cells = out_w * out_h;
        let c = layout.channels();
        let (direct, sums, alpha) = match (factor, layout.has_alpha()) {
            (1, _) => (vec![0; cells * c], Vec::new(), Vec::new()),
            (_, true) => (Vec::new(), vec![0; cells * c], vec![0; cells]),
            (_, false) => (Vec::new(), vec![0; cells * c], Vec::new()),
        };
        GridReducer {
            width,
            height,
            layout,
            factor,
            out_w,
            out_h,
            direct,
            sums,
            alpha,
        }
    }

    /// The factor each direction is reduced by.
    pub fn factor(&self) -> u32 {
        self.factor as u32
    }

    /// Adds source pixels at `(x0 + i * step, y)` for each pixel `i` of `pixels`. Pixels
    /// outside the image are ignored.
    pub fn push_span(&mut self, y: usize, x0: usize, step: usize, pixels: &[u8]) {
        if y >= self.height {
            return;
        }
        let c = self.layout.channels();
        let f = self.factor;
        let step = step.max(1);
        let xs = (x0..self.width).step_by(step);
        if f == 1 {
            let row = &mut self.direct[y * self.width * c..(y + 1) * self.width * c];
            for (x, px) in xs.zip(pixels.chunks_exact(c)) {
                row[x * c..x * c + c].copy_from_slice(px);
            }
            return;
        }
        let cell_row = (y / f) * self.out_w;
        if self.layout.has_alpha() {
            for (x, px) in xs.zip(pixels.chunks_exact(c)) {
                let cell = cell_row + x / f;
                let a = u32::from(px[c - 1]);
                for (s, &v) in self.sums[cell * c..cell * c + c - 1].iter_mut().zip(px) {
                    *s += u32::from(v) * a;
                }
                self.alpha[cell] += a;
            }
        } else {
            for (x, px) in xs.zip(pixels.chunks_exact(c)) {
                let cell = cell_row + x / f;
                for (s, &v) in self.sums[cell * c..cell * c + c].iter_mut().zip(px) {
                    *s += u32::from(v);
                }
            }
        }
    }

    /// The reduced image.
    pub fn finish(mut self) -> Result<Bitmap> {
        let c = self.layout.channels();
        let (w, h) = (self.out_w as u32, self.out_h as u32);
        if self.factor == 1 {
            return Bitmap::new(w, h, self.layout, self.direct);
        }
        let f = self.factor;
        let mut out = vec![0u8; self.out_w * self.out_h * c];
        for (cell, o) in out.chunks_exact_mut(c).enumerate() {
            let (ox, oy) = (cell % self.out_w, cell / self.out_w);
            let cols = (self.width - ox * f).min(f) as u32;
            let rows = (self.height - oy * f).min(f) as u32;
            let alpha = self.alpha.get(cell).copied();
            write_cell(
                o,
                &mut self.sums[cell * c..cell * c + c],
                alpha,
                cols * rows,
            );
        }
        Bitmap::new(w, h, self.layout, out)
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
    fn bottom_up_and_any_order_match_top_down() {
        let (w, h) = (7u32, 11u32);
        // Alpha never 0, where a reduction forgets the colour.
        let data: Vec<u8> = (0..w * h * 4)
            .map(|i| (i * 37 % 251) as u8 | u8::from(i % 4 == 3))
            .collect();
        let src = Bitmap::new(w, h, PixelLayout::Rgba, data).unwrap();
        for f in [1, 2, 3, 4] {
            let expected = if f == 1 {
                src.clone()
            } else {
                box_reduce(&src, f)
            };
            let mut up = BoxReducer::with_order(w, h, PixelLayout::Rgba, f, true);
            for row in src.rows().rev() {
                up.push_row(row);
            }
            assert_eq!(up.finish().unwrap(), expected, "bottom-up, factor {f}");
            // Adam7-like: even columns of every row, then odd columns, rows in reverse.
            let mut grid = GridReducer::new(w, h, PixelLayout::Rgba, f);
            for start in [0, 1] {
                for (y, row) in src.rows().enumerate().rev() {
                    let px: Vec<u8> = row
                        .chunks_exact(4)
                        .skip(start)
                        .step_by(2)
                        .flatten()
                        .copied()
                        .collect();
                    grid.push_span(y, start, 2, &px);
                }
            }
            assert_eq!(grid.finish().unwrap(), expected, "any order, factor {f}");
        }
    }

    #[test]
    fn uniform_stays_uniform_at_max_factor() {
        let src = Bitmap::filled(600, 300, PixelLayout::Rgba, &[255, 255, 255, 255]).unwrap();
        let out = box_reduce(&src, MAX_FACTOR);
        assert_eq!((out.width(), out.height()), (3, 2));
        assert!(out.data().iter().all(|&v| v == 255));
    }
}

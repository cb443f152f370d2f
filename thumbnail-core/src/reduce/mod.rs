//! Integer area reduction: each `f x f` block of pixels becomes its average.
//!
//! This is the anti-aliased first stage for big reductions: it touches every source pixel once,
//! with no sampling gaps, and leaves the final convolution filter a small image to work on.
//! Rows can be streamed in, so a decoder that produces rows needs only one band of sums, not
//! the whole source image.

mod sums;

use crate::error::Result;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

/// Refuses a reduction whose grid would be over the memory limit: `bytes_per_cell` for each
/// of the `ceil(w / f) x ceil(h / f)` output pixels, plus `bytes_per_column` for each source
/// column.
fn check(
    limits: &Limits,
    (width, height): (u32, u32),
    factor: u32,
    bytes_per_cell: u64,
    bytes_per_column: u64,
) -> Result<()> {
    let f = factor.clamp(1, MAX_FACTOR);
    let cells = u64::from(width.div_ceil(f)) * u64::from(height.div_ceil(f));
    limits.check_memory(
        format_args!("a {width}x{height} image reduced by {f}"),
        cells * bytes_per_cell + u64::from(width) * bytes_per_column,
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
    /// Without alpha: per source column and channel, the sum over the current band (at most
    /// `MAX_FACTOR` rows of 255: fits 16 bits), made into `sums` when the band ends.
    columns: Vec<u16>,
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
        let c = layout.channels() as u64;
        // The output, and a band's sums: 16 bits per source column and channel, and 32 per
        // output column and channel (counted per source column: a bound).
        let band = if layout.has_alpha() { 0 } else { 2 * c };
        check(limits, (width, height), factor, c, band + 4 * (c + 1))?;
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
            columns: if layout.has_alpha() {
                Vec::new()
            } else {
                vec![0; width * c]
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
            sums::add_weighted(c, &mut self.sums, &mut self.alpha, row, f);
        } else {
            sums::add_columns(&mut self.columns, row);
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
        if !self.columns.is_empty() {
            sums::add_plain(c, &mut self.sums, &self.columns, f);
            self.columns.fill(0);
        }
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
        check(limits, (width, height), factor, per_cell, 0)?;
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
        // A contiguous span goes cell by cell once it reaches a cell boundary.
        let (head, rest) = if step == 1 {
            let n = (pixels.len() / c).min(self.width.saturating_sub(x0));
            let head = ((f - x0 % f) % f).min(n);
            (&pixels[..head * c], Some(&pixels[head * c..n * c]))
        } else {
            (pixels, None)
        };
        self.add_scattered(cell_row, xs, head);
        if let Some(rest) = rest.filter(|r| !r.is_empty()) {
            let first = cell_row + (x0 + head.len() / c) / f;
            let sums = &mut self.sums[first * c..(cell_row + self.out_w) * c];
            if self.layout.has_alpha() {
                let alpha = &mut self.alpha[first..cell_row + self.out_w];
                sums::add_weighted(c, sums, alpha, rest, f);
            } else {
                sums::add_plain(c, sums, rest, f);
            }
        }
    }

    /// Adds pixels one at a time at the columns `xs` of the cell row starting at `cell_row`.
    fn add_scattered(&mut self, cell_row: usize, xs: impl Iterator<Item = usize>, pixels: &[u8]) {
        let (c, f) = (self.layout.channels(), self.factor);
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
mod tests;

//! Where each output pixel comes from: crop box, resampled size, canvas and placement.

use crate::pixels::Bitmap;
use crate::spec::{Fit, Gravity, ThumbnailSpec};

/// A region of the source, in source pixels (fractional edges allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Region {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// The plan for one thumbnail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    /// Part of the source to resample.
    pub crop: Region,
    /// Size the crop is resampled to.
    pub resized: (u32, u32),
    /// Output size.
    pub canvas: (u32, u32),
    /// Where the resized image sits on the canvas.
    pub offset: (u32, u32),
}

impl Plan {
    /// The same plan on a copy of the source shrunk from `original` to `actual` pixels: only
    /// the crop moves into the smaller image's coordinates (kept inside it).
    pub fn on(self, actual: (u32, u32), original: (u32, u32)) -> Plan {
        if actual == original {
            return self;
        }
        let sx = f64::from(actual.0) / f64::from(original.0.max(1));
        let sy = f64::from(actual.1) / f64::from(original.1.max(1));
        let (aw, ah) = (f64::from(actual.0), f64::from(actual.1));
        let left = (self.crop.left * sx).min(aw);
        let top = (self.crop.top * sy).min(ah);
        let crop = Region {
            left,
            top,
            width: (self.crop.width * sx).min(aw - left).max(f64::MIN_POSITIVE),
            height: (self.crop.height * sy).min(ah - top).max(f64::MIN_POSITIVE),
        };
        Plan { crop, ..self }
    }
}

/// Output pixels per source pixel, the largest over both axes.
///
/// The decoder may shrink the source by up to `1 / (2 * scale)` and still leave the final filter
/// at least twice the output resolution to work with.
pub(crate) fn scale(src: (u32, u32), spec: &ThumbnailSpec) -> f64 {
    let sx = f64::from(spec.width) / f64::from(src.0);
    let sy = f64::from(spec.height) / f64::from(src.1);
    match spec.fit {
        Fit::Cover | Fit::Fill => sx.max(sy),
        Fit::Contain => sx.min(sy),
        Fit::Inside => sx.min(sy).min(1.0),
    }
}

/// Plans `spec` on a `src` image. `anchor` overrides the gravity's anchor (content-aware crops).
pub(crate) fn plan(src: (u32, u32), spec: &ThumbnailSpec, anchor: Option<(f64, f64)>) -> Plan {
    let (sw, sh) = (f64::from(src.0), f64::from(src.1));
    let (w, h) = (spec.width, spec.height);
    let full = Region {
        left: 0.0,
        top: 0.0,
        width: sw,
        height: sh,
    };
    let (ax, ay) = anchor
        .or_else(|| spec.gravity.anchor())
        .unwrap_or((0.5, 0.5));
    let fitted = |s: f64, max_w: u32, max_h: u32| {
        (
            ((sw * s).round() as u32).clamp(1, max_w),
            ((sh * s).round() as u32).clamp(1, max_h),
        )
    };
    match spec.fit {
        Fit::Cover => {
            let s = scale(src, spec);
            let cw = (f64::from(w) / s).min(sw);
            let ch = (f64::from(h) / s).min(sh);
            Plan {
                crop: Region {
                    left: (sw - cw) * ax,
                    top: (sh - ch) * ay,
                    width: cw,
                    height: ch,
                },
                resized: (w, h),
                canvas: (w, h),
                offset: (0, 0),
            }
        }
        Fit::Fill => Plan {
            crop: full,
            resized: (w, h),
            canvas: (w, h),
            offset: (0, 0),
        },
        Fit::Contain => {
            let (rw, rh) = fitted(scale(src, spec), w, h);
            Plan {
                crop: full,
                resized: (rw, rh),
                canvas: (w, h),
                offset: (
                    (f64::from(w - rw) * ax).round() as u32,
                    (f64::from(h - rh) * ay).round() as u32,
                ),
            }
        }
        Fit::Inside => {
            let (rw, rh) = fitted(scale(src, spec), w.min(src.0), h.min(src.1));
            Plan {
                crop: full,
                resized: (rw, rh),
                canvas: (rw, rh),
                offset: (0, 0),
            }
        }
    }
}

/// For [`Gravity::Entropy`]: the anchor of the crop window with the most information.
///
/// The window that a cover crop keeps slides along the axis that overflows; each position is
/// scored by the Shannon entropy of its luminance histogram (the measure sharp's `entropy`
/// strategy uses) and the best one wins, ties going to the one nearest the centre.
pub(crate) fn entropy_anchor(img: &Bitmap, spec: &ThumbnailSpec) -> Option<(f64, f64)> {
    if spec.gravity != Gravity::Entropy || spec.fit != Fit::Cover {
        return None;
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let crop = plan((img.width(), img.height()), spec, Some((0.5, 0.5))).crop;
    let cw = (crop.width.round() as usize).clamp(1, w);
    let ch = (crop.height.round() as usize).clamp(1, h);
    let luma = luminance(img);
    if cw < w {
        let best = best_window(w, cw, |x| luma.iter().skip(x).step_by(w).copied());
        Some((best as f64 / (w - cw) as f64, 0.5))
    } else if ch < h {
        let best = best_window(h, ch, |y| luma[y * w..(y + 1) * w].iter().copied());
        Some((0.5, best as f64 / (h - ch) as f64))
    } else {
        Some((0.5, 0.5))
    }
}

/// Slides a window of `win` lines over `n` lines; returns the start with the highest entropy.
fn best_window<I: Iterator<Item = u8>>(n: usize, win: usize, line: impl Fn(usize) -> I) -> usize {
    let hist_of = |i: usize| {
        let mut h = [0u32; 256];
        line(i).for_each(|v| h[usize::from(v)] += 1);
        h
    };
    let lines: Vec<[u32; 256]> = (0..n).map(hist_of).collect();
    let mut window = [0u32; 256];
    for l in &lines[..win] {
        window.iter_mut().zip(l).for_each(|(w, v)| *w += v);
    }
    let centre = (n - win) as f64 / 2.0;
    let mut best = (f64::MIN, 0usize);
    for start in 0..=n - win {
        if start > 0 {
            let (gone, new) = (&lines[start - 1], &lines[start + win - 1]);
            for i in 0..256 {
                window[i] = window[i] - gone[i] + new[i];
            }
        }
        let e = entropy(&window);
        let better = e > best.0 + 1e-9
            || ((e - best.0).abs() <= 1e-9
                && (start as f64 - centre).abs() < (best.1 as f64 - centre).abs());
        if better {
            best = (e, start);
        }
    }
    best.1
}

fn entropy(hist: &[u32; 256]) -> f64 {
    let total: u32 = hist.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let t = f64::from(total);
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / t;
            -p * p.log2()
        })
        .sum()
}

/// Rec. 601 luma of an RGB(A) image, one byte a pixel.
fn luminance(img: &Bitmap) -> Vec<u8> {
    let c = img.layout().channels();
    img.data()
        .chunks_exact(c)
        .map(|p| {
            if c < 3 {
                p[0]
            } else {
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114 + 500)
                    / 1000) as u8
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::PixelLayout;

    fn spec(w: u32, h: u32, fit: Fit) -> ThumbnailSpec {
        ThumbnailSpec {
            fit,
            ..ThumbnailSpec::sized(w, h)
        }
    }

    #[test]
    fn cover_crops_the_centre() {
        let p = plan((400, 300), &spec(100, 100, Fit::Cover), None);
        assert_eq!(
            p.crop,
            Region {
                left: 50.0,
                top: 0.0,
                width: 300.0,
                height: 300.0
            }
        );
        assert_eq!((p.resized, p.canvas), ((100, 100), (100, 100)));
    }

    #[test]
    fn gravity_moves_the_crop() {
        let s = ThumbnailSpec {
            gravity: Gravity::East,
            ..spec(100, 100, Fit::Cover)
        };
        assert_eq!(plan((400, 300), &s, None).crop.left, 100.0);
        let s = ThumbnailSpec {
            gravity: Gravity::North,
            ..spec(100, 100, Fit::Cover)
        };
        let p = plan((300, 400), &s, None);
        assert_eq!((p.crop.top, p.crop.height), (0.0, 300.0));
    }

    #[test]
    fn contain_pads_and_inside_never_enlarges() {
        let p = plan((400, 300), &spec(100, 100, Fit::Contain), None);
        assert_eq!(
            (p.resized, p.canvas, p.offset),
            ((100, 75), (100, 100), (0, 13))
        );
        let p = plan((40, 30), &spec(100, 100, Fit::Inside), None);
        assert_eq!((p.resized, p.canvas), ((40, 30), (40, 30)));
        let p = plan((1000, 1), &spec(100, 100, Fit::Inside), None);
        assert_eq!(p.canvas, (100, 1));
    }

    #[test]
    fn output_sizes_come_from_the_original_not_the_shrunk_copy() {
        // A 658x217 source decoded at 1/108 is about 6x2: planning on that would give 5x2.
        let s = spec(13, 2, Fit::Inside);
        let p = plan((658, 217), &s, None).on((6, 2), (658, 217));
        assert_eq!(p.canvas, (6, 2));
        assert!(p.crop.left + p.crop.width <= 6.0 + 1e-9);
        assert!(p.crop.top + p.crop.height <= 2.0 + 1e-9);
        let p = plan((4000, 3000), &spec(100, 100, Fit::Cover), None).on((400, 300), (4000, 3000));
        assert_eq!(p.canvas, (100, 100));
        assert!((p.crop.left - 50.0).abs() < 1e-9 && (p.crop.width - 300.0).abs() < 1e-9);
    }

    #[test]
    fn extreme_aspects_stay_at_least_one_pixel() {
        for fit in [Fit::Cover, Fit::Contain, Fit::Fill, Fit::Inside] {
            for src in [(1, 1), (1000, 1), (1, 1000), (100, 68)] {
                let p = plan(src, &spec(64, 64, fit), None);
                assert!(p.resized.0 >= 1 && p.resized.1 >= 1, "{fit:?} {src:?}");
                assert!(p.crop.width > 0.0 && p.crop.height > 0.0);
                assert!(p.crop.left + p.crop.width <= f64::from(src.0) + 1e-9);
                assert!(p.crop.top + p.crop.height <= f64::from(src.1) + 1e-9);
            }
        }
    }

    #[test]
    fn entropy_finds_the_detailed_part() {
        // 300x100: flat gray except noise in the right third.
        let mut data = vec![128u8; 300 * 100];
        for y in 0..100 {
            for x in 200..300 {
                data[y * 300 + x] = ((x * 7919 + y * 104_729) % 251) as u8;
            }
        }
        let img = Bitmap::new(300, 100, PixelLayout::Gray, data).unwrap();
        let s = ThumbnailSpec {
            gravity: Gravity::Entropy,
            ..spec(100, 100, Fit::Cover)
        };
        let (ax, ay) = entropy_anchor(&img, &s).unwrap();
        assert_eq!((ax, ay), (1.0, 0.5));
        let p = plan((300, 100), &s, Some((ax, ay)));
        assert_eq!(p.crop.left, 200.0);
    }
}

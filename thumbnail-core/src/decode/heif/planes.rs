//! Decoded YCbCr pictures and their conversion to 8-bit RGB rows.
//!
//! Chroma is taken from the nearest sample rather than interpolated: the rows go straight
//! into an area-averaging reduction, which hides the difference at any real reduction.
//!
//! HDR (PQ or HLG transfer) is tone-mapped here, while the samples still have their full
//! precision: the signal is turned into display light in nits (PQ as coded; HLG through the
//! BT.2100 reference OOTF for a 1000-nit display), divided by 203 nits (BT.2408's diffuse
//! white, which becomes SDR white), compressed per channel with the extended Reinhard curve
//! `L (1 + L / W^2) / (1 + L)` with `W = 1000 / 203` (so 1000 nits reaches white), converted
//! from the file's primaries to sRGB's in linear light, clipped, and sRGB-encoded.

use super::container::Nclx;

/// One decoded picture: planes of `u16` samples, chroma subsampled by `1 << shift`.
pub(super) struct Planes {
    pub width: u32,
    pub height: u32,
    pub depth: u8,
    /// `None` for a monochrome picture.
    pub chroma_shift: Option<(u32, u32)>,
    pub planes: [Vec<u16>; 3],
    pub strides: [usize; 3],
    /// From the bitstream (HEVC VUI, AV1 sequence header), used when the container has no
    /// `nclx`.
    pub full_range: bool,
    pub matrix: u16,
}

/// How samples become 8-bit sRGB (or gray) values.
pub(super) struct Converter {
    /// Per-sample offsets and scales: Y' = (Y - y_off) * y_scale, likewise for chroma.
    y_off: f32,
    y_scale: f32,
    c_off: f32,
    c_scale: f32,
    /// R = Y + cr_r * Cr; G = Y - cb_g * Cb - cr_g * Cr; B = Y + cb_b * Cb.
    cr_r: f32,
    cb_g: f32,
    cr_g: f32,
    cb_b: f32,
    /// Identity matrix (GBR planes).
    gbr: bool,
    hdr: Option<Hdr>,
}

impl Converter {
    /// For samples of `depth` bits described by `nclx` (from the container) or, failing that,
    /// by the bitstream's own signalling in `first`.
    pub fn new(nclx: Option<Nclx>, first: &Planes) -> Converter {
        let (matrix, full_range) = nclx.map_or((first.matrix, first.full_range), |n| {
            (n.matrix, n.full_range)
        });
        let max = f32::from(((1u32 << first.depth) - 1) as u16);
        let unit = f32::from(1u16 << (first.depth - 8));
        let (y_off, y_scale, c_scale) = if full_range {
            (0.0, 1.0 / max, 1.0 / max)
        } else {
            (16.0 * unit, 1.0 / (219.0 * unit), 1.0 / (224.0 * unit))
        };
        let (kr, kb) = match matrix {
            1 => (0.2126, 0.0722),
            4 => (0.30, 0.11),
            7 => (0.212, 0.087),
            9 | 10 => (0.2627, 0.0593),
            // 5, 6, unspecified (2) and the rest: BT.601, as libheif and browsers do.
            _ => (0.299, 0.114),
        };
        let kg = 1.0 - kr - kb;
        let hdr = nclx.and_then(Hdr::new);
        Converter {
            y_off,
            y_scale,
            c_off: f32::from(1u16 << (first.depth - 1)),
            c_scale,
            cr_r: 2.0 * (1.0 - kr),
            cb_g: 2.0 * kb * (1.0 - kb) / kg,
            cr_g: 2.0 * kr * (1.0 - kr) / kg,
            cb_b: 2.0 * (1.0 - kb),
            gbr: matrix == 0,
            hdr,
        }
    }

    /// Whether the rows come out as sRGB already (HDR is mapped here).
    pub fn maps_colour(&self) -> bool {
        self.hdr.is_some()
    }

    /// Writes pixels `x0..x0 + n` of row `y` as 8-bit RGB (3 bytes each), or as gray (1 byte
    /// each, the luma) when `gray`.
    pub fn row(&self, p: &Planes, y: u32, x0: u32, n: u32, gray: bool, out: &mut Vec<u8>) {
        let luma = &p.planes[0][y as usize * p.strides[0]..];
        let luma = &luma[x0 as usize..(x0 + n) as usize];
        let Some((sx, sy)) = p.chroma_shift.filter(|_| !gray) else {
            let scale = 255.0 * self.y_scale;
            let channels = if gray { 1 } else { 3 };
            for &v in luma {
                let g = clamp8((f32::from(v) - self.y_off) * scale);
                out.extend(std::iter::repeat_n(g, channels));
            }
            return;
        };
        let cy = (y >> sy) as usize;
        let cb = &p.planes[1][cy * p.strides[1]..];
        let cr = &p.planes[2][cy * p.strides[2]..];
        if self.hdr.is_none() && !self.gbr {
            // The common case, kept lean: it is a fifth of a 48 MP photo's decode.
            let (ys, cs) = (self.y_scale * 255.0, self.c_scale * 255.0);
            let (rv, gu, gv, bu) = (
                self.cr_r * cs,
                self.cb_g * cs,
                self.cr_g * cs,
                self.cb_b * cs,
            );
            let start = out.len();
            out.resize(start + n as usize * 3, 0);
            for (i, (px, &l)) in out[start..].chunks_exact_mut(3).zip(luma).enumerate() {
                let c = (x0 as usize + i) >> sx;
                let (u, v) = (f32::from(cb[c]) - self.c_off, f32::from(cr[c]) - self.c_off);
                let yy = (f32::from(l) - self.y_off) * ys;
                px[0] = clamp8(yy + rv * v);
                px[1] = clamp8(yy - gu * u - gv * v);
                px[2] = clamp8(yy + bu * u);
            }
            return;
        }
        let luma = &p.planes[0][y as usize * p.strides[0]..];
        for x in x0..x0 + n {
            let (l, c) = (x as usize, (x >> sx) as usize);
            let (yv, u, v) = (f32::from(luma[l]), f32::from(cb[c]), f32::from(cr[c]));
            let rgb = if self.gbr {
                let s = self.y_scale;
                [
                    (v - self.y_off) * s,
                    (yv - self.y_off) * s,
                    (u - self.y_off) * s,
                ]
            } else {
                let yy = (yv - self.y_off) * self.y_scale;
                let (u, v) = (
                    (u - self.c_off) * self.c_scale,
                    (v - self.c_off) * self.c_scale,
                );
                [
                    yy + self.cr_r * v,
                    yy - self.cb_g * u - self.cr_g * v,
                    yy + self.cb_b * u,
                ]
            };
            match &self.hdr {
                Some(h) => out.extend(h.map(rgb)),
                None => out.extend(rgb.map(|c| clamp8(c * 255.0))),
            }
        }
    }
}

fn clamp8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// SMPTE ST 2084 (PQ) or ARIB STD-B67 (HLG) signals, mapped to SDR sRGB.
struct Hdr {
    hlg: bool,
    /// Linear light of the file's primaries to linear sRGB.
    to_srgb: [[f32; 3]; 3],
    /// Signal (0..=1, in `LUT` steps) to linear light relative to 203 nits (PQ), or to scene
    /// light 0..=1 (HLG, before its OOTF).
    eotf: Vec<f32>,
    /// Linear sRGB 0..=1 (in `LUT` steps) to the 8-bit sRGB code.
    encode: Vec<u8>,
}

const LUT: usize = 4096;
const SDR_WHITE_NITS: f32 = 203.0;
const PEAK_NITS: f32 = 1000.0;

impl Hdr {
    fn new(nclx: Nclx) -> Option<Hdr> {
        let hlg = match nclx.transfer {
            16 => false,
            18 => true,
            _ => return None,
        };
        let to_srgb = match nclx.primaries {
            9 => [
                [1.6605, -0.5876, -0.0728],
                [-0.1246, 1.1329, -0.0083],
                [-0.0182, -0.1006, 1.1187],
            ],
            12 => [
                [1.2249, -0.2247, 0.0],
                [-0.0420, 1.0419, 0.0],
                [-0.0197, -0.0786, 1.0979],
            ],
            _ => [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        };
        let eotf = (0..LUT)
            .map(|i| {
                let e = i as f32 / (LUT - 1) as f32;
                if hlg {
                    hlg_inverse_oetf(e)
                } else {
                    pq_eotf(e) / SDR_WHITE_NITS
                }
            })
            .collect();
        let encode = (0..LUT)
            .map(|i| clamp8(srgb_oetf(i as f32 / (LUT - 1) as f32) * 255.0))
            .collect();
        Some(Hdr {
            hlg,
            to_srgb,
            eotf,
            encode,
        })
    }

    fn map(&self, rgb: [f32; 3]) -> [u8; 3] {
        let lut = |v: f32| self.eotf[((v.clamp(0.0, 1.0) * (LUT - 1) as f32) + 0.5) as usize];
        let mut light = rgb.map(lut);
        if self.hlg {
            // BT.2100 reference OOTF: display light = peak * Ys^(gamma - 1) * scene light.
            let ys = 0.2627 * light[0] + 0.6780 * light[1] + 0.0593 * light[2];
            let gain = PEAK_NITS * ys.max(0.0).powf(0.2) / SDR_WHITE_NITS;
            light = light.map(|c| c * gain);
        }
        let w2 = (PEAK_NITS / SDR_WHITE_NITS).powi(2);
        let toned = light.map(|l| l * (1.0 + l / w2) / (1.0 + l));
        let m = &self.to_srgb;
        let at = |r: usize| m[r][0] * toned[0] + m[r][1] * toned[1] + m[r][2] * toned[2];
        [at(0), at(1), at(2)]
            .map(|v| self.encode[((v.clamp(0.0, 1.0) * (LUT - 1) as f32) + 0.5) as usize])
    }
}

/// PQ signal to absolute luminance in nits.
fn pq_eotf(e: f32) -> f32 {
    let (m1, m2) = (0.159_301_76, 78.843_75);
    let (c1, c2, c3) = (0.835_937_5, 18.851_563, 18.6875);
    let p = e.powf(1.0 / m2);
    10_000.0 * ((p - c1).max(0.0) / (c2 - c3 * p)).powf(1.0 / m1)
}

/// HLG signal to normalised scene light.
fn hlg_inverse_oetf(e: f32) -> f32 {
    let (a, b, c) = (0.178_832_77, 0.284_668_92, 0.559_910_7);
    if e <= 0.5 {
        e * e / 3.0
    } else {
        (((e - c) / a).exp() + b) / 12.0
    }
}

fn srgb_oetf(l: f32) -> f32 {
    if l <= 0.003_130_8 {
        12.92 * l
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_reference_white_is_sdr_white_and_black_stays_black() {
        let pq = Hdr::new(Nclx {
            primaries: 9,
            transfer: 16,
            matrix: 9,
            full_range: false,
        })
        .unwrap();
        // 203 nits in PQ is a signal of about 0.5806 (BT.2408).
        let white = pq.map([0.5806; 3]);
        assert!(white.iter().all(|&v| (180..=215).contains(&v)), "{white:?}");
        assert_eq!(pq.map([0.0; 3]), [0, 0, 0]);
        // About 400 nits: brighter than diffuse white, compressed rather than clipped.
        let bright = pq.map([0.65; 3]);
        assert!(
            bright.iter().all(|&v| v > white[0] && v < 255),
            "{bright:?}"
        );
        let hlg = Hdr::new(Nclx {
            primaries: 9,
            transfer: 18,
            matrix: 9,
            full_range: false,
        })
        .unwrap();
        // HLG's reference white is a signal of 0.75.
        let w = hlg.map([0.75; 3]);
        assert!(w.iter().all(|&v| (180..=215).contains(&v)), "{w:?}");
    }

    #[test]
    fn bt601_limited_range_gray_and_red() {
        let p = Planes {
            width: 2,
            height: 1,
            depth: 8,
            chroma_shift: Some((1, 1)),
            planes: [vec![126, 81], vec![128], vec![128]],
            strides: [2, 1, 1],
            full_range: false,
            matrix: 6,
        };
        let c = Converter::new(None, &p);
        let mut out = Vec::new();
        c.row(&p, 0, 0, 2, false, &mut out);
        assert_eq!(&out[..3], &[128, 128, 128]);
    }
}

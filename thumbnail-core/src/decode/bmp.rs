//! BMP: OS/2 and Windows headers (v1 to v5), 1/4/8-bit palettes, RLE4/RLE8, 16/24/32-bit with
//! bit fields, bottom-up and top-down.

use super::{ColorModel, Decoded, ImageInfo};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::pixels::PixelLayout;
use crate::reduce::BoxReducer;
use crate::spec::Limits;

fn corrupt(reason: impl std::fmt::Display) -> Error {
    Error::corrupt("BMP", reason)
}

const BI_RGB: u32 = 0;
const BI_RLE8: u32 = 1;
const BI_RLE4: u32 = 2;
const BI_BITFIELDS: u32 = 3;
const BI_ALPHABITFIELDS: u32 = 6;

struct Header {
    width: u32,
    height: u32,
    top_down: bool,
    bpp: u16,
    compression: u32,
    /// Offset of the pixel array.
    data_at: usize,
    /// Red, green, blue, alpha masks for 16/32-bit.
    masks: [u32; 4],
    /// BGR palette entries.
    palette: Vec<[u8; 3]>,
}

fn u16_at(d: &[u8], at: usize) -> Result<u16> {
    d.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| corrupt("header is truncated"))
}

fn u32_at(d: &[u8], at: usize) -> Result<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| corrupt("header is truncated"))
}

fn parse(d: &[u8]) -> Result<Header> {
    let data_at = u32_at(d, 10)? as usize;
    let dib = u32_at(d, 14)? as usize;
    let (width, height, top_down, bpp, compression, palette_entry) = if dib == 12 {
        let w = u32::from(u16_at(d, 18)?);
        let h = u32::from(u16_at(d, 20)?);
        (w, h, false, u16_at(d, 24)?, BI_RGB, 3)
    } else {
        let w = u32_at(d, 18)? as i32;
        let h = u32_at(d, 22)? as i32;
        if w <= 0 || h == 0 || h == i32::MIN {
            return Err(corrupt(format!("header declares {w}x{h}")));
        }
        (
            w as u32,
            h.unsigned_abs(),
            h < 0,
            u16_at(d, 28)?,
            u32_at(d, 30)?,
            4,
        )
    };
    let mut masks = match bpp {
        16 => [0x7C00, 0x03E0, 0x001F, 0],
        32 => [0x00FF_0000, 0x0000_FF00, 0x0000_00FF, 0],
        _ => [0; 4],
    };
    let mut after_header = 14 + dib;
    if matches!(compression, BI_BITFIELDS | BI_ALPHABITFIELDS) {
        if !matches!(bpp, 16 | 32) {
            return Err(corrupt(format!("bit fields with {bpp} bits per pixel")));
        }
        let n = if compression == BI_ALPHABITFIELDS {
            4
        } else {
            3
        };
        // v2+ headers hold the masks inside the header; v1 (40 bytes) puts them after it.
        let at = if dib >= 52 { 54 } else { after_header };
        for (i, m) in masks.iter_mut().enumerate().take(n) {
            *m = u32_at(d, at + 4 * i)?;
        }
        if dib >= 56 {
            masks[3] = u32_at(d, 66)?;
        }
        if dib == 40 {
            after_header += 4 * n;
        }
    } else if !matches!(compression, BI_RGB | BI_RLE8 | BI_RLE4) {
        return Err(Error::unsupported(format!(
            "BMP with compression {compression} (embedded JPEG/PNG or CMYK)"
        )));
    }
    if compression == BI_RGB && bpp == 32 && dib >= 56 {
        // v3+ headers may declare an alpha mask even for BI_RGB.
        masks[3] = u32_at(d, 66).unwrap_or(0);
    }
    let palette = if bpp <= 8 {
        read_palette(d, dib, bpp, after_header, palette_entry)?
    } else {
        Vec::new()
    };
    check_layout(bpp, compression)?;
    Ok(Header {
        width,
        height,
        top_down,
        bpp,
        compression,
        data_at,
        masks,
        palette,
    })
}

/// Refuses bit depths and compressions that do not go together (or that we do not read).
fn check_layout(bpp: u16, compression: u32) -> Result<()> {
    match (bpp, compression) {
        (1 | 4 | 8 | 16 | 24 | 32, BI_RGB | BI_BITFIELDS | BI_ALPHABITFIELDS) => Ok(()),
        (8, BI_RLE8) | (4, BI_RLE4) => Ok(()),
        _ => Err(Error::unsupported(format!(
            "BMP with {bpp} bits per pixel and compression {compression}"
        ))),
    }
}

/// The colour table of a 1/4/8-bit image: its declared entries (all `1 << bpp` when it
/// declares none), as far as the file holds them.
fn read_palette(d: &[u8], dib: usize, bpp: u16, at: usize, entry: usize) -> Result<Vec<[u8; 3]>> {
    let declared = if dib >= 40 { u32_at(d, 46)? } else { 0 };
    let max = 1usize << bpp;
    let n = if declared == 0 {
        max
    } else {
        (declared as usize).min(max)
    };
    let palette: Vec<[u8; 3]> = (0..n)
        .map_while(|i| d.get(at + i * entry..at + i * entry + 3))
        .map(|e| [e[0], e[1], e[2]])
        .collect();
    if palette.is_empty() {
        return Err(corrupt("palette is missing"));
    }
    Ok(palette)
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let h = parse(data)?;
    Ok(ImageInfo {
        format: InputFormat::Bmp,
        width: h.width,
        height: h.height,
        orientation: Default::default(),
        color: if h.bpp <= 8 {
            ColorModel::Indexed
        } else {
            ColorModel::Rgb
        },
        has_alpha: h.masks[3] != 0,
        icc_description: None,
        animated: false,
    })
}

/// Rows stream from the file straight into the reduction, in stored order (bottom-up unless
/// the header says otherwise); RLE data is expanded a row at a time.
pub(super) fn decode(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    let h = parse(data)?;
    let layout = if h.masks[3] != 0 {
        PixelLayout::Rgba
    } else {
        PixelLayout::Rgb
    };
    let c = layout.channels();
    let w = h.width as usize;
    let mut reducer =
        BoxReducer::try_with_order(h.width, h.height, layout, reduction, !h.top_down, limits)?;
    let pixels = data
        .get(h.data_at..)
        .ok_or_else(|| corrupt("pixel data offset is past the end"))?;
    let mut out = vec![0u8; w.checked_mul(c).ok_or_else(|| corrupt("size overflows"))?];
    match h.compression {
        BI_RLE8 | BI_RLE4 => {
            let mut n = 0usize;
            decode_rle(
                pixels,
                w,
                h.height as usize,
                h.compression == BI_RLE4,
                |row| {
                    if n.is_multiple_of(64) {
                        limits.check_deadline()?;
                    }
                    n += 1;
                    for (px, &i) in out.chunks_exact_mut(c).zip(row) {
                        let [b, g, r] = h.palette.get(usize::from(i)).copied().unwrap_or([0; 3]);
                        px.copy_from_slice(&[r, g, b]);
                    }
                    reducer.push_row(&out);
                    Ok(())
                },
            )?;
        }
        _ => {
            if c == 4 {
                out.chunks_exact_mut(4).for_each(|p| p[3] = 255);
            }
            let stride = (w * usize::from(h.bpp)).div_ceil(32) * 4;
            if pixels.len() < stride {
                return Err(corrupt("no pixel data"));
            }
            // A truncated file keeps the rows it has; the rest stay black, as viewers show it.
            for (n, src) in pixels.chunks(stride).take(h.height as usize).enumerate() {
                if n % 64 == 0 {
                    limits.check_deadline()?;
                }
                decode_row(&h, src, &mut out, c);
                reducer.push_row(&out);
            }
        }
    }
    let scale = reducer.factor();
    Ok(Decoded {
        bitmap: reducer.finish().ok_or_else(|| corrupt("no pixel data"))?,
        icc: None,
        orientation: Default::default(),
        scale,
    })
}

fn decode_row(h: &Header, src: &[u8], dst: &mut [u8], c: usize) {
    let w = dst.len() / c;
    match h.bpp {
        1 | 4 | 8 => {
            let bpp = usize::from(h.bpp);
            let mask = (1u16 << bpp) - 1;
            for x in 0..w.min(src.len() * 8 / bpp) {
                let bit = x * bpp;
                let i = (u16::from(src[bit / 8]) >> (8 - bpp - bit % 8)) & mask;
                let [b, g, r] = h.palette.get(usize::from(i)).copied().unwrap_or([0; 3]);
                dst[x * c..x * c + 3].copy_from_slice(&[r, g, b]);
            }
        }
        24 => {
            for (px, s) in dst.chunks_exact_mut(c).zip(src.chunks_exact(3)) {
                px[..3].copy_from_slice(&[s[2], s[1], s[0]]);
            }
        }
        16 | 32 => {
            let bytes = usize::from(h.bpp / 8);
            for (px, s) in dst.chunks_exact_mut(c).zip(src.chunks_exact(bytes)) {
                let v = if bytes == 2 {
                    u32::from(u16::from_le_bytes([s[0], s[1]]))
                } else {
                    u32::from_le_bytes([s[0], s[1], s[2], s[3]])
                };
                for (ch, &m) in h.masks.iter().enumerate().take(c) {
                    px[ch] = extract(v, m);
                }
            }
        }
        _ => {}
    }
}

/// Scales the bits of `v` under `mask` to 0..=255.
fn extract(v: u32, mask: u32) -> u8 {
    if mask == 0 {
        return 255;
    }
    let shift = mask.trailing_zeros();
    let bits = (mask >> shift).count_ones().min(31);
    let max = (1u64 << bits) - 1;
    let x = u64::from((v & mask) >> shift);
    ((x * 255 + max / 2) / max) as u8
}

/// RLE4/RLE8 to one palette index per pixel, handing each row to `emit` in stored order:
/// a row ends at end-of-line, a delta or end-of-bitmap, and the rows a delta skips are
/// emitted as index 0.
fn decode_rle(
    src: &[u8],
    w: usize,
    h: usize,
    four_bit: bool,
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let mut row = vec![0u8; w];
    let (mut x, mut y) = (0usize, 0usize);
    let mut i = 0;
    let put = |row: &mut [u8], x: &mut usize, v: u8| {
        if let Some(p) = row.get_mut(*x) {
            *p = v;
        }
        *x += 1;
    };
    while i + 1 < src.len() && y < h {
        let (n, v) = (usize::from(src[i]), src[i + 1]);
        i += 2;
        if n > 0 {
            for k in 0..n {
                let px = if four_bit {
                    if k % 2 == 0 { v >> 4 } else { v & 15 }
                } else {
                    v
                };
                put(&mut row, &mut x, px);
            }
            continue;
        }
        match v {
            0 => {
                emit(&row)?;
                row.fill(0);
                x = 0;
                y += 1;
            }
            1 => break,
            2 => {
                let (dx, dy) = (src.get(i).copied(), src.get(i + 1).copied());
                i += 2;
                x += usize::from(dx.unwrap_or(0));
                for _ in 0..usize::from(dy.unwrap_or(0)) {
                    if y >= h {
                        break;
                    }
                    emit(&row)?;
                    row.fill(0);
                    y += 1;
                }
            }
            count => {
                let count = usize::from(count);
                let bytes = if four_bit { count.div_ceil(2) } else { count };
                let run = src.get(i..i + bytes).unwrap_or(&[]);
                for k in 0..count {
                    let px = if four_bit {
                        let b = run.get(k / 2).copied().unwrap_or(0);
                        if k % 2 == 0 { b >> 4 } else { b & 15 }
                    } else {
                        run.get(k).copied().unwrap_or(0)
                    };
                    put(&mut row, &mut x, px);
                }
                // Absolute runs are padded to 16 bits.
                i += bytes + bytes % 2;
            }
        }
    }
    if y < h {
        emit(&row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x2 24-bit bottom-up BMP.
    fn tiny_24() -> Vec<u8> {
        let mut d = b"BM".to_vec();
        d.extend(70u32.to_le_bytes());
        d.extend([0; 4]);
        d.extend(54u32.to_le_bytes());
        d.extend(40u32.to_le_bytes());
        d.extend(2i32.to_le_bytes());
        d.extend(2i32.to_le_bytes());
        d.extend(1u16.to_le_bytes());
        d.extend(24u16.to_le_bytes());
        d.extend([0; 24]);
        // Bottom row first: blue, green; then top row: red, white. Rows padded to 8 bytes.
        d.extend([255, 0, 0, 0, 255, 0, 0, 0]);
        d.extend([0, 0, 255, 255, 255, 255, 0, 0]);
        d
    }

    #[test]
    fn decodes_bottom_up_bgr() {
        let data = tiny_24();
        let info = probe(&data).unwrap();
        assert_eq!((info.width, info.height), (2, 2));
        let d = decode(&data, &Limits::default(), 1).unwrap();
        assert_eq!(
            d.bitmap.data(),
            &[255, 0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0]
        );
    }

    #[test]
    fn rle8_runs_and_escapes() {
        // 4x2: row 0 = run of three 1s, run of one 2, end of line; row 1 = delta by one
        // pixel, one 5, end of bitmap.
        let rows = |src: &[u8], w, h| {
            let mut all = Vec::new();
            decode_rle(src, w, h, false, |r| {
                all.extend_from_slice(r);
                Ok(())
            })
            .unwrap();
            all
        };
        let src = [3, 1, 1, 2, 0, 0, 0, 2, 1, 0, 1, 5, 0, 1];
        assert_eq!(rows(&src, 4, 2), vec![1, 1, 1, 2, 0, 5, 0, 0]);
        // An absolute run of three, padded to 16 bits, then end of bitmap.
        let src = [0, 3, 7, 8, 9, 0, 0, 1];
        assert_eq!(rows(&src, 4, 1), vec![7, 8, 9, 0]);
        // A delta down two rows emits the rows it skips.
        let src = [1, 4, 0, 2, 0, 2, 1, 6, 0, 1];
        assert_eq!(rows(&src, 2, 3), vec![4, 0, 0, 0, 0, 6]);
    }

    #[test]
    fn masks_scale_to_full_range() {
        assert_eq!(extract(0x1F, 0x1F), 255);
        assert_eq!(extract(0x10, 0x1F), 132);
        assert_eq!(extract(0, 0), 255);
    }
}

//! The file formats, written by hand so every header field can be what an attacker wants.

use std::io::Write;

use super::{crc32, lzw, photo, photo_index, zlib};

/// A GIF whose one frame covers the screen, of palette indices `index(x, y)`.
pub fn gif(width: u32, height: u32, interlaced: bool, index: fn(u32, u32) -> u8) -> Vec<u8> {
    gif_frame(width, height, (0, 0, width, height), interlaced, index)
}

/// A GIF with a `width x height` screen and one frame at `(left, top, w, h)`.
pub fn gif_frame(
    width: u32,
    height: u32,
    (left, top, w, h): (u32, u32, u32, u32),
    interlaced: bool,
    index: fn(u32, u32) -> u8,
) -> Vec<u8> {
    let u16_of = |v: u32| u16::try_from(v).unwrap_or(u16::MAX).to_le_bytes();
    let mut out = b"GIF89a".to_vec();
    out.extend(u16_of(width));
    out.extend(u16_of(height));
    out.extend([0xF7, 0, 0]);
    for i in 0..=255u8 {
        out.extend([i, 255 - i, i / 2]);
    }
    out.push(0x2C);
    for v in [left, top, w, h] {
        out.extend(u16_of(v));
    }
    out.push(if interlaced { 0x40 } else { 0 });
    out.push(8);
    let order: Vec<u32> = if interlaced {
        [(0, 8), (4, 8), (2, 4), (1, 2)]
            .iter()
            .flat_map(|&(s, step)| (s..h).step_by(step))
            .collect()
    } else {
        (0..h).collect()
    };
    let data = lzw(|row, buf| {
        let Some(&y) = order.get(row) else {
            return false;
        };
        buf.extend((0..w).map(|x| index(left + x, top + y)));
        true
    });
    for block in data.chunks(255) {
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.extend([0, 0x3B]);
    out
}

/// A lossless WebP of one constant colour whose prefix codes each hold a single symbol, so
/// a pixel costs zero bits: any size in a few dozen bytes.
pub fn webp_lossless_constant(width: u32, height: u32) -> Vec<u8> {
    let mut bits = BitsLsb::default();
    bits.put(0x2F, 8);
    bits.put(width - 1, 14);
    bits.put(height - 1, 14);
    bits.put(0, 1); // no alpha
    bits.put(0, 3); // version
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
    for symbol in [0x40u32, 0x80, 0xC0, 0xFF, 0] {
        bits.put(1, 1); // simple code
        bits.put(0, 1); // one symbol
        bits.put(1, 1); // of 8 bits
        bits.put(symbol, 8);
    }
    riff("VP8L", &bits.finish())
}

fn riff(fourcc: &str, chunk: &[u8]) -> Vec<u8> {
    let padded = chunk.len() + chunk.len() % 2;
    let mut out = b"RIFF".to_vec();
    out.extend(
        u32::try_from(4 + 8 + padded)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend(b"WEBP");
    out.extend(fourcc.as_bytes());
    out.extend(u32::try_from(chunk.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(chunk);
    if chunk.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A lossy WebP of [`photo`] content through libwebp (fastest method), with a gradient alpha
/// plane when `alpha`.
pub fn webp_lossy(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    use libwebp_sys as w;
    let (wi, hi) = (width as i32, height as i32);
    // SAFETY: the config, picture and writer are initialised by libwebp before use; the
    // planes written are inside the sizes libwebp allocated for this width and height; the
    // picture and writer are freed exactly once after the output is copied.
    unsafe {
        let mut config = std::mem::zeroed::<w::WebPConfig>();
        assert!(w::WebPInitConfig(&mut config));
        config.method = 0;
        config.quality = 50.0;
        let mut pic = std::mem::zeroed::<w::WebPPicture>();
        assert!(w::WebPPictureInit(&mut pic));
        pic.use_argb = 0;
        pic.colorspace = if alpha {
            w::WebPEncCSP::WEBP_YUV420A
        } else {
            w::WebPEncCSP::WEBP_YUV420
        };
        pic.width = wi;
        pic.height = hi;
        assert!(w::WebPPictureAlloc(&mut pic) != 0, "libwebp: no memory");
        for y in 0..height {
            let row = std::slice::from_raw_parts_mut(
                pic.y.add(y as usize * pic.y_stride as usize),
                width as usize,
            );
            for (x, p) in row.iter_mut().enumerate() {
                *p = photo(x as u32, y)[0];
            }
            if alpha {
                let a = std::slice::from_raw_parts_mut(
                    pic.a.add(y as usize * pic.a_stride as usize),
                    width as usize,
                );
                for (x, p) in a.iter_mut().enumerate() {
                    *p = ((x as u32 / 50 + y / 50) % 256) as u8;
                }
            }
        }
        for y in 0..height.div_ceil(2) {
            let at = y as usize * pic.uv_stride as usize;
            let n = width.div_ceil(2) as usize;
            let u = std::slice::from_raw_parts_mut(pic.u.add(at), n);
            let v = std::slice::from_raw_parts_mut(pic.v.add(at), n);
            for x in 0..n {
                let [_, g, b] = photo(x as u32 * 2, y * 2);
                u[x] = g / 2 + 64;
                v[x] = b / 2 + 64;
            }
        }
        let mut writer = std::mem::zeroed::<w::WebPMemoryWriter>();
        w::WebPMemoryWriterInit(&mut writer);
        pic.writer = Some(w::WebPMemoryWrite);
        pic.custom_ptr = (&mut writer as *mut w::WebPMemoryWriter).cast();
        let ok = w::WebPEncode(&config, &mut pic);
        w::WebPPictureFree(&mut pic);
        assert!(ok != 0, "libwebp could not encode ({:?})", pic.error_code);
        let out = std::slice::from_raw_parts(writer.mem, writer.size).to_vec();
        w::WebPMemoryWriterClear(&mut writer);
        out
    }
}

/// An 8-bit RLE BMP, bottom-up. `photo`: runs of [`photo_index`] colours on every row;
/// otherwise the bomb, one end-of-bitmap code after the header.
pub fn bmp_rle8(width: u32, height: u32, photo: bool) -> Vec<u8> {
    let mut data = Vec::new();
    if photo {
        for y in (0..height).rev() {
            let mut x = 0;
            while x < width {
                let run = (64 - x % 64).min(width - x);
                data.extend([run as u8, photo_index(x, y)]);
                x += run;
            }
            data.extend([0, 0]);
        }
    }
    data.extend([0, 1]);
    let offset = 14 + 40 + 256 * 4;
    let mut out = b"BM".to_vec();
    out.extend(
        u32::try_from(offset + data.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend([0; 4]);
    out.extend((offset as u32).to_le_bytes());
    out.extend(40u32.to_le_bytes());
    out.extend((width as i32).to_le_bytes());
    out.extend((height as i32).to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(8u16.to_le_bytes());
    out.extend(1u32.to_le_bytes()); // BI_RLE8
    out.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend([0; 8]);
    out.extend(256u32.to_le_bytes());
    out.extend([0; 4]);
    for i in 0..=255u8 {
        out.extend([i / 2, 255 - i, i, 0]);
    }
    out.extend(data);
    out
}

/// A PNG: RGBA of `depth` bits (all zero: the bomb) or, when `photo`, 8-bit RGB of
/// [`photo`] content; Adam7-interlaced when asked.
pub fn png(width: u32, height: u32, depth: u8, interlaced: bool, photo_rgb: bool) -> Vec<u8> {
    let channels = if photo_rgb { 3 } else { 4 };
    let bytes = usize::from(depth / 8) * channels;
    let idat = zlib(|z| {
        let mut row = Vec::new();
        let mut write_row = |z: &mut dyn Write, y: u32, xs: &mut dyn Iterator<Item = u32>| {
            row.clear();
            row.push(0);
            for x in xs {
                if photo_rgb {
                    row.extend(photo(x, y));
                } else {
                    row.extend(std::iter::repeat_n(0, bytes));
                }
            }
            z.write_all(&row).unwrap_or_else(|e| panic!("png: {e}"));
        };
        if interlaced {
            let passes = [
                (0, 0, 8, 8),
                (4, 0, 8, 8),
                (0, 4, 4, 8),
                (2, 0, 4, 4),
                (0, 2, 2, 4),
                (1, 0, 2, 2),
                (0, 1, 1, 2),
            ];
            for (x0, y0, dx, dy) in passes {
                if x0 >= width {
                    continue;
                }
                for y in (y0..height).step_by(dy) {
                    write_row(z, y, &mut (x0..width).step_by(dx));
                }
            }
        } else {
            for y in 0..height {
                write_row(z, y, &mut (0..width));
            }
        }
    });
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([
        depth,
        if photo_rgb { 2 } else { 6 },
        0,
        0,
        u8::from(interlaced),
    ]);
    for (kind, body) in [(b"IHDR", ihdr.as_slice()), (b"IDAT", &idat), (b"IEND", &[])] {
        out.extend(u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend(kind);
        out.extend_from_slice(body);
        out.extend(crc32(&[kind, body]).to_be_bytes());
    }
    out
}

/// A deflate TIFF: RGBA of `depth` bits, all zero (the bomb), or 8-bit RGB [`photo`] content
/// when `photo`; in strips of `rows_per_strip` rows, or 256x256 tiles when `None`.
pub fn tiff(
    width: u32,
    height: u32,
    depth: u16,
    rows_per_strip: Option<u32>,
    photo_rgb: bool,
) -> Vec<u8> {
    let content = if photo_rgb {
        Content::Photo
    } else {
        Content::Zeros
    };
    tiff_of(width, height, depth, rows_per_strip, content)
}

/// A deflate TIFF of 8-bit RGB noise in strips of 64 rows: as large as its pixels (a file of
/// the size a camera's deflate TIFF has, made in milliseconds).
pub fn noise_tiff(width: u32, height: u32, seed: u32) -> Vec<u8> {
    tiff_of(width, height, 8, Some(64), Content::Noise(seed))
}

#[derive(Clone, Copy)]
enum Content {
    Zeros,
    Photo,
    Noise(u32),
}

fn tiff_of(
    width: u32,
    height: u32,
    depth: u16,
    rows_per_strip: Option<u32>,
    content: Content,
) -> Vec<u8> {
    let photo_rgb = !matches!(content, Content::Zeros);
    let samples: u16 = if photo_rgb { 3 } else { 4 };
    let bpp = usize::from(samples) * usize::from(depth / 8);
    let (cw, ch) = match rows_per_strip {
        Some(r) => (width, r.min(height)),
        None => (256, 256),
    };
    let (across, down) = (width.div_ceil(cw), height.div_ceil(ch));
    let mut out = b"II*\0\0\0\0\0".to_vec();
    let (mut offsets, mut counts) = (Vec::new(), Vec::new());
    for ty in 0..down {
        for tx in 0..across {
            let chunk = zlib(|z| {
                let mut row = Vec::with_capacity(cw as usize * bpp);
                for y in ty * ch..((ty + 1) * ch).min(height) {
                    row.clear();
                    for x in tx * cw..tx * cw + cw {
                        match content {
                            Content::Photo => row.extend(photo(x, y)),
                            Content::Zeros => row.extend(std::iter::repeat_n(0, bpp)),
                            Content::Noise(seed) => {
                                let h = (x ^ seed.rotate_left(16))
                                    .wrapping_mul(0x9E37_79B1)
                                    .wrapping_add(y.wrapping_mul(0x85EB_CA77))
                                    .rotate_left(13)
                                    .wrapping_mul(0xC2B2_AE3D);
                                row.extend(&h.to_le_bytes()[..3]);
                            }
                        }
                    }
                    z.write_all(&row).unwrap_or_else(|e| panic!("tiff: {e}"));
                }
            });
            offsets.push(out.len() as u32);
            counts.push(chunk.len() as u32);
            out.extend(chunk);
        }
    }
    // Arrays the IFD points to.
    let array = |out: &mut Vec<u8>, v: &[u32]| {
        let at = out.len() as u32;
        for x in v {
            out.extend(x.to_le_bytes());
        }
        at
    };
    let offsets_at = array(&mut out, &offsets);
    let counts_at = array(&mut out, &counts);
    let bits_at = out.len() as u32;
    for _ in 0..samples {
        out.extend(depth.to_le_bytes());
    }
    let n = offsets.len() as u32;
    let mut entries: Vec<(u16, u16, u32, u32)> = vec![
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, u32::from(samples), bits_at),
        (259, 3, 1, 8),
        (262, 3, 1, 2),
        (277, 3, 1, u32::from(samples)),
        (284, 3, 1, 1),
    ];
    let one = |at: u32, single: u32| if n == 1 { single } else { at };
    match rows_per_strip {
        Some(_) => entries.extend([
            (273, 4, n, one(offsets_at, offsets[0])),
            (278, 4, 1, ch),
            (279, 4, n, one(counts_at, counts[0])),
        ]),
        None => entries.extend([
            (322, 4, 1, cw),
            (323, 4, 1, ch),
            (324, 4, n, one(offsets_at, offsets[0])),
            (325, 4, n, one(counts_at, counts[0])),
        ]),
    }
    if !photo_rgb {
        entries.push((338, 3, 1, 2));
    }
    entries.sort_by_key(|e| e.0);
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let ifd = out.len() as u32;
    out[4..8].copy_from_slice(&ifd.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(count.to_le_bytes());
        if kind == 3 && count == 1 {
            out.extend((value as u16).to_le_bytes());
            out.extend([0, 0]);
        } else {
            out.extend(value.to_le_bytes());
        }
    }
    out.extend([0; 4]);
    out
}

/// Bits, least significant first (WebP lossless).
#[derive(Default)]
struct BitsLsb {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitsLsb {
    fn put(&mut self, v: u32, bits: u32) {
        self.acc |= u64::from(v) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

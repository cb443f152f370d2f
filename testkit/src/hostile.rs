//! Hostile and huge images of every format, made here instead of checked in: the
//! decompression and CPU bombs an attacker sends (tiny files that declare 100 MP, scan
//! bombs, one giant strip) and valid 100 MP files of each format, photo-like enough that a
//! decoder must really decode them.
//!
//! ```no_run
//! for sample in thumbnail_testkit::hostile::catalogue() {
//!     let bytes = (sample.make)();
//!     println!("{}: {} bytes", sample.name, bytes.len());
//! }
//! ```

mod containers;

use std::io::{BufReader, Read, Write};

pub use containers::{bmp_rle8, gif, noise_tiff, png, tiff, webp_lossless_constant, webp_lossy};

/// What the engine must do with a sample under the default limits and a 100x100 thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A thumbnail, within the memory budget.
    Thumbnail,
    /// Refused with this error code (`thumbnail_core::ErrorKind::code`), before any large
    /// allocation.
    Refused(&'static str),
}

/// One generated file.
#[derive(Clone, Copy)]
pub struct Sample {
    pub name: &'static str,
    pub make: fn() -> Vec<u8>,
    pub outcome: Outcome,
}

/// 10000 x 10000: the default pixel limit exactly.
pub const SIDE: u32 = 10_000;

/// Every sample; each is made only when its `make` is called (they take a second or two).
pub fn catalogue() -> Vec<Sample> {
    use Outcome::{Refused, Thumbnail};
    vec![
        s(
            "gif-bomb-10000x10000.gif",
            || gif(SIDE, SIDE, false, |_, _| 0),
            Thumbnail,
        ),
        s(
            "gif-photo-100mp-interlaced.gif",
            || gif(SIDE, SIDE, true, photo_index),
            Thumbnail,
        ),
        s(
            "gif-small-frame-on-100mp-screen.gif",
            small_frame_gif,
            Thumbnail,
        ),
        s(
            "webp-lossless-bomb-10000x10000.webp",
            || webp_lossless_constant(SIDE, SIDE),
            Refused("over_limit"),
        ),
        s(
            "webp-lossy-photo-100mp.webp",
            || webp_lossy(SIDE, SIDE, false),
            Thumbnail,
        ),
        s(
            "webp-lossy-alpha-100mp.webp",
            || webp_lossy(SIDE, SIDE, true),
            Refused("over_limit"),
        ),
        s(
            "webp-lossy-alpha-16mp.webp",
            || webp_lossy(4000, 4000, true),
            Thumbnail,
        ),
        s(
            "bmp-rle8-bomb-10000x10000.bmp",
            || bmp_rle8(SIDE, SIDE, false),
            Thumbnail,
        ),
        s(
            "bmp-rle8-photo-100mp.bmp",
            || bmp_rle8(SIDE, SIDE, true),
            Thumbnail,
        ),
        s(
            "png-interlaced-rgba8-10000x10000.png",
            || png(SIDE, SIDE, 8, true, false),
            Thumbnail,
        ),
        s(
            "png-interlaced-rgba16-10000x10000.png",
            || png(SIDE, SIDE, 16, true, false),
            Thumbnail,
        ),
        s(
            "png-photo-rgb8-100mp.png",
            || png(SIDE, SIDE, 8, false, true),
            Thumbnail,
        ),
        s(
            "tiff-rgba16-deflate-strips-10000x10000.tif",
            || tiff(SIDE, SIDE, 16, Some(16), false),
            Thumbnail,
        ),
        s(
            "tiff-rgba16-deflate-tiles-10000x10000.tif",
            || tiff(SIDE, SIDE, 16, None, false),
            Thumbnail,
        ),
        s(
            "tiff-rgba16-one-strip-10000x10000.tif",
            || tiff(SIDE, SIDE, 16, Some(SIDE), false),
            Refused("over_limit"),
        ),
        s(
            "tiff-photo-rgb8-100mp.tif",
            || tiff(SIDE, SIDE, 8, Some(32), true),
            Thumbnail,
        ),
        s(
            "jpeg-progressive-1599x62500-10-scans.jpg",
            || progressive_jpeg(1599, 62_500, 9),
            Thumbnail,
        ),
        s(
            "jpeg-scan-bomb-2000-scans.jpg",
            || progressive_jpeg(1024, 1024, 1999),
            Refused("over_limit"),
        ),
        s("jpeg-cpu-bomb-100-scans-8000x8000.jpg", cpu_bomb, Thumbnail),
        s("jpeg-photo-100mp.jpg", photo_jpeg, Thumbnail),
    ]
}

fn s(name: &'static str, make: fn() -> Vec<u8>, outcome: Outcome) -> Sample {
    Sample {
        name,
        make,
        outcome,
    }
}

/// A smooth photo-like colour: broad gradients with soft bands, so encoders compress it
/// well (the files stay small) but every pixel must be decoded.
pub fn photo(x: u32, y: u32) -> [u8; 3] {
    [
        ((x / 64 + y / 256) % 256) as u8,
        ((y / 64 + x / 512) % 256) as u8,
        (((x + y) / 128) % 256) as u8,
    ]
}

/// A palette index for [`photo`]-like GIF and BMP content (runs of 40 pixels).
pub fn photo_index(x: u32, y: u32) -> u8 {
    ((x / 64 + y / 64) % 256) as u8
}

fn small_frame_gif() -> Vec<u8> {
    containers::gif_frame(SIDE, SIDE, (4000, 4000, 2000, 2000), false, photo_index)
}

/// A progressive gray JPEG: one DC scan, then an AC first scan and `ac_scans - 1` AC
/// refinement scans, every one a few end-of-band runs, so each costs the decoder a walk over
/// every block for a handful of bytes: the scan bomb, at large `ac_scans`.
pub fn progressive_jpeg(width: u16, height: u16, ac_scans: u32) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let segment = |out: &mut Vec<u8>, marker: u8, payload: &[u8]| {
        out.extend([0xFF, marker]);
        out.extend(
            u16::try_from(payload.len() + 2)
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(payload);
    };
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    segment(&mut out, 0xDB, &dqt);
    let mut sof = vec![8];
    sof.extend(height.to_be_bytes());
    sof.extend(width.to_be_bytes());
    sof.extend([1, 1, 0x11, 0]);
    segment(&mut out, 0xC2, &sof);
    // DC table 0: one code, '0' = category 0. AC table 0: the end-of-band runs EOB0..EOB14
    // (2^k blocks plus k more bits), 4-bit codes 0000..1110 in that order.
    let mut dht = vec![0x00, 1];
    dht.extend([0; 15]);
    dht.push(0);
    dht.extend([0x10, 0, 0, 0, 15]);
    dht.extend([0; 12]);
    dht.extend((0..15u8).map(|k| k << 4));
    segment(&mut out, 0xC4, &dht);
    let blocks = u64::from(width.div_ceil(8)) * u64::from(height.div_ceil(8));
    // DC first: one '0' bit a block.
    segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 0, 0x00]);
    let mut bits = BitsMsb::default();
    for _ in 0..blocks {
        bits.put(0, 1);
    }
    out.extend(bits.finish_stuffed());
    for scan in 0..ac_scans {
        let ah_al = if scan == 0 { 0x00 } else { 0x10 };
        segment(&mut out, 0xDA, &[1, 1, 0x00, 1, 63, ah_al]);
        let mut bits = BitsMsb::default();
        let mut left = blocks;
        while left >= 1 << 14 {
            let run = left.min((1 << 15) - 1);
            bits.put(14, 4);
            bits.put((run - (1 << 14)) as u32, 14);
            left -= run;
        }
        for k in (0..14).rev() {
            if left & (1 << k) != 0 {
                bits.put(k, 4);
                bits.put(0, k);
            }
        }
        out.extend(bits.finish_stuffed());
    }
    out.extend([0xFF, 0xD9]);
    out
}

/// A progressive JPEG at the scan limit (1 DC and 99 AC scans, 64 MP): cheap at 1/8, but a
/// thumbnail large enough to need its AC coefficients walks 8 million blocks 99 times.
pub fn cpu_bomb() -> Vec<u8> {
    progressive_jpeg(8000, 8000, 99)
}

/// A 100 MP colour JPEG of [`photo`] content, 4:2:0, quality 75.
fn photo_jpeg() -> Vec<u8> {
    let mut px = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            px.extend(photo(x, y));
        }
    }
    let mut out = Vec::new();
    let side = u16::try_from(SIDE).unwrap_or(u16::MAX);
    jpeg_encoder::Encoder::new(&mut out, 75)
        .encode(&px, side, side, jpeg_encoder::ColorType::Rgb)
        .unwrap_or_else(|e| panic!("encoding the 100 MP JPEG: {e}"));
    out
}

/// Bits, most significant first, with JPEG's byte stuffing and 1-padding at the end.
#[derive(Default)]
struct BitsMsb {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitsMsb {
    fn put(&mut self, v: u32, bits: u32) {
        if bits == 0 {
            return;
        }
        self.acc = (self.acc << bits) | (u64::from(v) & ((1u64 << bits) - 1));
        self.n += bits;
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }

    fn finish_stuffed(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put((1 << pad) - 1, pad);
        }
        self.out
    }
}

/// zlib-compresses what `fill` writes, a row at a time (nothing of full size is held).
fn zlib(fill: impl FnOnce(&mut dyn Write)) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    fill(&mut z);
    z.finish().unwrap_or_else(|e| panic!("zlib: {e}"))
}

/// A `Read` over bytes produced a row at a time.
struct Rows<F: FnMut(usize, &mut Vec<u8>) -> bool> {
    next: F,
    row: usize,
    buf: Vec<u8>,
    at: usize,
}

impl<F: FnMut(usize, &mut Vec<u8>) -> bool> Read for Rows<F> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            if !(self.next)(self.row, &mut self.buf) {
                return Ok(0);
            }
            self.row += 1;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// GIF's LZW (8-bit codes) of the rows `next` produces.
fn lzw(next: impl FnMut(usize, &mut Vec<u8>) -> bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = weezl::encode::Encoder::new(weezl::BitOrder::Lsb, 8);
    let reader = BufReader::with_capacity(
        1 << 16,
        Rows {
            next,
            row: 0,
            buf: Vec::new(),
            at: 0,
        },
    );
    enc.into_stream(&mut out)
        .encode_all(reader)
        .status
        .unwrap_or_else(|e| panic!("lzw: {e}"));
    out
}

/// A CRC-32 (PNG's chunks).
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for part in parts {
        for &b in *part {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
    }
    !c
}

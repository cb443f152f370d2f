//! Shared by the integration tests: the corpus, and decoding what we produced.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared corpus; a missing corpus is a failure, not a skip.
pub use thumbnail_testkit::corpus;

/// Every file directly in `corpus()/sub`, sorted.
pub fn files(sub: &str) -> Vec<PathBuf> {
    let dir = corpus().join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no files in {}", dir.display());
    v
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Decoded output: width, height, channels, samples.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Pixels {
    /// The RGB of pixel (x, y) (alpha ignored, gray expanded).
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let at = (y as usize * self.width as usize + x as usize) * self.channels;
        let p = &self.data[at..at + self.channels];
        if self.channels < 3 {
            [p[0]; 3]
        } else {
            [p[0], p[1], p[2]]
        }
    }

    /// Mean RGB over a rectangle.
    pub fn mean(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
        let mut s = [0f64; 3];
        for y in y0..y1 {
            for x in x0..x1 {
                let p = self.rgb(x, y);
                for i in 0..3 {
                    s[i] += f64::from(p[i]);
                }
            }
        }
        let n = f64::from((x1 - x0) * (y1 - y0));
        s.map(|v| v / n)
    }
}

/// Decodes a thumbnail we produced, with decoders independent of our pipeline's path.
pub fn decode(bytes: &[u8]) -> Pixels {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut d = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
        let data = d.decode().expect("our JPEG decodes");
        let (w, h) = d.dimensions().unwrap();
        let channels = data.len() / (w * h);
        return Pixels {
            width: w as u32,
            height: h as u32,
            channels,
            data,
        };
    }
    if bytes.starts_with(b"\x89PNG") {
        let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
        d.set_transformations(png::Transformations::normalize_to_color8());
        let mut r = d.read_info().expect("our PNG decodes");
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).expect("our PNG decodes");
        buf.truncate(info.buffer_size());
        return Pixels {
            width: info.width,
            height: info.height,
            channels: info.color_type.samples(),
            data: buf,
        };
    }
    if bytes.starts_with(b"RIFF") {
        let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).expect("our WebP");
        let (w, h) = d.dimensions();
        let mut buf = vec![0; d.output_buffer_size().unwrap()];
        d.read_image(&mut buf).expect("our WebP decodes");
        let channels = if d.has_alpha() { 4 } else { 3 };
        return Pixels {
            width: w,
            height: h,
            channels,
            data: buf,
        };
    }
    panic!(
        "not an output format we make: {:?}",
        &bytes[..bytes.len().min(8)]
    );
}

/// Mean absolute difference per sample between two same-sized RGB renderings.
pub fn mean_abs_diff(a: &Pixels, b: &Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mut sum = 0f64;
    for y in 0..a.height {
        for x in 0..a.width {
            let (p, q) = (a.rgb(x, y), b.rgb(x, y));
            for i in 0..3 {
                sum += f64::from(p[i].abs_diff(q[i]));
            }
        }
    }
    sum / f64::from(a.width * a.height * 3)
}

/// `data` becomes a 100x100 thumbnail at the default limits within `max_heap` bytes of peak
/// heap (the caller's global allocator must be `thumbnail_testkit::Counting`, and it holds
/// `alone()`), and a 200 ms deadline stops the same work well before it would end.
pub fn in_budget_and_stopped_by_deadline(data: &[u8], max_heap: usize) {
    use std::time::{Duration, Instant};
    use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec, thumbnail};
    let spec = ThumbnailSpec::default();
    let (t, peak) = thumbnail_testkit::peak_during(|| thumbnail(data, &spec, &Limits::default()));
    let t = t.unwrap();
    assert_eq!((t.width, t.height), (100, 100));
    assert!(peak <= max_heap, "{} MiB of heap", peak >> 20);
    let limits = Limits::default().with_deadline(Some(Instant::now() + Duration::from_millis(200)));
    let start = Instant::now();
    let e = thumbnail(data, &spec, &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded, "{e}");
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
}

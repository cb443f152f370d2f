//! A big scan with restart intervals, decoded on several threads.
//!
//! Each restart interval starts with fresh DC predictions and a byte-aligned bit stream, so
//! a run of intervals can be decoded without the ones before it. When intervals start at
//! the beginning of rows of units, the scan splits into bands of rows: each thread gets its
//! own bit reader over the shared (already unstuffed) data and writes its own rows of the
//! planes, so memory does not grow and the pixels are those of one thread. Phone cameras
//! commonly write such intervals (one per row of MCUs, or a few MCUs each).

use std::ops::Range;

use super::blocks::Lane;
use super::scan::{Buffers, Walk};
use crate::decode::jpeg::bits::EntropyData;
use crate::error::Result;

/// Blocks one extra thread must have to pay for itself: starting a thread costs tens of
/// microseconds, 16,384 blocks (a 1 MP band of 4:2:0) take a millisecond or more.
const MIN_BLOCKS_PER_PART: usize = 16_384;

impl<'a, 't> Walk<'a, 't> {
    /// Decodes every unit, in bands of rows on up to `limits.max_threads` threads when the
    /// restart intervals allow it and the scan is big enough; returns whether the data ran
    /// out before the last unit, and how many bands there were.
    pub(super) fn run(&self, entropy: &EntropyData, bufs: &mut [Buffers]) -> Result<(bool, usize)> {
        let blocks_per_unit: usize = self.ctxs.iter().map(|c| c.bh * c.bv).sum();
        let bands = bands(
            self.units_w,
            self.units_h,
            self.ri,
            blocks_per_unit,
            self.limits.max_threads as usize,
        );
        let mut parts = self.split(bufs, &bands);
        if let ([rows], [lanes]) = (&bands[..], &mut parts[..]) {
            return Ok((self.rows(entropy, lanes, rows.clone())?, 1));
        }
        let mut unstarted = Vec::new();
        let mut results = std::thread::scope(|s| {
            let mut work = bands.iter().cloned().zip(parts.iter_mut()).enumerate();
            // The caller's thread takes the first band.
            let first = work.next();
            let mut spawned = Vec::new();
            for (i, (rows, lanes)) in work {
                let task = move || self.rows(entropy, lanes, rows);
                match std::thread::Builder::new()
                    .name("jpeg-band".into())
                    .spawn_scoped(s, task)
                {
                    Ok(handle) => spawned.push(handle),
                    Err(_) => unstarted.push(i),
                }
            }
            let mut results: Vec<Result<bool>> = first
                .into_iter()
                .map(|(_, (rows, lanes))| self.rows(entropy, lanes, rows))
                .collect();
            for handle in spawned {
                // A panic in a band is a bug: it travels on as it would have on one thread.
                results.push(
                    handle
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
            }
            results
        });
        // A thread that could not be started leaves its band to the caller.
        for i in unstarted {
            results.push(self.rows(entropy, &mut parts[i], bands[i].clone()));
        }
        let mut short = false;
        for r in results {
            short |= r?;
        }
        Ok((short, bands.len()))
    }

    /// Each band's lanes: the rows of every scanned component's buffers that its units cover.
    fn split<'b>(&self, bufs: &'b mut [Buffers], bands: &[Range<usize>]) -> Vec<Vec<Lane<'b>>>
    where
        'a: 'b,
        't: 'b,
    {
        let mut parts: Vec<Vec<Lane<'b>>> = bands.iter().map(|_| Vec::new()).collect();
        for (ctx, buf) in self.ctxs.iter().zip(bufs.iter_mut()) {
            let c = ctx.c;
            // One row of units covers `bv` rows of the component's blocks.
            let per_row = |elems_per_block_row: usize| elems_per_block_row * ctx.bv;
            let plane_row = per_row(c.padded_w * c.nx * c.ny);
            let coef_row = per_row(c.padded_w * c.kept);
            let mask_row = per_row(c.padded_w);
            let (mut plane, mut coefs, mut nonzero) =
                (&mut buf.plane[..], &mut buf.coefs[..], &mut buf.nonzero[..]);
            for (part, band) in parts.iter_mut().zip(bands) {
                let rows = band.len();
                part.push(Lane {
                    ctx,
                    plane: take(&mut plane, rows * plane_row),
                    coefs: take(&mut coefs, rows * coef_row),
                    nonzero: take(&mut nonzero, rows * mask_row),
                    dc_pred: 0,
                });
            }
        }
        parts
    }
}

/// The first `n` elements of `rest` (fewer if it is shorter), leaving the others in it.
fn take<'b, T>(rest: &mut &'b mut [T], n: usize) -> &'b mut [T] {
    let all = std::mem::take(rest);
    let (head, tail) = all.split_at_mut(n.min(all.len()));
    *rest = tail;
    head
}

/// The bands of rows of units a scan is decoded in: one (`0..units_h`) unless it has restart
/// intervals that begin rows, `threads` is above 1 and each band would get at least
/// [`MIN_BLOCKS_PER_PART`] blocks. Every band starts where an interval starts.
fn bands(
    units_w: usize,
    units_h: usize,
    ri: usize,
    blocks_per_unit: usize,
    threads: usize,
) -> Vec<Range<usize>> {
    let whole: Vec<Range<usize>> = std::iter::once(0..units_h).collect();
    if ri == 0 || threads < 2 || units_w == 0 {
        return whole;
    }
    // Rows at which an interval starts: multiples of `step` (the least common multiple of
    // the row and the interval, in rows).
    let step = ri / gcd(units_w, ri);
    let groups = units_h / step;
    let blocks = units_w * units_h * blocks_per_unit;
    let count = threads.min(groups).min(blocks / MIN_BLOCKS_PER_PART);
    if count < 2 {
        return whole;
    }
    let groups = units_h.div_ceil(step);
    (0..count)
        .map(|i| {
            let start = (groups * i / count * step).min(units_h);
            let end = (groups * (i + 1) / count * step).min(units_h);
            start..end
        })
        .collect()
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::jpeg::decoder::{Detail, decode};
    use crate::decode::jpeg::markers::JpegHeader;
    use crate::spec::Limits;

    /// The pixels of a decode on `threads` threads, and the bands its largest scan took.
    fn pixels(jpeg: &[u8], scale: u32, detail: Detail, threads: u32) -> (Vec<u8>, usize) {
        let header = JpegHeader::parse(jpeg).expect("header");
        let limits = Limits::default()
            .with_max_threads(threads)
            .with_max_memory(256 << 20);
        match decode(jpeg, &header, scale, detail, &limits) {
            Ok(Ok(d)) => (d.bitmap.data().to_vec(), d.parts),
            Ok(Err(e)) => panic!("not ours to decode: {e:?}"),
            Err(e) => panic!("decode failed: {e}"),
        }
    }

    /// Decodes on one thread and on four, and checks that four were used and changed nothing.
    fn same_on_four_threads(jpeg: &[u8], scale: u32, detail: Detail, what: &str) {
        let (one, parts) = pixels(jpeg, scale, detail, 1);
        assert_eq!(parts, 1, "{what}");
        let (four, parts) = pixels(jpeg, scale, detail, 4);
        assert!(parts > 1, "{what}: decoded in {parts} band");
        assert!(
            one == four,
            "{what}: the bands' pixels differ from one thread's"
        );
    }

    /// Offsets of the RSTn markers in the file.
    fn markers(jpeg: &[u8]) -> Vec<usize> {
        (0..jpeg.len() - 1)
            .filter(|&i| jpeg[i] == 0xFF && (0xD0..=0xD7).contains(&jpeg[i + 1]))
            .collect()
    }

    #[test]
    fn camera_restart_intervals_decode_in_bands_as_on_one_thread() {
        // An iPhone's one interval per row of MCUs, an Olympus's four MCUs an interval.
        for name in [
            "iphone6-hdr-3264x2448.jpg",
            "olympus-ep3-museum-4032x3024.jpg",
        ] {
            let jpeg = thumbnail_testkit::corpus_file(&format!("photos/{name}"));
            for (scale, detail) in [(8, Detail::Coarse), (8, Detail::Low), (4, Detail::Low)] {
                same_on_four_threads(&jpeg, scale, detail, &format!("{name} 1/{scale}"));
            }
        }
        let jpeg = thumbnail_testkit::corpus_file("photos/iphone6-hdr-3264x2448.jpg");
        same_on_four_threads(&jpeg, 1, Detail::Exact, "iPhone at full size");
    }

    #[test]
    fn damage_decodes_in_bands_as_on_one_thread() {
        let clean = thumbnail_testkit::corpus_file("photos/iphone6-hdr-3264x2448.jpg");
        let rst = markers(&clean);
        assert!(rst.len() > 100, "{} markers", rst.len());
        // An interval cut short in each half; a lost marker; a run of garbage.
        let mut short = clean[..rst[40] + 200].to_vec();
        short.extend_from_slice(&clean[rst[41]..rst[120] + 100]);
        short.extend_from_slice(&clean[rst[121]..]);
        let mut lost = clean[..rst[70]].to_vec();
        lost.extend_from_slice(&clean[rst[70] + 2..]);
        let mut garbage = clean.clone();
        let mid = rst[100] + 50;
        garbage[mid..mid + 300].fill(0x5A);
        // Data that ends halfway, with and without its EOI.
        let mut truncated = clean[..rst[90] + 10].to_vec();
        let cut = truncated.clone();
        truncated.extend_from_slice(&[0xFF, 0xD9]);
        for (what, jpeg) in [
            ("short intervals", short),
            ("a lost marker", lost),
            ("garbage", garbage),
            ("truncated", truncated),
            ("cut", cut),
        ] {
            same_on_four_threads(&jpeg, 8, Detail::Coarse, what);
            same_on_four_threads(&jpeg, 4, Detail::Low, what);
        }
    }

    #[test]
    fn progressive_restart_intervals_decode_in_bands_as_on_one_thread() {
        // Every scan of a progressive file with an interval per row of MCUs, at a scale that
        // reads AC scans too.
        let (w, h) = (2560u16, 1600u16);
        let rgb: Vec<u8> = (0..u32::from(h))
            .flat_map(|y| (0..u32::from(w)).map(move |x| (x, y)))
            .flat_map(|(x, y)| thumbnail_testkit::hostile::photo(x, y))
            .collect();
        let mut jpeg = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 85);
        enc.set_progressive(true);
        enc.set_restart_interval(w.div_ceil(16));
        enc.encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        same_on_four_threads(&jpeg, 2, Detail::Low, "progressive 1/2");
        same_on_four_threads(&jpeg, 8, Detail::Low, "progressive 1/8");
    }

    #[test]
    fn a_deadline_stops_every_band() {
        let jpeg = thumbnail_testkit::corpus_file("photos/iphone6-hdr-3264x2448.jpg");
        let header = JpegHeader::parse(&jpeg).expect("header");
        let past = std::time::Instant::now() - std::time::Duration::from_secs(1);
        let limits = Limits::default()
            .with_max_threads(4)
            .with_deadline(Some(past));
        let err = decode(&jpeg, &header, 8, Detail::Low, &limits).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(crate::ErrorKind::DeadlineExceeded)
        );
    }

    #[test]
    fn bands_start_where_intervals_start() {
        // A 12 MP 4:2:0 photo with one interval per row of MCUs: two even bands.
        assert_eq!(bands(204, 153, 204, 6, 2), vec![0..76, 76..153]);
        // Four MCUs an interval, 252 to a row: any row starts one.
        assert_eq!(bands(252, 189, 4, 6, 3), vec![0..63, 63..126, 126..189]);
        // Intervals of 7 MCUs on rows of 204 start a row every 7 rows.
        for band in bands(204, 153, 7, 6, 4) {
            assert_eq!(band.start * 204 % 7, 0, "{band:?}");
        }
        // No intervals, one thread, a small image, intervals longer than the image: one band.
        assert_eq!(bands(204, 153, 0, 6, 4), vec![0..153]);
        assert_eq!(bands(204, 153, 204, 6, 1), vec![0..153]);
        assert_eq!(bands(40, 30, 40, 6, 4), vec![0..30]);
        assert_eq!(bands(204, 153, 204 * 200, 6, 4), vec![0..153]);
    }

    #[test]
    fn bands_cover_every_row_once() {
        for (w, h, ri, threads) in [(204, 153, 204, 3), (97, 301, 13, 4), (500, 500, 1, 8)] {
            let b = bands(w, h, ri, 6, threads);
            assert!(b.len() > 1, "{w}x{h} ri {ri}");
            assert_eq!(b[0].start, 0);
            assert_eq!(b.last().map(|r| r.end), Some(h));
            for pair in b.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(!pair[0].is_empty());
            }
        }
    }
}

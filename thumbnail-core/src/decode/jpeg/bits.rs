//! The entropy-coded data of a scan: unstuffed once, then read with a branchless bit reader.
//!
//! JPEG stuffs a zero after every 0xFF byte and puts RSTn markers between restart intervals.
//! Removing both in one pass (memchr finds the rare 0xFF bytes; everything between them is a
//! plain copy) leaves clean bytes that the reader can load eight at a time with no checks at
//! all, so refilling costs no branch. Each interval is followed by zero padding: reading past
//! an interval's end yields zero bits, exactly what libjpeg feeds a decoder at a marker.

use super::tables::{Huffman, LOOKAHEAD, MULTI_BITS, extend};

/// Zero bytes after each interval; a refill reads 8 bytes, a damaged stream may run a little
/// further, and `BitReader` clamps beyond that.
const PAD: usize = 16;

/// One scan's entropy-coded data, unstuffed.
pub(crate) struct EntropyData {
    buf: Vec<u8>,
    /// `(start, len)` of each restart interval in `buf`.
    intervals: Vec<(usize, usize)>,
    /// The number (0..=7) of the RSTn marker after each interval but the last.
    markers: Vec<u8>,
    /// Offset in the file of the marker that ended the scan (the file's length if none did).
    pub next_marker: usize,
}

impl EntropyData {
    /// Unstuffs the scan data that starts at `start` in `data`.
    pub fn new(data: &[u8], start: usize) -> Self {
        let mut buf = Vec::with_capacity(data.len().saturating_sub(start) + PAD);
        let mut intervals = Vec::new();
        let mut markers = Vec::new();
        let mut interval_start = 0;
        let mut pos = start.min(data.len());
        let next_marker = loop {
            let Some(rel) = memchr::memchr(0xFF, &data[pos..]) else {
                buf.extend_from_slice(&data[pos..]);
                break data.len();
            };
            let at = pos + rel;
            buf.extend_from_slice(&data[pos..at]);
            let mut next = at + 1;
            while data.get(next) == Some(&0xFF) {
                next += 1;
            }
            match data.get(next) {
                Some(0x00) => {
                    buf.push(0xFF);
                    pos = next + 1;
                }
                Some(&m @ 0xD0..=0xD7) => {
                    intervals.push((interval_start, buf.len() - interval_start));
                    markers.push(m - 0xD0);
                    buf.extend_from_slice(&[0; PAD]);
                    interval_start = buf.len();
                    pos = next + 1;
                }
                // No marker has a code under SOF0's: these bytes are damage (a run of 0xFF a
                // flash card left, a flipped bit). As libjpeg's `jpeg_resync_to_restart`, the
                // interval ends here (the rest of it reads as zeros: damaged) and whatever
                // follows up to the next marker is dropped; the next RSTn places the rest.
                Some(&m) if m < 0xC0 => match next_marker(data, next + 1) {
                    Some(at) => pos = at,
                    None => break data.len(),
                },
                Some(_) => break next - 1,
                None => break data.len(),
            }
        };
        intervals.push((interval_start, buf.len() - interval_start));
        buf.extend_from_slice(&[0; PAD]);
        EntropyData {
            buf,
            intervals,
            markers,
            next_marker,
        }
    }

    /// For each of `count` restart intervals the scan should hold, which stored interval
    /// holds its data, placed by the RSTn numbers as libjpeg's `jpeg_resync_to_restart`
    /// places them: a marker one or two ahead of the expected one means those in between were
    /// lost (their intervals get no data, `None`, instead of shifting every later one); one
    /// or two behind is a stale marker, dropped with its data; three to five ahead is taken
    /// as the expected one, as libjpeg does, so that a damaged file looks as it shows it.
    pub fn map_intervals(&self, count: usize) -> Vec<Option<usize>> {
        let mut map = vec![None; count];
        if count == 0 {
            return map;
        }
        map[0] = Some(0);
        let mut last = 0usize;
        for (stored, &m) in self.markers.iter().enumerate() {
            // The marker before interval `u` is RST((u - 1) % 8); the next expected is `last + 1`.
            let ahead = match (usize::from(m) + 8 - last % 8) % 8 {
                6 | 7 => continue,
                3..=5 => 0,
                ahead => ahead,
            };
            let u = last + 1 + ahead;
            if u >= count {
                break;
            }
            map[u] = Some(stored + 1);
            last = u;
        }
        map
    }

    /// A reader positioned at the start of restart interval `i` (an empty one past the last).
    pub fn interval(&self, i: usize) -> BitReader<'_> {
        let (start, len) = self
            .intervals
            .get(i)
            .copied()
            .unwrap_or((self.buf.len() - PAD, 0));
        BitReader {
            buf: &self.buf,
            pos: start,
            end: start + len,
            bits: 0,
            count: 0,
        }
    }

    /// How many restart intervals the scan holds.
    #[cfg(test)]
    pub fn intervals(&self) -> usize {
        self.intervals.len()
    }
}

/// Where the next marker (0xFF, then neither 0xFF nor a stuffed zero) starts at or after
/// `from`: libjpeg's `next_marker`, which skips what is not one.
fn next_marker(data: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    loop {
        let at = pos + memchr::memchr(0xFF, data.get(pos..)?)?;
        let mut next = at + 1;
        while data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match data.get(next)? {
            0x00 => pos = next + 1,
            _ => return Some(next - 1),
        }
    }
}

/// A bit reader over one restart interval of unstuffed data, MSB first.
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// End of the interval's real data.
    end: usize,
    /// Valid bits are the top `count`; the bits below them are the following stream bits.
    bits: u64,
    count: u32,
}

impl<'a> BitReader<'a> {
    /// Makes at least 56 bits available, without a branch (F. Giesen's refill, variant 4).
    #[inline(always)]
    pub fn refill(&mut self) {
        // Past the padding every read is zeros anyway: stay on the last padded word.
        let at = self.pos.min(self.buf.len() - 8);
        let word = u64::from_be_bytes(self.buf[at..at + 8].try_into().unwrap_or([0; 8]));
        self.bits |= word >> self.count;
        self.pos += ((63 - self.count) >> 3) as usize;
        self.count |= 56;
    }

    /// The top `n` (1..=32) bits, without consuming them. Call after [`Self::refill`].
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.bits >> (64 - n)) as u32
    }

    /// Drops `n` bits. Every caller refills first and takes at most the 56 bits a refill
    /// guarantees (a multi-step skip 4 x 12, a DC difference 16 + 15, a code and its
    /// magnitude 16 + 15), so `count` never goes below zero.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.count, "consumed {n} of {} bits", self.count);
        self.bits <<= n;
        self.count = self.count.wrapping_sub(n);
    }

    /// Reads `n` (0..=16) bits as an unsigned number.
    #[inline(always)]
    pub fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        self.refill();
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Reads one bit.
    #[inline(always)]
    pub fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// Reads `s` bits and sign-extends them per the JPEG magnitude coding (F.12 EXTEND).
    #[inline(always)]
    pub fn receive_extend(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        extend(self.bits(s) as i32, s)
    }

    /// Decodes a DC difference (category code and magnitude) with a single refill.
    #[inline(always)]
    pub fn dc_diff(&mut self, dc: &Huffman) -> i32 {
        self.refill();
        let s = u32::from(dc.decode_filled(self) & 15);
        if s == 0 {
            return 0;
        }
        let v = self.peek(s) as i32;
        self.consume(s);
        extend(v, s)
    }

    /// Skips the AC coefficients of a block from zigzag index `k` on, reading no values: the
    /// whole cost of AC data in a 1/8-scale decode.
    ///
    /// One refill gives 56 bits: up to four multi-coefficient steps of 12 bits, or one
    /// single-coefficient step of at most 26.
    #[inline(always)]
    pub fn skip_ac(&mut self, ac: &Huffman, mut k: usize) {
        while k < 64 {
            self.refill();
            let mut steps = 0;
            while steps < 4 {
                let e = ac.skip_multi(self.peek(MULTI_BITS));
                let (advance, eob) = (usize::from(e >> 5), e & 16 != 0);
                // A lookup may run past the block's last coefficient (a block that ends at
                // index 63 codes no end-of-block); such a lookup is not taken.
                let inside = if eob {
                    k + advance < 64
                } else {
                    k + advance <= 64
                };
                if e == 0 || !inside {
                    break;
                }
                self.consume(u32::from(e & 15));
                if eob {
                    return;
                }
                k += advance;
                if k >= 64 {
                    return;
                }
                steps += 1;
            }
            if steps > 0 {
                continue;
            }
            let e = ac.skip_ac(self.peek(LOOKAHEAD));
            if e != 0 {
                self.consume(u32::from(e & 31));
                k += usize::from(e >> 5);
                continue;
            }
            // A code over 9 bits: decode it the long way.
            let rs = ac.decode_filled(self);
            let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run != 15 {
                    return;
                }
                k += 16;
            } else {
                self.refill();
                self.consume(size);
                k += run + 1;
            }
        }
    }

    /// Whether the reader has consumed more than `slack` bytes past the interval's data: the
    /// stream ran dry (truncated or damaged).
    pub fn overran(&self, slack: usize) -> bool {
        let consumed = (self.pos * 8).saturating_sub(self.count as usize) / 8;
        consumed > self.end + slack
    }
}

/// Decoding a symbol reads bits: it lives with the reader, so the tables know nothing of it.
impl Huffman {
    /// Decodes one symbol. An invalid code reads as symbol 0: the stream is damaged, and the
    /// caller's block loop still terminates.
    #[inline(always)]
    pub fn decode(&self, r: &mut BitReader<'_>) -> u8 {
        r.refill();
        self.decode_filled(r)
    }

    /// [`Self::decode`] when at least 16 bits are already available.
    #[inline(always)]
    pub fn decode_filled(&self, r: &mut BitReader<'_>) -> u8 {
        let e = self.fast[r.peek(LOOKAHEAD) as usize];
        if e != 0 {
            r.consume(u32::from(e >> 8));
            return e as u8;
        }
        let (symbol, len) = self.decode_slow(r.peek(16));
        r.consume(len);
        symbol
    }

    /// A code longer than the lookahead, from the next 16 bits: its symbol and length. It
    /// takes the bits, not the reader, so that no reader's address leaves the hot loops and
    /// the reader can live in registers.
    #[cold]
    fn decode_slow(&self, next16: u32) -> (u8, u32) {
        for len in LOOKAHEAD + 1..=16 {
            let code = (next16 >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let i = (self.valptr[len as usize] + code).clamp(0, 255);
                return (self.values[i as usize], len);
            }
        }
        (0, 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstuffs_and_splits_intervals() {
        let data = [
            0xAB, 0xFF, 0x00, 0x12, 0xFF, 0xD0, 0x55, 0xFF, 0xFF, 0xD9, 0x99,
        ];
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.intervals(), 2);
        assert_eq!(e.next_marker, 8, "the 0xFF just before the EOI code");
        let mut r = e.interval(0);
        assert_eq!(r.bits(8), 0xAB);
        assert_eq!(r.bits(8), 0xFF);
        assert_eq!(r.bits(8), 0x12);
        assert!(!r.overran(0));
        assert_eq!(r.bits(8), 0, "past the interval: zeros");
        assert_eq!(r.bits(16), 0);
        assert!(r.overran(1));
        let mut r = e.interval(1);
        assert_eq!(r.bits(8), 0x55);
        assert_eq!(r.bits(8), 0);
    }

    #[test]
    fn lost_markers_cost_only_their_intervals() {
        // Intervals 0..=5 of one byte each, RST0..RST4 between them, but RST1 (and the
        // interval after it) was lost: stored data is 0, 1, 3, 4, 5 after RST0, RST2, RST3, RST4.
        let data = [
            0x10, 0xFF, 0xD0, 0x11, 0xFF, 0xD2, 0x13, 0xFF, 0xD3, 0x14, 0xFF, 0xD4, 0x15,
        ];
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.intervals(), 5);
        assert_eq!(
            e.map_intervals(7),
            vec![Some(0), Some(1), None, Some(2), Some(3), Some(4), None]
        );
        // An out-of-sequence marker (RST7 where RST1 belongs) is dropped with its data.
        let data = [0x10, 0xFF, 0xD0, 0x11, 0xFF, 0xD7, 0x99, 0xFF, 0xD1, 0x12];
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.map_intervals(3), vec![Some(0), Some(1), Some(3)]);
        assert_eq!(e.interval(3).bits(8), 0x12);
        // Three to five ahead (RST4 where RST1 belongs) is taken as the expected marker, as
        // libjpeg takes it: its data is interval 2's, and the count goes on from there.
        let data = [0x10, 0xFF, 0xD0, 0x11, 0xFF, 0xD4, 0x12, 0xFF, 0xD2, 0x13];
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.map_intervals(4), vec![Some(0), Some(1), Some(2), Some(3)]);
        // Numbers wrap after RST7.
        let mut data = vec![0x00];
        for i in 0..10u8 {
            data.extend([0xFF, 0xD0 + i % 8, i + 1]);
        }
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.map_intervals(11), (0..11).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn fill_runs_and_invalid_markers_end_only_their_interval() {
        // Interval 0 (0x11 0x22), then a 5-byte run of 0xFF, a stray data byte (FF 37 is no
        // marker) and more of its data, then RST0 and interval 1: the scan goes on.
        let mut scan = vec![
            0x11, 0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x37, 0x44, 0xFF, 0x00,
        ];
        scan.extend_from_slice(&[0xFF, 0xD0, 0x55, 0xFF, 0x9F, 0x66, 0xFF, 0xD1, 0x77]);
        scan.extend_from_slice(&[0xFF, 0xD9]);
        let e = EntropyData::new(&scan, 0);
        assert_eq!(e.intervals(), 3);
        assert_eq!(e.map_intervals(3), [Some(0), Some(1), Some(2)]);
        let bytes = |i: usize| {
            let (start, len) = e.intervals[i];
            e.buf[start..start + len].to_vec()
        };
        assert_eq!(bytes(0), [0x11, 0x22]);
        assert_eq!(bytes(1), [0x55]);
        assert_eq!(bytes(2), [0x77]);
        assert_eq!(e.next_marker, scan.len() - 2, "EOI still ends the scan");
        // A real marker (DHT) ends the scan where it stands.
        let e = EntropyData::new(&[0x11, 0xFF, 0xC4, 0x00, 0x02], 0);
        assert_eq!(e.next_marker, 1);
    }

    #[test]
    fn reads_across_refills() {
        let data: Vec<u8> = (0..200u32)
            .map(|i| (i * 37 % 251) as u8)
            .filter(|&b| b != 0xFF)
            .collect();
        let e = EntropyData::new(&data, 0);
        assert_eq!(e.next_marker, data.len());
        let mut r = e.interval(0);
        for &b in &data {
            assert_eq!(r.bits(3), u32::from(b >> 5));
            assert_eq!(r.bits(5), u32::from(b & 31));
        }
        // Far past the end: zeros forever, no panic.
        for _ in 0..100 {
            assert_eq!(r.bits(16), 0);
        }
    }

    #[test]
    fn extend_matches_the_standard() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b010, 3), -5);
        assert_eq!(extend(0b110, 3), 6);
    }

    #[test]
    fn decodes_canonical_codes() {
        // Lengths: one 2-bit code (sym 5), two 3-bit codes (syms 6, 7).
        let mut counts = [0u8; 16];
        counts[1] = 1;
        counts[2] = 2;
        let t = Huffman::new(&counts, &[5, 6, 7], false).unwrap();
        // Codes: 00 -> 5, 010 -> 6, 011 -> 7. Stream: 00 011 010 ...
        let data = EntropyData::new(&[0b0001_1010, 0], 0);
        let mut r = data.interval(0);
        assert_eq!(t.decode(&mut r), 5);
        assert_eq!(t.decode(&mut r), 7);
        assert_eq!(t.decode(&mut r), 6);
    }

    #[test]
    fn long_codes_take_the_slow_path() {
        // 1 code of length 1 (sym 1), then one each of lengths 2..=12 (syms 2..=12): the last
        // is 11111111110 (11 bits) and 111111111110 (12 bits).
        let mut counts = [0u8; 16];
        for c in counts.iter_mut().take(12) {
            *c = 1;
        }
        let syms: Vec<u8> = (1..=12).collect();
        let t = Huffman::new(&counts, &syms, false).unwrap();
        // 0xFF in entropy data is stuffed with a zero byte.
        let data = EntropyData::new(&[0xFF, 0x00, 0b1110_0000, 0], 0);
        let mut r = data.interval(0);
        assert_eq!(t.decode(&mut r), 12);
    }
}

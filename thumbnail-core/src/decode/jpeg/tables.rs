//! DQT and DHT segments, and Huffman decoding with lookahead tables.

use crate::error::{Error, Result};

/// Natural (row-major) index of the k-th coefficient in zigzag order.
pub(crate) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::corrupt("JPEG", why)
}

/// Parses a DQT segment into `tables` (values in zigzag order).
pub(crate) fn parse_dqt(mut p: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Result<()> {
    while let Some((&pq_tq, rest)) = p.split_first() {
        let (precision, id) = (pq_tq >> 4, usize::from(pq_tq & 15));
        if id > 3 || precision > 1 {
            return Err(corrupt(format!(
                "quantisation table {id} with precision {precision}"
            )));
        }
        let n = if precision == 0 { 64 } else { 128 };
        let body = rest
            .get(..n)
            .ok_or_else(|| corrupt("quantisation table is truncated"))?;
        let mut t = [0u16; 64];
        for (k, q) in t.iter_mut().enumerate() {
            *q = if precision == 0 {
                u16::from(body[k])
            } else {
                u16::from_be_bytes([body[2 * k], body[2 * k + 1]])
            };
        }
        tables[id] = Some(t);
        p = &rest[n..];
    }
    Ok(())
}

/// F.12: an `s`-bit magnitude `v` with a leading 0 is negative.
#[inline(always)]
pub(crate) fn extend(v: i32, s: u32) -> i32 {
    if v < (1 << (s - 1)) {
        v - (1 << s) + 1
    } else {
        v
    }
}

/// Bits looked up in one table access.
pub(crate) const LOOKAHEAD: u32 = 9;
const FAST: usize = 1 << LOOKAHEAD;
/// Bits looked up by the multi-coefficient skip table.
pub(crate) const MULTI_BITS: u32 = 12;
const MULTI: usize = 1 << MULTI_BITS;

/// A Huffman table ready for decoding.
#[derive(Clone)]
pub(crate) struct Huffman {
    /// Per 9-bit prefix: `len << 8 | symbol`, or 0 when the code is longer than 9 bits.
    pub(super) fast: [u16; FAST],
    /// AC only, per prefix: the coefficient decoded in one step (stb_image's trick):
    /// `value << 8 | run << 4 | bits used`, or 0 when code and magnitude need over 9 bits.
    ac_value: [i16; FAST],
    /// AC only, per prefix: `advance << 5 | bits used` to skip a coefficient without reading
    /// its value (advance 64 ends the block), or 0 for the slow path.
    ac_skip: [u16; FAST],
    /// AC only, per 12-bit prefix: every whole coefficient (code and magnitude) that fits in
    /// it, skipped at once: `advance << 5 | eob << 4 | bits used`, where `advance` counts the
    /// coefficients before an end-of-block; 0 when not even one fits.
    ac_multi: [u16; MULTI],
    /// Largest code of each length, -1 when none.
    pub(super) maxcode: [i32; 18],
    /// `values` index of a code of each length, minus that code.
    pub(super) valptr: [i32; 17],
    pub(super) values: [u8; 256],
}

impl Huffman {
    /// Builds a table from the 16 code-length counts and the symbols of a DHT entry. `ac`
    /// builds the AC value and skip tables too: only sequential scans use them (progressive
    /// AC passes decode symbol by symbol), and the skip table alone is 4096 entries.
    pub fn new(counts: &[u8; 16], symbols: &[u8], ac: bool) -> Result<Self> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || symbols.len() < total {
            return Err(corrupt("Huffman table has too many codes"));
        }
        let mut t = Huffman {
            fast: [0; FAST],
            ac_value: [0; FAST],
            ac_skip: [0; FAST],
            ac_multi: [0; MULTI],
            maxcode: [-1; 18],
            valptr: [0; 17],
            values: [0; 256],
        };
        t.values[..total].copy_from_slice(&symbols[..total]);
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            if n > 0 {
                t.valptr[len as usize] = k as i32 - code as i32;
                for _ in 0..n {
                    if code >= (1 << len) {
                        return Err(corrupt("Huffman table codes overflow their lengths"));
                    }
                    if len <= LOOKAHEAD {
                        let sym = symbols[k];
                        let shift = LOOKAHEAD - len;
                        for fill in 0..(1u32 << shift) {
                            let idx = ((code << shift) | fill) as usize;
                            t.fast[idx] = (len as u16) << 8 | u16::from(sym);
                            if ac {
                                t.fill_ac(idx, len, fill, shift, sym);
                            }
                        }
                    }
                    code += 1;
                    k += 1;
                }
                t.maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        t.maxcode[17] = i32::MAX;
        if ac {
            t.fill_multi();
        }
        Ok(t)
    }

    /// Builds `ac_multi` from `fast`: walks each 12-bit pattern unit by unit.
    fn fill_multi(&mut self) {
        for idx in 0..MULTI as u32 {
            let (mut used, mut advance, mut eob) = (0u32, 0u32, false);
            loop {
                let left = MULTI_BITS - used;
                // The next 9 bits at `used` (bits past the pattern read as zero).
                let window = ((idx << used) & (MULTI as u32 - 1)) >> (MULTI_BITS - LOOKAHEAD);
                let e = self.fast[window as usize];
                let len = u32::from(e >> 8);
                if e == 0 || len > left {
                    break;
                }
                let sym = e as u8;
                let (run, size) = (u32::from(sym >> 4), u32::from(sym & 15));
                if len + size > left {
                    break;
                }
                used += len + size;
                if size == 0 && run != 15 {
                    eob = true;
                    break;
                }
                advance += if size == 0 { 16 } else { run + 1 };
                if advance >= 64 {
                    break;
                }
            }
            if used > 0 {
                self.ac_multi[idx as usize] = (advance << 5 | u32::from(eob) << 4 | used) as u16;
            }
        }
    }

    fn fill_ac(&mut self, idx: usize, len: u32, fill: u32, shift: u32, sym: u8) {
        let (run, size) = (u32::from(sym >> 4), u32::from(sym & 15));
        let used = len + size;
        if size == 0 {
            // EOB (and, leniently, any other run with no magnitude) or ZRL.
            let advance = if run == 15 { 16 } else { 64 };
            self.ac_skip[idx] = (advance << 5 | len) as u16;
            return;
        }
        // A step must fit the 32 bits a refill guarantees; a table built to exceed that (no
        // real encoder does: 8-bit AC magnitudes are at most 10 bits) takes the slow path.
        if used > 26 {
            return;
        }
        self.ac_skip[idx] = ((run + 1) << 5 | used) as u16;
        if used <= LOOKAHEAD {
            // The magnitude bits are the next `size` bits after the code, inside `fill`.
            let v = (fill >> (shift - size)) & ((1 << size) - 1);
            let value = extend(v as i32, size);
            if (-128..=127).contains(&value) {
                self.ac_value[idx] = (value * 256 + (run as i32) * 16 + used as i32) as i16;
            }
        }
    }

    /// AC: one lookup that yields `(value, run, bits)` for short code+magnitude pairs.
    #[inline(always)]
    pub fn fast_ac(&self, peek: u32) -> i16 {
        self.ac_value[peek as usize]
    }

    /// AC: one lookup that skips every whole coefficient in the next 12 bits.
    #[inline(always)]
    pub fn skip_multi(&self, peek: u32) -> u16 {
        self.ac_multi[peek as usize]
    }

    /// AC: one lookup that yields `(advance, bits)` to skip a coefficient.
    #[inline(always)]
    pub fn skip_ac(&self, peek: u32) -> u16 {
        self.ac_skip[peek as usize]
    }
}

/// The example tables of ITU-T T.81 Annex K.3, which MJPEG frames (and some cameras) use
/// without sending a DHT: libjpeg and zune-jpeg fall back to them, and so do we.
pub(crate) mod standard {
    pub const DC_LUMA_COUNTS: [u8; 16] = [
        0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];
    pub const DC_LUMA_VALUES: [u8; 12] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    ];
    pub const DC_CHROMA_COUNTS: [u8; 16] = [
        0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];
    pub const DC_CHROMA_VALUES: [u8; 12] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    ];
    pub const AC_LUMA_COUNTS: [u8; 16] = [
        0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01,
        0x7d,
    ];
    pub const AC_LUMA_VALUES: [u8; 162] = [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
        0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
        0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
        0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
        0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
        0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
        0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ];
    pub const AC_CHROMA_COUNTS: [u8; 16] = [
        0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02,
        0x77,
    ];
    pub const AC_CHROMA_VALUES: [u8; 162] = [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
        0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
        0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
        0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
        0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
        0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
        0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ];
}

/// The four table slots of one class (DC or AC).
pub(crate) type Slots = [Option<Box<Huffman>>; 4];

/// The Annex K table a decoder falls back to in slot `id` (0: luma, 1: chroma) of a class
/// when no DHT defined it; built only when a scan needs it, since nearly every file has its
/// own. `skips` as for [`Huffman::new`].
pub(crate) fn standard_table(ac: bool, id: usize, skips: bool) -> Option<Box<Huffman>> {
    use standard::*;
    let (counts, values): (&[u8; 16], &[u8]) = match (ac, id) {
        (false, 0) => (&DC_LUMA_COUNTS, &DC_LUMA_VALUES),
        (false, 1) => (&DC_CHROMA_COUNTS, &DC_CHROMA_VALUES),
        (true, 0) => (&AC_LUMA_COUNTS, &AC_LUMA_VALUES),
        (true, 1) => (&AC_CHROMA_COUNTS, &AC_CHROMA_VALUES),
        _ => return None,
    };
    Huffman::new(counts, values, ac && skips).ok().map(Box::new)
}

/// Parses a DHT segment into `dc` / `ac` tables; `skips` as for [`Huffman::new`].
pub(crate) fn parse_dht(mut p: &[u8], dc: &mut Slots, ac: &mut Slots, skips: bool) -> Result<()> {
    while let Some((&tc_th, rest)) = p.split_first() {
        let (class, id) = (tc_th >> 4, usize::from(tc_th & 15));
        if class > 1 || id > 3 {
            return Err(corrupt(format!("Huffman table class {class} id {id}")));
        }
        let counts: [u8; 16] = rest
            .get(..16)
            .and_then(|c| c.try_into().ok())
            .ok_or_else(|| corrupt("Huffman table is truncated"))?;
        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = rest
            .get(16..16 + n)
            .ok_or_else(|| corrupt("Huffman table is truncated"))?;
        let table = Box::new(Huffman::new(&counts, symbols, class == 1 && skips)?);
        if class == 0 {
            dc[id] = Some(table);
        } else {
            ac[id] = Some(table);
        }
        p = &rest[16 + n..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overfull_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three 1-bit codes cannot exist
        assert!(Huffman::new(&counts, &[1, 2, 3], false).is_err());
    }
}

//! What a HEIF file declares, counted before the container parser reads it: the parser
//! matches items to their locations and properties pairwise, and keeps every property and
//! extent it reads, so millions of tiny entries (a few bytes each, or none: an extent with
//! zero-sized fields) would be a CPU or memory bomb in a small file.

use heifer_isobmff::BoxIter;

use crate::error::{Error, Result};

/// Items, locations, property associations and references a file may declare: a 100 MP
/// grid of 256x256 tiles with an alpha grid needs about 3,000.
pub(super) const MAX_ITEMS: u64 = 8192;
/// Properties (`ipco` children): about two per tile at most in real files.
const MAX_PROPERTIES: u64 = 2 * MAX_ITEMS;
/// Extents of all items together: one an item in real files.
const MAX_EXTENTS: u64 = 8 * MAX_ITEMS;

/// Refuses a file that declares more than the limits above.
pub(super) fn check(data: &[u8], format: &'static str) -> Result<()> {
    let Some(meta) = child(data, b"meta") else {
        return Ok(());
    };
    let meta = meta.get(4..).unwrap_or_default();
    for b in BoxIter::new(meta).map_while(|b| b.ok()) {
        let c = b.content;
        let v0 = c.first() == Some(&0);
        let counts: Vec<(&str, u64, u64)> = match &b.header.box_type.0 {
            b"iinf" => vec![("items", be(c, 4, if v0 { 2 } else { 4 }), MAX_ITEMS)],
            b"iloc" => {
                let (locations, extents) = iloc_counts(c);
                vec![
                    ("item locations", locations, MAX_ITEMS),
                    ("item extents", extents, MAX_EXTENTS),
                ]
            }
            b"iref" => {
                let refs = BoxIter::new(c.get(4..).unwrap_or_default()).count() as u64;
                vec![("item references", refs, MAX_ITEMS)]
            }
            b"iprp" => {
                let (mut props, mut assoc) = (0, 0);
                for p in BoxIter::new(c).map_while(|b| b.ok()) {
                    match &p.header.box_type.0 {
                        b"ipco" => props += BoxIter::new(p.content).count() as u64,
                        b"ipma" => assoc += be(p.content, 4, 4),
                        _ => {}
                    }
                }
                vec![
                    ("properties", props, MAX_PROPERTIES),
                    ("property associations", assoc, MAX_ITEMS),
                ]
            }
            _ => continue,
        };
        if let Some((what, n, limit)) = counts.into_iter().find(|(_, n, limit)| n > limit) {
            return Err(Error::OverLimit {
                reason: format!("{format} declares {n} {what}, over the limit of {limit}"),
            });
        }
    }
    Ok(())
}

/// Big-endian unsigned of `n` bytes at `at`; 0 when the data ends first.
fn be(b: &[u8], at: usize, n: usize) -> u64 {
    b.get(at..at + n)
        .map_or(0, |s| s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// Items and the sum of their extent counts in an `iloc` box (ISO/IEC 14496-12, 8.11.3),
/// as far as the box goes.
fn iloc_counts(c: &[u8]) -> (u64, u64) {
    let version = c.first().copied().unwrap_or(0);
    let sizes = |at: usize| {
        c.get(at)
            .map_or((0, 0), |b| (usize::from(b >> 4), usize::from(b & 15)))
    };
    let (offset_size, length_size) = sizes(4);
    let (base_size, index_size) = sizes(5);
    let index_size = if version == 0 { 0 } else { index_size };
    let wide = version >= 2;
    let (items, mut at) = if wide {
        (be(c, 6, 4), 10)
    } else {
        (be(c, 6, 2), 8)
    };
    let mut extents = 0u64;
    for _ in 0..items.min(MAX_ITEMS + 1) {
        at += if wide { 4 } else { 2 };
        at += if version == 0 { 0 } else { 2 };
        at += 2 + base_size;
        let Some(n) = c.get(at..at + 2).map(|_| be(c, at, 2)) else {
            break;
        };
        at += 2;
        extents += n;
        let each = index_size + offset_size + length_size;
        at = at.saturating_add(each.saturating_mul(n as usize));
        if at > c.len() && each > 0 {
            break;
        }
    }
    (items, extents)
}

/// The content of the first top-level box of type `kind`.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    BoxIter::new(data)
        .map_while(|b| b.ok())
        .find(|b| b.header.box_type.0 == *kind)
        .map(|b| b.content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn file_with(meta_children: &[u8]) -> Vec<u8> {
        let mut meta = vec![0; 4];
        meta.extend_from_slice(meta_children);
        let mut f = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
        f.extend(boxed(b"meta", &meta));
        f
    }

    #[test]
    fn zero_sized_extents_and_empty_properties_are_counted() {
        // iloc version 1, all field sizes zero: each extent costs no bytes at all.
        let mut iloc = vec![1, 0, 0, 0, 0x00, 0x00, 0, 2];
        for id in 1u16..=2 {
            iloc.extend(id.to_be_bytes());
            iloc.extend([0, 0, 0, 0]); // construction method, data reference index
            iloc.extend(u16::MAX.to_be_bytes()); // extents
        }
        let e = check(&file_with(&boxed(b"iloc", &iloc)), "HEIC").unwrap_err();
        assert!(e.to_string().contains("131070 item extents"), "{e}");

        let ipco: Vec<u8> = (0..20_000).flat_map(|_| boxed(b"free", &[])).collect();
        let iprp = boxed(b"iprp", &boxed(b"ipco", &ipco));
        let e = check(&file_with(&iprp), "AVIF").unwrap_err();
        assert!(
            e.to_string().contains("AVIF declares 20000 properties"),
            "{e}"
        );

        // A real file passes.
        let mut fine = vec![1, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1];
        fine.extend([0; 8]);
        check(&file_with(&boxed(b"iloc", &fine)), "HEIC").unwrap();
    }
}

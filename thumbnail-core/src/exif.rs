//! The one EXIF fact a thumbnailer needs: the orientation tag.

use crate::orient::Orientation;

const ORIENTATION_TAG: u16 = 0x0112;

/// Reads the orientation from a TIFF-structured EXIF block (`II*\0...` or `MM\0*...`).
///
/// Accepts the block with or without the `Exif\0\0` prefix that JPEG APP1 and some PNG/WebP
/// writers put in front. Anything malformed reads as "no orientation" rather than an error:
/// a broken EXIF block must not stop a thumbnail.
pub(crate) fn orientation(exif: &[u8]) -> Option<Orientation> {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let big_endian = match tiff.get(0..4)? {
        b"II*\0" => false,
        b"MM\0*" => true,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        Some(if big_endian {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    for i in 0..count {
        let entry = ifd.checked_add(2 + i * 12)?;
        if u16_at(entry)? != ORIENTATION_TAG {
            continue;
        }
        // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
        // Some writers use LONG (4); accept that too.
        let value = match u16_at(entry + 2)? {
            3 => u32::from(u16_at(entry + 8)?),
            4 => u32_at(entry + 8)?,
            _ => return None,
        };
        return u8::try_from(value).ok().and_then(Orientation::from_exif);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(big_endian: bool, value: u16) -> Vec<u8> {
        let mut v = Vec::new();
        let w16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let w32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if big_endian {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        v.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
        w32(&mut v, 8);
        w16(&mut v, 2);
        // An unrelated tag first, so the walk is exercised.
        w16(&mut v, 0x010f);
        w16(&mut v, 2);
        w32(&mut v, 4);
        w32(&mut v, 0);
        w16(&mut v, ORIENTATION_TAG);
        w16(&mut v, 3);
        w32(&mut v, 1);
        w16(&mut v, value);
        w16(&mut v, 0);
        v
    }

    #[test]
    fn reads_both_byte_orders() {
        for be in [false, true] {
            for o in 1..=8u16 {
                let got = orientation(&block(be, o)).unwrap();
                assert_eq!(got.exif_value(), o as u8);
            }
            assert!(orientation(&block(be, 9)).is_none());
        }
        let mut prefixed = b"Exif\0\0".to_vec();
        prefixed.extend(block(true, 6));
        assert_eq!(orientation(&prefixed).unwrap().exif_value(), 6);
    }

    #[test]
    fn truncated_blocks_are_none() {
        let full = block(false, 6);
        for len in 0..full.len() - 4 {
            // Never panics; short blocks simply have no orientation.
            let _ = orientation(&full[..len]);
        }
        assert!(orientation(&full[..20]).is_none());
    }
}

//! Which format the bytes are, from their magic numbers alone.

use std::fmt;

use crate::error::{Error, Result};

/// A decodable input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputFormat {
    Jpeg,
    Png,
    Gif,
    WebP,
    Tiff,
    Bmp,
    /// HEIF with HEVC-coded pictures: what iPhones save.
    Heic,
    /// HEIF with AV1-coded pictures.
    Avif,
    /// JPEG XL, as a bare codestream or in its container.
    Jxl,
}

impl InputFormat {
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Jpeg => "JPEG",
            InputFormat::Png => "PNG",
            InputFormat::Gif => "GIF",
            InputFormat::WebP => "WebP",
            InputFormat::Tiff => "TIFF",
            InputFormat::Bmp => "BMP",
            InputFormat::Heic => "HEIC",
            InputFormat::Avif => "AVIF",
            InputFormat::Jxl => "JPEG XL",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            InputFormat::Jpeg => "image/jpeg",
            InputFormat::Png => "image/png",
            InputFormat::Gif => "image/gif",
            InputFormat::WebP => "image/webp",
            InputFormat::Tiff => "image/tiff",
            InputFormat::Bmp => "image/bmp",
            InputFormat::Heic => "image/heic",
            InputFormat::Avif => "image/avif",
            InputFormat::Jxl => "image/jxl",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Identifies the format from the leading bytes, never from a file name or a Content-Type.
///
/// Known but unsupported formats (SVG, PDF, JPEG 2000, ...) get an
/// [`Error::UnsupportedFormat`] that names them.
///
/// ```
/// use thumbnail_core::{sniff, InputFormat};
///
/// assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap(), InputFormat::Png);
/// let err = sniff(b"%PDF-1.7 ...").unwrap_err();
/// assert_eq!(err.to_string(), "unsupported image format: PDF");
/// ```
pub fn sniff(data: &[u8]) -> Result<InputFormat> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(InputFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(InputFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(InputFormat::Gif);
    }
    if starts(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        return Ok(InputFormat::WebP);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Ok(InputFormat::Tiff);
    }
    if let Some(format) = heif_format(data) {
        return Ok(format);
    }
    if cfg!(feature = "jxl") && (starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n")) {
        return Ok(InputFormat::Jxl);
    }
    if starts(b"BM") && data.len() >= 18 {
        let dib = u32::from_le_bytes([data[14], data[15], data[16], data[17]]);
        if matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Ok(InputFormat::Bmp);
        }
    }
    Err(Error::unsupported(unsupported_name(data)))
}

/// HEIF files by their `ftyp` brands: the major brand, or for the generic `mif1`/`msf1`
/// the compatible ones.
fn heif_format(data: &[u8]) -> Option<InputFormat> {
    if data.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let body = data.get(8..size.clamp(12, 4096).min(data.len()))?;
    let brands =
        std::iter::once(body.get(..4)?).chain(body.get(8..).unwrap_or_default().chunks_exact(4));
    let mut heic = false;
    for b in brands {
        match b {
            // Without its decoder, AVIF stays a clean "unsupported image format: AVIF".
            b"avif" => return cfg!(feature = "avif-decode").then_some(InputFormat::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => heic = true,
            _ => {}
        }
    }
    heic.then_some(InputFormat::Heic)
}

/// Names what the bytes are when they are not something we decode.
fn unsupported_name(data: &[u8]) -> String {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if data.is_empty() {
        return "empty input (0 bytes)".into();
    }
    if data.get(4..8) == Some(b"ftyp") {
        let brand = data.get(8..12).unwrap_or_default();
        return match brand {
            b"avif" | b"avis" => "AVIF".into(),
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                "HEIC/HEIF".into()
            }
            b"crx " => "Canon CR3 raw".into(),
            _ => "ISO base media file (video or HEIF-like)".into(),
        };
    }
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return "JPEG XL".into();
    }
    if starts(b"\0\0\0\x0cjP  \r\n\x87\n") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return "JPEG 2000".into();
    }
    if starts(b"%PDF-") {
        return "PDF".into();
    }
    if starts(b"8BPS") {
        return "Photoshop PSD".into();
    }
    if starts(&[0, 0, 1, 0]) {
        return "ICO".into();
    }
    if starts(b"qoif") {
        return "QOI".into();
    }
    if starts(b"II+\0") || starts(b"MM\0+") {
        return "BigTIFF".into();
    }
    if starts(&[0xFF, 0xD8]) {
        return "JPEG without a marker after SOI".into();
    }
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let head = &text[..text.len().min(1024)];
    let trimmed = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&head[..0], |i| &head[i..]);
    let lower = String::from_utf8_lossy(trimmed).to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with('<') && lower.contains("<svg")) {
        return "SVG".into();
    }
    if std::str::from_utf8(head).is_ok() && head.iter().all(|&b| b >= 0x09) {
        return "unknown (text, not an image)".into();
    }
    "unknown (no known image signature)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_formats_are_named() {
        let name = |d: &[u8]| match sniff(d) {
            Err(Error::UnsupportedFormat { format }) => format,
            other => panic!("{other:?}"),
        };
        assert_eq!(name(b""), "empty input (0 bytes)");
        assert_eq!(name(b"\0\0\0\x10ftypmif1\0\0\0\0"), "HEIC/HEIF");
        // A cut-off ftyp is named, not a panic.
        assert_eq!(
            name(b"\0\0\0\x1cftyphe"),
            "ISO base media file (video or HEIF-like)"
        );
        assert_eq!(name(b"\0\0\0\x1cftypavis\0\0\0\0"), "AVIF");
        if cfg!(feature = "jxl") {
            assert_eq!(sniff(&[0xFF, 0x0A, 1, 2]).unwrap(), InputFormat::Jxl);
        } else {
            assert_eq!(name(&[0xFF, 0x0A, 1, 2]), "JPEG XL");
        }
        assert_eq!(name(b"  <?xml version='1.0'?>\n<svg xmlns=..."), "SVG");
        assert_eq!(
            name(b"# hello\nthis is text"),
            "unknown (text, not an image)"
        );
        assert_eq!(name(&[0xD8]), "unknown (no known image signature)");
    }

    #[test]
    fn bmp_needs_a_plausible_header() {
        let mut bmp = b"BM".to_vec();
        bmp.extend([0u8; 12]);
        bmp.extend(40u32.to_le_bytes());
        assert_eq!(sniff(&bmp).unwrap(), InputFormat::Bmp);
        assert!(sniff(b"BMW is not a bitmap").is_err());
    }
}

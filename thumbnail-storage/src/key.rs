//! Object keys, validated once so no backend ever sees a key that could escape its root.

use std::fmt;

use crate::error::StoreError;

/// Longest key accepted, in bytes (S3's own limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// A validated object key: `/`-separated segments, none empty, `.` or `..`; no leading `/`,
/// no control characters, at most 1024 bytes.
///
/// ```
/// use thumbnail_storage::Key;
///
/// assert_eq!(Key::new("photos/2026/cat.jpg").unwrap().as_str(), "photos/2026/cat.jpg");
/// assert!(Key::new("../etc/passwd").is_err());
/// assert!(Key::new("/abs").is_err());
/// assert!(Key::new("a\0b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub fn new(key: impl Into<String>) -> Result<Self, StoreError> {
        let key = key.into();
        let bad = |reason| StoreError::InvalidKey {
            key: truncate(&key),
            reason,
        };
        if key.is_empty() {
            return Err(bad("empty"));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(bad("longer than 1024 bytes"));
        }
        if key.starts_with('/') {
            return Err(bad("starts with '/'"));
        }
        if key.chars().any(char::is_control) {
            return Err(bad("contains a control character"));
        }
        if key.chars().any(is_invisible) {
            return Err(bad(
                "contains a bidirectional override or a zero-width character",
            ));
        }
        if key.contains('\\') {
            return Err(bad("contains '\\\\'"));
        }
        for segment in key.split('/') {
            match segment {
                "" => return Err(bad("has an empty path segment")),
                "." | ".." => return Err(bad("has a '.' or '..' segment")),
                _ => {}
            }
        }
        Ok(Key(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `prefix/self`, validated.
    pub fn under(&self, prefix: &str) -> Result<Key, StoreError> {
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            return Ok(self.clone());
        }
        Key::new(format!("{prefix}/{}", self.0))
    }

    /// Whether the key lies in the folder `prefix` (segment-wise: `a/b` is in `a`, not `a/bc`
    /// in `a/b`).
    pub fn is_under(&self, prefix: &str) -> bool {
        let prefix = prefix.trim_matches('/');
        prefix.is_empty()
            || self.0 == prefix
            || (self.0.starts_with(prefix) && self.0.as_bytes().get(prefix.len()) == Some(&b'/'))
    }
}

impl Key {
    /// The key as one path segment that no other key's segment can equal or contain a
    /// folder of: `%` becomes `%25` and `/` `%2F`, so `a/b` is `a%2Fb`. Objects derived from
    /// a key (its info, its sizes' folder) are named by it, so the derived objects of `a`
    /// and of `a/b` never nest, and no key can stand where another's derived object must.
    /// A segment longer than 200 bytes keeps its first part and adds a SHA-256 of the whole
    /// key behind `%~`, which no encoding makes (a `%` is always followed by `25` or `2F`).
    ///
    /// ```
    /// use thumbnail_storage::Key;
    /// assert_eq!(Key::new("a/b%c.jpg").unwrap().flat(), "a%2Fb%25c.jpg");
    /// assert_ne!(Key::new("a.jpg.json/x").unwrap().flat(), Key::new("a.jpg").unwrap().flat());
    /// assert!(Key::new("x/".repeat(300) + "y").unwrap().flat().len() <= 255);
    /// ```
    pub fn flat(&self) -> String {
        const MAX: usize = 200;
        let mut out = String::with_capacity(self.0.len() + 8);
        for c in self.0.chars() {
            match c {
                '%' => out.push_str("%25"),
                '/' => out.push_str("%2F"),
                c => out.push(c),
            }
        }
        if out.len() <= MAX {
            return out;
        }
        let mut end = 120;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.0.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}%~{hex}", &out[..end])
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Key {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Key::new(s)
    }
}

/// Keeps error messages readable for absurdly long keys.
/// Characters that make a key read as another: bidirectional embeddings, overrides and
/// isolates (`photo\u{202E}gpj.exe` shows as `photoexe.jpg`), and zero-width characters
/// (two keys that look the same).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}'
        | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{061C}' | '\u{180E}')
}

fn truncate(key: &str) -> String {
    if key.len() <= 80 {
        return key.to_string();
    }
    let mut end = 80;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &key[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_junk() {
        for bad in [
            "",
            "/abs",
            "../etc/passwd",
            "a/../../b",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "a\nb",
            "a\\..\\b",
            "..",
            "photo\u{202E}gpj.exe",
            "a\u{2066}b",
            "a\u{2069}b",
            "cat\u{200B}.jpg",
            "\u{FEFF}cat.jpg",
        ] {
            assert!(Key::new(bad).is_err(), "{bad:?}");
        }
        assert!(Key::new("x".repeat(2048)).is_err());
        assert!(Key::new("x".repeat(1024)).is_ok());
        for good in [
            "a",
            "a/b/c.jpg",
            "red flower.jpg",
            "ünï/çødé.png",
            "a..b/c",
            ".hidden",
        ] {
            assert!(Key::new(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn folders_are_segment_wise() {
        let k = Key::new("thumbs/a/b.jpg").unwrap();
        assert!(k.is_under("thumbs"));
        assert!(k.is_under("thumbs/"));
        assert!(k.is_under("thumbs/a"));
        assert!(!k.is_under("thumb"));
        assert!(!Key::new("thumbsx/a").unwrap().is_under("thumbs"));
        assert_eq!(k.under("x/").unwrap().as_str(), "x/thumbs/a/b.jpg");
    }
}

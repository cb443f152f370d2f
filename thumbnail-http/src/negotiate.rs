//! `format=auto`: the best format a client takes, from its `Accept` header.
//!
//! Browsers list the image types they decode: Chrome and Firefox `image/avif,image/webp,...`,
//! Safari 16+ `image/webp,image/avif,...`; older ones `image/webp` or neither. Only an explicit
//! type counts: `*/*` and `image/*` (curl, old browsers) promise nothing, so they get JPEG (or
//! PNG for a source with alpha), which everything decodes. The three classes are what a cache
//! should key on, not the raw header (whose spellings are countless).

use axum::http::{HeaderMap, HeaderValue, header};
use thumbnail_core::{OutputFormat, ThumbnailSpec};

/// Which of the formats we make a client takes best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatClass {
    Avif,
    WebP,
    /// Neither: JPEG, or PNG for a source with alpha.
    Other,
}

impl FormatClass {
    /// The class of an `Accept` header (none: `Other`).
    ///
    /// ```
    /// use thumbnail_http::FormatClass;
    ///
    /// let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    /// assert_eq!(FormatClass::of(Some(chrome)), FormatClass::Avif);
    /// assert_eq!(FormatClass::of(Some("image/webp,*/*")), FormatClass::WebP);
    /// assert_eq!(FormatClass::of(Some("*/*")), FormatClass::Other);
    /// assert_eq!(FormatClass::of(Some("image/avif;q=0,image/webp")), FormatClass::WebP);
    /// ```
    pub fn of(accept: Option<&str>) -> Self {
        let takes = |wanted: &str| {
            accept.unwrap_or("").split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.split_once('=').is_some_and(|(k, q)| {
                        k.trim().eq_ignore_ascii_case("q")
                            && q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                    })
                });
                media.eq_ignore_ascii_case(wanted) && !refused
            })
        };
        if takes("image/avif") {
            FormatClass::Avif
        } else if takes("image/webp") {
            FormatClass::WebP
        } else {
            FormatClass::Other
        }
    }

    /// The format `format=auto` becomes for this class (`Auto` is left for the engine).
    pub fn format(self) -> OutputFormat {
        match self {
            FormatClass::Avif => OutputFormat::Avif,
            FormatClass::WebP => OutputFormat::WebP,
            FormatClass::Other => OutputFormat::Auto,
        }
    }
}

/// `spec` with `format=auto` chosen for the request's `Accept`; whether it was auto (the
/// answer then varies with `Accept`).
pub(crate) fn negotiate(spec: ThumbnailSpec, headers: &HeaderMap) -> (ThumbnailSpec, bool) {
    if spec.format != OutputFormat::Auto {
        return (spec, false);
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    (spec.with_format(FormatClass::of(accept).format()), true)
}

/// Marks a response that depends on `Accept`.
pub(crate) fn vary_accept(h: &mut HeaderMap) {
    h.append(header::VARY, HeaderValue::from_static("accept"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases the CDN's CloudFront Function passes too (infra/cdn/accept.test.js): both
    /// must put a client in the same class, or the cache would key one thing and the origin
    /// answer another.
    #[test]
    fn real_browsers_and_tools_as_the_cdn_sees_them() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../infra/cdn/accept-cases.json")).unwrap();
        let cases = cases.as_array().unwrap();
        assert!(cases.len() >= 10);
        for c in cases {
            let class = match c["class"].as_str().unwrap() {
                "avif" => FormatClass::Avif,
                "webp" => FormatClass::WebP,
                _ => FormatClass::Other,
            };
            let accept = c["accept"].as_str().unwrap();
            assert_eq!(
                FormatClass::of(Some(accept)),
                class,
                "{}: {accept}",
                c["client"]
            );
        }
        assert_eq!(FormatClass::of(None), FormatClass::Other);
    }
}

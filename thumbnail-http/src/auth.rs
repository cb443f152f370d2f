//! Who may write (and, when reads are not public, read): API keys and HMAC-signed URLs.
//!
//! A signed URL carries `expires` (Unix seconds) and `signature`, the hex HMAC-SHA256 of
//! `METHOD \n PATH \n QUERY` where QUERY is the request's other parameters, sorted: a signature
//! cannot be moved to another method, path or set of options, and stops working at `expires`.
//! Keys and signatures are compared in constant time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// Shortest API key or signing key accepted: 16 bytes (128 bits) of a random key cannot be
/// guessed; `openssl rand -hex 24` makes a good one.
pub const MIN_KEY_BYTES: usize = 16;

/// The longest lifetime of a signed URL by default: 7 days, as S3's presigned URLs.
pub const DEFAULT_MAX_SIGNED_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Refuses a key shorter than [`MIN_KEY_BYTES`] (an empty one included).
///
/// ```
/// assert!(thumbnail_http::check_key("0123456789abcdef").is_ok());
/// assert!(thumbnail_http::check_key("secret").is_err());
/// assert!(thumbnail_http::check_key("").is_err());
/// ```
pub fn check_key(key: &str) -> Result<(), String> {
    if key.len() < MIN_KEY_BYTES {
        return Err(format!(
            "a key of {} bytes is too short to be secret: use at least {MIN_KEY_BYTES} \
             (`openssl rand -hex 24` makes one)",
            key.len()
        ));
    }
    Ok(())
}

/// The credentials a server accepts. With none configured, everything is open (the embedded
/// default on 127.0.0.1).
#[derive(Clone)]
pub struct Auth {
    /// Bearer keys accepted for any request.
    pub api_keys: Vec<String>,
    /// Key for HMAC-signed URLs.
    pub signing_key: Option<Vec<u8>>,
    /// Whether GET and HEAD of thumbnails and info need no credentials.
    pub public_reads: bool,
    /// Whether, with `public_reads`, originals too need none: they are handed out byte for
    /// byte, EXIF included, which may hold where the photo was taken.
    pub public_originals: bool,
    /// A bearer token `/metrics` asks for (none: open to any scraper).
    pub metrics_token: Option<String>,
    /// Signed URLs whose `expires` is further away than this are refused.
    pub max_signed_lifetime: Duration,
    /// A value every request must carry in [`ORIGIN_HEADER`] (a CDN adds it on its way to
    /// the origin), so that the origin cannot be reached around the CDN (its WAF, geo rules
    /// and cache); none: any request is answered.
    pub origin_secret: Option<String>,
}

/// The header a CDN sends [`Auth::origin_secret`] in (CloudFront's origin custom header).
pub const ORIGIN_HEADER: &str = "x-origin-verify";

impl Default for Auth {
    fn default() -> Self {
        Auth {
            api_keys: Vec::new(),
            signing_key: None,
            public_reads: false,
            public_originals: false,
            metrics_token: None,
            max_signed_lifetime: DEFAULT_MAX_SIGNED_LIFETIME,
            origin_secret: None,
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("api_keys", &self.api_keys.len())
            .field("signing_key", &self.signing_key.is_some())
            .field("public_reads", &self.public_reads)
            .field("public_originals", &self.public_originals)
            .field("metrics_token", &self.metrics_token.is_some())
            .field("origin_secret", &self.origin_secret.is_some())
            .finish()
    }
}

impl Auth {
    /// Whether any credential is configured.
    pub fn enabled(&self) -> bool {
        !self.api_keys.is_empty() || self.signing_key.is_some()
    }

    /// Checks a request and says with what right it is made. Credentials, when given, are
    /// checked even on a public read (a signed URL may allow more than a public read does);
    /// reads without credentials pass when they are public.
    pub(crate) fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        read: bool,
    ) -> Result<Access, ApiError> {
        if !self.enabled() {
            return Ok(Access::Open);
        }
        if let Some(given) = bearer(headers) {
            let ok = self
                .api_keys
                .iter()
                .any(|k| bool::from(k.as_bytes().ct_eq(given.as_bytes())));
            if ok {
                return Ok(Access::Credentialed);
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the API key is not valid",
            ));
        }
        let query = uri.query().unwrap_or("");
        if query.contains("signature=") {
            let key = self.signing_key.as_deref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "signed URLs are not enabled on this server",
                )
            })?;
            let lifetime = self.max_signed_lifetime.as_secs();
            verify(key, method, uri.path(), query, now(), lifetime)?;
            return Ok(Access::Credentialed);
        }
        if read && self.public_reads {
            return Ok(Access::Anonymous);
        }
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "credentials required: Authorization: Bearer <key>, or a signed URL",
        ))
    }
}

/// With what right a request is made, as [`Auth::check`] found (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No credentials are configured: everything is open.
    Open,
    /// A public read without credentials: presets and the allowed sizes only.
    Anonymous,
    /// A valid API key or signed URL.
    Credentialed,
}

impl Auth {
    /// Refuses an anonymous read of an original unless originals are public too.
    pub(crate) fn check_original(&self, access: Access) -> Result<(), ApiError> {
        if access == Access::Anonymous && !self.public_originals {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "originals need credentials (they keep their EXIF): Authorization: Bearer \
                 <key>, or a signed URL; thumbnails are public",
            ));
        }
        Ok(())
    }

    /// Whether a request came through the CDN: it carries the origin secret, when one is set
    /// (compared in constant time).
    pub(crate) fn check_origin(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(secret) = &self.origin_secret else {
            return Ok(());
        };
        let given = headers.get(ORIGIN_HEADER).map(|v| v.as_bytes());
        match given {
            Some(given) if bool::from(secret.as_bytes().ct_eq(given)) => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_through_cdn",
                "this origin answers only requests that come through its CDN",
            )),
        }
    }

    /// Checks the `/metrics` token, when one is set.
    pub(crate) fn check_metrics(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(token) = &self.metrics_token else {
            return Ok(());
        };
        match bearer(headers) {
            Some(given) if bool::from(token.as_bytes().ct_eq(given.as_bytes())) => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "/metrics needs the metrics token: Authorization: Bearer <token>",
            )),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The canonical text a signature covers.
fn canonical(method: &Method, path: &str, query: &str) -> String {
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("signature="))
        .collect();
    params.sort_unstable();
    format!("{}\n{}\n{}", method.as_str(), path, params.join("&"))
}

fn mac(key: &[u8], text: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(text.as_bytes());
    mac
}

/// Signs `method path?query`, adding `expires` and `signature`; returns the new path and query.
///
/// ```
/// use axum::http::Method;
/// let url = thumbnail_http::sign(b"secret", &Method::PUT, "/images/cat.jpg", "size=64x64", 1_900_000_000);
/// assert!(url.starts_with("/images/cat.jpg?size=64x64&expires=1900000000&signature="));
/// ```
pub fn sign(key: &[u8], method: &Method, path: &str, query: &str, expires: u64) -> String {
    let query = if query.is_empty() {
        format!("expires={expires}")
    } else {
        format!("{query}&expires={expires}")
    };
    let signature = hex::encode(
        mac(key, &canonical(method, path, &query))
            .finalize()
            .into_bytes(),
    );
    format!("{path}?{query}&signature={signature}")
}

fn verify(
    key: &[u8],
    method: &Method,
    path: &str,
    query: &str,
    now: u64,
    max_lifetime: u64,
) -> Result<(), ApiError> {
    let forbidden = |m: &str| ApiError::new(StatusCode::FORBIDDEN, "forbidden", m);
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
    };
    let expires: u64 = param("expires")
        .and_then(|e| e.parse().ok())
        .ok_or_else(|| forbidden("a signed URL needs expires=<unix seconds>"))?;
    if expires < now {
        return Err(forbidden("the signed URL has expired"));
    }
    if expires > now.saturating_add(max_lifetime) {
        return Err(forbidden(&format!(
            "the signed URL lives longer than the {max_lifetime} s this server allows"
        )));
    }
    let signature = param("signature")
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| forbidden("the signature is not hex"))?;
    // verify_slice compares in constant time.
    mac(key, &canonical(method, path, query))
        .verify_slice(&signature)
        .map_err(|_| forbidden("the signature does not match this request"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn split(url: &str) -> (&str, &str) {
        url.split_once('?').unwrap()
    }

    #[test]
    fn signatures_bind_method_path_options_and_time() {
        let key = b"k";
        let url = sign(key, &Method::PUT, "/images/a.jpg", "size=10x10", 2000);
        let (path, query) = split(&url);
        verify(key, &Method::PUT, path, query, 1000, DAY).unwrap();
        assert!(
            verify(key, &Method::PUT, path, query, 2001, DAY).is_err(),
            "expired"
        );
        assert!(
            verify(key, &Method::GET, path, query, 1000, DAY).is_err(),
            "method"
        );
        assert!(
            verify(key, &Method::PUT, "/images/b.jpg", query, 1000, DAY).is_err(),
            "path"
        );
        let tampered = query.replace("size=10x10", "size=4000x4000");
        assert!(
            verify(key, &Method::PUT, path, &tampered, 1000, DAY).is_err(),
            "options"
        );
        let later = query.replace("expires=2000", "expires=9999");
        assert!(
            verify(key, &Method::PUT, path, &later, 1000, DAY).is_err(),
            "expiry"
        );
        assert!(
            verify(b"other", &Method::PUT, path, query, 1000, DAY).is_err(),
            "key"
        );
        // Parameter order does not matter.
        let (q1, sig) = query.rsplit_once("&signature=").unwrap();
        let reordered = format!("expires=2000&size=10x10&signature={sig}");
        assert_eq!(q1, "size=10x10&expires=2000");
        verify(key, &Method::PUT, path, &reordered, 1000, DAY).unwrap();
    }

    #[test]
    fn bearer_keys() {
        let auth = Auth {
            api_keys: vec!["s3cret".into()],
            ..Auth::default()
        };
        let uri: Uri = "/images/x".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(
            auth.check(&Method::PUT, &uri, &h, false)
                .unwrap_err()
                .status,
            401
        );
        h.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert_eq!(
            auth.check(&Method::PUT, &uri, &h, false)
                .unwrap_err()
                .status,
            401
        );
        h.insert(header::AUTHORIZATION, "bearer s3cret".parse().unwrap());
        auth.check(&Method::PUT, &uri, &h, false).unwrap();
        let open = Auth {
            public_reads: true,
            ..auth
        };
        open.check(&Method::GET, &uri, &HeaderMap::new(), true)
            .unwrap();
    }
}

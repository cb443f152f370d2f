//! Presigned uploads as S3 POST policies (signature version 4): S3 itself refuses a body
//! over the size bound or of a content type the policy does not allow, before anything is
//! stored. A presigned PUT cannot do that (it signs one exact length or none), and the SDK
//! has no POST policies, hence this module.
//!
//! The signing follows AWS's "Browser-based uploads using POST" (sigv4-HTTPPOSTConstructPolicy):
//! the policy is base64 JSON, signed with the SigV4 key of the day, region and `s3`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// What a presigned upload may carry; S3 refuses any other body.
///
/// ```
/// let rules = thumbnail_storage::UploadRules::new(50 << 20).with_content_type("image/heic");
/// assert_eq!(rules.max_bytes, 50 << 20);
/// assert_eq!(rules.content_type.as_deref(), Some("image/heic"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadRules {
    /// The largest body accepted, in bytes (S3's `content-length-range`, from 1).
    pub max_bytes: u64,
    /// The one Content-Type the upload must declare; `None`: any that starts `image/`.
    pub content_type: Option<String>,
}

impl UploadRules {
    pub fn new(max_bytes: u64) -> Self {
        UploadRules {
            max_bytes,
            content_type: None,
        }
    }

    pub fn with_content_type(self, content_type: impl Into<String>) -> Self {
        UploadRules {
            content_type: Some(content_type.into()),
            ..self
        }
    }
}

/// An HTML form's worth of upload: POST `url` as `multipart/form-data` with every field of
/// `fields` in order, then the file as the last part (named `file`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub expires_in: Duration,
    pub max_bytes: u64,
}

/// Who signs and for what: one bucket's full key, in one region, at one time.
pub(crate) struct Signer<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub now: SystemTime,
}

impl Signer<'_> {
    /// The form fields of an upload under `rules` that S3 accepts for `expires_in`.
    pub(crate) fn fields(
        &self,
        rules: &UploadRules,
        expires_in: Duration,
    ) -> Vec<(String, String)> {
        let (stamp, day) = amz_date(self.now);
        let credential = format!("{}/{day}/{}/s3/aws4_request", self.access_key, self.region);
        let mut fields = vec![("key".to_string(), self.key.to_string())];
        if let Some(ct) = &rules.content_type {
            fields.push(("Content-Type".into(), ct.clone()));
        }
        fields.push(("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()));
        fields.push(("x-amz-credential".into(), credential));
        fields.push(("x-amz-date".into(), stamp));
        if let Some(token) = self.session_token {
            fields.push(("x-amz-security-token".into(), token.to_string()));
        }
        let policy = STANDARD.encode(self.policy(rules, expires_in, &fields).to_string());
        let signature = hex(&self.signing_key(&day, policy.as_bytes()));
        fields.push(("policy".into(), policy));
        fields.push(("x-amz-signature".into(), signature));
        fields
    }

    /// Every field is pinned to its value; the body's size and type are bounded.
    fn policy(
        &self,
        rules: &UploadRules,
        expires_in: Duration,
        fields: &[(String, String)],
    ) -> Value {
        let mut conditions = vec![
            json!({ "bucket": self.bucket }),
            json!(["content-length-range", 1, rules.max_bytes.max(1)]),
        ];
        if rules.content_type.is_none() {
            conditions.push(json!(["starts-with", "$Content-Type", "image/"]));
        }
        for (name, value) in fields {
            conditions.push(json!({ name.as_str(): value }));
        }
        json!({
            "expiration": iso8601(self.now + expires_in),
            "conditions": conditions,
        })
    }

    /// HMAC-SHA256 of `text` under the SigV4 key of `day`, the region and `s3`.
    fn signing_key(&self, day: &str, text: &[u8]) -> Vec<u8> {
        let secret = format!("AWS4{}", self.secret_key);
        let mut key = hmac(secret.as_bytes(), day.as_bytes());
        for part in [self.region, "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        hmac(&key, text)
    }
}

fn hmac(key: &[u8], text: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(text);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The civil UTC date and time of `t`: (year, month, day, hours, minutes, seconds).
fn civil(t: SystemTime) -> (i64, u32, u32, u64, u64, u64) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest / 60 % 60, rest % 60)
}

/// `20261208T004300Z` and `20261208`, as SigV4 writes them.
fn amz_date(t: SystemTime) -> (String, String) {
    let (y, mo, d, h, mi, s) = civil(t);
    let day = format!("{y:04}{mo:02}{d:02}");
    (format!("{day}T{h:02}{mi:02}{s:02}Z"), day)
}

/// `2026-12-08T00:43:00Z`, the policy's expiration.
fn iso8601(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_690_580); // 2026-12-08T00:43:00Z
        assert_eq!(amz_date(t), ("20261208T004300Z".into(), "20261208".into()));
        assert_eq!(iso8601(t), "2026-12-08T00:43:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00Z");
    }

    /// AWS's own worked example of a POST policy signature (the S3 API reference,
    /// "Example: Browser-based upload using HTTP POST (using AWS signature version 4)"):
    /// the signing key of 20151229, us-east-1, over its base64 policy.
    #[test]
    fn signs_as_aws_documents() {
        let signer = Signer {
            access_key: "AKIAIOSFODNN7EXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            session_token: None,
            region: "us-east-1",
            bucket: "sigv4examplebucket",
            key: "user/user1/",
            now: UNIX_EPOCH,
        };
        let policy = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
        assert_eq!(
            hex(&signer.signing_key("20151229", policy.as_bytes())),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }
}

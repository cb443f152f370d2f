//! Credentials kept in AWS Secrets Manager rather than in the environment: the function's
//! settings (and a Terraform plan) then hold only the secret's ARN.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use serde::Deserialize;
use thumbnail_storage::{Timeouts, aws_sdk_config};

use crate::config::Config;
use crate::error::ConfigError;

const SETTING: &str = "THUMBNAIL_CREDENTIALS_SECRET";

/// What the secret holds: `{"api_keys": ["k1", "k2"], "signing_key": "..."}` (both optional;
/// `api_keys` may also be one comma-separated string).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[serde(default)]
    api_keys: Keys,
    #[serde(default)]
    signing_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Keys {
    #[default]
    None,
    List(Vec<String>),
    Joined(String),
}

impl Config {
    /// This configuration with the credentials of `--credentials-secret` added (read once,
    /// now); unchanged without one.
    pub(crate) async fn with_secret(&self) -> Result<Config, ConfigError> {
        let Some(id) = self.credentials_secret.as_deref().map(str::trim) else {
            return Ok(self.clone());
        };
        let Some(found) = fetch(id, &self.storage.timeouts()).await? else {
            tracing::warn!(
                secret = id,
                "the credentials secret has no value yet: no credentials from it"
            );
            return Ok(self.clone());
        };
        let mut config = self.clone();
        match found.api_keys {
            Keys::None => {}
            Keys::List(keys) => config.api_keys.extend(keys),
            Keys::Joined(keys) => config.api_keys.extend(keys.split(',').map(str::to_string)),
        }
        if let Some(key) = found.signing_key {
            if config.signing_key.is_some() {
                return Err(ConfigError::invalid(
                    SETTING,
                    "the secret and THUMBNAIL_SIGNING_KEY both give a signing key; keep one",
                ));
            }
            config.signing_key = Some(key);
        }
        Ok(config)
    }
}

/// The secret's credentials; `None` when the secret exists but has no value yet.
async fn fetch(id: &str, timeouts: &Timeouts) -> Result<Option<Credentials>, ConfigError> {
    let sdk = aws_sdk_config(timeouts, None, None).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let out = match client.get_secret_value().secret_id(id).send().await {
        Ok(out) => out,
        Err(SdkError::ServiceError(e))
            if e.err().code() == Some("ResourceNotFoundException")
                && e.err()
                    .message()
                    .is_some_and(|m| m.contains("secret value")) =>
        {
            return Ok(None);
        }
        Err(e) => {
            let reason = match e.as_service_error() {
                Some(se) => format!(
                    "{}: {}",
                    se.code().unwrap_or("error"),
                    se.message().unwrap_or("")
                ),
                None => format!(
                    "cannot reach Secrets Manager: {}",
                    thumbnail_storage::source_chain(&e)
                ),
            };
            return Err(ConfigError::invalid(SETTING, format!("{id}: {reason}")));
        }
    };
    let text = out.secret_string().ok_or_else(|| {
        ConfigError::invalid(
            SETTING,
            format!("{id}: the secret is binary, not JSON text"),
        )
    })?;
    // serde's message names the field, never the values.
    let credentials = serde_json::from_str(text).map_err(|e| {
        ConfigError::invalid(
            SETTING,
            format!(
                "{id}: expected {{\"api_keys\": [...], \"signing_key\": \"...\"}}: {}",
                describe(&e)
            ),
        )
    })?;
    Ok(Some(credentials))
}

/// The kind of mistake in the secret's JSON and where, without echoing any of its text.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "unreadable",
        Category::Syntax | Category::Eof => "not valid JSON",
        // "unknown field `x`" names a field, safe to show; other data errors quote values.
        Category::Data if e.to_string().starts_with("unknown field") => return e.to_string(),
        Category::Data => "a value of the wrong type (api_keys: strings, signing_key: a string)",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

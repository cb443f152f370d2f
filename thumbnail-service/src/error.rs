use thumbnail_storage::StoreError;

/// A configuration that cannot run; the message names the setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting is missing or has a value that cannot work.
    #[error("{setting}: {reason}")]
    Invalid { setting: String, reason: String },

    /// A store named by a setting cannot be opened.
    #[error("{setting} {url}: {source}")]
    Store {
        setting: &'static str,
        url: String,
        source: StoreError,
    },
}

impl ConfigError {
    pub(crate) fn invalid(setting: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            setting: setting.to_string(),
            reason: reason.into(),
        }
    }
}

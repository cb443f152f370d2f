//! From a [`Config`] to the running parts: stores, thumbnailer, HTTP state.

use std::sync::Arc;

use thumbnail_http::{AllowedHosts, AppState, Auth, HttpConfig, ServerLimits, check_key};
use thumbnail_storage::{Cores, Store, Thumbnailer, open};

use crate::config::{Config, MAX_SYNC_BODY, Profile};
use crate::error::ConfigError;

/// The service, wired: what `thumbnail serve` listens with and what the Lambda answers with.
#[derive(Debug, Clone)]
pub struct Service {
    pub originals: Arc<dyn Store>,
    pub thumbs: Arc<dyn Store>,
    /// The shared read -> thumbnail -> write step (S3 events use it directly).
    pub thumbnailer: Thumbnailer,
    /// The router's state; [`thumbnail_http::router`] turns it into the API.
    pub state: AppState,
    /// The credentials requests are checked against.
    pub auth: Auth,
    /// Image jobs at once: the blocking pool is sized from it.
    pub jobs: usize,
    /// Whether the configuration allows serving without credentials.
    pub insecure_no_auth: bool,
    /// `--allowed-hosts`.
    pub allowed_hosts: Vec<String>,
}

impl Service {
    /// The API's router. Without credentials it answers only its own host names: those of
    /// loopback and `listen` (a server's address) and `--allowed-hosts`; on Lambda (no
    /// `listen`) only `--allowed-hosts`, when given (`thumbnail_http::router_for_hosts`).
    pub fn router(&self, listen: Option<std::net::SocketAddr>) -> axum::Router {
        let extra = &self.allowed_hosts;
        let hosts = match listen {
            Some(addr) => AllowedHosts::loopback(addr, extra),
            None if extra.iter().any(|h| !h.trim().is_empty()) => {
                AllowedHosts::only(extra.iter().cloned())
            }
            None => return thumbnail_http::router(self.state.clone()),
        };
        thumbnail_http::router_for_hosts(self.state.clone(), hosts)
    }
}

impl Config {
    /// Image jobs at once: `--jobs`, or the profile's default.
    pub fn jobs(&self, profile: Profile) -> usize {
        let default = match profile {
            Profile::Lambda => 1,
            Profile::Server => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        self.jobs.unwrap_or(default).max(1)
    }

    /// The credentials, checked: every API key and the signing key at least
    /// [`thumbnail_http::MIN_KEY_BYTES`] long (an empty entry in a comma-separated list of
    /// keys is no key; an empty signing key is refused).
    pub fn auth(&self) -> Result<Auth, ConfigError> {
        let mut api_keys = Vec::new();
        for key in self
            .api_keys
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
        {
            check_key(key).map_err(|e| ConfigError::invalid("THUMBNAIL_API_KEYS", e))?;
            api_keys.push(key.to_string());
        }
        let signing_key = match &self.signing_key {
            Some(key) => {
                check_key(key).map_err(|e| ConfigError::invalid("THUMBNAIL_SIGNING_KEY", e))?;
                Some(key.as_bytes().to_vec())
            }
            None => None,
        };
        let metrics_token = match &self.metrics_token {
            Some(token) => {
                check_key(token).map_err(|e| ConfigError::invalid("THUMBNAIL_METRICS_TOKEN", e))?;
                Some(token.clone())
            }
            None => None,
        };
        Ok(Auth {
            api_keys,
            signing_key,
            public_reads: self.public_reads,
            public_originals: self.public_originals,
            metrics_token,
            max_signed_lifetime: self.max_signed_lifetime,
            origin_secret: match self.origin_secret.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(secret) => {
                    check_key(secret)
                        .map_err(|e| ConfigError::invalid("THUMBNAIL_ORIGIN_SECRET", e))?;
                    Some(secret.to_string())
                }
            },
        })
    }

    /// The connection limits of `thumbnail serve`.
    pub fn server_limits(&self) -> ServerLimits {
        ServerLimits {
            max_connections: self.max_connections.max(1),
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            shutdown_grace: self.shutdown_timeout,
        }
    }

    fn http(&self, profile: Profile) -> HttpConfig {
        let lambda = profile == Profile::Lambda;
        HttpConfig {
            max_body_bytes: self.max_body_bytes.unwrap_or(if lambda {
                MAX_SYNC_BODY
            } else {
                self.limits.max_input_bytes
            }),
            max_dimension: self.max_dimension,
            allow_sizes: self.allow_sizes.clone(),
            max_derivatives: self.max_derivatives,
            max_jobs: self.jobs(profile),
            max_queue: self.queue.unwrap_or(if lambda { 0 } else { 64 }),
            request_timeout: self.request_timeout.unwrap_or(profile.default_timeout()),
            read_timeout: self.read_timeout,
            cache_control: self.cache_control.clone(),
            presign_expiry: self.presign_expiry,
            large_upload_hint: lambda,
            max_body_in_flight: self.max_body_in_flight,
            max_original_reads: self.max_original_reads.max(1),
            redirect_originals_over: match (self.redirect_originals_over, profile) {
                (Some(0), _) | (None, Profile::Server) => None,
                (Some(n), _) => Some(n),
                (None, Profile::Lambda) => Some(MAX_SYNC_BODY),
            },
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }

    fn store_url(&self, profile: Profile, thumbs: bool) -> Result<String, ConfigError> {
        let (given, setting, default) = if thumbs {
            (
                &self.thumbs,
                "THUMBNAIL_THUMBS",
                "./thumbnail-data/thumbnails",
            )
        } else {
            (&self.store, "THUMBNAIL_STORE", "./thumbnail-data/originals")
        };
        match (given.as_deref().map(str::trim), profile) {
            (Some(url), _) if !url.is_empty() => Ok(url.to_string()),
            (_, Profile::Server) => Ok(default.to_string()),
            (_, _) => Err(ConfigError::invalid(setting, "is not set")),
        }
    }
}

impl Service {
    /// Validates `config` for `profile`, opens its stores (no network call is made until the
    /// first request) and wires the thumbnailer and the HTTP state.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use thumbnail_service::{Config, Profile, Service};
    ///
    /// let env = |k: &str| match k {
    ///     "THUMBNAIL_STORE" | "THUMBNAIL_THUMBS" => Some("memory://".to_string()),
    ///     _ => None,
    /// };
    /// let service = Service::build(&Config::from_lookup(env)?, Profile::Lambda).await?;
    /// assert_eq!(service.jobs, 1);
    /// // One job, but a big image may still run on every idle core.
    /// assert!(service.thumbnailer.cores.is_some());
    /// let app = thumbnail_http::router(service.state);
    /// # drop(app);
    /// // Lambda needs its stores named.
    /// let none = Config::from_lookup(|_| None)?;
    /// let e = Service::build(&none, Profile::Lambda).await.unwrap_err();
    /// assert_eq!(e.to_string(), "THUMBNAIL_STORE: is not set");
    /// # Ok::<(), thumbnail_service::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub async fn build(config: &Config, profile: Profile) -> Result<Service, ConfigError> {
        let config = &config.with_secret().await?;
        let timeouts = config.storage.timeouts();
        let open_as = |setting: &'static str, url: String| async move {
            open(&url, &timeouts)
                .await
                .map_err(|source| ConfigError::Store {
                    setting,
                    url,
                    source,
                })
        };
        for host in config.allowed_hosts.iter().filter(|h| !h.trim().is_empty()) {
            AllowedHosts::check_name(host)
                .map_err(|e| ConfigError::invalid("THUMBNAIL_ALLOWED_HOSTS", e))?;
        }
        let originals = open_as("THUMBNAIL_STORE", config.store_url(profile, false)?).await?;
        let thumbs = open_as("THUMBNAIL_THUMBS", config.store_url(profile, true)?).await?;
        // Writes cut short by a killed process leave temporary files in a local store: any
        // older than a write may take are removed (a write still going on is younger).
        for store in [&originals, &thumbs] {
            let removed = store
                .clean_temporaries(timeouts.operation)
                .await
                .map_err(|source| ConfigError::Store {
                    setting: "THUMBNAIL_STORE",
                    url: store.url().to_string(),
                    source,
                })?;
            if removed > 0 {
                tracing::info!(store = store.url(), removed, "removed temporary files");
            }
        }
        let shared = originals.url() == thumbs.url();
        let prefix = match &config.thumbs_prefix {
            Some(p) => p.trim_matches('/').to_string(),
            None if shared => "thumbnails".into(),
            None => String::new(),
        };
        if shared && prefix.is_empty() {
            return Err(ConfigError::invalid(
                "THUMBNAIL_THUMBS_PREFIX",
                "originals and thumbnails share a store: the thumbnails need a folder of their own",
            ));
        }
        let thumbnailer =
            Thumbnailer::new(originals.clone(), thumbs.clone(), config.presets.0.clone())
                .with_limits(config.limits.limits())
                .with_image_timeout(Some(
                    config.limits.image_timeout_or(profile.default_timeout()),
                ))
                .with_prefix(prefix)
                .with_cache_control(config.cache_control.clone())
                .with_cores(Cores::of_machine());
        let auth = config.auth()?;
        let state = AppState::new(
            originals.clone(),
            thumbnailer.clone(),
            config.http(profile),
            auth.clone(),
        );
        Ok(Service {
            originals,
            thumbs,
            thumbnailer,
            state,
            auth,
            jobs: config.jobs(profile),
            insecure_no_auth: config.insecure_no_auth,
            allowed_hosts: config.allowed_hosts.clone(),
        })
    }
}

//! Which `Host` an open server answers: without credentials, any web page the user visits
//! could otherwise reach a loopback server through DNS rebinding (a name of the attacker's
//! that resolves to 127.0.0.1) and PUT or DELETE through the user's browser. A browser always
//! sends the name it resolved, so a server that answers only its own names is out of reach.
//! Behind a CDN, the origin answers only what came through it (the origin secret).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The host names (ports aside) a server answers; others get a JSON 421 before any handler
/// runs, so nothing is read or stored.
///
/// ```
/// let hosts = thumbnail_http::AllowedHosts::loopback("127.0.0.1:8080".parse().unwrap(), &["photos.internal".into()]);
/// assert!(hosts.allows("localhost:8080") && hosts.allows("[::1]:8080") && hosts.allows("PHOTOS.internal"));
/// assert!(!hosts.allows("attacker.example:8080"));
/// ```
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// `localhost`, `127.0.0.1`, `[::1]`, the address listened on, and `extra`
    /// (`--allowed-hosts`).
    pub fn loopback(listen: SocketAddr, extra: &[String]) -> Self {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        names.push(match listen {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        });
        Self::only(names.into_iter().chain(extra.iter().cloned()))
    }

    /// Exactly these names (a port, if given, is ignored; blank ones are none).
    pub fn only(names: impl IntoIterator<Item = String>) -> Self {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|n| normal(&n))
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        AllowedHosts(Arc::new(names))
    }

    /// Refuses what cannot be a `Host` value (a URL, a path, a space): a setting that could
    /// never match is a mistake to report at startup, not a server that answers no one.
    ///
    /// ```
    /// use thumbnail_http::AllowedHosts;
    /// assert!(AllowedHosts::check_name("photos.internal:8080").is_ok());
    /// assert!(AllowedHosts::check_name("[::1]").is_ok());
    /// assert!(AllowedHosts::check_name("http://photos.internal").is_err());
    /// ```
    pub fn check_name(name: &str) -> Result<(), String> {
        let n = normal(name);
        let ok = if let Some(v6) = n.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            v6.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name:?} is not a host name (write it as in a Host header: name[:port])"
            ))
        }
    }

    /// Whether a `Host` header's value names one of them.
    pub fn allows(&self, host: &str) -> bool {
        let name = normal(host);
        self.0.contains(&name)
    }
}

/// A host name without its port, lower-cased, without a trailing dot.
fn normal(host: &str) -> String {
    let host = host.trim();
    let name = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Refuses a request whose `Host` (or absolute URI) is not one of `hosts`.
pub(crate) async fn check_host(
    State(hosts): State<AllowedHosts>,
    req: Request,
    next: Next,
) -> Response {
    // Probes (a load balancer's, Kubernetes') name the address they dial; these two read
    // and change nothing.
    if matches!(req.uri().path(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match given {
        Some(host) if !hosts.allows(&host) => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "host_not_allowed",
            "this server answers only its own host names without credentials \
             (add others with --allowed-hosts)",
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Refuses, before anything is read or stored, a request that did not come through the CDN
/// ([`crate::Auth::origin_secret`]). Probes and metrics are the operator's, reached directly.
pub(crate) async fn check_origin(
    State(state): State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    match state.0.auth.check_origin(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

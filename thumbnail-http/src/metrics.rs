//! Prometheus metrics: requests by route and status, latency histograms per stage, bytes in
//! and out, requests in flight, jobs running and waiting, rejections by reason.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (c, &b) in self.counts.iter_mut().zip(&BUCKETS) {
            if seconds <= b {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// The registry; one per server.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    stages: Mutex<BTreeMap<&'static str, Histogram>>,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    in_flight: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        *lock(&self.requests)
            .entry((route.to_string(), status))
            .or_default() += 1;
        lock(&self.latency)
            .entry(route.to_string())
            .or_default()
            .observe(seconds);
    }

    /// One pipeline stage: `read`, `render`, `write`.
    pub fn stage(&self, stage: &'static str, seconds: f64) {
        lock(&self.stages)
            .entry(stage)
            .or_default()
            .observe(seconds);
    }

    pub fn reject(&self, reason: &'static str) {
        *lock(&self.rejections).entry(reason).or_default() += 1;
    }

    pub fn bytes_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Ordering::Relaxed);
    }

    pub fn bytes_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Ordering::Relaxed);
    }

    pub fn in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self, jobs_running: usize, jobs_waiting: usize) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(
            w,
            "# HELP thumbnail_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(w, "# TYPE thumbnail_requests_total counter");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                w,
                "thumbnail_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        histogram(
            w,
            "thumbnail_request_duration_seconds",
            "Request latency by route.",
            "route",
            &lock(&self.latency),
        );
        let stages: BTreeMap<String, Histogram> = lock(&self.stages)
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        histogram(
            w,
            "thumbnail_stage_duration_seconds",
            "Latency of each pipeline stage.",
            "stage",
            &stages,
        );
        let _ = writeln!(
            w,
            "# HELP thumbnail_rejections_total Requests refused, by reason."
        );
        let _ = writeln!(w, "# TYPE thumbnail_rejections_total counter");
        for (reason, n) in lock(&self.rejections).iter() {
            let _ = writeln!(w, "thumbnail_rejections_total{{reason=\"{reason}\"}} {n}");
        }
        let gauge = |w: &mut String, name: &str, help: &str, kind: &str, v: String| {
            let _ = writeln!(w, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        gauge(
            w,
            "thumbnail_bytes_in_total",
            "Request body bytes received.",
            "counter",
            self.bytes_in.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            w,
            "thumbnail_bytes_out_total",
            "Response body bytes sent.",
            "counter",
            self.bytes_out.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            w,
            "thumbnail_requests_in_flight",
            "Requests being handled.",
            "gauge",
            self.in_flight.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            w,
            "thumbnail_jobs_running",
            "Image jobs running.",
            "gauge",
            jobs_running.to_string(),
        );
        gauge(
            w,
            "thumbnail_jobs_waiting",
            "Image jobs waiting for a slot.",
            "gauge",
            jobs_waiting.to_string(),
        );
        out
    }
}

fn histogram(
    w: &mut String,
    name: &str,
    help: &str,
    label: &str,
    series: &BTreeMap<String, Histogram>,
) {
    let _ = writeln!(w, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (value, h) in series {
        for (c, b) in h.counts.iter().zip(&BUCKETS) {
            let _ = writeln!(w, "{name}_bucket{{{label}=\"{value}\",le=\"{b}\"}} {c}");
        }
        let _ = writeln!(
            w,
            "{name}_bucket{{{label}=\"{value}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(w, "{name}_sum{{{label}=\"{value}\"}} {}", h.sum);
        let _ = writeln!(w, "{name}_count{{{label}=\"{value}\"}} {}", h.count);
    }
}

//! Shared by the per-format targets: one decoder's input under the default pixel limit (100 MP
//! headers are reachable) but a 4 MiB memory limit, so `-rss_limit_mb=64` (libFuzzer's own
//! corpus takes a few tens of MiB) catches any allocation the limits do not account for; and a
//! short deadline, so a slow input is a finding only when it ignores the deadline.

use std::time::{Duration, Instant};

use thumbnail_core::{InputFormat, Limits, ThumbnailSpec, sniff, thumbnail};

pub fn run(data: &[u8], format: InputFormat) {
    if sniff(data).ok() != Some(format) {
        return;
    }
    let limits = Limits::default().with_deadline(Some(Instant::now() + Duration::from_secs(2))).with_max_memory(4 << 20);
    if let Ok(t) = thumbnail(data, &ThumbnailSpec::sized(64, 48), &limits) {
        assert_eq!((t.width, t.height), (64, 48));
    }
}

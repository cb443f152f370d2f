//! What the batch reports: a progress bar or a line per image on stderr, and the tally of
//! the summary line.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Default)]
pub(super) struct Tally {
    pub done: AtomicUsize,
    pub failed: AtomicUsize,
    pub skipped: AtomicUsize,
}

/// Progress on stderr: a bar on a terminal, a line per image otherwise.
#[derive(Clone)]
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    pub summary: bool,
}

impl Progress {
    pub fn new(mode: &str, total: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = matches!(mode, "bar") || (mode == "auto" && tty);
        let lines = mode == "lines" || (mode == "auto" && !tty);
        let bar = bar.then(|| {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
            {
                b.set_style(style);
            }
            b
        });
        Progress {
            bar,
            lines,
            summary: mode != "none",
        }
    }

    fn report(&self, i: usize, total: usize, label: &str, outcome: &Result<bool, String>) {
        let failure = outcome
            .as_ref()
            .err()
            .map(|e| format!("thumbnail: {label}: {e}"));
        if let Some(bar) = &self.bar {
            if let Some(f) = failure {
                bar.println(f);
            }
            bar.inc(1);
            return;
        }
        match (failure, self.lines) {
            (Some(f), _) => eprintln!("{f}"),
            (None, true) => {
                let what = if outcome == &Ok(false) {
                    "skipped"
                } else {
                    "done"
                };
                eprintln!("[{}/{total}] {what} {label}", i + 1);
            }
            (None, false) => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Each job's outcome, counted and shown as it is settled.
#[derive(Clone)]
pub(super) struct Report {
    pub tally: Arc<Tally>,
    pub progress: Progress,
    pub total: usize,
}

impl Report {
    /// Counts and shows job `i`: `Ok(true)` done, `Ok(false)` skipped, or its failure.
    pub fn record(&self, i: usize, label: &str, outcome: Result<bool, String>) {
        match &outcome {
            Ok(true) => self.tally.done.fetch_add(1, Ordering::Relaxed),
            Ok(false) => self.tally.skipped.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.tally.failed.fetch_add(1, Ordering::Relaxed),
        };
        self.progress.report(i, self.total, label, &outcome);
    }
}

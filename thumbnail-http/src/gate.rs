//! A bounded number of image jobs at once, a bounded queue behind them, 503 beyond.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Admission for image work. A request takes its permit once its body is read (bodies are
/// bounded by the body budget) and holds it until its thumbnails are written. The
/// permit is owned, so it can move into the image work and be released only when that work
/// has ended, even when the request itself has given up.
#[derive(Debug)]
pub struct JobGate {
    permits: Arc<Semaphore>,
    jobs: usize,
    queued: AtomicUsize,
    max_queue: usize,
}

impl JobGate {
    pub fn new(jobs: usize, max_queue: usize) -> Self {
        let jobs = jobs.max(1);
        JobGate {
            permits: Arc::new(Semaphore::new(jobs)),
            jobs,
            queued: AtomicUsize::new(0),
            max_queue,
        }
    }

    /// Waits for a job slot, or refuses at once when the queue is full.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queue {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                format!(
                    "{} image jobs are running and {} waiting; try again shortly",
                    self.jobs, self.max_queue
                ),
            )
            .retry_after(1));
        }
        // Counted out however the wait ends: a waiter dropped at its deadline or by a
        // vanished client must not stay counted.
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let waiting = Waiting(&self.queued);
        let permit = self.permits.clone().acquire_owned().await;
        drop(waiting);
        permit.map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is stopping",
            )
        })
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.jobs - self.permits.available_permits()
    }

    /// Requests waiting for a job slot.
    pub fn waiting(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

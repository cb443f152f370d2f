//! A bounded number of image jobs at once, a bounded queue behind them, 503 beyond.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

/// Admission for image work. A request holds its permit from before it reads its body until
/// its thumbnails are written, so memory is bounded by `jobs`, not by the offered load.
#[derive(Debug)]
pub struct JobGate {
    permits: Semaphore,
    jobs: usize,
    queued: AtomicUsize,
    max_queue: usize,
}

impl JobGate {
    pub fn new(jobs: usize, max_queue: usize) -> Self {
        let jobs = jobs.max(1);
        JobGate {
            permits: Semaphore::new(jobs),
            jobs,
            queued: AtomicUsize::new(0),
            max_queue,
        }
    }

    /// Waits for a job slot, or refuses at once when the queue is full.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(p) = self.permits.try_acquire() {
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
        let permit = self.permits.acquire().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
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

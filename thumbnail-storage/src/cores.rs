//! Idle cores, lent to one image's work so that a big image runs on several threads while
//! the machine has nothing else to do, and on one when it is busy.

use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

/// A count of the cores no image work is using. Each image's work leases the cores it runs
/// on for as long as it runs: its own thread's always (work admitted beyond the cores
/// leaves the count below zero), and more only while some are idle. Under load every image
/// runs on its own thread alone, and a lone big upload gets the whole machine.
///
/// ```
/// use thumbnail_storage::Cores;
///
/// let cores = Cores::new(2);
/// let first = cores.lease(4);
/// assert_eq!(first.threads(), 2);
/// // Nothing idle: the next image runs on its own thread alone.
/// let second = cores.lease(4);
/// assert_eq!(second.threads(), 1);
/// drop((first, second));
/// assert_eq!(cores.idle(), 2);
/// ```
#[derive(Debug)]
pub struct Cores {
    /// Below zero while more work runs than there are cores.
    idle: AtomicIsize,
}

impl Cores {
    /// `count` cores, all idle.
    pub fn new(count: usize) -> Arc<Cores> {
        Arc::new(Cores {
            idle: AtomicIsize::new(isize::try_from(count).unwrap_or(isize::MAX)),
        })
    }

    /// The machine's cores (as many as the process may use).
    pub fn of_machine() -> Arc<Cores> {
        Cores::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Takes the core of the caller's thread, and up to `want - 1` more of those idle, until
    /// the lease is dropped.
    pub fn lease(self: &Arc<Self>, want: usize) -> Lease {
        let own = self.idle.fetch_sub(1, Ordering::AcqRel) - 1;
        let more = isize::try_from(want.saturating_sub(1)).unwrap_or(isize::MAX);
        let extra = if own > 0 && more > 0 {
            let before = self
                .idle
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |idle| {
                    (idle > 0).then(|| idle - idle.min(more))
                })
                .unwrap_or(0);
            before.clamp(0, more)
        } else {
            0
        };
        Lease {
            cores: self.clone(),
            taken: 1 + extra,
        }
    }

    /// Cores idle now.
    pub fn idle(&self) -> usize {
        usize::try_from(self.idle.load(Ordering::Acquire)).unwrap_or(0)
    }
}

/// Cores taken from [`Cores`], given back when dropped.
#[derive(Debug)]
pub struct Lease {
    cores: Arc<Cores>,
    /// At least 1: the caller's own.
    taken: isize,
}

impl Lease {
    /// Threads the work may run on: its own, and the idle cores taken.
    pub fn threads(&self) -> u32 {
        u32::try_from(self.taken).unwrap_or(u32::MAX)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.cores.idle.fetch_add(self.taken, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_take_only_idle_cores_and_give_them_back() {
        let cores = Cores::new(3);
        let a = cores.lease(2);
        assert_eq!((a.threads(), cores.idle()), (2, 1));
        let b = cores.lease(2);
        assert_eq!((b.threads(), cores.idle()), (1, 0));
        // More work than cores: it runs on its own thread, and holds the count below zero,
        // so that freed cores go to the work that has none before any goes spare.
        let c = cores.lease(2);
        assert_eq!((c.threads(), cores.idle()), (1, 0));
        drop(a);
        assert_eq!(cores.idle(), 1);
        let d = cores.lease(2);
        assert_eq!((d.threads(), cores.idle()), (1, 0));
        drop((b, c, d));
        assert_eq!(cores.idle(), 3);
        assert_eq!(cores.lease(0).threads(), 1);
        assert_eq!(cores.idle(), 3);
    }

    #[test]
    fn leases_from_many_threads_never_take_more_than_there_are() {
        let cores = Cores::new(4);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        let lease = cores.lease(3);
                        assert!(cores.idle() <= 4);
                        drop(lease);
                    }
                });
            }
        });
        assert_eq!(cores.idle(), 4);
    }

    /// The fewest cores idle while `limits` render a camera photo (whose restart intervals
    /// let it decode in bands) with a pool of `pool`, and how many are idle after.
    async fn idle_while_rendering(pool: usize, limits: thumbnail_core::Limits) -> (usize, usize) {
        let photo = thumbnail_testkit::corpus_file("photos/iphone6-hdr-3264x2448.jpg");
        let cores = Cores::new(pool);
        let work = crate::Work {
            cores: Some(cores.clone()),
            ..crate::Work::default()
        };
        let specs = vec![thumbnail_core::ThumbnailSpec::default()];
        let render = crate::render("photo", photo.into(), specs, limits, work);
        tokio::pin!(render);
        let mut fewest = pool;
        loop {
            tokio::select! {
                out = &mut render => {
                    out.expect("render");
                    return (fewest, cores.idle());
                }
                () = tokio::time::sleep(std::time::Duration::from_micros(200)) => {
                    fewest = fewest.min(cores.idle());
                }
            }
        }
    }

    #[tokio::test]
    async fn a_render_holds_the_cores_it_runs_on_and_no_more_than_its_limit() {
        let many = thumbnail_core::Limits::default().with_max_threads(4);
        assert_eq!(idle_while_rendering(3, many).await, (0, 3));
        let one = many.with_max_threads(1);
        assert_eq!(idle_while_rendering(3, one).await, (2, 3));
    }
}

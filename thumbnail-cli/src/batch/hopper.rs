//! Inputs read and waiting for the render threads, handed out in the batch's order.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::Target;
use super::read::Input;

/// An input read and waiting for a render thread, with what it holds of the batch's bounds
/// on inputs in memory until it has been rendered.
pub(super) struct Ready {
    pub i: usize,
    pub label: String,
    pub target: Target,
    pub input: Input,
    pub held: Vec<OwnedSemaphorePermit>,
}

/// Inputs read, in the batch's order, for the render threads to take.
#[derive(Default)]
pub(super) struct Hopper {
    state: Mutex<Waiting>,
    more: Condvar,
}

#[derive(Default)]
struct Waiting {
    ready: VecDeque<Ready>,
    /// The inputs being read.
    reading: BTreeSet<usize>,
    /// Every input has been read (or has failed).
    closed: bool,
}

impl Hopper {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // The state stays whole whatever a panicking holder was doing: a push or a pop.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Input `i` is being read.
    pub fn reading(&self, i: usize) {
        self.lock().reading.insert(i);
    }

    /// Input `i` will not come (skipped, or its read failed): an input behind it need not
    /// wait for it.
    pub fn forget(&self, i: usize) {
        self.lock().reading.remove(&i);
        self.more.notify_all();
    }

    /// Adds an input, before any that come later in the batch's order.
    pub fn push(&self, ready: Ready) {
        let mut state = self.lock();
        state.reading.remove(&ready.i);
        let at = state.ready.partition_point(|r| r.i < ready.i);
        state.ready.insert(at, ready);
        drop(state);
        // Every waiter: one may be waiting for this input's turn, another for any input.
        self.more.notify_all();
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.more.notify_all();
    }

    /// The next input; `None` once all are taken.
    ///
    /// Inputs come in the batch's order, largest first, though reads end in any order: one
    /// read ahead of another still being read waits for it at most [`IN_ORDER`], so a slow
    /// or stalled read holds up no render thread for long.
    ///
    /// A thread finding nothing to take waits awake for up to [`SPIN`] before it sleeps, as
    /// a sleeping thread is woken onto whichever core its waker picks (see the `placement`
    /// module). An input read from a local disk arrives well within the spin.
    pub fn take(&self) -> Option<Next> {
        let start = Instant::now();
        let mut slept = false;
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            if let Some(front) = state.ready.front() {
                let in_order = state.reading.first().is_none_or(|&r| front.i < r);
                if in_order || now >= start + IN_ORDER {
                    let ready = state.ready.pop_front()?;
                    let last = state.closed && state.ready.is_empty();
                    return Some(Next { ready, last, slept });
                }
            } else if state.closed {
                return None;
            }
            if now < start + SPIN {
                drop(state);
                // Gives the core to a reader that shares it; the spin keeps it otherwise.
                std::thread::yield_now();
                std::hint::spin_loop();
                state = self.lock();
                continue;
            }
            state = if state.ready.is_empty() {
                self.more
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner)
            } else {
                let left = (start + IN_ORDER).saturating_duration_since(now);
                match self.more.wait_timeout(state, left) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                }
            };
            slept = true;
        }
    }
}

/// An input taken from the hopper.
pub(super) struct Next {
    pub ready: Ready,
    /// Nothing waits behind it.
    pub last: bool,
    /// The thread slept before it came.
    pub slept: bool,
}

/// How long a render thread waits awake for its next input.
const SPIN: Duration = Duration::from_millis(2);

/// How long an input read ahead waits for one before it still being read.
const IN_ORDER: Duration = Duration::from_millis(50);

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(i: usize) -> Ready {
        Ready {
            i,
            label: format!("{i}"),
            target: Target::Stdout,
            input: Input::Bytes(bytes::Bytes::new()),
            held: Vec::new(),
        }
    }

    #[test]
    fn inputs_come_in_order_and_the_last_says_so() {
        let hopper = Hopper::default();
        for i in 0..3 {
            hopper.reading(i);
        }
        hopper.push(ready(2));
        hopper.push(ready(0));
        hopper.forget(1);
        let first = hopper.take().unwrap();
        assert_eq!((first.ready.i, first.last), (0, false));
        hopper.close();
        let second = hopper.take().unwrap();
        assert_eq!((second.ready.i, second.last), (2, true));
        assert!(hopper.take().is_none());
    }

    #[test]
    fn an_input_waits_for_one_before_it_only_so_long() {
        let hopper = Hopper::default();
        hopper.reading(0);
        hopper.reading(1);
        hopper.push(ready(1));
        // Input 0 arrives within the wait: it goes first.
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(IN_ORDER / 5);
                hopper.push(ready(0));
            });
            assert_eq!(hopper.take().unwrap().ready.i, 0);
        });
        assert_eq!(hopper.take().unwrap().ready.i, 1);
        // Input 2's read stalls: input 3 goes once the wait is over.
        hopper.reading(2);
        hopper.reading(3);
        hopper.push(ready(3));
        let start = Instant::now();
        let next = hopper.take().unwrap();
        assert_eq!(next.ready.i, 3);
        assert!(start.elapsed() >= IN_ORDER, "{:?}", start.elapsed());
        assert!(next.slept);
    }

    #[test]
    fn a_waiting_thread_wakes_for_an_input_and_for_the_close() {
        let hopper = Hopper::default();
        hopper.reading(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(SPIN * 5);
                hopper.push(ready(0));
                std::thread::sleep(SPIN * 5);
                hopper.close();
            });
            let next = hopper.take().unwrap();
            assert_eq!(next.ready.i, 0);
            assert!(next.slept);
            assert!(hopper.take().is_none());
        });
    }
}

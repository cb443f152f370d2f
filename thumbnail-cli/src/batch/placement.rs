//! Where a render thread runs: each on a core of its own, as a hint the kernel may undo.
//!
//! A render thread that sleeps (for its first input, or when reads fall behind) is woken onto
//! a core its waker picks, often the one where the other render thread runs, and the kernel
//! was seen (`perf sched`, 2 vCPUs, Linux 6.18) to leave the two sharing that core for 10 to
//! 30 ms while the other core idled. Moving the thread to its own core, then allowing every
//! core again, ends that at once and pins nothing: the kernel stays free to move it.

/// Moves the calling thread to the `k`th core it may run on (modulo their number), and lets
/// it run on all of them again.
#[cfg(target_os = "linux")]
pub(super) fn move_to_core(k: usize) {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let me = Pid::from_raw(0);
    let Ok(allowed) = sched_getaffinity(me) else {
        return;
    };
    let cores: Vec<usize> = (0..CpuSet::count())
        .filter(|&c| allowed.is_set(c).unwrap_or(false))
        .collect();
    if cores.len() < 2 {
        return;
    }
    let mut one = CpuSet::new();
    if one.set(cores[k % cores.len()]).is_ok() && sched_setaffinity(me, &one).is_ok() {
        // Failing this would leave the thread pinned; nothing to do about it but say so.
        if let Err(e) = sched_setaffinity(me, &allowed) {
            tracing::warn!("a render thread stays on one core: {e}");
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn move_to_core(_k: usize) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use nix::sched::{CpuSet, sched_getaffinity};
    use nix::unistd::Pid;

    fn allowed() -> Vec<usize> {
        let set = sched_getaffinity(Pid::from_raw(0)).unwrap();
        (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap())
            .collect()
    }

    #[test]
    fn a_thread_moved_to_a_core_may_still_run_on_every_core() {
        std::thread::spawn(|| {
            let before = allowed();
            for k in 0..before.len() + 1 {
                super::move_to_core(k);
                assert_eq!(allowed(), before, "moved to core {k}");
            }
        })
        .join()
        .unwrap();
    }
}

//! How long one export cycle takes: the SDK's collection of the agent's own metrics plus the
//! encoding of every request (those and the series tables). Both run on the periodic reader's
//! thread, so that thread's CPU clock measures the cycle's CPU time exactly, whatever else the
//! process is doing (gzip and the network I/O run on the runtime and are not included).
//!
//! The cycle starts in the callback of the first observable instrument registered (the SDK
//! runs callbacks in registration order) and ends when the last request is built; the time spent
//! waiting for requests to be sent is left out of the wall time.

use std::collections::HashMap;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One finished cycle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleTime {
    pub wall: Duration,
    pub cpu: Duration,
    pub points: u64,
}

#[derive(Clone, Copy, Debug)]
struct Mark {
    wall: Instant,
    cpu: Duration,
}

/// Start marks per collecting thread (another reader, such as a Prometheus scrape, collects on
/// its own thread and must not restart this one's cycle), and the last finished cycle.
#[derive(Debug, Default)]
pub struct CycleClock {
    started: Mutex<HashMap<ThreadId, Mark>>,
    last: Mutex<Option<CycleTime>>,
}

impl CycleClock {
    /// A collection starts on the current thread.
    pub fn start(&self) {
        let Some(cpu) = thread_cpu_time() else { return };
        self.started.lock().insert(std::thread::current().id(), Mark { wall: Instant::now(), cpu });
    }

    /// The export of the collection started on this thread is built; `waited` is the time
    /// spent waiting for its requests to be sent, left out. `None` when no start was seen.
    pub fn finish(&self, points: u64, waited: Duration) -> Option<CycleTime> {
        let mark = self.started.lock().remove(&std::thread::current().id())?;
        let cpu = thread_cpu_time()?.saturating_sub(mark.cpu);
        let cycle = CycleTime { wall: mark.wall.elapsed().saturating_sub(waited), cpu, points };
        *self.last.lock() = Some(cycle);
        Some(cycle)
    }

    /// The latest finished cycle.
    pub fn last(&self) -> Option<CycleTime> {
        *self.last.lock()
    }
}

/// CPU time consumed so far by the calling thread.
pub fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_spans_start_to_finish_on_one_thread() {
        let clock = CycleClock::default();
        assert_eq!(clock.finish(1, Duration::ZERO), None, "no start seen");
        clock.start();
        let mut spin = 0u64;
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_millis(20) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let cycle = clock.finish(7, Duration::ZERO).expect("started on this thread");
        assert_eq!(cycle.points, 7);
        assert!(cycle.wall >= Duration::from_millis(20));
        assert!(cycle.cpu > Duration::ZERO && cycle.cpu <= cycle.wall + Duration::from_millis(5));
        assert_eq!(clock.last(), Some(cycle));
        assert_eq!(clock.finish(7, Duration::ZERO), None, "each start finishes once");
    }

    #[test]
    fn another_thread_does_not_finish_this_threads_cycle() {
        let clock = std::sync::Arc::new(CycleClock::default());
        clock.start();
        let other = clock.clone();
        assert_eq!(std::thread::spawn(move || other.finish(1, Duration::ZERO)).join().unwrap(), None);
        assert!(clock.finish(1, Duration::ZERO).is_some());
    }
}

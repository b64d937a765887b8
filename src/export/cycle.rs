//! How long one export takes to read and encode. An export alternates between synchronous
//! steps (collecting the agent's own metrics, reading and encoding a chunk) and waits for the
//! Collector; each step runs on one thread, so that thread's CPU clock measures it exactly,
//! whatever else the process is doing. The waits (and gzip and the network I/O, which run in
//! the transport) are left out.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One finished export's figures (`kube_state_otel.export.duration`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleTime {
    pub wall: Duration,
    pub cpu: Duration,
    pub points: u64,
}

/// The running totals of one export's steps.
#[derive(Debug, Default)]
pub struct Cycle {
    wall: Duration,
    cpu: Duration,
}

impl Cycle {
    /// Runs one synchronous step of the export and adds its times.
    pub fn measure<T>(&mut self, step: impl FnOnce() -> T) -> T {
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        let out = step();
        self.wall += wall.elapsed();
        if let (Some(before), Some(after)) = (cpu, thread_cpu_time()) {
            self.cpu += after.saturating_sub(before);
        }
        out
    }

    pub fn finish(self, points: u64) -> CycleTime {
        CycleTime { wall: self.wall, cpu: self.cpu, points }
    }
}

/// The last finished export's figures.
#[derive(Debug, Default)]
pub struct CycleClock {
    last: Mutex<Option<CycleTime>>,
}

impl CycleClock {
    pub fn record(&self, cycle: CycleTime) {
        *self.last.lock() = Some(cycle);
    }

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

    fn spin(for_at_least: Duration) {
        let begun = Instant::now();
        let mut n = 0u64;
        while begun.elapsed() < for_at_least {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    #[test]
    fn steps_add_up_and_waits_between_them_do_not_count() {
        let mut cycle = Cycle::default();
        assert_eq!(cycle.measure(|| 7), 7);
        cycle.measure(|| spin(Duration::from_millis(5)));
        let wait = Duration::from_millis(600);
        std::thread::sleep(wait);
        cycle.measure(|| spin(Duration::from_millis(5)));
        let time = cycle.finish(3);
        assert_eq!(time.points, 3);
        assert!(time.wall >= Duration::from_millis(10), "{time:?}");
        assert!(time.wall < wait, "the wait between the steps is left out: {time:?}");
        assert!(time.cpu > Duration::ZERO && time.cpu <= time.wall + Duration::from_millis(5), "{time:?}");
        let clock = CycleClock::default();
        assert_eq!(clock.last(), None);
        clock.record(time);
        assert_eq!(clock.last(), Some(time));
    }
}

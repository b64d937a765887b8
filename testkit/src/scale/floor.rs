//! The parse floor: what a bare `serde_json::Value` parse of the same objects costs, one object
//! at a time, on this thread's CPU clock. The agent's initial sync and idle exports are reported
//! as multiples of it (issue 17: initial sync ≤ 2× the floor, an idle export ≤ 0.25×).

use std::time::Duration;

pub use crate::measure::thread_cpu;

/// The least thread CPU time of `passes` passes parsing every object of `objects` into a
/// `serde_json::Value`, one by one. `objects` are the objects' JSON as the server serves them.
pub fn parse_floor(objects: &[Vec<u8>], passes: u32) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..passes.max(1) {
        let start = thread_cpu();
        for bytes in objects {
            let value = serde_json::from_slice::<serde_json::Value>(bytes).expect("the harness's own JSON");
            drop(std::hint::black_box(value));
        }
        best = best.min(thread_cpu().saturating_sub(start));
    }
    best
}

/// The floor, measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    pub cpu: Duration,
    pub objects: usize,
    pub passes: u32,
}

impl Floor {
    /// `cpu` as a multiple of the floor (infinite when the floor is 0, i.e. no objects).
    pub fn ratio(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() / self.cpu.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_grows_with_the_objects() {
        let one = serde_json::to_vec(&super::super::cluster(1, 0)).unwrap();
        let objects = vec![one; 200];
        let floor = parse_floor(&objects, 3);
        assert!(floor > Duration::ZERO);
        // Nothing to parse costs only the two clock reads.
        assert!(parse_floor(&[], 1) < floor);
    }
}

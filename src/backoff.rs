//! The one retry policy of the agent: a wait that starts at `first` and doubles with each
//! consecutive failure up to `max`. Discovery of a missing CRD, the OTLP retry queue, etcd
//! watches and etcd member polls all back off this way, each with its own bounds.

use std::time::Duration;

/// A doubling wait between `first` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Backoff { first, max }
    }

    /// How many times `first` the wait after failure `attempt` (0-based) spans: 1, 2, 4, ...
    /// up to `max / first`.
    pub fn factor(&self, attempt: u32) -> u32 {
        let cap = (self.max.as_nanos() / self.first.as_nanos().max(1)).clamp(1, u128::from(u32::MAX)) as u32;
        1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX).min(cap)
    }

    /// The wait after failure `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.first.saturating_mul(self.factor(attempt)).min(self.max)
    }

    /// The longest wait.
    pub fn max(&self) -> Duration {
        self.max
    }
}

/// Consecutive failures of one thing, and the wait each calls for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts(u32);

impl Attempts {
    /// The wait after one more failure.
    pub fn next_delay(&mut self, policy: &Backoff) -> Duration {
        let delay = policy.delay(self.0);
        self.0 = self.0.saturating_add(1);
        delay
    }

    /// The factor of one more failure (see [`Backoff::factor`]).
    pub fn next_factor(&mut self, policy: &Backoff) -> u32 {
        let factor = policy.factor(self.0);
        self.0 = self.0.saturating_add(1);
        factor
    }

    /// After a success: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_first_to_max() {
        let policy = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let secs: Vec<u64> = (0..9).map(|a| policy.delay(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(policy.delay(u32::MAX), policy.max());
        let retry = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(retry.delay(1), Duration::from_secs(1));
        assert_eq!(retry.delay(6), Duration::from_secs(30));
    }

    #[test]
    fn attempts_count_up_and_reset() {
        let policy = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
        let mut attempts = Attempts::default();
        let got: Vec<u128> = (0..10).map(|_| attempts.next_delay(&policy).as_millis()).collect();
        assert_eq!(got, [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
        attempts.reset();
        assert_eq!(attempts.next_delay(&policy), Duration::from_millis(200));
        let polls = Backoff::new(Duration::from_secs(1), Duration::from_secs(4));
        let mut attempts = Attempts::default();
        let factors: Vec<u32> = (0..5).map(|_| attempts.next_factor(&polls)).collect();
        assert_eq!(factors, [1, 2, 4, 4, 4]);
    }
}

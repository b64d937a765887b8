//! The pure timing rules of the watch loop: how long to wait for a CRD that is not installed,
//! and how often one metric's extraction errors may be logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// First wait after discovery found no such resource.
pub const DISCOVERY_RETRY_MIN: Duration = Duration::from_secs(1);
/// Longest wait between discovery attempts.
pub const DISCOVERY_RETRY_MAX: Duration = Duration::from_secs(60);
/// At most one extraction-error log line per metric in this period (SPEC §4).
pub const EXTRACT_ERROR_LOG_PERIOD: Duration = Duration::from_secs(60);

/// The wait before discovery attempt `attempt + 1`: 1 s doubling up to 60 s.
pub fn discovery_retry_delay(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
    DISCOVERY_RETRY_MIN.saturating_mul(factor).min(DISCOVERY_RETRY_MAX)
}

/// Lets one log line per key through per period; the caller passes the clock.
#[derive(Debug)]
pub struct LogLimiter {
    period: Duration,
    last: HashMap<String, Instant>,
}

impl LogLimiter {
    pub fn new(period: Duration) -> Self {
        LogLimiter { period, last: HashMap::new() }
    }

    /// Whether a line for `key` may be logged at `now`; if so, `now` starts a new period.
    pub fn allow(&mut self, key: &str, now: Instant) -> bool {
        match self.last.get_mut(key) {
            Some(last) if now.saturating_duration_since(*last) < self.period => false,
            Some(last) => {
                *last = now;
                true
            }
            None => {
                self.last.insert(key.to_owned(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_retry_doubles_from_one_second_to_a_minute() {
        let secs: Vec<u64> = (0..9).map(|a| discovery_retry_delay(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(discovery_retry_delay(u32::MAX), DISCOVERY_RETRY_MAX);
    }

    #[test]
    fn log_limiter_allows_one_line_per_metric_per_period() {
        let mut limiter = LogLimiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limiter.allow("a.gauge", t0));
        assert!(!limiter.allow("a.gauge", t0 + Duration::from_secs(59)));
        assert!(limiter.allow("b.gauge", t0 + Duration::from_secs(1)), "keys are independent");
        assert!(limiter.allow("a.gauge", t0 + Duration::from_secs(60)));
        assert!(!limiter.allow("a.gauge", t0 + Duration::from_secs(119)));
        assert!(limiter.allow("a.gauge", t0 + Duration::from_secs(120)));
    }
}

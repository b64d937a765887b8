//! The pure timing rules of the watch loop: how long to wait for a CRD that is not installed,
//! and how often one metric's extraction errors may be logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;

/// The wait between discovery attempts of a resource that is not served: 1 s doubling to 60 s.
pub const DISCOVERY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
/// At most one extraction-error log line per metric in this period (SPEC §4).
pub const EXTRACT_ERROR_LOG_PERIOD: Duration = Duration::from_secs(60);

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

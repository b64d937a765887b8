//! Loopback ports for listeners a test or the harness asks another process to open (the agent's
//! health or metrics server, Prometheus, VictoriaMetrics).
//!
//! Such a port is chosen here, checked free and released, so someone else may take it before the
//! other process binds it. Asking the kernel for "any port" (`bind` to port 0) makes that likely
//! on a busy machine: every outgoing connection and every listener bound to port 0 draws from the
//! same ephemeral range, so a port just released there is soon handed out again. These ports are
//! drawn instead from below that range, at a random place walked on per process, where only
//! other callers of this function look.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Lowest port handed out; below it lie the well-known and registered services people run.
const LOWEST: u16 = 10_000;

/// A loopback port that was free a moment ago, outside the kernel's ephemeral range.
pub fn free_port() -> u16 {
    try_free_port().expect("no free loopback port")
}

/// Like [`free_port`], with the failure as a message instead of a panic.
pub fn try_free_port() -> Result<u16, String> {
    let (low, span) = span();
    if let Some(port) = pick_in(low, span) {
        return Ok(port);
    }
    // Every port below the ephemeral range is taken (or the range starts too low to have any):
    // fall back on the kernel's choice.
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A port of `low..low + span` that binds now, trying each once from the next place on.
fn pick_in(low: u16, span: u32) -> Option<u16> {
    let start = next();
    (0..span)
        .map(|i| low + (start.wrapping_add(i) % span) as u16)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
}

/// The first port and the number of ports this module hands out.
fn span() -> (u16, u32) {
    let ephemeral_low = ephemeral_low().unwrap_or(32_768);
    let low = LOWEST.min(ephemeral_low.saturating_sub(1)).max(1024);
    (low, u32::from(ephemeral_low.saturating_sub(low)).max(1))
}

/// The start of `net.ipv4.ip_local_port_range`, where the kernel's own choices begin.
fn ephemeral_low() -> Option<u16> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The next place to start from: a random start per process, then one port further each call,
/// so one process does not hand out the port it handed out last and two processes rarely meet.
fn next() -> u32 {
    static START: OnceLock<u32> = OnceLock::new();
    static STEP: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(rand::random::<u32>);
    start.wrapping_add(STEP.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_lie_below_the_ephemeral_range_and_are_bindable() {
        let (low, span) = span();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let port = free_port();
            assert!(port >= low && u32::from(port) < u32::from(low) + span, "{port} outside {low}+{span}");
            assert!(seen.insert(port), "{port} handed out twice");
            TcpListener::bind(("127.0.0.1", port)).unwrap();
        }
    }

    #[test]
    fn a_taken_port_is_skipped_and_a_full_span_gives_none() {
        // Two neighbouring ports, both held by this test; from the kernel's range, so that the
        // other test here, drawing from below it, never meets them.
        let (first, second) = loop {
            let a = TcpListener::bind("127.0.0.1:0").unwrap();
            let low = a.local_addr().unwrap().port();
            if let Ok(b) = TcpListener::bind(("127.0.0.1", low + 1)) {
                break (a, b);
            }
        };
        let low = first.local_addr().unwrap().port();
        assert_eq!(pick_in(low, 2), None, "both ports are held");
        drop(second);
        for _ in 0..10 {
            assert_eq!(pick_in(low, 2), Some(low + 1));
        }
    }
}

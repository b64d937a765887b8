//! Test support shared by tests, benches and the scale harness; no dependency on the agent crate.

pub mod arbitrary;
mod counted_io;
pub mod fake_apiserver;
pub mod measure;
pub mod otlp_receiver;
pub mod scale;

/// A loopback port that was free a moment ago, for a listener a test starts (the agent's
/// health or metrics server, a scraper). Released before returning, so a race is possible but
/// rare; servers the harness runs itself bind port 0 instead.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

//! Test harness shared by tests, benches and the scale harness (`testing` feature).

pub mod fake_apiserver;
pub mod otlp_receiver;
pub mod scale;

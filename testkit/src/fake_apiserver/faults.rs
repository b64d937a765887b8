//! Injected trouble, as a loaded or failing real API server gives it: answers of 429 with
//! `Retry-After`, 500 or 503, and answers that take a long time. Each fault applies to the
//! next `times` requests it matches, in the order the faults were added.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::header;

use super::status::ApiError;

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultVerb {
    /// `GET` without `watch`: lists and gets.
    List,
    /// `GET` with `watch=true`.
    Watch,
    /// Any request.
    Any,
}

/// One kind of trouble for the requests whose path ends with `path_suffix`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// The end of the request path (`/databases`), matched exactly.
    pub path_suffix: String,
    pub verb: FaultVerb,
    /// How long the server waits before answering (or before serving, without `status`).
    pub delay: Duration,
    /// The error status to answer with; `None` serves the request normally after `delay`.
    pub status: Option<u16>,
    /// The `Retry-After` header (seconds) sent with `status`.
    pub retry_after: Option<u64>,
    /// How many matching requests get this fault.
    pub times: usize,
}

impl Fault {
    /// `times` lists of `path_suffix` answered with `status`.
    pub fn status(path_suffix: &str, status: u16, times: usize) -> Self {
        Fault {
            path_suffix: path_suffix.to_string(),
            verb: FaultVerb::List,
            delay: Duration::ZERO,
            status: Some(status),
            retry_after: None,
            times,
        }
    }

    /// `times` lists of `path_suffix` served only after `delay`.
    pub fn slow(path_suffix: &str, delay: Duration, times: usize) -> Self {
        Fault { delay, status: None, ..Fault::status(path_suffix, 200, times) }
    }

    /// With a `Retry-After: seconds` header.
    pub fn retry_after(self, seconds: u64) -> Self {
        Fault { retry_after: Some(seconds), ..self }
    }

    /// Applying to `verb` requests instead.
    pub fn on(self, verb: FaultVerb) -> Self {
        Fault { verb, ..self }
    }

    fn matches(&self, path: &str, is_watch: bool) -> bool {
        let verb = match self.verb {
            FaultVerb::List => !is_watch,
            FaultVerb::Watch => is_watch,
            FaultVerb::Any => true,
        };
        verb && self.times > 0 && path.ends_with(&self.path_suffix)
    }

    /// The response of a fault with a status, shaped as the real server's (a `Status` body).
    pub(crate) fn response(&self) -> Option<Response> {
        let code = self.status?;
        let (reason, message) = match code {
            429 => ("TooManyRequests", "Too many requests, please try again later."),
            503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
            504 => ("Timeout", "the server was unable to return a response in the time allotted"),
            _ => ("InternalError", "an error on the server has prevented the request from succeeding"),
        };
        let error = ApiError::new(code, reason, message);
        let mut response = error.into_response();
        if let Some(seconds) = self.retry_after {
            let value = http::HeaderValue::from(seconds);
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        Some(response)
    }
}

/// The faults still to be given.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    /// The first fault matching a request, counted as given.
    pub fn take(&mut self, path: &str, is_get: bool, is_watch: bool) -> Option<Fault> {
        if !is_get {
            return None;
        }
        let fault = self.0.iter_mut().find(|f| f.matches(path, is_watch))?;
        fault.times -= 1;
        let given = fault.clone();
        self.0.retain(|f| f.times > 0);
        Some(given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_to_matching_requests_and_run_out() {
        let mut faults = Faults::default();
        faults.add(Fault::status("/databases", 429, 2).retry_after(3));
        faults.add(Fault::status("/databases", 500, 1).on(FaultVerb::Watch));
        assert!(faults.take("/apis/example.com/v1/widgets", true, false).is_none());
        assert!(faults.take("/apis/example.com/v1/databases", false, false).is_none(), "writes pass");
        let first = faults.take("/apis/example.com/v1/databases", true, false).unwrap();
        assert_eq!((first.status, first.retry_after), (Some(429), Some(3)));
        let watch = faults.take("/apis/example.com/v1/databases", true, true).unwrap();
        assert_eq!(watch.status, Some(500));
        assert!(faults.take("/apis/example.com/v1/databases", true, true).is_none());
        assert!(faults.take("/apis/example.com/v1/databases", true, false).is_some());
        assert!(faults.take("/apis/example.com/v1/databases", true, false).is_none());
        let response = first.response().unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }
}

//! Sample values written the way Prometheus' Go client writes them, so the output is
//! byte-for-byte what a scrape of the Collector's exporter returns.

/// The text format (0.0.4): Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits
/// that round-trip, in exponent form when the decimal exponent is below -4 or at least 6.
pub fn text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. `1.7356896e9`.
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{f}")
    }
}

/// OpenMetrics: as the text format, but a value without `.` or `e` gets `.0`.
pub fn openmetrics(f: f64) -> String {
    let s = text(f);
    if f.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let cases = [
            (1.0, "1"),
            (0.0, "0"),
            (-1.0, "-1"),
            (0.25, "0.25"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (1735689600.0, "1.7356896e+09"),
            (5368709120.0, "5.36870912e+09"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e21, "1e+21"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (value, want) in cases {
            assert_eq!(text(value), want, "{value}");
        }
    }

    #[test]
    fn openmetrics_values_always_look_like_floats() {
        assert_eq!(openmetrics(1.0), "1.0");
        assert_eq!(openmetrics(0.0), "0.0");
        assert_eq!(openmetrics(42.0), "42.0");
        assert_eq!(openmetrics(0.5), "0.5");
        assert_eq!(openmetrics(1e6), "1e+06");
        assert_eq!(openmetrics(f64::INFINITY), "+Inf");
    }
}

//! Kubernetes quantities (`250m`, `5Gi`, `1e3`): as numbers for custom-resource values, and as
//! exact integers, rounded up like the API server's `MilliValue()` and `Value()`, for node and
//! pod resources.

/// A Kubernetes quantity (`250m`, `5Gi`, `1.5Ki`, `100M`, `1e3`, `12E`, `-0.5`) as a number.
///
/// Decimal forms are computed through one correctly rounded decimal-to-float conversion, so
/// `250m` is exactly the double nearest 0.25 and `100M` exactly 1e8; binary suffixes multiply by
/// a power of two, which is exact. `None` when `s` is not a quantity or does not fit an `f64`.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    let mut digits = 0;
    let mut dots = 0;
    while let Some(&b) = bytes.get(end) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => break,
        }
        end += 1;
    }
    if digits == 0 || dots > 1 || end == digits_start {
        return None;
    }
    let (number, suffix) = s.split_at(end);
    let decimal_exponent = match suffix {
        "" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = match suffix {
                "Ki" => 10,
                "Mi" => 20,
                "Gi" => 30,
                "Ti" => 40,
                "Pi" => 50,
                _ => 60,
            };
            let value = number.parse::<f64>().ok()? * 2f64.powi(power);
            return value.is_finite().then_some(value);
        }
        _ => parse_exponent(suffix)?,
    };
    let value = format!("{number}e{decimal_exponent}").parse::<f64>().ok()?;
    value.is_finite().then_some(value)
}

/// `e3`, `E-2`, `e+6`: the exponent of a decimal-exponent quantity.
fn parse_exponent(suffix: &str) -> Option<i64> {
    let rest = suffix.strip_prefix(['e', 'E'])?;
    let unsigned = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if unsigned.is_empty() || unsigned.len() > 6 || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// `3800m` → 3800, `2` → 2000, `100n` → 1 (rounded up).
pub fn to_milli(text: &str) -> Option<i64> {
    parse_quantity(text).map(|v| ceil_exact(v * 1000.0))
}

/// `15Gi` → 16106127360, `1e3` → 1000, `1500m` → 2 (rounded up).
pub fn to_units(text: &str) -> Option<i64> {
    parse_quantity(text).map(ceil_exact)
}

/// Rounds up, except values within float noise of an integer (`0.1 * 1000`).
fn ceil_exact(v: f64) -> i64 {
    let nearest = v.round();
    if (v - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest as i64
    } else {
        v.ceil() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_quantities_exactly() {
        let cases: &[(&str, Option<f64>)] = &[
            ("0", Some(0.0)),
            ("1", Some(1.0)),
            ("+1", Some(1.0)),
            ("-1", Some(-1.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("250m", Some(0.25)),
            ("3800m", Some(3.8)),
            ("100n", Some(1e-7)),
            ("10u", Some(1e-5)),
            ("1k", Some(1000.0)),
            ("100M", Some(1e8)),
            ("2G", Some(2e9)),
            ("3T", Some(3e12)),
            ("4P", Some(4e15)),
            ("12E", Some(12e18)),
            ("1.5Ki", Some(1536.0)),
            ("1Mi", Some(1048576.0)),
            ("5Gi", Some(5368709120.0)),
            ("1Ti", Some(1099511627776.0)),
            ("1Pi", Some(1125899906842624.0)),
            ("2Ei", Some(2305843009213693952.0)),
            ("-0.5Gi", Some(-536870912.0)),
            ("1e3", Some(1000.0)),
            ("1E3", Some(1000.0)),
            ("1.5e-3", Some(0.0015)),
            ("2e+2", Some(200.0)),
            ("0.1", Some(0.1)),
            ("123456789012345678", Some(123456789012345678.0)),
            ("", None),
            ("m", None),
            ("Gi", None),
            (".", None),
            ("+", None),
            ("1.2.3", None),
            ("1K", None),
            ("1KI", None),
            ("1gi", None),
            ("1e", None),
            ("1e+", None),
            ("1e1.5", None),
            ("1mm", None),
            ("1Gi ", None),
            (" 1", None),
            ("1e9999999", None),
            ("1e400", None),
            ("0x10", None),
            ("∞", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_quantity(input), *want, "{input:?}");
        }
    }

    #[test]
    fn odd_quantities_are_exact() {
        let milli =
            [("3800m", 3800), ("2", 2000), ("0.1", 100), ("100n", 1), ("1e3", 1_000_000), ("1.5", 1500)];
        for (text, want) in milli {
            assert_eq!(to_milli(text), Some(want), "{text}");
        }
        let units = [
            ("15Gi", 16_106_127_360),
            ("100M", 100_000_000),
            ("1e3", 1000),
            ("1500m", 2),
            ("128974848", 128_974_848),
            ("129e6", 129_000_000),
            ("123Mi", 128_974_848),
            ("1k", 1000),
            ("110", 110),
        ];
        for (text, want) in units {
            assert_eq!(to_units(text), Some(want), "{text}");
        }
        assert_eq!(to_units("lots"), None);
        assert_eq!(to_milli(""), None);
    }
}

//! Kubernetes quantities as exact integers, rounded up like the API server's `MilliValue()`
//! and `Value()`.

use crate::collectors::crds::parse_quantity;

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

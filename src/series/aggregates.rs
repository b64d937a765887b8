//! Aggregations over the objects of a table, computed at each read from small per-object
//! inputs (SPEC §4.2): one input point per object and aggregation, whose attributes are the
//! group (and, for `distinct`, the value last) and whose value is the aggregated number.

use std::collections::{HashMap, HashSet};

use opentelemetry::KeyValue;

/// The attribute that carries the value of a `distinct` input (never exported).
pub const DISTINCT_VALUE: &str = "__distinct_value";

/// The aggregation functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reducer {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    /// 0 to 100, linear interpolation between the closest ranks (numpy's default).
    Percentile(f64),
    Distinct,
}

/// Percentiles are checked to be 0 to 100 when compiled, never NaN, so equality is total.
impl Eq for Reducer {}

/// A function and whether its inputs are grouped (which decides what an empty set gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reduction {
    pub reducer: Reducer,
    pub grouped: bool,
}

impl Reduction {
    /// One `(attributes, value)` per group of `inputs`. Without groups, `count`, `sum` and
    /// `distinct` of nothing are 0 and the other functions give nothing; with groups, only
    /// groups that have inputs exist.
    pub fn reduce(&self, inputs: Vec<(Vec<KeyValue>, f64)>) -> Vec<(Vec<KeyValue>, f64)> {
        let mut groups: Vec<(Vec<KeyValue>, Vec<f64>, HashSet<String>)> = Vec::new();
        let mut index: HashMap<Vec<KeyValue>, usize> = HashMap::new();
        for (mut attributes, value) in inputs {
            let distinct = match self.reducer {
                Reducer::Distinct => attributes.pop().map(|kv| kv.value.as_str().into_owned()),
                _ => None,
            };
            let i = *index.entry(attributes.clone()).or_insert_with(|| {
                groups.push((attributes, Vec::new(), HashSet::new()));
                groups.len() - 1
            });
            groups[i].1.push(value);
            groups[i].2.extend(distinct);
        }
        if groups.is_empty() && !self.grouped {
            groups.push((Vec::new(), Vec::new(), HashSet::new()));
        }
        groups
            .into_iter()
            .filter_map(|(attributes, mut values, distinct)| {
                let value = match self.reducer {
                    Reducer::Distinct => Some(distinct.len() as f64),
                    reducer => reduce(reducer, &mut values),
                };
                value.map(|v| (attributes, v))
            })
            .collect()
    }
}

/// `reducer` over `values` (reordered); `None` when the function has no value for an empty set.
pub fn reduce(reducer: Reducer, values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    match reducer {
        Reducer::Count => return Some(n as f64),
        // Not `Iterator::sum`, whose empty f64 sum is -0, exported as `-0`.
        Reducer::Sum => return Some(values.iter().fold(0.0, |total, v| total + v)),
        Reducer::Distinct => {
            let bits: HashSet<u64> = values.iter().map(|v| v.to_bits()).collect();
            return Some(bits.len() as f64);
        }
        _ if n == 0 => return None,
        _ => {}
    }
    match reducer {
        Reducer::Avg => Some(values.iter().sum::<f64>() / n as f64),
        Reducer::Min => values.iter().copied().reduce(f64::min),
        Reducer::Max => values.iter().copied().reduce(f64::max),
        Reducer::Median => Some(percentile(values, 50.0)),
        Reducer::Percentile(p) => Some(percentile(values, p)),
        Reducer::Count | Reducer::Sum | Reducer::Distinct => None,
    }
}

/// numpy's default (`linear`): rank `p/100 * (n-1)`, interpolated between its neighbours.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (p.clamp(0.0, 100.0) / 100.0) * (values.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    values[low] + (values[high] - values[low]) * (rank - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approx(got: Option<f64>, want: Option<f64>) {
        match (got, want) {
            (Some(g), Some(w)) => {
                assert!((g - w).abs() < 1e-9, "got {g}, want {w}");
                assert_eq!(g.is_sign_negative(), w.is_sign_negative(), "got {g}, want {w}");
            }
            _ => assert_eq!(got, want),
        }
    }

    #[test]
    fn functions_match_numpy() {
        use Reducer::*;
        let cases: &[(Reducer, &[f64], Option<f64>)] = &[
            (Count, &[5.0, 1.0], Some(2.0)),
            (Sum, &[1.5, 2.5, 3.0], Some(7.0)),
            (Avg, &[1.0, 2.0, 3.0, 4.0], Some(2.5)),
            (Min, &[3.0, -1.0, 2.0], Some(-1.0)),
            (Max, &[3.0, -1.0, 2.0], Some(3.0)),
            (Median, &[4.0, 1.0, 3.0, 2.0], Some(2.5)),
            (Median, &[5.0, 1.0, 3.0], Some(3.0)),
            // numpy.percentile([1, 2, 3, 4], 95) = 3.85; ([1, 2, 3, 4], 50) = 2.5
            (Percentile(95.0), &[4.0, 3.0, 2.0, 1.0], Some(3.85)),
            (Percentile(50.0), &[1.0, 2.0, 3.0, 4.0], Some(2.5)),
            // numpy.percentile([10, 20, 30, 40, 50], 90) = 46.0; (..., 0) = 10; (..., 100) = 50
            (Percentile(90.0), &[10.0, 20.0, 30.0, 40.0, 50.0], Some(46.0)),
            (Percentile(0.0), &[10.0, 20.0, 30.0, 40.0, 50.0], Some(10.0)),
            (Percentile(100.0), &[10.0, 20.0, 30.0, 40.0, 50.0], Some(50.0)),
            (Percentile(95.0), &[7.0], Some(7.0)),
            (Distinct, &[1.0, 1.0, 2.0], Some(2.0)),
            (Count, &[], Some(0.0)),
            (Sum, &[], Some(0.0)),
            (Distinct, &[], Some(0.0)),
            (Avg, &[], None),
            (Min, &[], None),
            (Max, &[], None),
            (Median, &[], None),
            (Percentile(95.0), &[], None),
        ];
        for (reducer, values, want) in cases {
            approx(reduce(*reducer, &mut values.to_vec()), *want);
        }
    }

    fn group(ns: &str) -> Vec<KeyValue> {
        vec![KeyValue::new("ns", ns.to_owned())]
    }

    #[test]
    fn empty_sets_follow_grouping() {
        let ungrouped = |reducer| Reduction { reducer, grouped: false }.reduce(vec![]);
        assert_eq!(ungrouped(Reducer::Count), vec![(vec![], 0.0)]);
        assert_eq!(ungrouped(Reducer::Sum), vec![(vec![], 0.0)]);
        assert_eq!(ungrouped(Reducer::Distinct), vec![(vec![], 0.0)]);
        assert!(ungrouped(Reducer::Avg).is_empty());
        assert!(ungrouped(Reducer::Percentile(50.0)).is_empty());
        assert!(Reduction { reducer: Reducer::Count, grouped: true }.reduce(vec![]).is_empty());
    }

    #[test]
    fn groups_and_distinct_values() {
        let sum = Reduction { reducer: Reducer::Sum, grouped: true };
        let mut got = sum.reduce(vec![(group("a"), 1.0), (group("b"), 2.0), (group("a"), 3.0)]);
        got.sort_by(|x, y| format!("{:?}", x.0).cmp(&format!("{:?}", y.0)));
        assert_eq!(got, vec![(group("a"), 4.0), (group("b"), 2.0)]);

        let distinct = Reduction { reducer: Reducer::Distinct, grouped: false };
        let value = |v: &str| vec![KeyValue::new(DISTINCT_VALUE, v.to_owned())];
        let got = distinct.reduce(vec![(value("x"), 1.0), (value("y"), 1.0), (value("x"), 1.0)]);
        assert_eq!(got, vec![(vec![], 2.0)]);
    }
}

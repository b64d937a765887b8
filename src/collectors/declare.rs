//! How a collector declares its metrics: once, in one list (like the `metadata.yaml` of the
//! Collector's receivers). From that list [`declare_metrics!`] makes the enum the point-building
//! code uses, the series table's specs in the same order, and the declarations the docs are
//! checked against, so no second list can drift from the first.

use crate::series::{Aggregation, InstrumentKind, MetricSpec};

/// What a collector says about one of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDeclaration {
    /// The OpenTelemetry instrument name.
    pub name: &'static str,
    /// The UCUM unit (`1`, `By`, `s`, `{node}`).
    pub unit: &'static str,
    /// Which instrument carries the metric.
    pub instrument: InstrumentKind,
    /// Whether points of different objects are separate series or summed into one.
    pub aggregation: Aggregation,
    /// The instrument description.
    pub description: &'static str,
    /// Every attribute key a point of the metric can carry.
    pub attributes: &'static [&'static str],
}

impl MetricDeclaration {
    /// The spec the series table exports the metric with.
    pub fn spec(&self) -> MetricSpec {
        MetricSpec {
            name: self.name.to_owned(),
            description: self.description.to_owned(),
            unit: self.unit.to_owned(),
            kind: self.instrument,
            aggregation: self.aggregation,
        }
    }
}

/// Declares a collector's metrics as one enum:
///
/// ```ignore
/// declare_metrics! {
///     /// The metrics of the example collector.
///     pub enum ExampleMetric {
///         Up { name: "example.up", unit: "1", instrument: Gauge,
///              description: "1 when the source answers", attributes: [SOURCE] },
///         Count { name: "example.count", unit: "{item}", instrument: UpDownCounter,
///                 aggregation: SumAcrossObjects, description: "Items", attributes: [] },
///     }
/// }
/// ```
///
/// `aggregation` defaults to `PerObject`. The enum's discriminant is the metric's index in
/// `specs()`, so `metric.id()` and the table always agree.
macro_rules! declare_metrics {
    (@aggregation) => { $crate::series::Aggregation::PerObject };
    (@aggregation $aggregation:ident) => { $crate::series::Aggregation::$aggregation };
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident {
                    name: $name:literal,
                    unit: $unit:literal,
                    instrument: $instrument:ident,
                    $(aggregation: $aggregation:ident,)?
                    description: $description:literal,
                    attributes: [$($attribute:expr),* $(,)?] $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $enum {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $enum {
            /// Every metric, in declaration order (the order of [`Self::specs`]).
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            /// The declaration of every metric, in the order of [`Self::ALL`].
            pub const DECLARATIONS: &'static [$crate::collectors::MetricDeclaration] = &[$(
                $crate::collectors::MetricDeclaration {
                    name: $name,
                    unit: $unit,
                    instrument: $crate::series::InstrumentKind::$instrument,
                    aggregation: $crate::collectors::declare::declare_metrics!(@aggregation $($aggregation)?),
                    description: $description,
                    attributes: &[$($attribute),*],
                },
            )*];

            /// The metric's index in its table.
            pub const fn id(self) -> $crate::series::MetricId {
                $crate::series::MetricId(self as u32)
            }

            /// What the metric is.
            pub const fn declaration(self) -> &'static $crate::collectors::MetricDeclaration {
                &Self::DECLARATIONS[self as usize]
            }

            /// The specs of the collector's table, indexed by [`Self::id`].
            pub fn specs() -> Vec<$crate::series::MetricSpec> {
                Self::DECLARATIONS.iter().map($crate::collectors::MetricDeclaration::spec).collect()
            }
        }

        impl From<$enum> for $crate::series::MetricId {
            fn from(metric: $enum) -> Self {
                metric.id()
            }
        }
    };
}

pub(crate) use declare_metrics;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::collectors::declared_metrics;

    #[test]
    fn every_declared_metric_is_a_valid_instrument_with_distinct_attributes() {
        let mut names = HashSet::new();
        for (collector, declarations) in declared_metrics() {
            assert!(!declarations.is_empty(), "{collector} declares no metric");
            for declaration in declarations {
                crate::collectors::shared::instrument::validate_instrument_name(declaration.name).unwrap();
                assert!(names.insert(declaration.name), "{} is declared twice", declaration.name);
                let attributes: HashSet<&str> = declaration.attributes.iter().copied().collect();
                assert_eq!(attributes.len(), declaration.attributes.len(), "{}", declaration.name);
            }
        }
    }

    declare_metrics! {
        /// Two metrics to check what the macro makes.
        enum Sample {
            /// The first.
            First { name: "sample.first", unit: "1", instrument: Gauge, description: "first", attributes: ["a"] },
            Second {
                name: "sample.second",
                unit: "{item}",
                instrument: Counter,
                aggregation: SumAcrossObjects,
                description: "second",
                attributes: [],
            },
        }
    }

    #[test]
    fn ids_index_the_specs() {
        use crate::series::{Aggregation, InstrumentKind, MetricId};
        let specs = Sample::specs();
        assert_eq!(Sample::ALL, [Sample::First, Sample::Second]);
        for metric in Sample::ALL {
            assert_eq!(specs[metric.id().0 as usize], metric.declaration().spec());
        }
        assert_eq!(MetricId::from(Sample::Second), MetricId(1));
        assert_eq!(specs[0].aggregation, Aggregation::PerObject);
        assert_eq!(
            (specs[1].kind, specs[1].aggregation),
            (InstrumentKind::Counter, Aggregation::SumAcrossObjects)
        );
        assert_eq!(Sample::First.declaration().attributes, ["a"]);
    }
}

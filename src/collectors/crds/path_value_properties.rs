//! Never a panic on input (path parser and value conversion): any text compiles to a path or to
//! an error naming its position; any compiled path reads any JSON; any JSON converts to a
//! finite number, text or an error. CI runs a fixed number of cases; `PROPTEST_CASES` raises it.

use kube_state_otel_testkit::arbitrary::{cases, json_value, text};
use proptest::prelude::*;
use serde_json::json;

use super::path::{Path, PathProblem};
use super::value::{attribute_text, to_number};
use crate::collectors::shared::quantity::parse_quantity;

/// A path as users write it: dotted names, indices (negative too), filters, quoted keys.
fn path_text() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_-]{0,6}".prop_map(|n| format!(".{n}")),
        "-?[0-9]{1,3}".prop_map(|i| format!("[{i}]")),
        ("[a-z]{1,5}", "[A-Za-z0-9]{0,5}").prop_map(|(f, v)| format!("[{f}={v}]")),
        "[a-z./ ]{1,6}".prop_map(|k| format!("[\"{k}\"]")),
        text(),
    ];
    ("[a-z]{1,6}", prop::collection::vec(segment, 0..5)).prop_map(|(first, rest)| first + &rest.concat())
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_text_compiles_or_names_the_place(source in prop_oneof![any::<String>(), path_text()]) {
        match Path::compile(&source) {
            Ok(path) => prop_assert_eq!(path.as_str(), source.as_str()),
            Err(error) => {
                let chars = source.chars().count();
                match error.problem {
                    PathProblem::Empty => prop_assert!(source.is_empty()),
                    PathProblem::Unexpected { position, .. } | PathProblem::NotAnIndex { position, .. } => {
                        prop_assert!(position >= 1 && position <= chars + 1, "{error}")
                    }
                    PathProblem::Unterminated { open, .. } => prop_assert!(open >= 1 && open <= chars),
                    PathProblem::Control { position, found } => {
                        prop_assert_eq!(source.chars().nth(position - 1), Some(found))
                    }
                }
            }
        }
    }

    #[test]
    fn a_compiled_path_reads_any_object(source in path_text(), object in json_value()) {
        if let Ok(path) = Path::compile(&source) {
            let _ = path.get(&object);
        }
    }

    /// A value put at a dotted path is read back from there.
    #[test]
    fn a_value_is_read_back_from_where_it_was_put(names in prop::collection::vec("[a-z][a-zA-Z0-9_]{0,6}", 1..5), leaf in json_value()) {
        let object = names.iter().rev().fold(leaf.clone(), |inner, name| json!({ name.as_str(): inner }));
        let path = Path::compile(&names.join(".")).unwrap();
        prop_assert_eq!(path.get(&object), Some(&leaf));
    }

    #[test]
    fn any_value_is_a_finite_number_or_an_error(value in json_value()) {
        if let Ok(number) = to_number(&value) {
            prop_assert!(number.is_finite(), "{value} gave {number}");
        }
        match attribute_text(Some(&value)) {
            Ok(Some(_)) => prop_assert!(!value.is_array() && !value.is_object() && !value.is_null()),
            Ok(None) => prop_assert!(value.is_null()),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn any_text_is_a_quantity_or_not(text in prop_oneof![any::<String>(), text()]) {
        if let Some(q) = parse_quantity(&text) {
            prop_assert!(!q.is_nan(), "{text:?} gave NaN");
        }
    }

    /// Plain numbers written as text are their own quantity.
    #[test]
    fn a_number_as_text_is_that_number(n in -1.0e12f64..1.0e12) {
        let parsed = parse_quantity(&n.to_string()).unwrap();
        prop_assert!((parsed - n).abs() <= n.abs() * 1e-12, "{n} gave {parsed}");
    }
}

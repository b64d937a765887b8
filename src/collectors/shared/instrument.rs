//! OpenTelemetry's rules for instrument names and units. The SDK silently replaces an
//! instrument with an invalid name by a no-op, so names are checked when the config is
//! compiled (custom resources) or when the collector's metrics are declared (tests).

/// Longest instrument name OpenTelemetry accepts.
pub const MAX_INSTRUMENT_NAME_LEN: usize = 255;
/// Longest unit OpenTelemetry accepts.
pub const MAX_UNIT_LEN: usize = 63;

/// Why a name or unit is not one OpenTelemetry accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    #[error("the name is empty")]
    Empty,
    #[error("{0:?} must start with an ASCII letter (OpenTelemetry instrument name rules)")]
    FirstNotLetter(String),
    #[error(
        "{name:?} contains {bad:?}; OpenTelemetry instrument names allow only ASCII letters, digits, '_', '.', '-' and '/'"
    )]
    Character { name: String, bad: char },
    #[error("instrument name {name:?} is {len} characters long; OpenTelemetry allows at most {MAX_INSTRUMENT_NAME_LEN}")]
    NameTooLong { name: String, len: usize },
    #[error("unit {0:?} must be ASCII (OpenTelemetry unit rules)")]
    UnitNotAscii(String),
    #[error("unit {unit:?} is {len} characters long; OpenTelemetry allows at most {MAX_UNIT_LEN}")]
    UnitTooLong { unit: String, len: usize },
}

/// An OpenTelemetry instrument name: starts with an ASCII letter; then ASCII letters, digits,
/// `_`, `.`, `-` and `/`; at most 255 characters.
pub fn validate_instrument_name(name: &str) -> Result<(), InstrumentError> {
    validate_name_part(name, true)?;
    if name.len() > MAX_INSTRUMENT_NAME_LEN {
        return Err(InstrumentError::NameTooLong { name: name.to_owned(), len: name.len() });
    }
    Ok(())
}

/// The characters of one part of an instrument name; `first` parts must start with a letter.
pub fn validate_name_part(part: &str, first: bool) -> Result<(), InstrumentError> {
    let Some(head) = part.chars().next() else {
        return Err(InstrumentError::Empty);
    };
    if first && !head.is_ascii_alphabetic() {
        return Err(InstrumentError::FirstNotLetter(part.to_owned()));
    }
    if let Some(bad) =
        part.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(InstrumentError::Character { name: part.to_owned(), bad });
    }
    Ok(())
}

/// An OpenTelemetry unit: ASCII, at most 63 characters (empty means none).
pub fn validate_unit(unit: &str) -> Result<(), InstrumentError> {
    if !unit.is_ascii() {
        return Err(InstrumentError::UnitNotAscii(unit.to_owned()));
    }
    if unit.len() > MAX_UNIT_LEN {
        return Err(InstrumentError::UnitTooLong { unit: unit.to_owned(), len: unit.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_instrument_names() {
        let long = format!("a{}", "b".repeat(254));
        let too_long = format!("{long}c");
        let cases: &[(&str, Option<&str>)] = &[
            ("sealos.cluster.phase", None),
            ("a", None),
            ("A_b-c/d.e9", None),
            (&long, None),
            ("", Some("the name is empty")),
            ("9lives", Some("must start with an ASCII letter")),
            ("_x", Some("must start with an ASCII letter")),
            ("a b", Some("contains ' '")),
            ("a:b", Some("contains ':'")),
            ("é", Some("must start with an ASCII letter")),
            ("aé", Some("contains 'é'")),
            (&too_long, Some("is 256 characters long; OpenTelemetry allows at most 255")),
        ];
        for (name, want) in cases {
            match (validate_instrument_name(name), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{name}: {e}"),
                (got, _) => panic!("{name}: unexpected {got:?}"),
            }
        }
        assert!(validate_name_part("2xx", false).is_ok());
    }

    #[test]
    fn validates_units() {
        assert!(validate_unit("").is_ok());
        assert!(validate_unit("By").is_ok());
        assert!(validate_unit("{object}").is_ok());
        assert!(validate_unit("µs").unwrap_err().to_string().contains("must be ASCII"));
        assert!(validate_unit(&"s".repeat(64)).unwrap_err().to_string().contains("at most 63"));
    }
}

//! The name rules Kubernetes itself enforces on API groups, versions, resources and kinds, so a
//! name the API server could never serve is a config error at `check` rather than a watch that
//! fails at run time.

/// Why a name cannot be what Kubernetes calls it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{name:?} is not a DNS subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters), as Kubernetes requires of {what}")]
    Subdomain { name: String, what: &'static str },
    #[error("{name:?} is not a DNS label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters), as Kubernetes requires of {what}")]
    Label { name: String, what: &'static str },
    #[error("{0:?} is not a kind (ASCII letters and digits, starting with a letter, such as PersistentVolumeClaim)")]
    Kind(String),
}

/// An API group (`apps`, `cert-manager.io`) or a resource plural (`certificates`): RFC 1123
/// DNS subdomain. The core group is empty, which the caller allows.
pub fn dns_subdomain(name: &str, what: &'static str) -> Result<(), NameError> {
    let part_ok = |part: &str| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
    };
    if name.len() <= 253 && name.split('.').all(part_ok) {
        Ok(())
    } else {
        Err(NameError::Subdomain { name: name.to_owned(), what })
    }
}

/// An API version (`v1`, `v1alpha1`): RFC 1035 DNS label.
pub fn dns_label(name: &str, what: &'static str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    let ok = bytes.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(NameError::Label { name: name.to_owned(), what })
    }
}

/// A kind (`PersistentVolumeClaim`): an ASCII identifier starting with a letter.
pub fn kind(name: &str) -> Result<(), NameError> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(NameError::Kind(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names_are_checked_as_the_api_server_does() {
        for ok in ["apps", "cert-manager.io", "a.b-c.d9", "certificates", "x"] {
            assert_eq!(dns_subdomain(ok, "an API group"), Ok(()), "{ok}");
        }
        for bad in ["[[[", "Apps", "-a.io", "a-.io", "a..io", "", "a_b", &"a".repeat(254)] {
            let err = dns_subdomain(bad, "an API group").unwrap_err().to_string();
            assert!(err.contains("is not a DNS subdomain") && err.contains("an API group"), "{bad}: {err}");
        }
        for ok in ["v1", "v1alpha1", "v2beta3", "v1-x"] {
            assert_eq!(dns_label(ok, "an API version"), Ok(()), "{ok}");
        }
        for bad in ["1v", "V1", "v 1", "v1.0", "v1-", "", &format!("v{}", "1".repeat(63))] {
            assert!(dns_label(bad, "an API version").is_err(), "{bad}");
        }
        assert_eq!(kind("PersistentVolumeClaim"), Ok(()));
        for bad in ["", "1Pod", "Pod s", "Pod-x", "Pöd"] {
            assert!(kind(bad).is_err(), "{bad}");
        }
    }
}

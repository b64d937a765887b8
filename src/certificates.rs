//! Certificate and key pairs in PEM files, as the config names them: read, parsed and checked
//! to belong together, with errors that name the file and what is wrong with it.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Reads and parses a certificate chain and its private key; the message names the file and
/// what is wrong with it.
pub fn load_certified_key(cert_file: &str, key_file: &str) -> Result<CertifiedKey, String> {
    let (cert_pem, key_pem) = read_pair(cert_file, key_file)?;
    parse_pair(cert_file, &cert_pem, key_file, &key_pem)
}

/// The two files' contents, or which one cannot be read.
pub fn read_pair(cert_file: &str, key_file: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read = |file: &str| std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"));
    Ok((read(cert_file)?, read(key_file)?))
}

/// The pair parsed from PEM texts read from the files named (for the messages).
pub fn parse_pair(
    cert_file: &str,
    cert_pem: &[u8],
    key_file: &str,
    key_pem: &[u8],
) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{cert_file}: not a PEM certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err(format!("{cert_file}: holds no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("{key_file}: not a PEM private key: {e}"))?;
    let provider = rustls::crypto::ring::default_provider();
    CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("{key_file} does not go with {cert_file}: {e}"))
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A self-signed certificate and key for `cn` in `dir`, made by openssl (as the TLS tests
    /// make theirs); returns the PEM texts.
    pub fn self_signed(dir: &std::path::Path, cn: &str) -> (Vec<u8>, Vec<u8>) {
        let (cert, key) = (dir.join(format!("{cn}.crt")), dir.join(format!("{cn}.key")));
        let out = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args(["-subj", &format!("/CN={cn}"), "-days", "1"])
            .output()
            .expect("openssl is missing: apt-get install openssl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (std::fs::read(cert).unwrap(), std::fs::read(key).unwrap())
    }

    /// Writes `cert` and `key` as `dir/tls.crt` and `dir/tls.key`; returns their paths.
    pub fn install(dir: &std::path::Path, cert: &[u8], key: &[u8]) -> (String, String) {
        let (cert_path, key_path) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        (cert_path.display().to_string(), key_path.display().to_string())
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (a_cert, _) = self_signed(dir.path(), "a");
        let (_, b_key) = self_signed(dir.path(), "b");
        let (cert, key) = install(dir.path(), &a_cert, &b_key);
        let err = load_certified_key(&cert, &key).unwrap_err();
        assert!(err.starts_with(&format!("{key} does not go with {cert}")), "{err}");
        let err = load_certified_key("/nonexistent/tls.crt", &key).unwrap_err();
        assert!(err.starts_with("cannot read /nonexistent/tls.crt: No such file"), "{err}");
        std::fs::write(&key, "not pem").unwrap();
        let err = load_certified_key(&cert, &key).unwrap_err();
        assert!(err.starts_with(&format!("{key}: not a PEM private key")), "{err}");
    }
}

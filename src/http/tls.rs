// SPDX-License-Identifier: MPL-2.0
//! TLS for every HTTPS connection the library makes: rustls (aws-lc-rs) trusting the system roots
//! plus an optional extra PEM CA bundle. Certificate verification cannot be turned off.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use crate::error::{Error, Result};

/// The TLS client settings. `ca_cert` is the `ca_cert` config value (a PEM bundle).
pub fn tls_config(ca_cert: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let roots = root_store(ca_cert)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

/// The system trust store, read once per process (as Go's `x509.SystemCertPool` is): reading and
/// parsing every file of the certificate directory costs milliseconds, which every seal init
/// (Vault re-runs SetConfig on reload) would otherwise pay again. Unreadable system certificates
/// are skipped: the `ca_cert` bundle may be all that is needed.
static SYSTEM_ROOTS: LazyLock<rustls::RootCertStore> = LazyLock::new(|| {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
});

/// The system roots plus every certificate of the `ca_cert` bundle.
fn root_store(ca_cert: Option<&Path>) -> Result<rustls::RootCertStore> {
    let mut roots = SYSTEM_ROOTS.clone();
    if let Some(path) = ca_cert {
        let added = add_pem_bundle(&mut roots, path)?;
        if added == 0 {
            return Err(Error::config(format!(
                "ca_cert {}: no PEM CERTIFICATE block found; point ca_cert at a PEM bundle of the \
                 CA certificates that issued the KMS endpoint's certificate",
                path.display()
            )));
        }
    }
    Ok(roots)
}

/// The largest `ca_cert` bundle read (the system bundle is a few hundred KiB).
const MAX_CA_BUNDLE: u64 = 16 << 20;

/// Adds the certificates of a PEM file; returns how many were added.
fn add_pem_bundle(roots: &mut rustls::RootCertStore, path: &Path) -> Result<usize> {
    let pem = crate::read_limited::read_limited(path, MAX_CA_BUNDLE).map_err(|e| {
        Error::config(format!("ca_cert {}: cannot read the CA bundle: {e}", path.display()))
    })?;
    let mut added = 0;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| {
            Error::config(format!("ca_cert {}: malformed PEM: {e}", path.display()))
        })?;
        roots.add(cert).map_err(|e| {
            Error::config(format!("ca_cert {}: invalid CA certificate: {e}", path.display()))
        })?;
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_bundle_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = tls_config(Some(&missing)).unwrap_err();
        assert!(err.message().contains("missing.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = tls_config(Some(&empty)).unwrap_err();
        assert!(err.message().contains("no PEM CERTIFICATE"), "{err}");
        assert!(tls_config(None).is_ok());
    }

    #[test]
    fn an_endless_ca_bundle_is_a_config_error_not_an_out_of_memory() {
        // Found by the seal_init fuzz target (ca_cert = "/dev/zero" read until memory ran out).
        let err = tls_config(Some(Path::new("/dev/zero"))).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Config);
        assert!(err.message().contains("larger than"), "{err}");
    }
}

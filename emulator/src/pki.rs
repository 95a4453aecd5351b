// SPDX-License-Identifier: MPL-2.0
//! The emulator's certificate authority: a persisted CA and intermediate (ECDSA P-256), RSA leaf
//! certificates for emulated instances (subject `CN=<instance>`, `OU=opc-tenant:<tenancy>`,
//! `O=opc-compartment:<compartment>`), a TLS server certificate for 127.0.0.1/localhost, and
//! verification of a presented leaf + intermediate chain.

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType, PKCS_RSA_SHA256,
};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use crate::fsutil::write_atomic;
use crate::pem;
use crate::rsakeys::RsaKey;

/// An issued instance certificate with its private key.
pub struct Leaf {
    /// Certificate PEM.
    pub cert_pem: String,
    /// PKCS#1 PEM of the RSA private key.
    pub key_pem: Zeroizing<String>,
}

/// A TLS server certificate chain and key.
pub struct TlsMaterial {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 DER of the private key.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
}

/// The certificate authority.
pub struct Pki {
    /// CA certificate PEM (also written to `DIR/ca.pem`).
    pub ca_pem: String,
    /// Intermediate certificate PEM.
    pub intermediate_pem: String,
    ca_der: Vec<u8>,
    ca: (rcgen::Certificate, KeyPair),
    intermediate: (rcgen::Certificate, KeyPair),
}

fn ca_params(cn: &str, is_root: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "oci-kms-emulator");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(if is_root {
        BasicConstraints::Unconstrained
    } else {
        BasicConstraints::Constrained(0)
    });
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2099, 12, 31);
    p
}

fn err(e: impl std::fmt::Display) -> String {
    format!("certificate generation failed: {e}")
}

fn load_or_make_key(path: &Path) -> Result<KeyPair, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return KeyPair::from_pem(&text)
            .map_err(|e| format!("CA key {} is unreadable: {e}", path.display()));
    }
    let k = KeyPair::generate().map_err(err)?;
    write_atomic(path, k.serialize_pem().as_bytes(), 0o600)?;
    Ok(k)
}

fn load_or_write_cert(
    path: &Path,
    fresh: &rcgen::Certificate,
) -> Result<(String, Vec<u8>), String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let (_, der) =
            pem::decode(&text).ok_or_else(|| format!("{} holds no certificate", path.display()))?;
        return Ok((text, der));
    }
    write_atomic(path, fresh.pem().as_bytes(), 0o644)?;
    Ok((fresh.pem(), fresh.der().to_vec()))
}

impl Pki {
    /// Loads the CA and intermediate from `dir` (creating them on first start).
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let ca_key = load_or_make_key(&dir.join("ca.key"))?;
        let int_key = load_or_make_key(&dir.join("intermediate.key"))?;
        // Issuer objects are rebuilt from fixed parameters and the persisted keys: the subject and
        // key are what chains depend on, so the persisted certificates stay valid issuers.
        let ca = ca_params("oci-kms-emulator root CA", true).self_signed(&ca_key).map_err(err)?;
        let intermediate = ca_params("oci-kms-emulator intermediate CA", false)
            .signed_by(&int_key, &ca, &ca_key)
            .map_err(err)?;
        let (ca_pem, ca_der) = load_or_write_cert(&dir.join("ca.pem"), &ca)?;
        let (intermediate_pem, _) =
            load_or_write_cert(&dir.join("intermediate.pem"), &intermediate)?;
        Ok(Pki {
            ca_pem,
            intermediate_pem,
            ca_der,
            ca: (ca, ca_key),
            intermediate: (intermediate, int_key),
        })
    }

    /// Issues an instance certificate valid for `validity` from now.
    pub fn issue_leaf(
        &self,
        instance: &str,
        tenancy: &str,
        compartment: &str,
        validity: Duration,
    ) -> Result<Leaf, String> {
        let rsa = RsaKey::generate()?;
        let der = rustls::pki_types::PrivatePkcs8KeyDer::from(rsa.pkcs8.to_vec());
        let key = KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256).map_err(err)?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, instance);
        dn.push(DnType::OrganizationalUnitName, format!("opc-tenant:{tenancy}"));
        dn.push(DnType::OrganizationName, format!("opc-compartment:{compartment}"));
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let now = OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::hours(1);
        p.not_after = now + time::Duration::seconds(validity.as_secs() as i64);
        let cert = p.signed_by(&key, &self.intermediate.0, &self.intermediate.1).map_err(err)?;
        Ok(Leaf { cert_pem: cert.pem(), key_pem: rsa.pkcs1_pem()? })
    }

    /// Issues the TLS server certificate for 127.0.0.1, ::1 and localhost.
    pub fn issue_tls(&self) -> Result<TlsMaterial, String> {
        let key = KeyPair::generate().map_err(err)?;
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
        p.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        p.subject_alt_names.push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        p.distinguished_name.push(DnType::CommonName, "oci-kms-emulator");
        let now = OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::hours(1);
        p.not_after = now + time::Duration::days(365);
        let cert = p.signed_by(&key, &self.ca.0, &self.ca.1).map_err(err)?;
        Ok(TlsMaterial {
            chain: vec![cert.der().to_vec()],
            key_pkcs8: Zeroizing::new(key.serialize_der()),
        })
    }

    /// Verifies that `leaf_der` chains to this CA through one of `intermediates` (DER) and is
    /// currently valid; returns its subject attributes as (CN, opc-tenant value).
    pub fn verify_chain(
        &self,
        leaf_der: &[u8],
        intermediates: &[Vec<u8>],
    ) -> Result<(String, String), String> {
        let (_, leaf) = X509Certificate::from_der(leaf_der)
            .map_err(|_| "certificate is not valid DER X.509".to_string())?;
        if !leaf.validity().is_valid() {
            return Err("certificate is expired or not yet valid".into());
        }
        let issuer = intermediates
            .iter()
            .find(|d| issued_by(leaf_der, d).is_ok())
            .ok_or("certificate is not signed by any presented intermediate")?;
        issued_by(issuer, &self.ca_der)
            .map_err(|_| "intermediate certificate is not issued by the emulator CA".to_string())?;
        let mut cn = None;
        let mut tenant = None;
        for attr in leaf.subject().iter_attributes() {
            if let Ok(v) = attr.as_str() {
                if let Some(t) = v.strip_prefix("opc-tenant:") {
                    tenant = Some(t.to_string());
                } else if attr.attr_type() == &x509_parser::oid_registry::OID_X509_COMMON_NAME {
                    cn = Some(v.to_string());
                }
            }
        }
        match (cn, tenant) {
            (Some(cn), Some(t)) => Ok((cn, t)),
            _ => Err("certificate subject lacks CN or opc-tenant".into()),
        }
    }
}

/// Checks `child`'s signature with `issuer`'s ECDSA P-256 public key.
fn issued_by(child_der: &[u8], issuer_der: &[u8]) -> Result<(), String> {
    let (_, child) =
        X509Certificate::from_der(child_der).map_err(|_| "bad child certificate".to_string())?;
    let (_, issuer) =
        X509Certificate::from_der(issuer_der).map_err(|_| "bad issuer certificate".to_string())?;
    let key = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_ASN1,
        issuer.public_key().subject_public_key.data.as_ref(),
    );
    key.verify(child.tbs_certificate.as_ref(), child.signature_value.data.as_ref())
        .map_err(|_| "signature does not verify".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_chains_to_ca_and_survives_restart() {
        let d = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(d.path()).unwrap();
        let leaf = pki
            .issue_leaf(
                "ocid1.instance.oc1..i",
                "ocid1.tenancy.oc1..t",
                "ocid1.compartment.oc1..c",
                Duration::from_secs(3600),
            )
            .unwrap();
        let (_, leaf_der) = pem::decode(&leaf.cert_pem).unwrap();
        let (_, int_der) = pem::decode(&pki.intermediate_pem).unwrap();
        assert_eq!(
            pki.verify_chain(&leaf_der, std::slice::from_ref(&int_der)).unwrap(),
            ("ocid1.instance.oc1..i".to_string(), "ocid1.tenancy.oc1..t".to_string())
        );
        assert!(pki.verify_chain(&leaf_der, &[]).is_err());
        // After a restart the same CA files issue leaves that chain to the persisted intermediate.
        let again = Pki::load_or_create(d.path()).unwrap();
        assert_eq!(again.ca_pem, pki.ca_pem);
        let leaf2 = again.issue_leaf("i2", "t2", "c2", Duration::from_secs(60)).unwrap();
        let (_, leaf2_der) = pem::decode(&leaf2.cert_pem).unwrap();
        assert!(again.verify_chain(&leaf2_der, &[int_der]).is_ok());
        // A foreign CA's chain is rejected.
        let other = tempfile::tempdir().unwrap();
        let foreign = Pki::load_or_create(other.path()).unwrap();
        let (_, foreign_int) = pem::decode(&foreign.intermediate_pem).unwrap();
        let fl = foreign.issue_leaf("i", "t", "c", Duration::from_secs(60)).unwrap();
        let (_, fl_der) = pem::decode(&fl.cert_pem).unwrap();
        assert!(pki.verify_chain(&fl_der, &[foreign_int]).is_err());
    }
}

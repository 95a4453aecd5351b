// SPDX-License-Identifier: MPL-2.0
//! RSA key handling: generation, PKCS#1/PKCS#8/SPKI conversions, fingerprints and parsing of
//! registered public keys for signature verification.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey, PublicKeyComponents};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::encoding::colon_hex;
use crate::pem;

/// A generated or loaded RSA private key with its encodings.
pub struct RsaKey {
    /// The aws-lc key pair (signing).
    pub pair: KeyPair,
    /// PKCS#8 DER of the private key.
    pub pkcs8: Zeroizing<Vec<u8>>,
}

impl RsaKey {
    /// Generates a fresh RSA-2048 key.
    pub fn generate() -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA-2048 key generation failed".to_string())?;
        let der: Pkcs8V1Der<'static> =
            pair.as_der().map_err(|_| "RSA key PKCS#8 encoding failed".to_string())?;
        Ok(RsaKey { pkcs8: Zeroizing::new(der.as_ref().to_vec()), pair })
    }

    /// Loads a key from a PEM file's text (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let (label, der) = pem::decode(text).ok_or("no PEM block found")?;
        let der = Zeroizing::new(der);
        let pair = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            other => return Err(format!("unexpected PEM label {other:?} for an RSA private key")),
        }
        .map_err(|e| format!("RSA private key rejected: {e}"))?;
        let pkcs8: Pkcs8V1Der<'static> =
            pair.as_der().map_err(|_| "RSA key PKCS#8 encoding failed".to_string())?;
        Ok(RsaKey { pkcs8: Zeroizing::new(pkcs8.as_ref().to_vec()), pair })
    }

    /// The PKCS#1 `RSAPrivateKey` DER (the payload of the PKCS#8 structure).
    pub fn pkcs1(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        let info = pkcs8::PrivateKeyInfo::try_from(self.pkcs8.as_slice())
            .map_err(|e| format!("PKCS#8 parse failed: {e}"))?;
        Ok(Zeroizing::new(info.private_key.to_vec()))
    }

    /// PEM of the private key as PKCS#8 (`PRIVATE KEY`).
    pub fn pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode("PRIVATE KEY", &self.pkcs8))
    }

    /// PEM of the private key as PKCS#1 (`RSA PRIVATE KEY`).
    pub fn pkcs1_pem(&self) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(pem::encode("RSA PRIVATE KEY", &self.pkcs1()?)))
    }

    /// SubjectPublicKeyInfo DER of the public key.
    pub fn spki_der(&self) -> Result<Vec<u8>, String> {
        spki_of(self.pair.public_key())
    }

    /// Signs `msg` with RSASSA-PKCS1-v1_5 SHA-256.
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|_| "RSA signing failed".to_string())?;
        Ok(sig)
    }
}

fn spki_of(public: &PublicKey) -> Result<Vec<u8>, String> {
    let der: PublicKeyX509Der<'static> =
        public.as_der().map_err(|_| "public key SPKI encoding failed".to_string())?;
    Ok(der.as_ref().to_vec())
}

/// OCI API-key fingerprint: MD5 of the SPKI DER, colon-separated lower-case hex.
pub fn fingerprint(spki_der: &[u8]) -> String {
    colon_hex(&Md5::digest(spki_der))
}

/// Normalizes a PEM public key (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY` PKCS#1) to SPKI DER.
pub fn public_pem_to_spki(text: &str) -> Result<Vec<u8>, String> {
    let (_, der) = pem::decode(text).ok_or("no PEM block in public key")?;
    public_der_to_spki(&der)
}

/// Normalizes a DER RSA public key (SPKI or PKCS#1) to SPKI DER.
pub fn public_der_to_spki(der: &[u8]) -> Result<Vec<u8>, String> {
    let key = PublicKey::from_der(der).map_err(|e| format!("RSA public key rejected: {e}"))?;
    spki_of(&key)
}

/// Parses an RSA public key (SPKI or PKCS#1 DER) for rsa-sha256 verification. Keys from 1024
/// bits up are accepted so that the published 1024-bit documentation vectors verify.
pub fn verifier(der: &[u8]) -> Result<ParsedPublicKey, String> {
    ParsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, der)
        .map_err(|e| format!("RSA public key rejected: {e}"))
}

/// Parses an RSA public key given as modulus and exponent (big-endian bytes, as in a JWK).
pub fn verifier_from_components(n: &[u8], e: &[u8]) -> Result<ParsedPublicKey, String> {
    PublicKeyComponents { n, e }
        .to_parsed_public_key(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
        .map_err(|e| format!("RSA public key components rejected: {e}"))
}

/// Modulus and exponent (big-endian, no leading zeros) of an SPKI DER RSA key.
pub fn components(spki_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let key = PublicKey::from_der(spki_der).map_err(|e| format!("RSA public key rejected: {e}"))?;
    Ok((
        key.modulus().big_endian_without_leading_zero().to_vec(),
        key.exponent().big_endian_without_leading_zero().to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_through_pem_forms() {
        let k = RsaKey::generate().unwrap();
        let spki = k.spki_der().unwrap();
        let from1 = RsaKey::from_pem(&k.pkcs1_pem().unwrap()).unwrap();
        let from8 = RsaKey::from_pem(&k.pkcs8_pem()).unwrap();
        assert_eq!(from1.spki_der().unwrap(), spki);
        assert_eq!(from8.spki_der().unwrap(), spki);
        let sig = k.sign_sha256(b"msg").unwrap();
        verifier(&spki).unwrap().verify_sig(b"msg", &sig).unwrap();
        let (n, e) = components(&spki).unwrap();
        verifier_from_components(&n, &e).unwrap().verify_sig(b"msg", &sig).unwrap();
        assert!(verifier(&spki).unwrap().verify_sig(b"msh", &sig).is_err());
        assert_eq!(fingerprint(&spki).len(), 47);
    }
}

// SPDX-License-Identifier: MPL-2.0
//! PEM encoding and decoding, including the legacy OpenSSL encrypted form
//! (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-256-CBC,<iv>`) that Go's `x509.DecryptPEMBlock`
//! (and so oci-go-sdk) reads.

use aws_lc_rs::cipher::{EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey, AES_256};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::encoding::{b64, hex, random_bytes, unb64};

/// PEM-encodes `der` under `label` with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    encode_with_headers(label, &[], der)
}

fn encode_with_headers(label: &str, headers: &[(&str, String)], der: &[u8]) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\n"));
    }
    if !headers.is_empty() {
        out.push('\n');
    }
    let text = b64(der);
    for chunk in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes the first PEM block: its label and DER bytes (header lines are skipped).
pub fn decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest[body_start..].find(&end_marker)? + body_start;
    let body: String = rest[body_start..body_end]
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.trim().chars())
        .collect();
    Some((label, unb64(&body)?))
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration, producing a 32-byte key.
fn bytes_to_key(passphrase: &[u8], salt: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(32));
    let mut prev: Vec<u8> = Vec::new();
    while key.len() < 32 {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(passphrase);
        h.update(salt);
        prev = h.finalize().to_vec();
        key.extend_from_slice(&prev);
    }
    key.truncate(32);
    key
}

/// Encrypts a PKCS#1 `RSA PRIVATE KEY` in the legacy OpenSSL PEM form with AES-256-CBC.
pub fn encrypt_legacy_rsa(pkcs1_der: &[u8], passphrase: &str) -> Result<String, String> {
    let iv = random_bytes(16);
    let key = bytes_to_key(passphrase.as_bytes(), &iv[..8]);
    let unbound =
        UnboundCipherKey::new(&AES_256, &key).map_err(|_| "AES key setup failed".to_string())?;
    let cbc = PaddedBlockEncryptingKey::cbc_pkcs7(unbound)
        .map_err(|_| "AES-CBC setup failed".to_string())?;
    let mut buf = pkcs1_der.to_vec();
    let iv_arr: [u8; 16] = iv.as_slice().try_into().map_err(|_| "IV length".to_string())?;
    cbc.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(iv_arr.into()))
        .map_err(|_| "AES-CBC encryption failed".to_string())?;
    Ok(encode_with_headers(
        "RSA PRIVATE KEY",
        &[
            ("Proc-Type", "4,ENCRYPTED".to_string()),
            ("DEK-Info", format!("AES-256-CBC,{}", hex(&iv).to_uppercase())),
        ],
        &buf,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::cipher::{DecryptionContext, PaddedBlockDecryptingKey};

    #[test]
    fn encode_decode_round_trip() {
        let der: Vec<u8> = (0..200u8).collect();
        let pem = encode("PUBLIC KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(decode(&pem), Some(("PUBLIC KEY".to_string(), der.clone())));
        assert_eq!(decode("-----BEGIN -----END -----"), None);
        assert_eq!(decode("-----BEGIN X-----"), None);
    }

    #[test]
    fn legacy_encryption_decrypts_with_openssl_kdf() {
        let secret = b"pkcs1 der bytes stand-in".to_vec();
        let pem = encrypt_legacy_rsa(&secret, "pass word").unwrap();
        assert!(pem.contains("Proc-Type: 4,ENCRYPTED"));
        let iv_hex = pem.lines().find_map(|l| l.strip_prefix("DEK-Info: AES-256-CBC,")).unwrap();
        let iv: Vec<u8> =
            (0..16).map(|i| u8::from_str_radix(&iv_hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        let (_, mut ct) = decode(&pem).unwrap();
        let key = bytes_to_key(b"pass word", &iv[..8]);
        let dec =
            PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap())
                .unwrap();
        let iv_arr: [u8; 16] = iv.try_into().unwrap();
        let plain = dec.decrypt(&mut ct, DecryptionContext::Iv128(iv_arr.into())).unwrap();
        assert_eq!(plain, &secret[..]);
    }
}

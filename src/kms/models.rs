// SPDX-License-Identifier: MPL-2.0
//! JSON bodies of the KMS API (`20180608`). Request fields are declared in alphabetical order,
//! which is the order serde writes them (as the OCI SDK does).

use serde::{Deserialize, Serialize};

/// `POST /20180608/encrypt` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EncryptRequest<'a> {
    pub key_id: &'a str,
    pub plaintext: &'a str,
}

/// `POST /20180608/decrypt` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DecryptRequest<'a> {
    pub ciphertext: &'a str,
    pub key_id: &'a str,
}

/// `POST /20180608/generateDataEncryptionKey` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateKeyRequest<'a> {
    pub include_plaintext_key: bool,
    pub key_id: &'a str,
    pub key_shape: KeyShape,
}

/// A key's algorithm and length in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyShape {
    /// `AES`, `RSA`, `ECDSA`.
    pub algorithm: String,
    /// Key length in bytes (32 for AES-256).
    pub length: u32,
}

/// The Encrypt response (`EncryptedData`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedData {
    /// OCI's ciphertext, a base64 string (stored verbatim in blobs).
    pub ciphertext: String,
    /// The key OCID.
    #[serde(default)]
    pub key_id: Option<String>,
    /// The key version that encrypted.
    #[serde(default)]
    pub key_version_id: Option<String>,
}

/// The Decrypt response (`DecryptedData`); only the base64 plaintext is read.
#[derive(Deserialize)]
pub(crate) struct DecryptedData {
    pub plaintext: String,
}

/// The GenerateDataEncryptionKey response (`GeneratedKey`); only the fields read.
#[derive(Deserialize)]
pub(crate) struct GeneratedKeyData {
    pub ciphertext: String,
    #[serde(default)]
    pub plaintext: Option<String>,
}

/// A KMS key (management API `Key`), the fields the seal uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    /// The key OCID.
    pub id: String,
    /// The current key version OCID.
    pub current_key_version: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `ENABLED`, `DISABLED`, `PENDING_DELETION`, ...
    #[serde(default)]
    pub lifecycle_state: Option<String>,
    /// The compartment OCID.
    #[serde(default)]
    pub compartment_id: Option<String>,
    /// The vault OCID.
    #[serde(default)]
    pub vault_id: Option<String>,
    /// Shape of the key.
    #[serde(default)]
    pub key_shape: Option<KeyShape>,
    /// `HSM`, `SOFTWARE`, `EXTERNAL`.
    #[serde(default)]
    pub protection_mode: Option<String>,
}

/// A key version (management API `KeyVersion`), the fields the seal uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    /// The key version OCID.
    pub id: String,
    /// The key OCID.
    pub key_id: String,
    /// `ENABLED`, `CREATING`, ...
    #[serde(default)]
    pub lifecycle_state: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub time_created: Option<String>,
}

/// An OCI error body: `{"code": ..., "message": ...}`.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_are_alphabetical() {
        let e = serde_json::to_string(&EncryptRequest { key_id: "k", plaintext: "cA==" }).unwrap();
        assert_eq!(e, r#"{"keyId":"k","plaintext":"cA=="}"#);
        let d = serde_json::to_string(&DecryptRequest { ciphertext: "c", key_id: "k" }).unwrap();
        assert_eq!(d, r#"{"ciphertext":"c","keyId":"k"}"#);
        let g = serde_json::to_string(&GenerateKeyRequest {
            include_plaintext_key: true,
            key_id: "k",
            key_shape: KeyShape { algorithm: "AES".into(), length: 32 },
        })
        .unwrap();
        assert_eq!(
            g,
            r#"{"includePlaintextKey":true,"keyId":"k","keyShape":{"algorithm":"AES","length":32}}"#
        );
    }
}

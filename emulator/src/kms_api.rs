// SPDX-License-Identifier: MPL-2.0
//! The KMS crypto API: `POST /20180608/encrypt`, `/decrypt`, `/generateDataEncryptionKey`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::app::App;
use crate::encoding::{b64, random_bytes, unb64};
use crate::errors::ApiError;
use crate::http::{Reply, Request};
use crate::iam::Verb;

/// Largest plaintext OCI accepts in one encrypt call.
const MAX_PLAINTEXT: usize = 4096;
const AES_GCM: &str = "AES_256_GCM";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CryptoBody {
    key_id: Option<String>,
    plaintext: Option<String>,
    ciphertext: Option<String>,
    #[serde(default)]
    associated_data: Option<BTreeMap<String, String>>,
    key_version_id: Option<String>,
    encryption_algorithm: Option<String>,
    #[serde(default)]
    include_plaintext_key: Option<bool>,
    key_shape: Option<KeyShape>,
}

#[derive(Deserialize)]
struct KeyShape {
    algorithm: Option<String>,
    length: Option<u32>,
}

/// Authenticates, parses, rate-limits and authorizes a crypto call; returns the body and key id.
fn admit(app: &App, req: &Request) -> Result<(CryptoBody, String), ApiError> {
    let principal = app.authenticate(req)?;
    let body: CryptoBody = req.json()?;
    let key_id = body
        .key_id
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::missing("keyId is required"))?;
    if let Some(alg) = body.encryption_algorithm.as_deref() {
        if alg != AES_GCM {
            return Err(ApiError::invalid(format!(
                "encryptionAlgorithm {alg} is not supported for AES keys (use {AES_GCM})"
            )));
        }
    }
    app.rate_check(&key_id)?;
    app.authorize_key(&principal, Verb::Use, &key_id)?;
    Ok((body, key_id))
}

/// Checksum OCI reports for plaintexts: CRC32 (IEEE) as a decimal string.
fn checksum(data: &[u8]) -> String {
    crc32fast::hash(data).to_string()
}

/// `POST /20180608/encrypt`.
pub fn encrypt(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (body, key_id) = admit(app, req)?;
    let text =
        body.plaintext.as_deref().ok_or_else(|| ApiError::missing("plaintext is required"))?;
    let plaintext = Zeroizing::new(
        unb64(text).ok_or_else(|| ApiError::invalid("plaintext is not valid base64"))?,
    );
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(ApiError::invalid(format!(
            "plaintext is {} bytes; the limit is {MAX_PLAINTEXT}",
            plaintext.len()
        )));
    }
    let aad = body.associated_data.unwrap_or_default();
    let sealed = app.keys.encrypt(&key_id, body.key_version_id.as_deref(), &plaintext, &aad)?;
    Ok(Reply::json(&json!({
        "ciphertext": sealed.ciphertext,
        "keyId": key_id,
        "keyVersionId": sealed.key_version_id,
        "encryptionAlgorithm": AES_GCM,
    })))
}

/// `POST /20180608/decrypt`.
pub fn decrypt(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (body, key_id) = admit(app, req)?;
    let ciphertext =
        body.ciphertext.as_deref().ok_or_else(|| ApiError::missing("ciphertext is required"))?;
    let aad = body.associated_data.unwrap_or_default();
    let opened = app.keys.decrypt(&key_id, ciphertext, &aad)?;
    if let Some(v) = body.key_version_id.as_deref() {
        if v != opened.key_version_id {
            return Err(ApiError::invalid(format!(
                "keyVersionId {v} did not produce this ciphertext"
            )));
        }
    }
    Ok(Reply::json(&json!({
        "plaintext": b64(&opened.plaintext),
        "plaintextChecksum": checksum(&opened.plaintext),
        "keyId": key_id,
        "keyVersionId": opened.key_version_id,
        "encryptionAlgorithm": AES_GCM,
    })))
}

/// `POST /20180608/generateDataEncryptionKey`.
pub fn generate_data_key(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (body, key_id) = admit(app, req)?;
    let shape = body.key_shape.ok_or_else(|| ApiError::missing("keyShape is required"))?;
    let alg = shape.algorithm.unwrap_or_default();
    let len = shape.length.unwrap_or(0) as usize;
    if alg != "AES" || ![16, 24, 32].contains(&len) {
        return Err(ApiError::invalid(format!(
            "keyShape {alg}/{len} is not supported (use AES with length 16, 24 or 32)"
        )));
    }
    let dek = Zeroizing::new(random_bytes(len));
    let aad = body.associated_data.unwrap_or_default();
    let sealed = app.keys.encrypt(&key_id, None, &dek, &aad)?;
    let mut out = json!({"ciphertext": sealed.ciphertext});
    if body.include_plaintext_key.unwrap_or(false) {
        out["plaintext"] = b64(&dek).into();
        out["plaintextChecksum"] = checksum(&dek).into();
    }
    Ok(Reply::json(&out))
}

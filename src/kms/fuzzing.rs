//! Entry points for the fuzz targets and their corpus replay (`fuzz/`, `tests/reliability_fuzz_corpus.rs`):
//! the client's parsing of OCI responses, reachable without a server. Not a stable API.

use crate::auth::PrincipalType;
use crate::error::Error;

use super::errors::{service_error, Operation};
use super::models::{DecryptedData, EncryptedData, GeneratedKeyData, Key, KeyVersion};

/// Maps an error response (`status`, response `opc-request-id`, body) exactly as the client does.
pub fn error_response(status: u16, request_id: Option<&str>, body: &[u8]) -> Error {
    let op = Operation {
        name: "encrypt",
        key_id: "ocid1.key.oc1..fuzz".into(),
        endpoint: "https://fuzz-crypto.kms.us-ashburn-1.oraclecloud.com".into(),
        verb: "use",
        principal: "user ocid1.user.oc1..fuzz".into(),
        principal_type: PrincipalType::User,
    };
    service_error(&op, status, request_id, "sent-request-id", body)
}

/// Parses `body` as each success response the client reads; returns how many types accepted it.
pub fn success_body(body: &[u8]) -> usize {
    [
        serde_json::from_slice::<EncryptedData>(body).is_ok(),
        serde_json::from_slice::<DecryptedData>(body).is_ok(),
        serde_json::from_slice::<GeneratedKeyData>(body).is_ok(),
        serde_json::from_slice::<Key>(body).is_ok(),
        serde_json::from_slice::<KeyVersion>(body).is_ok(),
        serde_json::from_slice::<Vec<KeyVersion>>(body).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

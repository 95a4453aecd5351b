//! Entry points for the fuzz targets and their corpus replay (`fuzz/`, `tests/reliability_fuzz_corpus.rs`):
//! the client's parsing of OCI responses, reachable without a server. Not a stable API.

use std::sync::Arc;

use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::error::{Error, Result};

use super::errors::{service_error, Operation};
use super::models::{DecryptedData, EncryptedData, GeneratedKeyData, Key, KeyVersion};

/// A principal that only describes itself (it has no credentials): what error wording needs.
pub(crate) struct NamedPrincipal(pub &'static str, pub PrincipalType);

#[async_trait::async_trait]
impl CredentialProvider for NamedPrincipal {
    async fn credentials(&self) -> Result<Arc<Credentials>> {
        Err(Error::internal(format!("{} has no credentials", self.0)))
    }

    fn principal_type(&self) -> PrincipalType {
        self.1
    }

    fn describe(&self) -> String {
        self.0.to_owned()
    }
}

/// Maps an error response (`status`, response `opc-request-id`, body) exactly as the client does.
pub fn error_response(status: u16, request_id: Option<&str>, body: &[u8]) -> Error {
    let op = Operation {
        name: "encrypt",
        key_id: "ocid1.key.oc1..fuzz",
        endpoint: "https://fuzz-crypto.kms.us-ashburn-1.oraclecloud.com",
        verb: "use",
        provider: &NamedPrincipal("user ocid1.user.oc1..fuzz", PrincipalType::User),
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

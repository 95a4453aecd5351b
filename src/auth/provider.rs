// SPDX-License-Identifier: MPL-2.0
//! What every authentication method provides: [`Credentials`] to sign with, through the
//! [`CredentialProvider`] trait, and the [`PrincipalType`] it authenticates as.

use std::sync::Arc;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::error::Result;

/// Which kind of principal a provider authenticates as (the seal metadata's `principal_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// An IAM user with an API key (`auth_type = "api_key"`).
    User,
    /// A compute instance (instance principal).
    Instance,
    /// A resource principal (functions, jobs...).
    Resource,
    /// An OKE workload identity.
    Workload,
    /// A CLI session token (`security_token_file`).
    Session,
}

impl PrincipalType {
    /// The value Vault's metadata shows: `user`, `instance`, `resource`, `workload`, `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::Instance => "instance",
            PrincipalType::Resource => "resource",
            PrincipalType::Workload => "workload",
            PrincipalType::Session => "session",
        }
    }
}

/// What a request is signed with: the `keyId` of the Authorization header and the RSA key.
///
/// `key_id` is `<tenancy>/<user>/<fingerprint>` for API keys and `ST$<token>` for session tokens.
pub struct Credentials {
    /// The signature's `keyId` parameter. Contains a token for session-based methods: never log
    /// it. Zeroed on drop.
    pub key_id: Zeroizing<String>,
    /// The RSA private key that signs (zeroed on drop by aws-lc).
    pub key: Arc<aws_lc_rs::rsa::KeyPair>,
}

impl Credentials {
    /// Credentials whose `keyId` is `key_id` (an API key's `tenancy/user/fingerprint`).
    pub fn new(key_id: String, key: Arc<aws_lc_rs::rsa::KeyPair>) -> Credentials {
        Credentials { key_id: Zeroizing::new(key_id), key }
    }

    /// Credentials of a session token: `keyId` is `ST$<token>`, built in a buffer sized up
    /// front, so no reallocation leaves a copy of the token behind.
    pub fn session(token: &str, key: Arc<aws_lc_rs::rsa::KeyPair>) -> Credentials {
        let mut key_id = Zeroizing::new(String::with_capacity(3 + token.len()));
        key_id.push_str("ST$");
        key_id.push_str(token);
        Credentials { key_id, key }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// A source of signing credentials. Implementations must be cheap to call on every request
/// (cache what they load) and must refresh tokens themselves before they expire.
#[async_trait]
pub trait CredentialProvider: Send + Sync {
    /// The credentials to sign the next request with.
    async fn credentials(&self) -> Result<Arc<Credentials>>;

    /// Called after the service answered 401 to a request signed with `stale`: a token-based
    /// provider fetches a new token (once, even if many callers report the same stale one).
    /// Returns whether retrying may help.
    async fn refresh_after_unauthorized(&self, stale: &Credentials) -> bool {
        let _ = stale;
        false
    }

    /// The principal kind, for the seal metadata.
    fn principal_type(&self) -> PrincipalType;

    /// A description of the principal safe to show to operators (OCIDs, never secrets),
    /// e.g. `"user ocid1.user... in tenancy ocid1.tenancy..."`.
    fn describe(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_ids_are_sized_exactly_so_no_copy_of_the_token_is_left_behind() {
        let key =
            Arc::new(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap());
        let credentials = Credentials::session(&"j".repeat(1234), key);
        assert_eq!(credentials.key_id.len(), 3 + 1234);
        assert_eq!(credentials.key_id.len(), credentials.key_id.capacity());
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The environment the configuration reads: an [`Env`] view (the process's, or a fake one in
//! tests) and the variables that may give `key_id` and the endpoints.

/// A read-only view of environment variables: `Some(value)` when set.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, as an [`Env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Variables giving `key_id`, first set wins (the Go wrapper's, then Vault's).
pub(super) const ENV_KEY_ID: [&str; 2] = ["OCIKMS_WRAPPER_KEY_ID", "VAULT_OCIKMS_SEAL_KEY_ID"];
/// Variables giving `crypto_endpoint`, first set wins.
pub(super) const ENV_CRYPTO_ENDPOINT: [&str; 2] =
    ["OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "VAULT_OCIKMS_CRYPTO_ENDPOINT"];
/// Variables giving `management_endpoint`, first set wins.
pub(super) const ENV_MANAGEMENT_ENDPOINT: [&str; 2] =
    ["OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT", "VAULT_OCIKMS_MANAGEMENT_ENDPOINT"];

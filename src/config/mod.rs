// SPDX-License-Identifier: MPL-2.0
//! Seal configuration: Vault's config map (both spellings) + environment → a validated
//! [`SealConfig`].
//!
//! [`SealConfig::from_sources`] is pure: the environment comes in as a function, so tests drive
//! it with a fake one. Precedence per value (first non-empty wins), as the Go wrapper does:
//!
//! * `key_id`: `OCIKMS_WRAPPER_KEY_ID`, `VAULT_OCIKMS_SEAL_KEY_ID`, the `WithKeyId` option, the
//!   map's `key_id` / `keyID`; then `file://`, `env://`, `string://` are resolved.
//! * `crypto_endpoint`: `OCIKMS_WRAPPER_CRYPTO_ENDPOINT`, `VAULT_OCIKMS_CRYPTO_ENDPOINT`, the map.
//! * `management_endpoint`: `OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT`,
//!   `VAULT_OCIKMS_MANAGEMENT_ENDPOINT`, the map, else derived from an OCI-shaped crypto endpoint.
//!
//! Environment variables are skipped when `disallow_env_vars` is set (Vault sets it after merging
//! the environment into the map itself). Every other key comes from the map only.
//!
//! API-key credentials may be given in the map itself, as OpenBao's `ocikms` wrapper takes them
//! (`tenancy_ocid`, `user_ocid`, `fingerprint`, `private_key`, `private_key_passphrase`,
//! `region`): they then replace the OCI config file ([`ApiKeyCredentials`]).
//!
//! Keys this seal does not know are ignored (Vault adds `name`, `priority`, `disabled` for seal
//! HA); unknown keys other than Vault's own are logged as a warning to catch typos.
//!
//! One module a concern: `keys` (the key table, reading values, unknown keys),
//! `env`, `key_id` (`file://`, `env://`, `string://`), `endpoint`, `auth_type`, `api_key`
//! (inline credentials), `transport` (timeouts, retries, plaintext http) and `duration`.

mod api_key;
mod auth_type;
mod duration;
mod endpoint;
mod env;
mod key_id;
mod keys;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
mod transport;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

pub use self::api_key::ApiKeyCredentials;
pub use self::auth_type::AuthType;
pub use self::duration::parse_duration;
pub use self::env::{process_env, Env};
use self::env::{ENV_CRYPTO_ENDPOINT, ENV_KEY_ID, ENV_MANAGEMENT_ENDPOINT};
#[doc(hidden)]
pub use self::keys::key_names;
pub(crate) use self::keys::SECRET_KEYS;
use self::keys::{
    text, CA_CERT, CONFIG_FILE, CONFIG_PROFILE, CRYPTO_ENDPOINT, KEY_ID, MANAGEMENT_ENDPOINT,
};
pub use self::transport::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT, MAX_MAX_RETRIES,
    MAX_REQUEST_TIMEOUT,
};
use crate::error::{Error, Result};

/// A validated seal configuration.
#[derive(Debug, Clone)]
pub struct SealConfig {
    /// The master key OCID (`key_id`), after `file://`/`env://`/`string://` resolution.
    pub key_id: String,
    /// The vault's crypto endpoint URL (`crypto_endpoint`).
    pub crypto_endpoint: String,
    /// The management endpoint URL; derived from the crypto endpoint when not given.
    pub management_endpoint: Option<String>,
    /// The authentication method.
    pub auth_type: AuthType,
    /// OCI config file path override (`config_file`); `None` = OCI's default lookup.
    pub config_file: Option<PathBuf>,
    /// OCI config file profile (`config_profile`); `None` = `DEFAULT`.
    pub config_profile: Option<String>,
    /// Extra PEM CA bundle trusted in addition to the system roots (`ca_cert`).
    pub ca_cert: Option<PathBuf>,
    /// Per-call deadline, retries included (`request_timeout`).
    pub request_timeout: Duration,
    /// How long one HTTP attempt may wait for an answer before it is abandoned and retried on a
    /// new connection; never beyond the call's remaining deadline (`attempt_timeout`).
    pub attempt_timeout: Duration,
    /// Maximum attempts per call, the first included (`max_retries` + 1).
    pub max_attempts: u32,
    /// Allow `http://` crypto/management endpoints that are not loopback addresses (clear text:
    /// the data key and plaintext cross the network unencrypted) (`allow_plaintext_http`).
    pub allow_plaintext_http: bool,
    /// API-key credentials given in the configuration itself; when set (only with
    /// [`AuthType::ApiKey`]), no OCI config file is read.
    pub api_key_credentials: Option<ApiKeyCredentials>,
    /// Whether `OCI_CLI_PROFILE` may choose the OCI config profile. False when the host disallows
    /// environment variables (Vault does): Vault's stock seal never reads that variable, so an
    /// admin host that sets it for the `oci` CLI must not change which key the seal uses.
    pub profile_from_env: bool,
}

impl SealConfig {
    /// Builds and validates the configuration from Vault's config map, the `WithKeyId` option and
    /// the environment (see the module docs for the precedence).
    ///
    /// Map values may be JSON strings, booleans or numbers (`"true"`, `true`, `"30s"`, `30`);
    /// `null` counts as absent. Every problem is an [`ErrorCode::Config`](crate::ErrorCode)
    /// error naming the key and the fix.
    pub fn from_sources(
        map: &BTreeMap<String, Value>,
        key_id_option: Option<&str>,
        disallow_env_vars: bool,
        env: Env<'_>,
    ) -> Result<SealConfig> {
        keys::warn_unknown_keys(map);
        let from_env = |names: &[&str; 2]| -> Option<(String, String)> {
            if disallow_env_vars {
                return None;
            }
            names
                .iter()
                .find_map(|name| env(name).filter(|v| !v.is_empty()).map(|v| (name.to_string(), v)))
        };

        let (key_id_source, raw_key_id) = match from_env(&ENV_KEY_ID) {
            Some(found) => found,
            None => match key_id_option.filter(|v| !v.is_empty()) {
                Some(v) => ("the key id option".to_string(), v.to_string()),
                None => match text(map, &KEY_ID)?.filter(|v| !v.is_empty()) {
                    Some(v) => (KEY_ID.name.to_string(), v),
                    None => {
                        return Err(Error::config(format!(
                            "key_id is not set: set key_id in the seal stanza to the master key \
                             OCID (ocid1.key...), or set {} or {}",
                            ENV_KEY_ID[0], ENV_KEY_ID[1]
                        )))
                    }
                },
            },
        };
        let key_id = key_id::resolve(&raw_key_id, &key_id_source, env)?;

        let crypto_endpoint = match from_env(&ENV_CRYPTO_ENDPOINT) {
            Some((var, v)) => endpoint::normalize(&v, &var)?,
            None => match text(map, &CRYPTO_ENDPOINT)?.filter(|v| !v.is_empty()) {
                Some(v) => endpoint::normalize(&v, CRYPTO_ENDPOINT.name)?,
                None => {
                    return Err(Error::config(format!(
                        "crypto_endpoint is not set: set crypto_endpoint in the seal stanza to the \
                         vault's crypto endpoint (https://<vault>-crypto.kms.<region>.oraclecloud.com), \
                         or set {} or {}",
                        ENV_CRYPTO_ENDPOINT[0], ENV_CRYPTO_ENDPOINT[1]
                    )))
                }
            },
        };

        let management_endpoint = match from_env(&ENV_MANAGEMENT_ENDPOINT) {
            Some((var, v)) => Some(endpoint::normalize(&v, &var)?),
            None => match text(map, &MANAGEMENT_ENDPOINT)?.filter(|v| !v.is_empty()) {
                Some(v) => Some(endpoint::normalize(&v, MANAGEMENT_ENDPOINT.name)?),
                None => endpoint::derive_management(&crypto_endpoint),
            },
        };

        let auth_type = auth_type::from_map(map)?;
        let config_file = text(map, &CONFIG_FILE)?.filter(|v| !v.is_empty()).map(PathBuf::from);
        let config_profile = text(map, &CONFIG_PROFILE)?.filter(|v| !v.is_empty());
        let api_key_credentials = api_key::from_map(map, auth_type)?;
        if api_key_credentials.is_some() {
            if let Some(key) = [
                (CONFIG_FILE.name, config_file.is_some()),
                (CONFIG_PROFILE.name, config_profile.is_some()),
            ]
            .into_iter()
            .find_map(|(name, set)| set.then_some(name))
            {
                return Err(Error::config(format!(
                    "{key} is set together with API-key credentials in the seal configuration \
                     (tenancy_ocid, user_ocid, fingerprint, private_key), which replace the OCI \
                     config file: remove {key}, or remove those keys to use the config file"
                )));
            }
        }
        Ok(SealConfig {
            key_id,
            crypto_endpoint,
            management_endpoint,
            auth_type,
            config_file,
            config_profile,
            ca_cert: text(map, &CA_CERT)?.filter(|v| !v.is_empty()).map(PathBuf::from),
            request_timeout: transport::request_timeout(map)?,
            attempt_timeout: transport::attempt_timeout(map)?,
            max_attempts: transport::max_retries(map)? + 1,
            allow_plaintext_http: transport::allow_plaintext_http(map)?,
            api_key_credentials,
            profile_from_env: !disallow_env_vars,
        })
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The config map's keys (each with its older spelling), reading a value under either spelling
//! as text or as a boolean, and the warning for keys this seal does not know.

use std::collections::BTreeMap;

use serde_json::Value;
use tracing::warn;

use crate::error::{Error, Result};

/// The log target of the configuration's warnings: the module's path before it was split into
/// files, kept so that log filters and the OpenBao plugin's log lines stay the same.
pub(super) const LOG_TARGET: &str = "ocikms::config";

/// A config map key and its accepted older spelling.
pub(super) struct Key {
    /// The name documented today.
    pub(super) name: &'static str,
    /// The Go wrapper's older spelling, if any.
    pub(super) alias: Option<&'static str>,
}

pub(super) const KEY_ID: Key = Key { name: "key_id", alias: Some("keyID") };
pub(super) const CRYPTO_ENDPOINT: Key =
    Key { name: "crypto_endpoint", alias: Some("cryptoEndpoint") };
pub(super) const MANAGEMENT_ENDPOINT: Key =
    Key { name: "management_endpoint", alias: Some("managementEndpoint") };
pub(super) const AUTH_TYPE_API_KEY: Key =
    Key { name: "auth_type_api_key", alias: Some("authTypeAPIKey") };
pub(super) const AUTH_TYPE: Key = Key { name: "auth_type", alias: None };
pub(super) const CONFIG_FILE: Key = Key { name: "config_file", alias: None };
pub(super) const CONFIG_PROFILE: Key = Key { name: "config_profile", alias: None };
pub(super) const CA_CERT: Key = Key { name: "ca_cert", alias: None };
pub(super) const REQUEST_TIMEOUT: Key = Key { name: "request_timeout", alias: None };
pub(super) const ATTEMPT_TIMEOUT: Key = Key { name: "attempt_timeout", alias: None };
pub(super) const MAX_RETRIES: Key = Key { name: "max_retries", alias: None };
pub(super) const ALLOW_PLAINTEXT_HTTP: Key = Key { name: "allow_plaintext_http", alias: None };
pub(super) const TENANCY_OCID: Key = Key { name: "tenancy_ocid", alias: None };
pub(super) const USER_OCID: Key = Key { name: "user_ocid", alias: None };
pub(super) const FINGERPRINT: Key = Key { name: "fingerprint", alias: None };
pub(super) const PRIVATE_KEY: Key = Key { name: "private_key", alias: None };
pub(super) const PRIVATE_KEY_PASSPHRASE: Key = Key { name: "private_key_passphrase", alias: None };
/// OpenBao's `region`: accepted and not needed (the endpoints name the vault and its region).
pub(super) const REGION: Key = Key { name: "region", alias: None };

/// The config keys that hold secrets: callers holding a copy of the map (the C ABI) scrub them.
pub(crate) const SECRET_KEYS: [&str; 2] = [PRIVATE_KEY.name, PRIVATE_KEY_PASSPHRASE.name];

/// Every key this seal reads; any other key is warned about (Vault's own excepted).
const KNOWN_KEYS: [&Key; 18] = [
    &KEY_ID,
    &CRYPTO_ENDPOINT,
    &MANAGEMENT_ENDPOINT,
    &AUTH_TYPE_API_KEY,
    &AUTH_TYPE,
    &CONFIG_FILE,
    &CONFIG_PROFILE,
    &CA_CERT,
    &REQUEST_TIMEOUT,
    &ATTEMPT_TIMEOUT,
    &MAX_RETRIES,
    &ALLOW_PLAINTEXT_HTTP,
    &TENANCY_OCID,
    &USER_OCID,
    &FINGERPRINT,
    &PRIVATE_KEY,
    &PRIVATE_KEY_PASSPHRASE,
    &REGION,
];

/// Keys Vault itself puts in a seal stanza's map (seal HA and KMS purposes): silently ignored.
const VAULT_GENERIC_KEYS: [&str; 4] = ["disabled", "name", "priority", "purpose"];

/// Every spelling of every key this seal reads, then Vault's own keys (for the fuzz targets).
pub fn key_names() -> impl Iterator<Item = &'static str> {
    KNOWN_KEYS.iter().flat_map(|k| std::iter::once(k.name).chain(k.alias)).chain(VAULT_GENERIC_KEYS)
}

/// Logs (never rejects) map keys that are neither ours nor Vault's own.
pub(super) fn warn_unknown_keys(map: &BTreeMap<String, Value>) {
    for name in unknown_keys(map) {
        warn!(
            target: LOG_TARGET,
            key = %name,
            "ignoring unknown ocikms seal config key (check its spelling)"
        );
    }
}

/// The map keys that are neither ours (under either spelling) nor Vault's own.
fn unknown_keys(map: &BTreeMap<String, Value>) -> impl Iterator<Item = &str> {
    map.keys().map(String::as_str).filter(|name| {
        !KNOWN_KEYS.iter().any(|k| k.name == *name || k.alias == Some(name))
            && !VAULT_GENERIC_KEYS.contains(name)
    })
}

/// The value of `key` (either spelling) as text; `None` when absent or `null`.
pub(super) fn text(map: &BTreeMap<String, Value>, key: &Key) -> Result<Option<String>> {
    let mut found: Option<(&str, String)> = None;
    for spelling in std::iter::once(key.name).chain(key.alias) {
        let Some(value) = map.get(spelling) else { continue };
        let value = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(Error::config(format!(
                    "{spelling}: expected a string, boolean or number, got a list or map; \
                     give a single value"
                )))
            }
        };
        if let Some((first, previous)) = &found {
            if *previous != value {
                return Err(Error::config(format!(
                    "both {first} and {spelling} are set, to different values: keep only one"
                )));
            }
        }
        found = Some((spelling, value));
    }
    Ok(found.map(|(_, v)| v))
}

/// The value of a boolean `key`: a JSON boolean or Go's `strconv.ParseBool` spellings; `None`
/// when absent. Anything else, the empty string included (as in Go), is an error.
pub(super) fn flag(map: &BTreeMap<String, Value>, key: &Key) -> Result<Option<bool>> {
    let Some(value) = text(map, key)? else { return Ok(None) };
    parse_go_bool(&value).map(Some).ok_or_else(|| {
        Error::config(format!(
            "{} = {value:?} is not a boolean: set it to true or false, or remove it",
            key.name
        ))
    })
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::unknown_keys;
    use crate::config::test_support::{build, CRYPTO, OCID};

    #[test]
    fn every_key_read_is_known_and_typos_are_not() {
        let names = [
            "key_id",
            "keyID",
            "crypto_endpoint",
            "cryptoEndpoint",
            "management_endpoint",
            "managementEndpoint",
            "auth_type",
            "auth_type_api_key",
            "authTypeAPIKey",
            "config_file",
            "config_profile",
            "ca_cert",
            "request_timeout",
            "attempt_timeout",
            "max_retries",
            "allow_plaintext_http",
            "tenancy_ocid",
            "user_ocid",
            "fingerprint",
            "private_key",
            "private_key_passphrase",
            "region",
            "name",
            "priority",
            "disabled",
            "purpose",
            "crypto_endpont",
            "attempt_timout",
            "allow_http",
        ];
        let map: BTreeMap<String, Value> =
            names.iter().map(|n| (n.to_string(), json!("x"))).collect();
        let mut unknown: Vec<&str> = unknown_keys(&map).collect();
        unknown.sort_unstable();
        assert_eq!(unknown, ["allow_http", "attempt_timout", "crypto_endpont"]);
    }

    #[test]
    fn same_value_under_both_spellings_is_fine() {
        let cfg = build(
            &[("key_id", json!(OCID)), ("keyID", json!(OCID)), ("crypto_endpoint", json!(CRYPTO))],
            None,
            false,
            &[],
        )
        .unwrap();
        assert_eq!(cfg.key_id, OCID);
    }
}

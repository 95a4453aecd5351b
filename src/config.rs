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

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tracing::warn;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A read-only view of environment variables: `Some(value)` when set.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, as an [`Env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Default per-call deadline, retries included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of retries after the first attempt (5 attempts in all, as the Go wrapper).
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Upper bound accepted for `max_retries`.
pub const MAX_MAX_RETRIES: u32 = 20;

/// How the seal authenticates to OCI (`auth_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// API key from the OCI config file (`auth_type_api_key = true`).
    ApiKey,
    /// Instance principal (the default, as in Vault).
    InstancePrincipal,
    /// Resource principal v2.2 (`OCI_RESOURCE_PRINCIPAL_*` env vars).
    ResourcePrincipal,
    /// OKE workload identity.
    WorkloadIdentity,
    /// Session token from the OCI config file's `security_token_file`.
    SecurityToken,
}

impl AuthType {
    /// Every auth type, in documentation order.
    pub const ALL: [AuthType; 5] = [
        AuthType::ApiKey,
        AuthType::InstancePrincipal,
        AuthType::ResourcePrincipal,
        AuthType::WorkloadIdentity,
        AuthType::SecurityToken,
    ];

    /// The `auth_type` config value naming this method.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::ApiKey => "api_key",
            AuthType::InstancePrincipal => "instance_principal",
            AuthType::ResourcePrincipal => "resource_principal",
            AuthType::WorkloadIdentity => "workload_identity",
            AuthType::SecurityToken => "security_token",
        }
    }

    /// Parses an `auth_type` value (case-insensitive, surrounding spaces ignored).
    pub fn parse(value: &str) -> Option<AuthType> {
        let value = value.trim();
        AuthType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// Maximum attempts per call, the first included (`max_retries` + 1).
    pub max_attempts: u32,
    /// API-key credentials given in the configuration itself; when set (only with
    /// [`AuthType::ApiKey`]), no OCI config file is read.
    pub api_key_credentials: Option<ApiKeyCredentials>,
    /// Whether `OCI_CLI_PROFILE` may choose the OCI config profile. False when the host disallows
    /// environment variables (Vault does): Vault's stock seal never reads that variable, so an
    /// admin host that sets it for the `oci` CLI must not change which key the seal uses.
    pub profile_from_env: bool,
    /// How long one HTTP attempt may wait for an answer before it is abandoned and retried on a
    /// new connection (`attempt_timeout`); never beyond the call's remaining deadline.
    pub attempt_timeout: Duration,
    /// Allow `http://` endpoints that are not loopback addresses (`allow_plaintext_http`).
    pub allow_plaintext_http: bool,
}

/// API-key credentials given in the seal configuration (OpenBao's `ocikms` keys), used instead
/// of an OCI config file profile. The private key and its passphrase are zeroed on drop and
/// never shown by `Debug`.
#[derive(Clone)]
pub struct ApiKeyCredentials {
    /// The user's tenancy OCID (`tenancy_ocid`).
    pub tenancy: String,
    /// The user OCID (`user_ocid`).
    pub user: String,
    /// The API key's fingerprint (`fingerprint`), checked against the key.
    pub fingerprint: String,
    /// The PEM text of the RSA private key (`private_key`).
    pub private_key: Zeroizing<String>,
    /// The passphrase of an encrypted `private_key` (`private_key_passphrase`).
    pub private_key_passphrase: Option<Zeroizing<String>>,
}

impl fmt::Debug for ApiKeyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyCredentials")
            .field("tenancy", &self.tenancy)
            .field("user", &self.user)
            .field("fingerprint", &self.fingerprint)
            .field("private_key", &"<redacted>")
            .field(
                "private_key_passphrase",
                &self.private_key_passphrase.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A config map key and its accepted older spelling.
struct Key {
    name: &'static str,
    alias: Option<&'static str>,
}

const KEY_ID: Key = Key { name: "key_id", alias: Some("keyID") };
const CRYPTO_ENDPOINT: Key = Key { name: "crypto_endpoint", alias: Some("cryptoEndpoint") };
const MANAGEMENT_ENDPOINT: Key =
    Key { name: "management_endpoint", alias: Some("managementEndpoint") };
const AUTH_TYPE_API_KEY: Key = Key { name: "auth_type_api_key", alias: Some("authTypeAPIKey") };
const AUTH_TYPE: Key = Key { name: "auth_type", alias: None };
const CONFIG_FILE: Key = Key { name: "config_file", alias: None };
const CONFIG_PROFILE: Key = Key { name: "config_profile", alias: None };
const CA_CERT: Key = Key { name: "ca_cert", alias: None };
const REQUEST_TIMEOUT: Key = Key { name: "request_timeout", alias: None };
const MAX_RETRIES: Key = Key { name: "max_retries", alias: None };
const TENANCY_OCID: Key = Key { name: "tenancy_ocid", alias: None };
const USER_OCID: Key = Key { name: "user_ocid", alias: None };
const FINGERPRINT: Key = Key { name: "fingerprint", alias: None };
const PRIVATE_KEY: Key = Key { name: "private_key", alias: None };
const PRIVATE_KEY_PASSPHRASE: Key = Key { name: "private_key_passphrase", alias: None };
/// OpenBao's `region`: accepted and not needed (the endpoints name the vault and its region).
const REGION: Key = Key { name: "region", alias: None };

/// The config keys that hold secrets: callers holding a copy of the map (the C ABI) scrub them.
pub(crate) const SECRET_KEYS: [&str; 2] = [PRIVATE_KEY.name, PRIVATE_KEY_PASSPHRASE.name];

const KNOWN_KEYS: [&Key; 16] = [
    &KEY_ID,
    &CRYPTO_ENDPOINT,
    &MANAGEMENT_ENDPOINT,
    &AUTH_TYPE_API_KEY,
    &AUTH_TYPE,
    &CONFIG_FILE,
    &CONFIG_PROFILE,
    &CA_CERT,
    &REQUEST_TIMEOUT,
    &MAX_RETRIES,
    &TENANCY_OCID,
    &USER_OCID,
    &FINGERPRINT,
    &PRIVATE_KEY,
    &PRIVATE_KEY_PASSPHRASE,
    &REGION,
];

/// Keys Vault itself puts in a seal stanza's map (seal HA and KMS purposes): silently ignored.
const VAULT_GENERIC_KEYS: [&str; 4] = ["disabled", "name", "priority", "purpose"];

const ENV_KEY_ID: [&str; 2] = ["OCIKMS_WRAPPER_KEY_ID", "VAULT_OCIKMS_SEAL_KEY_ID"];
const ENV_CRYPTO_ENDPOINT: [&str; 2] =
    ["OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "VAULT_OCIKMS_CRYPTO_ENDPOINT"];
const ENV_MANAGEMENT_ENDPOINT: [&str; 2] =
    ["OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT", "VAULT_OCIKMS_MANAGEMENT_ENDPOINT"];

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
        warn_unknown_keys(map);
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
        let key_id = resolve_key_id(&raw_key_id, &key_id_source, env)?;

        let crypto_endpoint = match from_env(&ENV_CRYPTO_ENDPOINT) {
            Some((var, v)) => normalize_endpoint(&v, &var)?,
            None => match text(map, &CRYPTO_ENDPOINT)?.filter(|v| !v.is_empty()) {
                Some(v) => normalize_endpoint(&v, CRYPTO_ENDPOINT.name)?,
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
            Some((var, v)) => Some(normalize_endpoint(&v, &var)?),
            None => match text(map, &MANAGEMENT_ENDPOINT)?.filter(|v| !v.is_empty()) {
                Some(v) => Some(normalize_endpoint(&v, MANAGEMENT_ENDPOINT.name)?),
                None => derive_management_endpoint(&crypto_endpoint),
            },
        };

        let auth_type = auth_type(map)?;
        let config_file = text(map, &CONFIG_FILE)?.filter(|v| !v.is_empty()).map(PathBuf::from);
        let config_profile = text(map, &CONFIG_PROFILE)?.filter(|v| !v.is_empty());
        let api_key_credentials = api_key_credentials(map, auth_type)?;
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
            request_timeout: request_timeout(map)?,
            max_attempts: max_retries(map)? + 1,
            api_key_credentials,
            profile_from_env: !disallow_env_vars,
            attempt_timeout: Duration::from_secs(10),
            allow_plaintext_http: false,
        })
    }
}

/// Logs (never rejects) map keys that are neither ours nor Vault's own.
fn warn_unknown_keys(map: &BTreeMap<String, Value>) {
    for name in map.keys() {
        let known = KNOWN_KEYS.iter().any(|k| k.name == name || k.alias == Some(name.as_str()))
            || VAULT_GENERIC_KEYS.contains(&name.as_str());
        if !known {
            warn!(key = %name, "ignoring unknown ocikms seal config key (check its spelling)");
        }
    }
}

/// The value of `key` (either spelling) as text; `None` when absent or `null`.
fn text(map: &BTreeMap<String, Value>, key: &Key) -> Result<Option<String>> {
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

/// Resolves `file://`, `env://` and `string://` in a key id (go-kms-wrapping `ParsePaths`), then
/// trims surrounding whitespace (an OCID never has any, a file usually ends with a newline).
fn resolve_key_id(raw: &str, source: &str, env: Env<'_>) -> Result<String> {
    let trimmed = raw.trim();
    let resolved = if let Some(path) = trimmed.strip_prefix("file://") {
        read_key_id_file(path).map_err(|e| {
            Error::config(format!(
                "key_id (from {source}) points to file {path}, which cannot be read ({e}): \
                 fix the path or give the key OCID directly"
            ))
        })?
    } else if let Some(name) = trimmed.strip_prefix("env://") {
        env(name).ok_or_else(|| {
            Error::config(format!(
                "key_id (from {source}) points to environment variable {name}, which is not set: \
                 set it or give the key OCID directly"
            ))
        })?
    } else if let Some(literal) = trimmed.strip_prefix("string://") {
        literal.to_string()
    } else {
        raw.to_string()
    };
    let key_id = resolved.trim();
    if key_id.is_empty() {
        return Err(Error::config(format!(
            "key_id (from {source}) is empty after resolving {trimmed:?}: it must be the master \
             key OCID (ocid1.key...)"
        )));
    }
    if key_id.chars().any(char::is_whitespace) {
        return Err(Error::config(format!(
            "key_id (from {source}) contains whitespace: it must be a single key OCID \
             (ocid1.key...)"
        )));
    }
    if !key_id.starts_with("ocid1.key.") {
        warn!(key_id, "key_id does not look like a KMS key OCID (ocid1.key...)");
    }
    Ok(key_id.to_string())
}

/// The most a `key_id = "file://..."` file may hold: a key OCID is a few hundred bytes, and a
/// bounded read keeps a wrong path (`/dev/zero`, a log file) from exhausting memory at init.
const MAX_KEY_ID_FILE: u64 = 4096;

fn read_key_id_file(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_KEY_ID_FILE + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_KEY_ID_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {MAX_KEY_ID_FILE} bytes; it must hold only the key OCID"),
        ));
    }
    Ok(text)
}

/// Checks that an endpoint is an absolute http(s) URL with a host; strips trailing slashes.
fn normalize_endpoint(value: &str, source: &str) -> Result<String> {
    let value = value.trim();
    let bad = |problem: &str| {
        Error::config(format!(
            "{source} = {value:?} {problem}: give the endpoint URL, e.g. \
             https://<vault>-crypto.kms.<region>.oraclecloud.com"
        ))
    };
    let url = url::Url::parse(value).map_err(|e| bad(&format!("is not a valid URL ({e})")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("does not start with https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    if url.scheme() == "http" {
        warn!(endpoint = value, "{source} uses plain http: use https outside tests");
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `https://x-crypto.kms.r.oraclecloud.com` → `https://x-management.kms.r.oraclecloud.com`;
/// `None` when the host is not shaped like that.
fn derive_management_endpoint(crypto_endpoint: &str) -> Option<String> {
    let url = url::Url::parse(crypto_endpoint).ok()?;
    let host = url.host_str()?;
    if !host.contains("-crypto.") {
        return None;
    }
    let mut derived = url.clone();
    derived.set_host(Some(&host.replacen("-crypto.", "-management.", 1))).ok()?;
    Some(derived.as_str().trim_end_matches('/').to_string())
}

/// `auth_type`, reconciled with the Go wrapper's `auth_type_api_key`.
fn auth_type(map: &BTreeMap<String, Value>) -> Result<AuthType> {
    let api_key = match text(map, &AUTH_TYPE_API_KEY)? {
        None => None,
        Some(v) => Some(parse_go_bool(&v).ok_or_else(|| {
            Error::config(format!(
                "auth_type_api_key = {v:?} is not a boolean: set it to true or false, or remove it"
            ))
        })?),
    };
    let explicit = match text(map, &AUTH_TYPE)? {
        None => None,
        Some(v) => Some(AuthType::parse(&v).ok_or_else(|| {
            let valid: Vec<&str> = AuthType::ALL.iter().map(|t| t.as_str()).collect();
            Error::config(format!(
                "auth_type = {v:?} is not a known auth type: use one of {}",
                valid.join(", ")
            ))
        })?),
    };
    match (explicit, api_key) {
        (Some(t), Some(true)) if t != AuthType::ApiKey => Err(Error::config(format!(
            "auth_type = {t} conflicts with auth_type_api_key = true: remove \
             auth_type_api_key, or set auth_type = api_key"
        ))),
        (Some(AuthType::ApiKey), Some(false)) => Err(Error::config(
            "auth_type = api_key conflicts with auth_type_api_key = false: remove one of them",
        )),
        (Some(t), _) => Ok(t),
        (None, Some(true)) => Ok(AuthType::ApiKey),
        (None, _) => Ok(AuthType::InstancePrincipal),
    }
}

/// The API-key credentials of the map, if any: all four of `tenancy_ocid`, `user_ocid`,
/// `fingerprint`, `private_key` (plus `private_key_passphrase` for an encrypted key), and only
/// with API-key authentication. Empty values count as not set; `region` alone is ignored.
fn api_key_credentials(
    map: &BTreeMap<String, Value>,
    auth_type: AuthType,
) -> Result<Option<ApiKeyCredentials>> {
    let plain = |key: &Key| -> Result<Option<String>> {
        Ok(text(map, key)?.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
    };
    let secret = |key: &Key| -> Result<Option<Zeroizing<String>>> {
        Ok(text(map, key)?.map(Zeroizing::new).filter(|v| !v.trim().is_empty()))
    };
    let tenancy = plain(&TENANCY_OCID)?;
    let user = plain(&USER_OCID)?;
    let fingerprint = plain(&FINGERPRINT)?;
    let private_key = secret(&PRIVATE_KEY)?;
    let private_key_passphrase = secret(&PRIVATE_KEY_PASSPHRASE)?;
    let presence = [
        (TENANCY_OCID.name, tenancy.is_some()),
        (USER_OCID.name, user.is_some()),
        (FINGERPRINT.name, fingerprint.is_some()),
        (PRIVATE_KEY.name, private_key.is_some()),
        (PRIVATE_KEY_PASSPHRASE.name, private_key_passphrase.is_some()),
    ];
    let given: Vec<&str> = presence.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect();
    if given.is_empty() {
        return Ok(None);
    }
    let (Some(tenancy), Some(user), Some(fingerprint), Some(private_key)) =
        (tenancy, user, fingerprint, private_key)
    else {
        let missing: Vec<&str> =
            presence[..4].iter().filter(|(_, set)| !*set).map(|(n, _)| *n).collect();
        return Err(Error::config(format!(
            "incomplete API-key credentials in the seal configuration: {} {} missing (given: \
             {}); set all of tenancy_ocid, user_ocid, fingerprint and private_key (and \
             private_key_passphrase for an encrypted key), or remove them to read the OCI \
             config file instead",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            given.join(", ")
        )));
    };
    if auth_type != AuthType::ApiKey {
        let chosen = match (text(map, &AUTH_TYPE)?, text(map, &AUTH_TYPE_API_KEY)?) {
            (Some(t), _) => format!("auth_type = {}", t.trim()),
            (None, Some(v)) => format!("auth_type_api_key = {v}, so auth_type is {auth_type}"),
            (None, None) => format!("auth_type_api_key is not set, so auth_type is {auth_type}"),
        };
        return Err(Error::config(format!(
            "API-key credentials ({}) are set in the seal configuration but {chosen}: they are \
             only used with API-key authentication. Set auth_type_api_key = true (true means API \
             key, false or unset means instance principal, as Vault and OpenBao 2.5/2.6 document \
             it) or auth_type = \"api_key\", or remove them",
            given.join(", ")
        )));
    }
    let pem = private_key.trim_start();
    if ["file://", "env://", "string://"].iter().any(|scheme| pem.starts_with(scheme)) {
        return Err(Error::config(
            "private_key must be the PEM text of the key (-----BEGIN ... PRIVATE KEY-----); \
             file://, env:// and string:// references are not supported for it: give the PEM \
             text, or use an OCI config file profile (key_file) instead",
        ));
    }
    Ok(Some(ApiKeyCredentials { tenancy, user, fingerprint, private_key, private_key_passphrase }))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// The longest `request_timeout` accepted: a call that may last longer than a day is a
/// configuration mistake (and `1e19` seconds cannot be added to a clock).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

fn request_timeout(map: &BTreeMap<String, Value>) -> Result<Duration> {
    let Some(raw) = text(map, &REQUEST_TIMEOUT)? else {
        return Ok(DEFAULT_REQUEST_TIMEOUT);
    };
    match parse_duration(&raw) {
        Some(d) if d > MAX_REQUEST_TIMEOUT => Err(Error::config(format!(
            "request_timeout = {raw:?} is longer than the maximum of 24h: use a duration such as \
             \"60s\" (the default) up to \"24h\""
        ))),
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(Error::config(format!(
            "request_timeout = {raw:?} is not a positive duration: use a Go duration such as \
             \"30s\", \"1m30s\", \"500ms\", or a number of seconds"
        ))),
    }
}

fn max_retries(map: &BTreeMap<String, Value>) -> Result<u32> {
    let Some(raw) = text(map, &MAX_RETRIES)? else {
        return Ok(DEFAULT_MAX_RETRIES);
    };
    match raw.trim().parse::<u32>() {
        Ok(n) if n <= MAX_MAX_RETRIES => Ok(n),
        _ => Err(Error::config(format!(
            "max_retries = {raw:?} is not a whole number from 0 to {MAX_MAX_RETRIES}: set the \
             number of retries after the first attempt (default {DEFAULT_MAX_RETRIES})"
        ))),
    }
}

/// A duration as Vault accepts it: a number of seconds (`30`, `1.5`) or a Go duration
/// (`"300ms"`, `"1m30s"`, `"2h"`, `"1.5s"`). Negative values are rejected.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    parse_go_duration(value)
}

/// Go's `time.ParseDuration` for non-negative values.
fn parse_go_duration(value: &str) -> Option<Duration> {
    let mut rest = value.strip_prefix('+').unwrap_or(value);
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let int: u128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
        let mut nanos = int.checked_mul(unit_nanos)?;
        let mut scale = unit_nanos;
        for digit in frac_part.bytes().take(18) {
            scale /= 10;
            nanos = nanos.checked_add(u128::from(digit - b'0') * scale)?;
        }
        total_nanos = total_nanos.checked_add(nanos)?;
        rest = after;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;
    use std::collections::HashMap;

    const OCID: &str = "ocid1.key.oc1.iad.map";
    const CRYPTO: &str = "https://abc-crypto.kms.us-ashburn-1.oraclecloud.com";

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn build(
        pairs: &[(&str, Value)],
        option: Option<&str>,
        disallow: bool,
        vars: &[(&str, &str)],
    ) -> Result<SealConfig> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let env = move |name: &str| vars.get(name).cloned();
        SealConfig::from_sources(&map(pairs), option, disallow, &env)
    }

    fn base() -> Vec<(&'static str, Value)> {
        vec![("key_id", json!(OCID)), ("crypto_endpoint", json!(CRYPTO))]
    }

    fn config_error(result: Result<SealConfig>) -> String {
        let err = result.expect_err("expected a config error");
        assert_eq!(err.code(), ErrorCode::Config, "{err}");
        err.message().to_string()
    }

    #[test]
    fn precedence_table() {
        struct Case {
            name: &'static str,
            map: Vec<(&'static str, Value)>,
            option: Option<&'static str>,
            disallow: bool,
            env: Vec<(&'static str, &'static str)>,
            key_id: &'static str,
            crypto: &'static str,
            management: Option<&'static str>,
        }
        let mgmt = "https://abc-management.kms.us-ashburn-1.oraclecloud.com";
        let cases = vec![
            Case {
                name: "map only, management derived",
                map: base(),
                option: None,
                disallow: false,
                env: vec![],
                key_id: OCID,
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "older spellings",
                map: vec![
                    ("keyID", json!("ocid1.key.old")),
                    ("cryptoEndpoint", json!("http://127.0.0.1:7000/")),
                    ("managementEndpoint", json!("http://127.0.0.1:7001")),
                ],
                option: None,
                disallow: false,
                env: vec![],
                key_id: "ocid1.key.old",
                crypto: "http://127.0.0.1:7000",
                management: Some("http://127.0.0.1:7001"),
            },
            Case {
                name: "non-OCI endpoint: no derived management endpoint",
                map: vec![
                    ("key_id", json!(OCID)),
                    ("crypto_endpoint", json!("http://localhost:7000")),
                ],
                option: None,
                disallow: false,
                env: vec![],
                key_id: OCID,
                crypto: "http://localhost:7000",
                management: None,
            },
            Case {
                name: "option beats map",
                map: base(),
                option: Some("ocid1.key.option"),
                disallow: false,
                env: vec![],
                key_id: "ocid1.key.option",
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "empty option falls back to map",
                map: base(),
                option: Some(""),
                disallow: false,
                env: vec![],
                key_id: OCID,
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "VAULT_ env beats option and map",
                map: base(),
                option: Some("ocid1.key.option"),
                disallow: false,
                env: vec![
                    ("VAULT_OCIKMS_SEAL_KEY_ID", "ocid1.key.vaultenv"),
                    ("VAULT_OCIKMS_CRYPTO_ENDPOINT", "https://v-crypto.kms.r.oraclecloud.com"),
                    ("VAULT_OCIKMS_MANAGEMENT_ENDPOINT", "https://other.example.com"),
                ],
                key_id: "ocid1.key.vaultenv",
                crypto: "https://v-crypto.kms.r.oraclecloud.com",
                management: Some("https://other.example.com"),
            },
            Case {
                name: "OCIKMS_WRAPPER_ env beats VAULT_ env",
                map: base(),
                option: None,
                disallow: false,
                env: vec![
                    ("VAULT_OCIKMS_SEAL_KEY_ID", "ocid1.key.vaultenv"),
                    ("OCIKMS_WRAPPER_KEY_ID", "ocid1.key.wrapperenv"),
                    ("VAULT_OCIKMS_CRYPTO_ENDPOINT", "https://v-crypto.kms.r.oraclecloud.com"),
                    ("OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "https://w-crypto.kms.r.oraclecloud.com"),
                ],
                key_id: "ocid1.key.wrapperenv",
                crypto: "https://w-crypto.kms.r.oraclecloud.com",
                management: Some("https://w-management.kms.r.oraclecloud.com"),
            },
            Case {
                name: "empty env values are ignored",
                map: base(),
                option: None,
                disallow: false,
                env: vec![("OCIKMS_WRAPPER_KEY_ID", ""), ("OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "")],
                key_id: OCID,
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "disallow_env_vars ignores env",
                map: base(),
                option: Some("ocid1.key.option"),
                disallow: true,
                env: vec![
                    ("OCIKMS_WRAPPER_KEY_ID", "ocid1.key.wrapperenv"),
                    ("OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "https://w-crypto.kms.r.oraclecloud.com"),
                    ("VAULT_OCIKMS_MANAGEMENT_ENDPOINT", "https://other.example.com"),
                ],
                key_id: "ocid1.key.option",
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "env:// and string:// in key_id",
                map: vec![("key_id", json!("env://MY_KEY")), ("crypto_endpoint", json!(CRYPTO))],
                option: None,
                disallow: true,
                env: vec![("MY_KEY", " ocid1.key.fromenv\n")],
                key_id: "ocid1.key.fromenv",
                crypto: CRYPTO,
                management: Some(mgmt),
            },
            Case {
                name: "string:// escapes a scheme",
                map: vec![
                    ("key_id", json!("string://ocid1.key.lit")),
                    ("crypto_endpoint", json!(CRYPTO)),
                ],
                option: None,
                disallow: false,
                env: vec![],
                key_id: "ocid1.key.lit",
                crypto: CRYPTO,
                management: Some(mgmt),
            },
        ];
        for case in cases {
            let cfg = build(&case.map, case.option, case.disallow, &case.env)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(cfg.key_id, case.key_id, "{}", case.name);
            assert_eq!(cfg.crypto_endpoint, case.crypto, "{}", case.name);
            assert_eq!(cfg.management_endpoint.as_deref(), case.management, "{}", case.name);
        }
    }

    #[test]
    fn key_id_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "ocid1.key.fromfile\n").unwrap();
        let uri = format!("file://{}", path.display());
        let cfg =
            build(&[("key_id", json!(uri)), ("crypto_endpoint", json!(CRYPTO))], None, true, &[])
                .unwrap();
        assert_eq!(cfg.key_id, "ocid1.key.fromfile");

        let missing = format!("file://{}", dir.path().join("nope").display());
        let msg = config_error(build(
            &[("key_id", json!(missing)), ("crypto_endpoint", json!(CRYPTO))],
            None,
            true,
            &[],
        ));
        assert!(msg.contains("cannot be read") && msg.contains("nope"), "{msg}");

        let endless = config_error(build(
            &[("key_id", json!("file:///dev/zero")), ("crypto_endpoint", json!(CRYPTO))],
            None,
            true,
            &[],
        ));
        assert!(endless.contains("larger than 4096 bytes"), "{endless}");
    }

    #[test]
    fn defaults() {
        let cfg = build(&base(), None, false, &[]).unwrap();
        assert_eq!(cfg.auth_type, AuthType::InstancePrincipal);
        assert_eq!(cfg.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(cfg.max_attempts, DEFAULT_MAX_RETRIES + 1);
        assert!(cfg.config_file.is_none() && cfg.config_profile.is_none() && cfg.ca_cert.is_none());
    }

    #[test]
    fn auth_type_table() {
        type Case = (Vec<(&'static str, Value)>, Option<AuthType>);
        let cases: Vec<Case> = vec![
            (vec![("auth_type_api_key", json!("true"))], Some(AuthType::ApiKey)),
            (vec![("auth_type_api_key", json!(true))], Some(AuthType::ApiKey)),
            (vec![("authTypeAPIKey", json!("1"))], Some(AuthType::ApiKey)),
            (vec![("auth_type_api_key", json!("false"))], Some(AuthType::InstancePrincipal)),
            (vec![("auth_type_api_key", json!(0))], Some(AuthType::InstancePrincipal)),
            (vec![("auth_type", json!("security_token"))], Some(AuthType::SecurityToken)),
            (vec![("auth_type", json!(" Workload_Identity "))], Some(AuthType::WorkloadIdentity)),
            (vec![("auth_type", json!("resource_principal"))], Some(AuthType::ResourcePrincipal)),
            (
                vec![("auth_type", json!("api_key")), ("auth_type_api_key", json!("true"))],
                Some(AuthType::ApiKey),
            ),
            (
                vec![("auth_type", json!("security_token")), ("auth_type_api_key", json!("false"))],
                Some(AuthType::SecurityToken),
            ),
            (vec![("auth_type_api_key", json!(""))], None),
            (vec![("auth_type_api_key", json!("yes"))], None),
            (vec![("auth_type", json!("password"))], None),
            (vec![("auth_type", json!(""))], None),
            (
                vec![
                    ("auth_type", json!("instance_principal")),
                    ("auth_type_api_key", json!("true")),
                ],
                None,
            ),
            (vec![("auth_type", json!("api_key")), ("auth_type_api_key", json!(false))], None),
        ];
        for (extra, expected) in cases {
            let mut pairs = base();
            pairs.extend(extra.iter().cloned());
            let result = build(&pairs, None, false, &[]);
            match expected {
                Some(t) => assert_eq!(result.unwrap().auth_type, t, "{extra:?}"),
                None => {
                    let msg = config_error(result);
                    assert!(msg.contains("auth_type"), "{extra:?}: {msg}");
                }
            }
        }
    }

    #[test]
    fn typed_values() {
        let mut pairs = base();
        pairs.extend([
            ("request_timeout", json!("1m30s")),
            ("max_retries", json!(7)),
            ("config_file", json!("~/.oci/other")),
            ("config_profile", json!("ADMIN")),
            ("ca_cert", json!("/etc/ssl/ca.pem")),
            // Vault's seal HA keys and unknown keys are ignored.
            ("name", json!("oci")),
            ("priority", json!("1")),
            ("disabled", json!("false")),
            ("some_typo", json!("x")),
        ]);
        let cfg = build(&pairs, None, false, &[]).unwrap();
        assert_eq!(cfg.request_timeout, Duration::from_secs(90));
        assert_eq!(cfg.max_attempts, 8);
        assert_eq!(cfg.config_file, Some(PathBuf::from("~/.oci/other")));
        assert_eq!(cfg.config_profile.as_deref(), Some("ADMIN"));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/etc/ssl/ca.pem")));

        for (value, secs) in
            [(json!(30), 30.0), (json!("45"), 45.0), (json!("500ms"), 0.5), (json!(1.5), 1.5)]
        {
            let mut pairs = base();
            pairs.push(("request_timeout", value.clone()));
            let cfg = build(&pairs, None, false, &[]).unwrap();
            assert_eq!(cfg.request_timeout.as_secs_f64(), secs, "{value}");
        }
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (vec![("crypto_endpoint", json!(CRYPTO))], "key_id is not set"),
            (vec![("key_id", json!(OCID))], "crypto_endpoint is not set"),
            (vec![("key_id", json!("   ")), ("crypto_endpoint", json!(CRYPTO))], "empty"),
            (vec![("key_id", json!("string://")), ("crypto_endpoint", json!(CRYPTO))], "empty"),
            (
                vec![("key_id", json!("ocid1.key a")), ("crypto_endpoint", json!(CRYPTO))],
                "whitespace",
            ),
            (
                vec![("key_id", json!(OCID)), ("crypto_endpoint", json!("abc-crypto.kms"))],
                "crypto_endpoint",
            ),
            (vec![("key_id", json!(OCID)), ("crypto_endpoint", json!("ftp://x"))], "https://"),
            (
                vec![
                    ("key_id", json!(OCID)),
                    ("crypto_endpoint", json!(CRYPTO)),
                    ("management_endpoint", json!("x")),
                ],
                "management_endpoint",
            ),
            (
                vec![
                    ("key_id", json!(OCID)),
                    ("keyID", json!("ocid1.key.other")),
                    ("crypto_endpoint", json!(CRYPTO)),
                ],
                "both key_id and keyID",
            ),
            (
                vec![("key_id", json!([OCID])), ("crypto_endpoint", json!(CRYPTO))],
                "key_id: expected",
            ),
        ];
        for (pairs, needle) in cases {
            let msg = config_error(build(&pairs, None, true, &[]));
            assert!(msg.contains(needle), "{pairs:?}: {msg}");
        }
        for (key, value) in [
            ("request_timeout", json!("soon")),
            ("request_timeout", json!("-5s")),
            ("request_timeout", json!(0)),
            ("request_timeout", json!("")),
            ("max_retries", json!(-1)),
            ("max_retries", json!("2.5")),
            ("max_retries", json!(MAX_MAX_RETRIES + 1)),
        ] {
            let mut pairs = base();
            pairs.push((key, value.clone()));
            let msg = config_error(build(&pairs, None, false, &[]));
            assert!(msg.starts_with(key), "{key}={value}: {msg}");
        }
        let msg = config_error(build(
            &[("key_id", json!("env://NOPE")), ("crypto_endpoint", json!(CRYPTO))],
            None,
            false,
            &[],
        ));
        assert!(msg.contains("NOPE") && msg.contains("not set"), "{msg}");
    }

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nSECRET-KEY-BODY\n-----END PRIVATE KEY-----\n";

    /// `base()` with API-key auth and all four raw credentials (+ `extra`).
    fn raw(extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
        let mut pairs = base();
        pairs.extend([
            ("auth_type_api_key", json!("true")),
            ("tenancy_ocid", json!(" ocid1.tenancy.oc1..t ")),
            ("user_ocid", json!("ocid1.user.oc1..u")),
            ("fingerprint", json!("aa:bb")),
            ("private_key", json!(PEM)),
        ]);
        for (key, value) in extra {
            pairs.retain(|(k, _)| k != key);
            pairs.push((key, value.clone()));
        }
        pairs
    }

    #[test]
    fn raw_api_key_credentials_replace_the_config_file() {
        let cfg = build(
            &raw(&[("private_key_passphrase", json!("pw")), ("region", json!("iad"))]),
            None,
            false,
            &[],
        )
        .unwrap();
        assert_eq!(cfg.auth_type, AuthType::ApiKey);
        let creds = cfg.api_key_credentials.as_ref().expect("raw credentials");
        assert_eq!(creds.tenancy, "ocid1.tenancy.oc1..t", "trimmed");
        assert_eq!(creds.user, "ocid1.user.oc1..u");
        assert_eq!(creds.fingerprint, "aa:bb");
        assert_eq!(creds.private_key.as_str(), PEM, "the PEM text is kept as given");
        assert_eq!(creds.private_key_passphrase.as_deref().map(String::as_str), Some("pw"));
        // auth_type = api_key works as well; an empty passphrase counts as not set.
        let cfg = build(
            &raw(&[
                ("auth_type_api_key", Value::Null),
                ("auth_type", json!("api_key")),
                ("private_key_passphrase", json!("")),
            ]),
            None,
            false,
            &[],
        )
        .unwrap();
        assert!(cfg.api_key_credentials.unwrap().private_key_passphrase.is_none());
        // Without them (region alone is ignored): the OCI config file, as before.
        let mut pairs = base();
        pairs.extend([("auth_type_api_key", json!(true)), ("region", json!("us-ashburn-1"))]);
        assert!(build(&pairs, None, false, &[]).unwrap().api_key_credentials.is_none());
    }

    #[test]
    fn raw_credentials_never_show_in_debug_or_errors() {
        let cfg =
            build(&raw(&[("private_key_passphrase", json!("PASSPHRASE-xyz"))]), None, false, &[])
                .unwrap();
        let debug = format!("{cfg:?}");
        assert!(debug.contains("ocid1.user.oc1..u") && debug.contains("<redacted>"), "{debug}");
        assert!(!debug.contains("SECRET-KEY-BODY") && !debug.contains("PASSPHRASE-xyz"), "{debug}");
        for pairs in [
            raw(&[
                ("auth_type_api_key", json!(false)),
                ("private_key_passphrase", json!("PASSPHRASE-xyz")),
            ]),
            raw(&[("user_ocid", json!("")), ("private_key_passphrase", json!("PASSPHRASE-xyz"))]),
            raw(&[
                ("config_file", json!("/etc/oci")),
                ("private_key_passphrase", json!("PASSPHRASE-xyz")),
            ]),
            raw(&[
                ("private_key", json!("file:///SECRET-KEY-BODY")),
                ("private_key_passphrase", json!("PASSPHRASE-xyz")),
            ]),
        ] {
            let msg = config_error(build(&pairs, None, false, &[]));
            assert!(!msg.contains("SECRET-KEY-BODY") && !msg.contains("PASSPHRASE-xyz"), "{msg}");
        }
    }

    #[test]
    fn incomplete_raw_credentials_name_the_missing_keys() {
        let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                raw(&[("tenancy_ocid", Value::Null), ("fingerprint", json!(" "))]),
                "tenancy_ocid, fingerprint are missing (given: user_ocid, private_key)",
            ),
            (raw(&[("private_key", json!(""))]), "private_key is missing (given: tenancy_ocid, user_ocid, fingerprint)"),
            (
                vec![("key_id", json!(OCID)), ("crypto_endpoint", json!(CRYPTO)), ("auth_type_api_key", json!(true)), ("private_key_passphrase", json!("pw"))],
                "tenancy_ocid, user_ocid, fingerprint, private_key are missing (given: private_key_passphrase)",
            ),
        ];
        for (pairs, needle) in cases {
            let msg = config_error(build(&pairs, None, false, &[]));
            assert!(
                msg.starts_with("incomplete API-key credentials") && msg.contains(needle),
                "{msg}"
            );
        }
    }

    #[test]
    fn raw_credentials_need_api_key_auth() {
        let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                raw(&[("auth_type_api_key", Value::Null)]),
                "auth_type_api_key is not set, so auth_type is instance_principal",
            ),
            (
                raw(&[("auth_type_api_key", json!("false"))]),
                "auth_type_api_key = false, so auth_type is instance_principal",
            ),
            (
                raw(&[("auth_type_api_key", Value::Null), ("auth_type", json!("security_token"))]),
                "auth_type = security_token",
            ),
        ];
        for (pairs, needle) in cases {
            let msg = config_error(build(&pairs, None, false, &[]));
            assert!(msg.contains(needle), "{msg}");
            assert!(
                msg.contains("Set auth_type_api_key = true (true means API key, false or unset means instance principal"),
                "{msg}"
            );
        }
    }

    #[test]
    fn raw_credentials_exclude_config_file_settings_and_references() {
        for key in ["config_file", "config_profile"] {
            let msg = config_error(build(&raw(&[(key, json!("x"))]), None, false, &[]));
            assert!(
                msg.starts_with(&format!("{key} is set together with API-key credentials")),
                "{msg}"
            );
        }
        for reference in ["file:///etc/vault/key.pem", "env://OCI_KEY", " string://x"] {
            let msg =
                config_error(build(&raw(&[("private_key", json!(reference))]), None, false, &[]));
            assert!(msg.contains("private_key must be the PEM text"), "{msg}");
        }
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

    #[test]
    fn go_durations() {
        let ok = [
            ("30s", 30_000_000_000u128),
            ("1m30s", 90_000_000_000),
            ("500ms", 500_000_000),
            ("1.5h", 5_400_000_000_000),
            ("2h45m", 9_900_000_000_000),
            ("100us", 100_000),
            ("7µs", 7_000),
            ("3ns", 3),
            (".5s", 500_000_000),
            ("+1s", 1_000_000_000),
            ("30", 30_000_000_000),
        ];
        for (text, nanos) in ok {
            assert_eq!(parse_duration(text).map(|d| d.as_nanos()), Some(nanos), "{text}");
        }
        for bad in ["", "s", "1x", "-1s", "-1", "1s-", "1.s.", "h1", "."] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The seal configuration as Vault would build it: the HCL seal block, overridden by flags,
//! then [`SealConfig::from_sources`] with the process environment (which wins, as in Vault).

use std::collections::BTreeMap;

use ocikms::config::{process_env, Env, SealConfig};
use ocikms::Result;
use serde_json::Value;

use crate::args::SealArgs;
use crate::hcl_seal;

/// A validated configuration and where its main values came from.
pub struct Loaded {
    /// The configuration.
    pub config: SealConfig,
    /// `(setting, source)` for key_id, crypto_endpoint and management_endpoint.
    pub sources: Vec<(&'static str, String)>,
}

/// A setting that the environment may override: map key, its older spelling, flag, env vars.
struct Overridable {
    key: &'static str,
    alias: &'static str,
    flag: &'static str,
    env: [&'static str; 2],
}

const OVERRIDABLE: [Overridable; 3] = [
    Overridable {
        key: "key_id",
        alias: "keyID",
        flag: "--key-id",
        env: ["OCIKMS_WRAPPER_KEY_ID", "VAULT_OCIKMS_SEAL_KEY_ID"],
    },
    Overridable {
        key: "crypto_endpoint",
        alias: "cryptoEndpoint",
        flag: "--crypto-endpoint",
        env: ["OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "VAULT_OCIKMS_CRYPTO_ENDPOINT"],
    },
    Overridable {
        key: "management_endpoint",
        alias: "managementEndpoint",
        flag: "--management-endpoint",
        env: ["OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT", "VAULT_OCIKMS_MANAGEMENT_ENDPOINT"],
    },
];

/// Loads the configuration from `args` and the process environment. An OpenBao config's
/// `plugin "kms" "ocikms" { env = [...] }` entries are set first for the variables this process
/// does not have, as OpenBao starts the plugin: the server's own environment wins.
pub fn load(args: &SealArgs) -> Result<Loaded> {
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ocikms::Error::config(format!("cannot read the config file {}: {e}", path.display()))
        })?;
        let stanza_env = hcl_seal::plugin_env(&text).map_err(|e| e.context(path.display()))?;
        for (name, value) in stanza_env {
            if std::env::var_os(&name).is_none() {
                std::env::set_var(name, value);
            }
        }
    }
    load_with_env(args, &process_env)
}

/// [`load`] with an explicit environment.
pub fn load_with_env(args: &SealArgs, env: Env<'_>) -> Result<Loaded> {
    let file_map = match &args.config {
        Some(path) => hcl_seal::read_seal_block(path, args.seal_name.as_deref())?,
        None => BTreeMap::new(),
    };
    let map = apply_flags(file_map.clone(), args);
    let config = SealConfig::from_sources(&map, None, false, env)?;
    let sources = OVERRIDABLE.iter().map(|o| (o.key, source_of(o, args, &file_map, env))).collect();
    Ok(Loaded { config, sources })
}

/// The file's map with every given flag set under its canonical key (older spellings dropped,
/// and for --auth-type the Go wrapper's auth_type_api_key too: the flag decides).
fn apply_flags(mut map: BTreeMap<String, Value>, args: &SealArgs) -> BTreeMap<String, Value> {
    let path = |p: &std::path::PathBuf| p.display().to_string();
    let flags: [(&str, &[&str], Option<String>); 8] = [
        ("key_id", &["keyID"], args.key_id.clone()),
        ("crypto_endpoint", &["cryptoEndpoint"], args.crypto_endpoint.clone()),
        ("management_endpoint", &["managementEndpoint"], args.management_endpoint.clone()),
        (
            "auth_type",
            &["auth_type_api_key", "authTypeAPIKey"],
            args.auth_type.map(|a| a.as_str().to_owned()),
        ),
        ("config_file", &[], args.config_file.as_ref().map(path)),
        ("config_profile", &[], args.profile.clone()),
        ("ca_cert", &[], args.ca_cert.as_ref().map(path)),
        ("request_timeout", &[], args.request_timeout.clone()),
    ];
    for (key, replaced, value) in flags {
        if let Some(value) = value {
            for old in replaced {
                map.remove(*old);
            }
            map.insert(key.to_owned(), Value::String(value));
        }
    }
    map
}

/// Where the effective value of `o` came from, with the library's precedence.
fn source_of(
    o: &Overridable,
    args: &SealArgs,
    file_map: &BTreeMap<String, Value>,
    env: Env<'_>,
) -> String {
    if let Some(var) = o.env.iter().find(|v| env(v).is_some_and(|x| !x.is_empty())) {
        return format!("environment {var}");
    }
    let flag_given = match o.key {
        "key_id" => args.key_id.is_some(),
        "crypto_endpoint" => args.crypto_endpoint.is_some(),
        _ => args.management_endpoint.is_some(),
    };
    if flag_given {
        return o.flag.to_owned();
    }
    if let (Some(path), true) =
        (&args.config, file_map.contains_key(o.key) || file_map.contains_key(o.alias))
    {
        return path.display().to_string();
    }
    if o.key == "management_endpoint" {
        "derived from crypto_endpoint".to_owned()
    } else {
        "not set".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::AuthTypeArg;
    use ocikms::config::AuthType;

    fn hcl_file(body: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        file
    }

    #[test]
    fn flags_beat_the_file_and_env_beats_both() {
        let file = hcl_file(
            "seal \"ocikms\" {\n keyID = \"ocid1.key.oc1..file\"\n crypto_endpoint = \"https://a-crypto.kms.r.oraclecloud.com\"\n authTypeAPIKey = \"true\"\n}\n",
        );
        let args = SealArgs {
            config: Some(file.path().to_path_buf()),
            key_id: Some("ocid1.key.oc1..flag".into()),
            auth_type: Some(AuthTypeArg::SecurityToken),
            ..SealArgs::default()
        };
        let no_env = |_: &str| None;
        let loaded = load_with_env(&args, &no_env).unwrap();
        assert_eq!(loaded.config.key_id, "ocid1.key.oc1..flag");
        assert_eq!(loaded.config.auth_type, AuthType::SecurityToken);
        assert_eq!(
            loaded.config.management_endpoint.as_deref(),
            Some("https://a-management.kms.r.oraclecloud.com")
        );
        assert_eq!(loaded.sources[0], ("key_id", "--key-id".to_owned()));
        assert_eq!(loaded.sources[1].1, file.path().display().to_string());
        assert_eq!(loaded.sources[2].1, "derived from crypto_endpoint");

        let env = |name: &str| {
            (name == "VAULT_OCIKMS_SEAL_KEY_ID").then(|| "ocid1.key.oc1..env".to_owned())
        };
        let loaded = load_with_env(&args, &env).unwrap();
        assert_eq!(loaded.config.key_id, "ocid1.key.oc1..env");
        assert_eq!(loaded.sources[0].1, "environment VAULT_OCIKMS_SEAL_KEY_ID");
    }

    #[test]
    fn missing_settings_are_config_errors() {
        let no_env = |_: &str| None;
        let err = load_with_env(&SealArgs::default(), &no_env).err().unwrap();
        assert_eq!(err.code(), ocikms::ErrorCode::Config);
        assert!(err.message().contains("key_id is not set"), "{err}");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The `config_json` argument of `ocikms_seal_init`: a JSON object of seal config values.

use std::collections::BTreeMap;

use serde_json::Value;
use zeroize::Zeroize;

use crate::config::{process_env, SealConfig, SECRET_KEYS};
use crate::error::{Error, ErrorCode, Result};

/// The key that turns environment variables off (go-kms-wrapping's `WithDisallowEnvVars`).
const DISALLOW_ENV_VARS: &str = "disallow_env_vars";

/// Parses `config_json` and builds the [`SealConfig`], reading the process environment unless
/// the object sets `disallow_env_vars` to true (`true` or `"true"`). The parsed copies of secret
/// values (`private_key`, `private_key_passphrase`) are zeroed before returning.
pub(crate) fn seal_config(config_json: &str) -> Result<SealConfig> {
    let (mut map, disallow_env_vars) = parse(config_json)?;
    let config = SealConfig::from_sources(&map, None, disallow_env_vars, &process_env);
    scrub_secrets(&mut map);
    config
}

/// Zeroes the string values of the secret keys in `map`.
fn scrub_secrets(map: &mut BTreeMap<String, Value>) {
    for key in SECRET_KEYS {
        if let Some(Value::String(secret)) = map.get_mut(key) {
            secret.zeroize();
        }
    }
}

/// Splits the JSON object into the config map and the `disallow_env_vars` flag.
fn parse(config_json: &str) -> Result<(BTreeMap<String, Value>, bool)> {
    let value: Value = serde_json::from_str(config_json).map_err(|err| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "config_json is not valid JSON (line {}, column {}): pass a JSON object such as \
                 {{\"key_id\": \"ocid1.key...\", \"crypto_endpoint\": \"https://...\"}}",
                err.line(),
                err.column()
            ),
        )
    })?;
    let Value::Object(object) = value else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "config_json must be a JSON object of config keys to string, boolean or number values",
        ));
    };
    let mut map = BTreeMap::new();
    let mut disallow_env_vars = false;
    for (key, value) in object {
        if !matches!(value, Value::String(_) | Value::Bool(_) | Value::Number(_)) {
            return Err(Error::config(format!(
                "config key `{key}` has a {} value: use a string, boolean or number",
                kind(&value)
            )));
        }
        if key == DISALLOW_ENV_VARS {
            disallow_env_vars = flag(&value)?;
        } else {
            map.insert(key, value);
        }
    }
    Ok((map, disallow_env_vars))
}

fn flag(value: &Value) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(Error::config(format!(
            "config key `{DISALLOW_ENV_VARS}` must be true or false, not {value}"
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_disallow_flag_and_keeps_other_values() {
        let (map, disallow) =
            parse(r#"{"key_id":"ocid1.key.x","auth_type_api_key":true,"max_retries":3,"disallow_env_vars":"true"}"#)
                .unwrap();
        assert!(disallow);
        assert_eq!(map.len(), 3);
        assert_eq!(map["max_retries"], Value::from(3));
        assert!(!map.contains_key(DISALLOW_ENV_VARS));
    }

    #[test]
    fn secrets_are_scrubbed_from_the_parsed_map() {
        let (mut map, _) =
            parse(r#"{"private_key":"PEM-TEXT","private_key_passphrase":"pw","user_ocid":"u"}"#)
                .unwrap();
        scrub_secrets(&mut map);
        assert_eq!(map["private_key"], "");
        assert_eq!(map["private_key_passphrase"], "");
        assert_eq!(map["user_ocid"], "u");
    }

    #[test]
    fn rejects_non_objects_nested_values_and_bad_flags() {
        for bad in
            ["[]", "\"x\"", "{", r#"{"a":null}"#, r#"{"a":[1]}"#, r#"{"disallow_env_vars":"yes"}"#]
        {
            let err = parse(bad).unwrap_err();
            assert!(
                matches!(err.code(), ErrorCode::InvalidArgument | ErrorCode::Config),
                "{bad}: {err}"
            );
        }
    }
}

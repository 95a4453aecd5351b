// SPDX-License-Identifier: MPL-2.0
//! `auth_type`: how the seal authenticates to OCI, reconciled with the Go wrapper's
//! `auth_type_api_key` switch.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::keys::{flag, text, AUTH_TYPE, AUTH_TYPE_API_KEY};
use crate::error::{Error, Result};

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

/// `auth_type`, reconciled with the Go wrapper's `auth_type_api_key`.
pub(super) fn from_map(map: &BTreeMap<String, Value>) -> Result<AuthType> {
    let api_key = flag(map, &AUTH_TYPE_API_KEY)?;
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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::AuthType;
    use crate::config::test_support::{base, build, config_error};

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
}

// SPDX-License-Identifier: MPL-2.0
//! API-key credentials given in the seal configuration itself (OpenBao's `tenancy_ocid`,
//! `user_ocid`, `fingerprint`, `private_key`, `private_key_passphrase`): all or nothing, only
//! with API-key authentication, and never shown.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use super::auth_type::AuthType;
use super::keys::{
    text, Key, AUTH_TYPE, AUTH_TYPE_API_KEY, FINGERPRINT, PRIVATE_KEY, PRIVATE_KEY_PASSPHRASE,
    TENANCY_OCID, USER_OCID,
};
use crate::error::{Error, Result};

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

/// The API-key credentials of the map, if any: all four of `tenancy_ocid`, `user_ocid`,
/// `fingerprint`, `private_key` (plus `private_key_passphrase` for an encrypted key), and only
/// with API-key authentication. Empty values count as not set; `region` alone is ignored.
pub(super) fn from_map(
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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::config::test_support::{base, build, config_error, CRYPTO, OCID};
    use crate::config::AuthType;

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
}

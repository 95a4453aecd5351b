// SPDX-License-Identifier: MPL-2.0
//! Unit tests of [`SealConfig::from_sources`] as a whole: precedence of the sources, defaults,
//! typed values and errors that name the key. (Each concern's own cases are beside its code.)

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::test_support::{base, build, config_error, CRYPTO, OCID};
use super::{AuthType, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT};

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
            map: vec![("key_id", json!(OCID)), ("crypto_endpoint", json!("http://localhost:7000"))],
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
fn defaults() {
    let cfg = build(&base(), None, false, &[]).unwrap();
    assert_eq!(cfg.auth_type, AuthType::InstancePrincipal);
    assert_eq!(cfg.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(cfg.attempt_timeout, DEFAULT_ATTEMPT_TIMEOUT);
    assert_eq!(cfg.max_attempts, DEFAULT_MAX_RETRIES + 1);
    assert!(!cfg.allow_plaintext_http);
    assert!(cfg.config_file.is_none() && cfg.config_profile.is_none() && cfg.ca_cert.is_none());
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
        (vec![("key_id", json!("ocid1.key a")), ("crypto_endpoint", json!(CRYPTO))], "whitespace"),
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
        (vec![("key_id", json!([OCID])), ("crypto_endpoint", json!(CRYPTO))], "key_id: expected"),
    ];
    for (pairs, needle) in cases {
        let msg = config_error(build(&pairs, None, true, &[]));
        assert!(msg.contains(needle), "{pairs:?}: {msg}");
    }
    let msg = config_error(build(
        &[("key_id", json!("env://NOPE")), ("crypto_endpoint", json!(CRYPTO))],
        None,
        false,
        &[],
    ));
    assert!(msg.contains("NOPE") && msg.contains("not set"), "{msg}");
}

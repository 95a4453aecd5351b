// SPDX-License-Identifier: MPL-2.0
//! API-key credentials given in the seal configuration itself (OpenBao's `tenancy_ocid`,
//! `user_ocid`, `fingerprint`, `private_key`, `private_key_passphrase`) against the emulator:
//! encrypt/decrypt with no OCI config file anywhere, plain and encrypted keys.

mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use common::Emulator;
use ocikms::config::SealConfig;
use ocikms::{CallOptions, ErrorCode};
use serde_json::{json, Value};

/// The seal stanza an OpenBao operator writes: endpoints, `auth_type_api_key = true` and the
/// credentials of `profile` inline (the key file's PEM text, its passphrase if any). No
/// `config_file`.
fn raw_map(emu: &Emulator, profile: &str) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    map.insert("key_id".into(), json!(emu.field("key_id")));
    map.insert("crypto_endpoint".into(), json!(emu.field("crypto_endpoint")));
    map.insert("management_endpoint".into(), json!(emu.field("management_endpoint")));
    map.insert("auth_type_api_key".into(), json!("true"));
    map.insert("tenancy_ocid".into(), json!(emu.profile_value(profile, "tenancy")));
    map.insert("user_ocid".into(), json!(emu.profile_value(profile, "user")));
    map.insert("fingerprint".into(), json!(emu.profile_value(profile, "fingerprint")));
    map.insert("region".into(), json!(emu.profile_value(profile, "region")));
    let pem = std::fs::read_to_string(emu.profile_value(profile, "key_file")).unwrap();
    map.insert("private_key".into(), json!(pem));
    if profile == "ENCRYPTED" {
        map.insert(
            "private_key_passphrase".into(),
            json!(emu.profile_value(profile, "pass_phrase")),
        );
    }
    map
}

/// Points every OCI config file lookup of this process at nothing, once: `HOME` without `.oci/`
/// and `OCI_CONFIG_FILE` naming a file that does not exist. (Each test crate is its own process;
/// every test here wants the same environment.)
fn no_config_file_anywhere() {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        std::env::set_var("HOME", home.path());
        std::env::set_var("OCI_CONFIG_FILE", home.path().join("no-such-oci-config"));
        std::env::remove_var("OCI_CLI_PROFILE");
        home
    });
}

#[tokio::test]
async fn raw_credentials_encrypt_and_decrypt_without_any_config_file() {
    no_config_file_anywhere();
    let emu = Emulator::start();
    for profile in ["DEFAULT", "PKCS8", "ENCRYPTED"] {
        let map = raw_map(&emu, profile);
        let config = Emulator::config_from(&map);
        assert!(config.api_key_credentials.is_some() && config.config_file.is_none());

        // The environment the provider sees: any config file lookup would be recorded.
        let looked_up = Mutex::new(Vec::new());
        let env = |name: &str| {
            looked_up.lock().unwrap().push(name.to_owned());
            std::env::var(name).ok()
        };
        let provider = ocikms::auth::provider_from_config_with_env(&config, &env).unwrap();
        assert_eq!(
            provider.describe(),
            format!("user {} in tenancy {}", emu.field("user"), emu.field("tenancy"))
        );
        assert!(
            looked_up.lock().unwrap().is_empty(),
            "{profile}: read {:?}",
            looked_up.lock().unwrap()
        );

        // The full seal path (process environment: no config file exists at all).
        let seal = emu.seal_for(config).await.unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert_eq!(seal.metadata()["principal_type"], "user");
        let with_aad =
            CallOptions { aad: Some(b"core/keyring".to_vec()), ..CallOptions::default() };
        let direct = CallOptions { without_envelope: true, ..CallOptions::default() };
        for (plaintext, opts) in
            [(&b"root key"[..], &with_aad), (b"", &CallOptions::default()), (b"direct", &direct)]
        {
            let blob = seal.encrypt(plaintext, opts).await.unwrap();
            let back = seal.decrypt_stored(&blob.encode_bytes(), opts).await.unwrap();
            assert_eq!(&*back, plaintext, "{profile}");
        }
    }
}

#[tokio::test]
async fn raw_credential_mistakes_are_clear_errors() {
    no_config_file_anywhere();
    let emu = Emulator::start();
    let init_error = |map: BTreeMap<String, Value>| {
        let emu = &emu;
        async move {
            match SealConfig::from_sources(&map, None, true, &|_| None) {
                Err(e) => e,
                Ok(config) => match emu.seal_for(config).await {
                    Ok(_) => panic!("the seal started"),
                    Err(e) => e,
                },
            }
        }
    };

    let mut wrong_pass = raw_map(&emu, "ENCRYPTED");
    wrong_pass.insert("private_key_passphrase".into(), json!("not-the-passphrase"));
    let err = init_error(wrong_pass).await;
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains("wrong private_key_passphrase"), "{err}");

    let mut no_pass = raw_map(&emu, "ENCRYPTED");
    no_pass.remove("private_key_passphrase");
    let err = init_error(no_pass).await;
    assert!(err.message().contains("no private_key_passphrase is set"), "{err}");

    let mut other_fingerprint = raw_map(&emu, "DEFAULT");
    other_fingerprint
        .insert("fingerprint".into(), json!("00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"));
    let err = init_error(other_fingerprint).await;
    assert!(err.message().contains("fingerprint mismatch: the seal configuration"), "{err}");

    let mut missing = raw_map(&emu, "DEFAULT");
    missing.remove("user_ocid");
    let err = init_error(missing).await;
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(err.message().contains("user_ocid is missing"), "{err}");

    let mut instance = raw_map(&emu, "DEFAULT");
    instance.remove("auth_type_api_key");
    let err = init_error(instance).await;
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(err.message().contains("Set auth_type_api_key = true"), "{err}");

    // A user the emulator does not know: OCI's 401 comes back, as with a config file.
    let mut unknown_user = raw_map(&emu, "DEFAULT");
    unknown_user.insert("user_ocid".into(), json!("ocid1.user.oc1..aaaaaaaanobody"));
    let err = init_error(unknown_user).await;
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
}

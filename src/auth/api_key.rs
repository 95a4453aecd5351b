// SPDX-License-Identifier: MPL-2.0
//! API key authentication (`auth_type = "api_key"` / `auth_type_api_key = true`): an IAM user's
//! RSA key, keyId `<tenancy>/<user>/<fingerprint>`. The key and OCIDs come from an OCI config
//! file profile, or from the seal configuration itself (OpenBao's `tenancy_ocid`, `user_ocid`,
//! `fingerprint`, `private_key`, `private_key_passphrase`).

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::rsa::KeyPair;

use crate::auth::config_file::OciProfile;
use crate::auth::pem::{check_fingerprint, fingerprint, load_key_file, parse_key_from, KeyOrigin};
use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::config::{ApiKeyCredentials, Env};
use crate::error::Result;

/// Where the seal configuration's credentials come from, for messages and logs.
const SEAL_CONFIG: &str = "the seal configuration";

/// Signs as an IAM user with an API key. The key is loaded once.
#[derive(Debug)]
pub struct ApiKeyProvider {
    credentials: Arc<Credentials>,
    tenancy: String,
    user: String,
}

impl ApiKeyProvider {
    /// Loads `user`, `tenancy`, `fingerprint` and `key_file` (+ `pass_phrase`) from `profile`,
    /// and checks that the fingerprint is the key's.
    pub fn from_profile(profile: &OciProfile, env: Env<'_>) -> Result<ApiKeyProvider> {
        const NEEDED_FOR: &str = "auth_type api_key";
        let tenancy = profile.require("tenancy", NEEDED_FOR)?;
        let user = profile.require("user", NEEDED_FOR)?;
        let configured = profile.require("fingerprint", NEEDED_FOR)?;
        let (origin, key) = load_profile_key(profile, NEEDED_FOR, env)?;
        ApiKeyProvider::new(tenancy, user, configured, key, &origin, &profile.describe())
    }

    /// Uses the API-key credentials given in the seal configuration (no OCI config file is
    /// read): parses `private_key` (decrypted with `private_key_passphrase`) and checks that
    /// `fingerprint` is the key's.
    pub fn from_credentials(credentials: &ApiKeyCredentials) -> Result<ApiKeyProvider> {
        let origin = KeyOrigin::seal_config();
        let key = parse_key_from(
            credentials.private_key.as_bytes(),
            credentials.private_key_passphrase.as_deref().map(String::as_str),
            &origin,
        )?;
        ApiKeyProvider::new(
            &credentials.tenancy,
            &credentials.user,
            &credentials.fingerprint,
            key,
            &origin,
            SEAL_CONFIG,
        )
    }

    /// Checks the configured fingerprint against `key` and builds the keyId.
    fn new(
        tenancy: &str,
        user: &str,
        configured_fingerprint: &str,
        key: KeyPair,
        origin: &KeyOrigin,
        configured_in: &str,
    ) -> Result<ApiKeyProvider> {
        check_fingerprint(configured_fingerprint, &key, origin, configured_in)?;
        let key_id = format!("{tenancy}/{user}/{}", fingerprint(&key)?);
        tracing::info!(user, tenancy, from = configured_in, "using OCI API key");
        Ok(ApiKeyProvider {
            credentials: Arc::new(Credentials::new(key_id, Arc::new(key))),
            tenancy: tenancy.to_owned(),
            user: user.to_owned(),
        })
    }
}

/// Loads the profile's `key_file`, decrypted with its `pass_phrase`; errors name the profile.
/// Returns how the key is named in messages, and the key.
pub(crate) fn load_profile_key(
    profile: &OciProfile,
    needed_for: &str,
    env: Env<'_>,
) -> Result<(KeyOrigin, KeyPair)> {
    let key_path = profile.require_path("key_file", needed_for, env)?;
    let key = load_key_file(&key_path, profile.pass_phrase())
        .map_err(|e| e.context(format!("{} (key_file)", profile.describe())))?;
    Ok((KeyOrigin::key_file(key_path.display()), key))
}

#[async_trait]
impl CredentialProvider for ApiKeyProvider {
    async fn credentials(&self) -> Result<Arc<Credentials>> {
        Ok(self.credentials.clone())
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::User
    }

    fn describe(&self) -> String {
        format!("user {} in tenancy {}", self.user, self.tenancy)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use std::path::Path;
    use std::process::Command;

    /// Writes a fresh RSA key (PKCS#8, AES-256-CBC encrypted with `pass` when given) to `path`
    /// with the `openssl` tool, and returns its OCI fingerprint.
    pub(crate) fn write_key(path: &Path, pass: Option<&str>) -> String {
        let mut args = vec!["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
        let pass_arg = pass.map(|p| format!("pass:{p}"));
        if let Some(p) = &pass_arg {
            args.extend(["-aes-256-cbc", "-pass", p.as_str()]);
        }
        args.extend(["-out", path.to_str().unwrap()]);
        let out = Command::new("openssl").args(&args).output().expect("openssl is needed");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        fingerprint(&load_key_file(path, pass).unwrap()).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[tokio::test]
    async fn loads_key_and_builds_key_id() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("key.pem");
        let fp = write_key(&key_path, Some("pw"));
        let text = format!(
            "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nuser=ocid1.user.oc1..u\nfingerprint={fp}\n\
             key_file={}\npass_phrase=pw\n",
            key_path.display()
        );
        let profile = OciProfile::parse(&text, Path::new("/cfg"), "DEFAULT").unwrap();
        let provider = ApiKeyProvider::from_profile(&profile, &no_env).unwrap();
        let creds = provider.credentials().await.unwrap();
        assert_eq!(creds.key_id.as_str(), &format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{fp}"));
        assert!(Arc::ptr_eq(&creds, &provider.credentials().await.unwrap()), "loaded once");
        assert_eq!(provider.principal_type(), PrincipalType::User);
        assert_eq!(provider.describe(), "user ocid1.user.oc1..u in tenancy ocid1.tenancy.oc1..t");
    }

    #[tokio::test]
    async fn credentials_from_the_seal_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("key.pem");
        let fp = write_key(&key_path, Some("pw"));
        let pem = std::fs::read_to_string(&key_path).unwrap();
        assert!(pem.contains("ENCRYPTED PRIVATE KEY"));
        let credentials = |fingerprint: &str, passphrase: Option<&str>| ApiKeyCredentials {
            tenancy: "ocid1.tenancy.oc1..t".into(),
            user: "ocid1.user.oc1..u".into(),
            fingerprint: fingerprint.into(),
            private_key: pem.clone().into(),
            private_key_passphrase: passphrase.map(|p| p.to_owned().into()),
        };
        let provider =
            ApiKeyProvider::from_credentials(&credentials(&fp.to_uppercase(), Some("pw"))).unwrap();
        let creds = provider.credentials().await.unwrap();
        assert_eq!(creds.key_id.as_str(), &format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{fp}"));
        assert_eq!(provider.describe(), "user ocid1.user.oc1..u in tenancy ocid1.tenancy.oc1..t");

        let err = ApiKeyProvider::from_credentials(&credentials(&fp, Some("nope"))).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        assert!(
            err.message().starts_with(
                "wrong private_key_passphrase for the private_key of the seal configuration"
            ) && err.message().contains("fix private_key_passphrase in the seal configuration"),
            "{err}"
        );
        let err = ApiKeyProvider::from_credentials(&credentials(&fp, None)).unwrap_err();
        assert!(err.message().contains("encrypted but no private_key_passphrase is set"), "{err}");
        let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
        let err = ApiKeyProvider::from_credentials(&credentials(wrong, Some("pw"))).unwrap_err();
        assert!(
            err.message().starts_with("fingerprint mismatch: the seal configuration says")
                && err.message().contains(&fp)
                && err.message().contains("fix the fingerprint or private_key in the seal"),
            "{err}"
        );
        for message in [format!("{provider:?}"), format!("{:?}", credentials(&fp, Some("pw")))] {
            assert!(!message.contains("pw\"") && !message.contains(&pem[40..80]), "{message}");
        }
    }

    #[test]
    fn errors_name_the_profile_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("key.pem");
        let fp = write_key(&key_path, None);
        let profile_with = |extra: &str| {
            let text = format!(
                "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nuser=ocid1.user.oc1..u\nkey_file={}\n{extra}",
                key_path.display()
            );
            OciProfile::parse(&text, Path::new("/cfg"), "DEFAULT").unwrap()
        };

        let err = ApiKeyProvider::from_profile(&profile_with(""), &no_env).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        assert!(err.message().contains("`fingerprint` is missing"), "{err}");

        let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
        let err =
            ApiKeyProvider::from_profile(&profile_with(&format!("fingerprint={wrong}\n")), &no_env)
                .unwrap_err();
        assert!(
            err.message().contains("fingerprint mismatch") && err.message().contains(&fp),
            "{err}"
        );

        let text =
            format!("[DEFAULT]\ntenancy=t\nuser=u\nfingerprint={fp}\nkey_file=/nonexistent.pem\n");
        let profile = OciProfile::parse(&text, Path::new("/cfg"), "DEFAULT").unwrap();
        let err = ApiKeyProvider::from_profile(&profile, &no_env).unwrap_err();
        assert!(
            err.message().contains("profile [DEFAULT] of /cfg")
                && err.message().contains("/nonexistent.pem"),
            "{err}"
        );
    }
}

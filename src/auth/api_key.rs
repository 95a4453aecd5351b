//! API key authentication (`auth_type = "api_key"` / `auth_type_api_key = true`): an IAM user's
//! RSA key from the OCI config file, keyId `<tenancy>/<user>/<fingerprint>`.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::rsa::KeyPair;

use crate::auth::config_file::OciProfile;
use crate::auth::pem::{check_fingerprint, fingerprint, load_key_file};
use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::config::Env;
use crate::error::Result;

/// Signs as an IAM user with the API key of an OCI config file profile. The key is loaded once.
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
        let tenancy = profile.require("tenancy", NEEDED_FOR)?.to_string();
        let user = profile.require("user", NEEDED_FOR)?.to_string();
        let configured = profile.require("fingerprint", NEEDED_FOR)?;
        let (key_path, key) = load_profile_key(profile, NEEDED_FOR, env)?;
        check_fingerprint(configured, &key, &key_path, &profile.describe())?;
        let key_id = format!("{tenancy}/{user}/{}", fingerprint(&key)?);
        tracing::info!(user = %user, tenancy = %tenancy, profile = %profile.describe(), "using OCI API key");
        Ok(ApiKeyProvider {
            credentials: Arc::new(Credentials { key_id, key: Arc::new(key) }),
            tenancy,
            user,
        })
    }
}

/// Loads the profile's `key_file`, decrypted with its `pass_phrase`; errors name the profile.
pub(crate) fn load_profile_key(
    profile: &OciProfile,
    needed_for: &str,
    env: Env<'_>,
) -> Result<(PathBuf, KeyPair)> {
    let key_path = profile.require_path("key_file", needed_for, env)?;
    let key = load_key_file(&key_path, profile.pass_phrase())
        .map_err(|e| e.context(format!("{} (key_file)", profile.describe())))?;
    Ok((key_path, key))
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
        assert_eq!(creds.key_id, format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{fp}"));
        assert!(Arc::ptr_eq(&creds, &provider.credentials().await.unwrap()), "loaded once");
        assert_eq!(provider.principal_type(), PrincipalType::User);
        assert_eq!(provider.describe(), "user ocid1.user.oc1..u in tenancy ocid1.tenancy.oc1..t");
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

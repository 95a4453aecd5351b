// SPDX-License-Identifier: MPL-2.0
//! Credential providers: where the signing key and key id of each request come from.
//!
//! Every OCI authentication method implements [`CredentialProvider`]; the signer and the KMS
//! client only ever see [`Credentials`], so new methods drop in without touching them.

pub mod api_key;
pub mod config_file;
pub mod federation;
pub mod instance_principal;
pub mod jwt;
pub mod metadata;
pub mod pem;
pub mod regions;
pub mod resource_principal;
pub mod session_token;
pub mod token_fetch;
pub mod workload_identity;

use std::sync::Arc;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::error::Result;

/// Which kind of principal a provider authenticates as (the seal metadata's `principal_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// An IAM user with an API key (`auth_type = "api_key"`).
    User,
    /// A compute instance (instance principal).
    Instance,
    /// A resource principal (functions, jobs...).
    Resource,
    /// An OKE workload identity.
    Workload,
    /// A CLI session token (`security_token_file`).
    Session,
}

impl PrincipalType {
    /// The value Vault's metadata shows: `user`, `instance`, `resource`, `workload`, `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::Instance => "instance",
            PrincipalType::Resource => "resource",
            PrincipalType::Workload => "workload",
            PrincipalType::Session => "session",
        }
    }
}

/// What a request is signed with: the `keyId` of the Authorization header and the RSA key.
///
/// `key_id` is `<tenancy>/<user>/<fingerprint>` for API keys and `ST$<token>` for session tokens.
pub struct Credentials {
    /// The signature's `keyId` parameter. Contains a token for session-based methods: never log
    /// it. Zeroed on drop.
    pub key_id: Zeroizing<String>,
    /// The RSA private key that signs (zeroed on drop by aws-lc).
    pub key: Arc<aws_lc_rs::rsa::KeyPair>,
}

impl Credentials {
    /// Credentials whose `keyId` is `key_id` (an API key's `tenancy/user/fingerprint`).
    pub fn new(key_id: String, key: Arc<aws_lc_rs::rsa::KeyPair>) -> Credentials {
        Credentials { key_id: Zeroizing::new(key_id), key }
    }

    /// Credentials of a session token: `keyId` is `ST$<token>`, built in a buffer sized up
    /// front, so no reallocation leaves a copy of the token behind.
    pub fn session(token: &str, key: Arc<aws_lc_rs::rsa::KeyPair>) -> Credentials {
        let mut key_id = Zeroizing::new(String::with_capacity(3 + token.len()));
        key_id.push_str("ST$");
        key_id.push_str(token);
        Credentials { key_id, key }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// A source of signing credentials. Implementations must be cheap to call on every request
/// (cache what they load) and must refresh tokens themselves before they expire.
#[async_trait]
pub trait CredentialProvider: Send + Sync {
    /// The credentials to sign the next request with.
    async fn credentials(&self) -> Result<Arc<Credentials>>;

    /// Called after the service answered 401 to a request signed with `stale`: a token-based
    /// provider fetches a new token (once, even if many callers report the same stale one).
    /// Returns whether retrying may help.
    async fn refresh_after_unauthorized(&self, stale: &Credentials) -> bool {
        let _ = stale;
        false
    }

    /// The principal kind, for the seal metadata.
    fn principal_type(&self) -> PrincipalType;

    /// A description of the principal safe to show to operators (OCIDs, never secrets),
    /// e.g. `"user ocid1.user... in tenancy ocid1.tenancy..."`.
    fn describe(&self) -> String;
}

/// Builds the credential provider that `config.auth_type` selects, reading the process
/// environment (`HOME`, `OCI_CONFIG_FILE`, `OCI_CLI_PROFILE`) for the OCI config file lookup.
/// API-key credentials given in the configuration itself are used instead of any config file.
pub fn provider_from_config(
    config: &crate::config::SealConfig,
) -> Result<Arc<dyn CredentialProvider>> {
    provider_from_config_with_env(config, &crate::config::process_env)
}

/// [`provider_from_config`] with an explicit environment (for tests).
pub fn provider_from_config_with_env(
    config: &crate::config::SealConfig,
    env: crate::config::Env<'_>,
) -> Result<Arc<dyn CredentialProvider>> {
    use crate::config::AuthType;
    let profile_env = |name: &str| {
        (config.profile_from_env || name != config_file::ENV_PROFILE).then(|| env(name)).flatten()
    };
    let profile = || {
        config_file::OciProfile::locate_and_load(
            config.config_file.as_deref(),
            config.config_profile.as_deref(),
            &profile_env,
        )
    };
    match config.auth_type {
        AuthType::ApiKey => Ok(Arc::new(match &config.api_key_credentials {
            Some(credentials) => api_key::ApiKeyProvider::from_credentials(credentials)?,
            None => api_key::ApiKeyProvider::from_profile(&profile()?, env)?,
        })),
        AuthType::SecurityToken => {
            Ok(Arc::new(session_token::SecurityTokenProvider::from_profile(&profile()?, env)?))
        }
        AuthType::InstancePrincipal => {
            let http = crate::http::tls_config(config.ca_cert.as_deref())?;
            let http = Arc::new(crate::http::HttpClient::new(http));
            Ok(Arc::new(instance_principal::instance_principal_provider(env, http)))
        }
        AuthType::ResourcePrincipal => {
            Ok(Arc::new(resource_principal::resource_principal_provider(env)?))
        }
        AuthType::WorkloadIdentity => {
            let settings = workload_identity::WorkloadIdentitySettings::from_env_with(env)?;
            let http = |ca: &std::path::Path| {
                let tls = crate::http::tls_config(Some(ca))?;
                Ok(Arc::new(crate::http::HttpClient::new(tls)))
            };
            Ok(Arc::new(workload_identity::workload_identity_provider(settings, http)?))
        }
    }
}

#[cfg(test)]
mod factory_tests {
    use super::*;
    use crate::config::{AuthType, SealConfig};
    use crate::error::ErrorCode;
    use std::path::Path;
    use std::time::Duration;

    fn seal_config(auth_type: AuthType, config_file: &Path) -> SealConfig {
        SealConfig {
            key_id: "ocid1.key.oc1..k".into(),
            crypto_endpoint: "http://127.0.0.1:1".into(),
            management_endpoint: None,
            auth_type,
            config_file: Some(config_file.to_path_buf()),
            config_profile: Some("SEAL".into()),
            ca_cert: None,
            request_timeout: Duration::from_secs(1),
            max_attempts: 1,
            api_key_credentials: None,
            profile_from_env: true,
            attempt_timeout: Duration::from_secs(1),
            allow_plaintext_http: false,
        }
    }

    #[test]
    fn session_key_ids_are_sized_exactly_so_no_copy_of_the_token_is_left_behind() {
        let key =
            Arc::new(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap());
        let credentials = Credentials::session(&"j".repeat(1234), key);
        assert_eq!(credentials.key_id.len(), 3 + 1234);
        assert_eq!(credentials.key_id.len(), credentials.key_id.capacity());
    }

    #[tokio::test]
    async fn dispatches_on_auth_type() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let fp = api_key::tests::write_key(&key, None);
        let token = dir.path().join("token");
        std::fs::write(&token, "tok").unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            format!(
                "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nuser=ocid1.user.oc1..u\nfingerprint={fp}\n\
                 key_file={}\n[SEAL]\nsecurity_token_file={}\n",
                key.display(),
                token.display()
            ),
        )
        .unwrap();
        let no_env = |_: &str| None;

        let user = provider_from_config_with_env(&seal_config(AuthType::ApiKey, &config), &no_env)
            .unwrap();
        assert_eq!(user.principal_type(), PrincipalType::User);
        assert!(user.credentials().await.unwrap().key_id.ends_with(&fp));

        let session =
            provider_from_config_with_env(&seal_config(AuthType::SecurityToken, &config), &no_env)
                .unwrap();
        assert_eq!(session.principal_type(), PrincipalType::Session);
        assert_eq!(session.credentials().await.unwrap().key_id.as_str(), "ST$tok");

        // Credentials in the seal configuration: no config file is read (this one does not exist).
        let mut raw = seal_config(AuthType::ApiKey, &dir.path().join("no-such-config"));
        raw.api_key_credentials = Some(crate::config::ApiKeyCredentials {
            tenancy: "ocid1.tenancy.oc1..raw".into(),
            user: "ocid1.user.oc1..raw".into(),
            fingerprint: fp.clone(),
            private_key: std::fs::read_to_string(&key).unwrap().into(),
            private_key_passphrase: None,
        });
        let from_seal_config = provider_from_config_with_env(&raw, &no_env).unwrap();
        assert_eq!(from_seal_config.principal_type(), PrincipalType::User);
        assert_eq!(
            from_seal_config.credentials().await.unwrap().key_id.as_str(),
            &format!("ocid1.tenancy.oc1..raw/ocid1.user.oc1..raw/{fp}")
        );

        // Instance principal fetches nothing before the first request.
        let instance = provider_from_config_with_env(
            &seal_config(AuthType::InstancePrincipal, &config),
            &no_env,
        )
        .unwrap();
        assert_eq!(instance.principal_type(), PrincipalType::Instance);
        // Resource principal and workload identity need their environment.
        for (auth_type, variable) in [
            (AuthType::ResourcePrincipal, "OCI_RESOURCE_PRINCIPAL_VERSION"),
            (AuthType::WorkloadIdentity, "OCI_RESOURCE_PRINCIPAL_VERSION"),
        ] {
            let err = provider_from_config_with_env(&seal_config(auth_type, &config), &no_env)
                .err()
                .expect("environment missing");
            assert_eq!(err.code(), ErrorCode::Credentials);
            assert!(err.message().contains(variable), "{err}");
        }
    }

    #[tokio::test]
    async fn oci_cli_profile_counts_only_where_the_host_allows_environment_variables() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let fp = api_key::tests::write_key(&key, None);
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            format!(
                "[DEFAULT]\ntenancy=ocid1.tenancy.oc1..t\nuser=ocid1.user.oc1..u\nfingerprint={fp}\n\
                 key_file={}\n",
                key.display()
            ),
        )
        .unwrap();
        let env = |name: &str| (name == config_file::ENV_PROFILE).then(|| "NOPE".to_owned());
        let mut seal = seal_config(AuthType::ApiKey, &config);
        seal.config_profile = None;

        // The C ABI and the CLI: the OCI CLI's variable picks the profile, as in the OCI CLI.
        let err = provider_from_config_with_env(&seal, &env).err().expect("profile NOPE");
        assert!(err.message().contains("NOPE"), "{err}");

        // Vault (disallow_env_vars): its stock seal ignores OCI_CLI_PROFILE, so do we.
        seal.profile_from_env = false;
        let user = provider_from_config_with_env(&seal, &env).unwrap();
        assert!(user.credentials().await.unwrap().key_id.ends_with(&fp));
    }
}

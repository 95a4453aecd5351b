// SPDX-License-Identifier: MPL-2.0
//! The credential provider a seal configuration selects (`auth_type`), with its OCI config
//! file profile or inline API-key credentials.

use std::sync::Arc;

use super::{
    api_key, config_file, instance_principal, resource_principal, session_token, workload_identity,
    CredentialProvider,
};
use crate::error::Result;

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
            Ok(Arc::new(instance_principal::instance_principal_provider(
                env,
                http,
                config.allow_plaintext_http,
            )?))
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
mod tests {
    use super::*;
    use crate::auth::PrincipalType;
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

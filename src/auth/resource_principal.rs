// SPDX-License-Identifier: MPL-2.0
//! Resource principal v2.2 authentication (OCI Functions, Data Science, Container Instances...):
//! the platform hands the process a resource principal session token (RPST) and its private key
//! through the environment.
//!
//! - `OCI_RESOURCE_PRINCIPAL_VERSION` = `2.2`;
//! - `OCI_RESOURCE_PRINCIPAL_RPST`: the token itself, or the absolute path of a file holding it;
//! - `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM`: the PEM private key, or the absolute path of its file;
//! - `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE` (optional): the passphrase, or its file's
//!   path (a path exactly when the key is a path, as the OCI SDKs require);
//! - `OCI_RESOURCE_PRINCIPAL_REGION`: the region (required, as by the SDKs).
//!
//! Requests are signed with keyId `ST$<rpst>`. File-based values are re-read when the token
//! reaches its refresh time (see [`federation`](super::federation)), so a platform that rotates
//! the files is followed; a token given literally cannot be renewed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::auth::federation::{SessionToken, SessionTokenProvider, TokenSource};
use crate::auth::regions::resolve_region_with;
use crate::auth::PrincipalType;
use crate::config::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::read_limited::{read_limited_text, SECRET_FILE_LIMIT};

/// `OCI_RESOURCE_PRINCIPAL_VERSION`: selects the resource principal protocol (`2.2` here).
pub const VERSION_ENV: &str = "OCI_RESOURCE_PRINCIPAL_VERSION";
/// `OCI_RESOURCE_PRINCIPAL_RPST`: the session token, literal or absolute path.
pub const RPST_ENV: &str = "OCI_RESOURCE_PRINCIPAL_RPST";
/// `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM`: the private key, literal PEM or absolute path.
pub const PRIVATE_PEM_ENV: &str = "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM";
/// `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE`: the key's passphrase, literal or path.
pub const PASSPHRASE_ENV: &str = "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE";
/// `OCI_RESOURCE_PRINCIPAL_REGION`: the resource's region.
pub const REGION_ENV: &str = "OCI_RESOURCE_PRINCIPAL_REGION";

/// Why resource principal settings could be missing.
const WHERE_HINT: &str = "resource principals are provided by OCI services (Functions, Data \
     Science, Container Instances...); elsewhere choose another auth type (instance principal, \
     auth_type_api_key)";

/// The resource principal credential provider.
pub type ResourcePrincipalProvider = SessionTokenProvider<ResourcePrincipalSource>;

/// Creates a resource principal v2.2 provider from the environment `env`. Fails when a required
/// variable is missing or malformed; files are read at the first request.
pub fn resource_principal_provider(env: Env<'_>) -> Result<ResourcePrincipalProvider> {
    ResourcePrincipalSource::from_env_with(env).map(SessionTokenProvider::new)
}

/// A value given literally or as the absolute path of a file holding it (the SDKs' rule: a value
/// starting with `/` is a path).
#[derive(Clone)]
pub enum LiteralOrPath {
    /// The value itself (secret: zeroed on drop).
    Literal(Zeroizing<String>),
    /// A file to read the value from, every time it is needed.
    Path(PathBuf),
}

impl LiteralOrPath {
    /// Classifies an environment value.
    pub fn from_value(value: &str) -> Self {
        if Path::new(value.trim()).is_absolute() {
            LiteralOrPath::Path(PathBuf::from(value.trim()))
        } else {
            LiteralOrPath::Literal(Zeroizing::new(value.to_string()))
        }
    }

    /// Whether the value comes from a file.
    pub fn is_path(&self) -> bool {
        matches!(self, LiteralOrPath::Path(_))
    }

    /// The value (read from its file when it is a path); `what` names it in errors.
    pub fn read(&self, what: &str) -> Result<Zeroizing<String>> {
        match self {
            LiteralOrPath::Literal(value) => Ok(value.clone()),
            LiteralOrPath::Path(path) => {
                read_limited_text(path, SECRET_FILE_LIMIT).map_err(|err| {
                    Error::credentials(format!("cannot read {what} from {}: {err}", path.display()))
                })
            }
        }
    }
}

/// Reads resource principal v2.2 tokens and keys (see the module docs).
pub struct ResourcePrincipalSource {
    rpst: LiteralOrPath,
    private_pem: LiteralOrPath,
    passphrase: Option<LiteralOrPath>,
    region: String,
}

impl ResourcePrincipalSource {
    /// Reads the settings through `env` (a variable lookup), validating what can be without I/O.
    pub fn from_env_with(env: Env<'_>) -> Result<Self> {
        let required = |name: &str, meaning: &str| {
            env(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                Error::credentials(format!(
                    "resource principal authentication needs {name} ({meaning}); it is not set: \
                     {WHERE_HINT}"
                ))
            })
        };
        let version = required(VERSION_ENV, "the resource principal version, 2.2")?;
        if version.trim() != "2.2" {
            return Err(Error::credentials(format!(
                "{VERSION_ENV} is {:?}: this library supports resource principal version 2.2 only",
                version.trim()
            )));
        }
        let rpst = LiteralOrPath::from_value(&required(
            RPST_ENV,
            "the session token or the absolute path of its file",
        )?);
        let private_pem = LiteralOrPath::from_value(&required(
            PRIVATE_PEM_ENV,
            "the PEM private key or the absolute path of its file",
        )?);
        let passphrase =
            env(PASSPHRASE_ENV).filter(|v| !v.is_empty()).map(|v| LiteralOrPath::from_value(&v));
        if let Some(passphrase) = &passphrase {
            if passphrase.is_path() != private_pem.is_path() {
                return Err(Error::credentials(format!(
                    "{PRIVATE_PEM_ENV} and {PASSPHRASE_ENV} must both be file paths or both be \
                     literal values"
                )));
            }
        }
        let region = required(REGION_ENV, "the region, such as us-phoenix-1")?;
        Ok(ResourcePrincipalSource {
            rpst,
            private_pem,
            passphrase,
            region: resolve_region_with(&region, env).id,
        })
    }
}

/// Reads of a token/key pair caught mid-rotation (token from one rotation, key from the other)
/// before giving up.
const PAIR_READ_ATTEMPTS: u32 = 5;
/// Pause before re-reading a mismatched pair.
const PAIR_READ_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

impl ResourcePrincipalSource {
    /// Reads the token and its key once.
    fn read_pair(&self) -> Result<SessionToken> {
        let token =
            self.rpst.read(&format!("the resource principal session token ({RPST_ENV})"))?;
        let token = Zeroizing::new(token.trim().trim_start_matches("ST$").to_string());
        let pem = self
            .private_pem
            .read(&format!("the resource principal private key ({PRIVATE_PEM_ENV})"))?;
        let passphrase = match &self.passphrase {
            Some(p) => Some(p.read(&format!("the private key passphrase ({PASSPHRASE_ENV})"))?),
            None => None,
        };
        let passphrase = passphrase.as_ref().map(|p| p.trim_end_matches(['\r', '\n']));
        let key_source = match &self.private_pem {
            LiteralOrPath::Path(path) => path.display().to_string(),
            LiteralOrPath::Literal(_) => format!("in {PRIVATE_PEM_ENV}"),
        };
        let key = crate::auth::pem::parse_key(pem.as_bytes(), passphrase, &key_source)?;
        SessionToken::new(token, Arc::new(key)).map_err(|err| {
            err.context(format!("the resource principal session token ({RPST_ENV})"))
        })
    }
}

#[async_trait]
impl TokenSource for ResourcePrincipalSource {
    async fn fetch(&self) -> Result<SessionToken> {
        // The platform rewrites the token and key files one after the other: a read between the
        // two gets a pair that does not belong together, so read again shortly.
        let mut attempt = 1;
        let token = loop {
            let token = self.read_pair()?;
            if token.key_matches() || attempt >= PAIR_READ_ATTEMPTS {
                break token;
            }
            tokio::time::sleep(PAIR_READ_PAUSE).await;
            attempt += 1;
        };
        if !self.rpst.is_path() && token.claims.expires_at <= std::time::SystemTime::now() {
            return Err(Error::new(
                ErrorCode::NotAuthenticated,
                format!(
                    "the resource principal session token given literally in {RPST_ENV} expired \
                     at {}; a literal token cannot be renewed: set {RPST_ENV} to the absolute \
                     path of the token file the platform keeps fresh",
                    httpdate::fmt_http_date(token.claims.expires_at)
                ),
            ));
        }
        Ok(token)
    }

    fn refreshable(&self) -> bool {
        self.rpst.is_path()
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::Resource
    }

    fn describe(&self) -> String {
        format!("resource principal (region {})", self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CredentialProvider;
    use base64::Engine as _;
    use std::collections::HashMap;
    use std::time::UNIX_EPOCH;

    fn env_of(pairs: Vec<(&str, String)>) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        move |name| map.get(name).cloned()
    }

    /// A JWT expiring `delta` seconds from now.
    fn jwt(delta: i64) -> String {
        let now = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let payload =
            serde_json::json!({"exp": now + delta, "res_tenant": "ocid1.tenancy.oc1..rp"});
        format!("{}.{}.c2ln", b64(b"{}"), b64(payload.to_string().as_bytes()))
    }

    fn key_pem() -> String {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()))
    }

    #[test]
    fn literal_or_path_follows_the_absolute_path_rule() {
        assert!(LiteralOrPath::from_value("/var/run/rpst").is_path());
        assert!(!LiteralOrPath::from_value("eyJhbGc.x.y").is_path());
        assert!(!LiteralOrPath::from_value("relative/path").is_path());
        let err = LiteralOrPath::from_value("/nonexistent/rpst").read("the token").unwrap_err();
        assert!(
            err.message().contains("cannot read the token from /nonexistent/rpst"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn missing_or_inconsistent_settings_name_the_variable() {
        let full = || {
            vec![
                (VERSION_ENV, "2.2".to_string()),
                (RPST_ENV, "a.b.c".to_string()),
                (PRIVATE_PEM_ENV, "/keys/rp.pem".to_string()),
                (REGION_ENV, "iad".to_string()),
            ]
        };
        let source = ResourcePrincipalSource::from_env_with(&env_of(full())).unwrap();
        assert_eq!(source.describe(), "resource principal (region us-ashburn-1)");
        assert!(!source.refreshable());
        for missing in [VERSION_ENV, RPST_ENV, PRIVATE_PEM_ENV, REGION_ENV] {
            let env = full().into_iter().filter(|(k, _)| *k != missing).collect();
            let err = ResourcePrincipalSource::from_env_with(&env_of(env)).err().unwrap();
            assert_eq!(err.code(), ErrorCode::Credentials);
            assert!(err.message().contains(missing), "{}", err.message());
        }
        let mut v11 = full();
        v11[0].1 = "1.1".into();
        assert!(ResourcePrincipalSource::from_env_with(&env_of(v11))
            .err()
            .unwrap()
            .message()
            .contains("2.2 only"));
        let mut mixed = full();
        mixed.push((PASSPHRASE_ENV, "literal-passphrase".into()));
        let err = ResourcePrincipalSource::from_env_with(&env_of(mixed)).err().unwrap();
        assert!(err.message().contains("both be file paths"), "{}", err.message());
    }

    #[tokio::test]
    async fn file_values_are_re_read_and_literal_tokens_cannot_be_renewed() {
        let dir = tempfile::tempdir().unwrap();
        let (token_path, key_path) = (dir.path().join("rpst"), dir.path().join("key.pem"));
        std::fs::write(&token_path, jwt(3600)).unwrap();
        std::fs::write(&key_path, key_pem()).unwrap();
        let env = vec![
            (VERSION_ENV, "2.2".to_string()),
            (RPST_ENV, token_path.display().to_string()),
            (PRIVATE_PEM_ENV, key_path.display().to_string()),
            (REGION_ENV, "phx".to_string()),
        ];
        let provider = SessionTokenProvider::new(
            ResourcePrincipalSource::from_env_with(&env_of(env)).unwrap(),
        );
        let first = provider.credentials().await.unwrap();
        assert!(first.key_id.starts_with("ST$") && first.key_id.ends_with(".c2ln"));
        assert_eq!(
            provider.describe(),
            "resource principal (region us-phoenix-1) in tenancy ocid1.tenancy.oc1..rp"
        );
        // A rotated file is read on the next refresh (here forced by a 401).
        std::fs::write(&token_path, jwt(7200)).unwrap();
        assert!(provider.refresh_after_unauthorized(&first).await);
        assert_ne!(provider.credentials().await.unwrap().key_id, first.key_id);
        // An unreadable file is a clear error naming it.
        std::fs::remove_file(&key_path).unwrap();
        let stale = provider.credentials().await.unwrap();
        assert!(!provider.refresh_after_unauthorized(&stale).await);

        let literal = vec![
            (VERSION_ENV, "2.2".to_string()),
            (RPST_ENV, jwt(-10)),
            (PRIVATE_PEM_ENV, key_pem()),
            (REGION_ENV, "phx".to_string()),
        ];
        let provider = SessionTokenProvider::new(
            ResourcePrincipalSource::from_env_with(&env_of(literal)).unwrap(),
        );
        let err = provider.credentials().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotAuthenticated);
        assert!(err.message().contains("a literal token cannot be renewed"), "{}", err.message());
    }

    #[tokio::test]
    async fn missing_files_are_clear_errors() {
        let env = vec![
            (VERSION_ENV, "2.2".to_string()),
            (RPST_ENV, "/nonexistent/dir/rpst".to_string()),
            (PRIVATE_PEM_ENV, "/nonexistent/dir/key.pem".to_string()),
            (REGION_ENV, "phx".to_string()),
        ];
        let provider = SessionTokenProvider::new(
            ResourcePrincipalSource::from_env_with(&env_of(env)).unwrap(),
        );
        let err = provider.credentials().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        assert!(err.message().contains("/nonexistent/dir/rpst"), "{}", err.message());
    }
}

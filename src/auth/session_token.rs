// SPDX-License-Identifier: MPL-2.0
//! Session token authentication (`auth_type = "security_token"`): the token the OCI CLI writes
//! with `oci session authenticate` (the profile's `security_token_file`), signed with the
//! profile's `key_file`; keyId `ST$<token>`.
//!
//! The token file is checked on every call (one `stat`): when its modification time, size or
//! inode changed — `oci session refresh` rewrote it — the token is read again. After a 401 the
//! file is re-read unconditionally. The key is loaded once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::auth::api_key::load_profile_key;
use crate::auth::config_file::OciProfile;
use crate::auth::jwt::parse_jwt_claims;
use crate::auth::pem::check_fingerprint;
use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::config::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::read_limited::{read_limited_text, SECRET_FILE_LIMIT};

/// What identifies one version of the token file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

#[derive(Debug)]
struct Cached {
    stamp: FileStamp,
    credentials: Arc<Credentials>,
}

/// Signs with a CLI session token from the OCI config file; re-reads the token when it changes.
#[derive(Debug)]
pub struct SecurityTokenProvider {
    token_path: PathBuf,
    key: Arc<aws_lc_rs::rsa::KeyPair>,
    tenancy: Option<String>,
    /// `profile [NAME] of FILE`, for messages.
    profile: String,
    cached: Mutex<Cached>,
}

impl SecurityTokenProvider {
    /// Loads `security_token_file` and `key_file` (+ `pass_phrase`) from `profile`; when the
    /// profile has a `fingerprint`, checks that it is the key's.
    pub fn from_profile(profile: &OciProfile, env: Env<'_>) -> Result<SecurityTokenProvider> {
        const NEEDED_FOR: &str = "auth_type security_token";
        let token_path = profile.require_path("security_token_file", NEEDED_FOR, env)?;
        let (origin, key) = load_profile_key(profile, NEEDED_FOR, env)?;
        if let Some(configured) = profile.get("fingerprint") {
            check_fingerprint(configured, &key, &origin, &profile.describe())?;
        }
        let key = Arc::new(key);
        let (stamp, token) = read_token(&token_path)?;
        super::config_file::warn_if_readable_by_others(&token_path, "the session token file");
        let credentials = Arc::new(Credentials::session(&token, key.clone()));
        let tenancy = profile.get("tenancy").map(str::to_string);
        tracing::info!(token_file = %token_path.display(), profile = %profile.describe(), "using OCI session token");
        let provider = SecurityTokenProvider {
            token_path,
            key,
            tenancy,
            profile: profile.describe(),
            cached: Mutex::new(Cached { stamp, credentials }),
        };
        provider.check_not_expired(&token)?;
        Ok(provider)
    }

    /// Fails with [`ErrorCode::NotAuthenticated`] when the token is a JWT whose `exp` has passed
    /// (tokens that are not JWTs are left for the service to judge).
    fn check_not_expired(&self, token: &str) -> Result<()> {
        let Ok(claims) = parse_jwt_claims(token) else { return Ok(()) };
        if claims.expires_at > SystemTime::now() {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::NotAuthenticated,
            format!(
                "the session token in {} ({}) expired at {}: run `oci session refresh` (or \
                 `oci session authenticate`) for this profile",
                self.token_path.display(),
                self.profile,
                httpdate::fmt_http_date(claims.expires_at)
            ),
        ))
    }

    /// Reads the token file again; replaces the cached credentials when the token differs.
    /// Returns whether it changed.
    fn reload(
        &self,
        stamp: FileStamp,
        token: Zeroizing<String>,
    ) -> Result<(bool, Arc<Credentials>)> {
        let fresh = Credentials::session(&token, self.key.clone());
        let mut cached =
            self.cached.lock().map_err(|_| Error::internal("session token cache poisoned"))?;
        let changed = cached.credentials.key_id != fresh.key_id;
        if changed {
            cached.credentials = Arc::new(fresh);
        }
        cached.stamp = stamp;
        let credentials = cached.credentials.clone();
        drop(cached); // log with no lock held: the log callback may call back into the library
        if changed {
            tracing::info!(token_file = %self.token_path.display(), "session token reloaded");
        }
        Ok((changed, credentials))
    }
}

#[async_trait]
impl CredentialProvider for SecurityTokenProvider {
    async fn credentials(&self) -> Result<Arc<Credentials>> {
        let stamp = file_stamp(&self.token_path)?;
        {
            let cached =
                self.cached.lock().map_err(|_| Error::internal("session token cache poisoned"))?;
            if cached.stamp == stamp {
                let credentials = cached.credentials.clone();
                drop(cached);
                self.check_not_expired(token_of(&credentials))?;
                return Ok(credentials);
            }
        }
        let (stamp, token) = read_token(&self.token_path)?;
        self.check_not_expired(&token)?;
        Ok(self.reload(stamp, token)?.1)
    }

    async fn refresh_after_unauthorized(&self, stale: &Credentials) -> bool {
        match read_token(&self.token_path).and_then(|(stamp, token)| self.reload(stamp, token)) {
            Ok((_, current)) => current.key_id != stale.key_id,
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the session token after a 401");
                false
            }
        }
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::Session
    }

    fn describe(&self) -> String {
        match &self.tenancy {
            Some(t) => format!("session token in tenancy {t}"),
            None => "session token".to_string(),
        }
    }
}

/// The token inside a `ST$<token>` key id.
fn token_of(credentials: &Credentials) -> &str {
    credentials.key_id.strip_prefix("ST$").unwrap_or(&credentials.key_id)
}

fn file_stamp(path: &Path) -> Result<FileStamp> {
    let meta = std::fs::metadata(path).map_err(|e| token_error(path, &e.to_string()))?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(FileStamp { modified: meta.modified().ok(), len: meta.len(), inode })
}

/// Reads and checks the token (surrounding whitespace removed). The stamp is taken first, so a
/// rewrite during the read is seen at the next call.
fn read_token(path: &Path) -> Result<(FileStamp, Zeroizing<String>)> {
    let stamp = file_stamp(path)?;
    let text = read_limited_text(path, SECRET_FILE_LIMIT)
        .map_err(|e| token_error(path, &e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(token_error(path, "the file is empty"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
        return Err(token_error(path, "the file does not hold a session token"));
    }
    Ok((stamp, Zeroizing::new(token.to_string())))
}

fn token_error(path: &Path, problem: &str) -> Error {
    Error::credentials(format!(
        "cannot use session token file {} ({problem}): run `oci session authenticate` (or \
         `oci session refresh`) for this profile",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::api_key::tests::write_key;
    use base64::Engine as _;
    use std::time::{Duration, UNIX_EPOCH};

    struct Fixture {
        _dir: tempfile::TempDir,
        token: PathBuf,
        profile: OciProfile,
    }

    fn fixture(token: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("session.pem");
        let fp = write_key(&key, None);
        let token_path = dir.path().join("token");
        std::fs::write(&token_path, token).unwrap();
        let text = format!(
            "[DEFAULT]\nregion=x\n[SESSION]\nfingerprint={fp}\nkey_file={}\ntenancy=ocid1.tenancy.oc1..t\n\
             security_token_file={}\n",
            key.display(),
            token_path.display()
        );
        let profile = OciProfile::parse(&text, Path::new("/cfg"), "SESSION").unwrap();
        Fixture { _dir: dir, token: token_path, profile }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[tokio::test]
    async fn token_is_reread_when_the_file_changes() {
        let f = fixture("header.payload.sig1\n");
        let provider = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap();
        let first = provider.credentials().await.unwrap();
        assert_eq!(first.key_id.as_str(), "ST$header.payload.sig1");
        assert!(Arc::ptr_eq(&first, &provider.credentials().await.unwrap()), "cached");
        assert_eq!(provider.principal_type(), PrincipalType::Session);
        assert_eq!(provider.describe(), "session token in tenancy ocid1.tenancy.oc1..t");

        std::fs::write(&f.token, "header.payload.signature2").unwrap();
        let second = provider.credentials().await.unwrap();
        assert_eq!(second.key_id.as_str(), "ST$header.payload.signature2");
        assert!(Arc::ptr_eq(&first.key, &second.key), "the key is loaded once");
    }

    #[tokio::test]
    async fn refresh_after_unauthorized_rereads() {
        let f = fixture("token-a");
        let provider = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap();
        let stale = provider.credentials().await.unwrap();
        assert!(!provider.refresh_after_unauthorized(&stale).await, "unchanged token: no retry");

        // Same length, so only the forced re-read is sure to see it.
        std::fs::write(&f.token, "token-b").unwrap();
        assert!(provider.refresh_after_unauthorized(&stale).await);
        assert_eq!(provider.credentials().await.unwrap().key_id.as_str(), "ST$token-b");
    }

    #[tokio::test]
    async fn bad_token_files() {
        let f = fixture("   \n");
        let err = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Credentials);
        assert!(
            err.message().contains("is empty") && err.message().contains("oci session"),
            "{err}"
        );

        std::fs::write(&f.token, "ok-token").unwrap();
        let provider = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap();
        std::fs::remove_file(&f.token).unwrap();
        let err = provider.credentials().await.unwrap_err();
        assert!(err.message().contains(&f.token.display().to_string()), "{err}");

        std::fs::write(&f.token, "has \"quotes\"").unwrap();
        let err = provider.credentials().await.unwrap_err();
        assert!(err.message().contains("does not hold a session token"), "{err}");
    }

    fn jwt_expiring_at(exp: SystemTime) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let secs = exp.duration_since(UNIX_EPOCH).unwrap().as_secs();
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(&format!(r#"{{"exp":{secs}}}"#)))
    }

    #[tokio::test]
    async fn an_expired_jwt_is_a_clear_error() {
        let live = jwt_expiring_at(SystemTime::now() + Duration::from_secs(3600));
        let f = fixture(&live);
        let provider = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap();
        assert_eq!(provider.credentials().await.unwrap().key_id.as_str(), &format!("ST${live}"));

        let expired = jwt_expiring_at(SystemTime::now() - Duration::from_secs(60));
        std::fs::write(&f.token, &expired).unwrap();
        let err = provider.credentials().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotAuthenticated);
        let msg = err.message();
        assert!(msg.contains("expired at") && msg.contains("profile [SESSION]"), "{msg}");
        assert!(!msg.contains(&expired), "the token must not be shown");

        let err = SecurityTokenProvider::from_profile(&f.profile, &no_env).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotAuthenticated);
    }

    #[test]
    fn missing_token_file_setting() {
        let text = "[DEFAULT]\nkey_file=/k.pem\n";
        let profile = OciProfile::parse(text, Path::new("/cfg"), "DEFAULT").unwrap();
        let err = SecurityTokenProvider::from_profile(&profile, &no_env).unwrap_err();
        assert!(err.message().contains("`security_token_file` is missing"), "{err}");
    }
}

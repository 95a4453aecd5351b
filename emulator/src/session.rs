// SPDX-License-Identifier: MPL-2.0
//! User session tokens (what `oci session authenticate` leaves behind): a session key and a
//! token for the ready user in `DIR/oci/session/`, used by the `SESSION` profile through
//! `security_token_file`.

use std::path::{Path, PathBuf};

use serde_json::Map;

use crate::fsutil::write_atomic;
use crate::rsakeys::{self, RsaKey};
use crate::tokens::TokenIssuer;
use crate::world::World;

/// Paths and fingerprint of the written session.
pub struct SessionFiles {
    /// `DIR/oci/session/token`.
    pub token: PathBuf,
    /// `DIR/oci/session/key.pem` (PKCS#1).
    pub key: PathBuf,
    /// Fingerprint of the session key.
    pub fingerprint: String,
}

/// Issues a fresh user token for the ready user and writes it under `dir`, with the session key
/// kept there (created on first use, so the profile's fingerprint stays valid).
pub fn write_user_session(
    tokens: &TokenIssuer,
    world: &World,
    dir: &Path,
) -> Result<SessionFiles, String> {
    let key_path = dir.join("key.pem");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(text) => RsaKey::from_pem(&text).map_err(|e| format!("{}: {e}", key_path.display()))?,
        Err(_) => {
            let k = RsaKey::generate()?;
            write_atomic(&key_path, k.pkcs1_pem()?.as_bytes(), 0o600)?;
            k
        }
    };
    let spki = key.spki_der()?;
    let mut claims = Map::new();
    claims.insert("sub".into(), world.ready.user.clone().into());
    claims.insert("tenant".into(), world.ready.tenancy.clone().into());
    claims.insert("ptype".into(), "user".into());
    let token = tokens.issue(claims, &spki)?;
    let files = SessionFiles {
        token: dir.join("token"),
        key: key_path,
        fingerprint: rsakeys::fingerprint(&spki),
    };
    write_atomic(&files.token, token.as_bytes(), 0o600)?;
    Ok(files)
}

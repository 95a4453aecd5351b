// SPDX-License-Identifier: MPL-2.0
//! `key_id` references, as go-kms-wrapping's `ParsePaths`: `file://<path>`, `env://<VAR>` and
//! `string://<value>` resolved to a single key OCID.

use tracing::warn;

use super::env::Env;
use super::keys::LOG_TARGET;
use crate::error::{Error, Result};

/// Resolves `file://`, `env://` and `string://` in a key id (go-kms-wrapping `ParsePaths`), then
/// trims surrounding whitespace (an OCID never has any, a file usually ends with a newline).
pub(super) fn resolve(raw: &str, source: &str, env: Env<'_>) -> Result<String> {
    let trimmed = raw.trim();
    let resolved = if let Some(path) = trimmed.strip_prefix("file://") {
        read_key_id_file(path).map_err(|e| {
            Error::config(format!(
                "key_id (from {source}) points to file {path}, which cannot be read ({e}): \
                 fix the path or give the key OCID directly"
            ))
        })?
    } else if let Some(name) = trimmed.strip_prefix("env://") {
        env(name).ok_or_else(|| {
            Error::config(format!(
                "key_id (from {source}) points to environment variable {name}, which is not set: \
                 set it or give the key OCID directly"
            ))
        })?
    } else if let Some(literal) = trimmed.strip_prefix("string://") {
        literal.to_string()
    } else {
        raw.to_string()
    };
    let key_id = resolved.trim();
    if key_id.is_empty() {
        return Err(Error::config(format!(
            "key_id (from {source}) is empty after resolving {trimmed:?}: it must be the master \
             key OCID (ocid1.key...)"
        )));
    }
    if key_id.chars().any(char::is_whitespace) {
        return Err(Error::config(format!(
            "key_id (from {source}) contains whitespace: it must be a single key OCID \
             (ocid1.key...)"
        )));
    }
    if !key_id.starts_with("ocid1.key.") {
        warn!(
            target: LOG_TARGET,
            key_id,
            "key_id does not look like a KMS key OCID (ocid1.key...)"
        );
    }
    Ok(key_id.to_string())
}

/// The most a `key_id = "file://..."` file may hold: a key OCID is a few hundred bytes, and a
/// bounded read keeps a wrong path (`/dev/zero`, a log file) from exhausting memory at init.
const MAX_KEY_ID_FILE: u64 = 4096;

/// Reads a `file://` key id file, refusing one larger than [`MAX_KEY_ID_FILE`].
fn read_key_id_file(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_KEY_ID_FILE + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_KEY_ID_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {MAX_KEY_ID_FILE} bytes; it must hold only the key OCID"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::test_support::{build, config_error, CRYPTO};

    #[test]
    fn key_id_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "ocid1.key.fromfile\n").unwrap();
        let uri = format!("file://{}", path.display());
        let cfg =
            build(&[("key_id", json!(uri)), ("crypto_endpoint", json!(CRYPTO))], None, true, &[])
                .unwrap();
        assert_eq!(cfg.key_id, "ocid1.key.fromfile");

        let missing = format!("file://{}", dir.path().join("nope").display());
        let msg = config_error(build(
            &[("key_id", json!(missing)), ("crypto_endpoint", json!(CRYPTO))],
            None,
            true,
            &[],
        ));
        assert!(msg.contains("cannot be read") && msg.contains("nope"), "{msg}");

        let endless = config_error(build(
            &[("key_id", json!("file:///dev/zero")), ("crypto_endpoint", json!(CRYPTO))],
            None,
            true,
            &[],
        ));
        assert!(endless.contains("larger than 4096 bytes"), "{endless}");
    }
}

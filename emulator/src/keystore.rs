// SPDX-License-Identifier: MPL-2.0
//! Persistent KMS keys and their versions (AES-256), and the crypto on them. State lives in
//! `DIR/state.json` (written atomically on every change); ciphertexts name key and version so a
//! restarted emulator decrypts everything it encrypted before.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::encoding::{b64, new_ocid, random_bytes, rfc3339, unb64};
use crate::errors::ApiError;
use crate::fsutil::write_atomic;

const CIPHERTEXT_FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;

/// Lifecycle states OCI reports for keys and versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lifecycle {
    /// Usable.
    Enabled,
    /// Disabled: crypto answers 409 IncorrectState.
    Disabled,
    /// Scheduled for deletion: crypto answers 409 IncorrectState.
    PendingDeletion,
}

impl Lifecycle {
    /// OCI's spelling, e.g. `PENDING_DELETION`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Enabled => "ENABLED",
            Lifecycle::Disabled => "DISABLED",
            Lifecycle::PendingDeletion => "PENDING_DELETION",
        }
    }
}

/// A key version as persisted (material is base64 of 32 random bytes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Version OCID.
    pub id: String,
    /// RFC 3339 creation time.
    pub time_created: String,
    /// State.
    pub lifecycle_state: Lifecycle,
    material: Zeroizing<String>,
}

/// A key as persisted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Key OCID.
    pub id: String,
    /// Compartment OCID.
    pub compartment_id: String,
    /// Vault OCID.
    pub vault_id: String,
    /// Display name.
    pub display_name: String,
    /// State.
    pub lifecycle_state: Lifecycle,
    /// RFC 3339 creation time.
    pub time_created: String,
    /// RFC 3339 deletion time when pending deletion.
    #[serde(default)]
    pub time_of_deletion: Option<String>,
    /// Current version OCID.
    pub current_version: String,
    /// All versions, oldest first.
    pub versions: Vec<VersionRecord>,
}

#[derive(Default, Serialize, Deserialize)]
struct StateFile {
    keys: BTreeMap<String, KeyRecord>,
}

struct Inner {
    keys: BTreeMap<String, KeyRecord>,
    ciphers: HashMap<String, (String, Arc<LessSafeKey>)>,
}

/// The key store.
pub struct Keystore {
    path: PathBuf,
    inner: RwLock<Inner>,
}

/// Result of an encryption.
pub struct Sealed {
    /// Base64 ciphertext blob.
    pub ciphertext: String,
    /// Version used.
    pub key_version_id: String,
}

/// Result of a decryption.
pub struct Opened {
    /// Plaintext bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// Version that had encrypted it.
    pub key_version_id: String,
}

/// A key-state change requested through the management API.
#[derive(Clone, Copy, Debug)]
pub enum Transition {
    /// `actions/enable`.
    Enable,
    /// `actions/disable`.
    Disable,
    /// `actions/scheduleDeletion` at the given time.
    ScheduleDeletion(SystemTime),
    /// `actions/cancelDeletion`.
    CancelDeletion,
}

fn new_version() -> VersionRecord {
    VersionRecord {
        id: new_ocid("keyversion"),
        time_created: rfc3339(SystemTime::now()),
        lifecycle_state: Lifecycle::Enabled,
        material: Zeroizing::new(b64(&random_bytes(32))),
    }
}

fn cipher_for(v: &VersionRecord) -> Result<Arc<LessSafeKey>, String> {
    let raw = Zeroizing::new(
        unb64(&v.material).ok_or_else(|| format!("key version {} material is corrupt", v.id))?,
    );
    let unbound = UnboundKey::new(&AES_256_GCM, &raw)
        .map_err(|_| format!("key version {} material is not 32 bytes", v.id))?;
    Ok(Arc::new(LessSafeKey::new(unbound)))
}

/// AAD binding the format, the version and OCI's `associatedData` map (canonical, sorted JSON).
fn aad_bytes(version_id: &str, associated: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = format!("oci-kms-emulator/v{CIPHERTEXT_FORMAT}/{version_id}/").into_bytes();
    aad.extend(serde_json::to_vec(associated).unwrap_or_default());
    aad
}

impl Keystore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: PathBuf) -> Result<Self, String> {
        let state: StateFile = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("state file {} is corrupt: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateFile::default(),
            Err(e) => return Err(format!("cannot read state file {}: {e}", path.display())),
        };
        let mut ciphers = HashMap::new();
        for k in state.keys.values() {
            for v in &k.versions {
                ciphers.insert(v.id.clone(), (k.id.clone(), cipher_for(v)?));
            }
        }
        Ok(Keystore { path, inner: RwLock::new(Inner { keys: state.keys, ciphers }) })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, inner: &Inner) -> Result<(), ApiError> {
        let state = serde_json::json!({"keys": &inner.keys});
        write_atomic(&self.path, state.to_string().as_bytes(), 0o600)
            .map_err(|e| ApiError::internal(format!("emulator could not persist its state: {e}")))
    }

    /// Creates a key (with one version) unless `id` already exists. Returns the key.
    pub fn create(
        &self,
        id: Option<&str>,
        compartment: &str,
        vault: &str,
        name: &str,
    ) -> Result<KeyRecord, ApiError> {
        let mut inner = self.write();
        if let Some(k) = id.and_then(|id| inner.keys.get(id)) {
            return Ok(k.clone());
        }
        let v = new_version();
        let cipher = cipher_for(&v).map_err(ApiError::internal)?;
        let key = KeyRecord {
            id: id.map(str::to_string).unwrap_or_else(|| new_ocid("key")),
            compartment_id: compartment.to_string(),
            vault_id: vault.to_string(),
            display_name: name.to_string(),
            lifecycle_state: Lifecycle::Enabled,
            time_created: rfc3339(SystemTime::now()),
            time_of_deletion: None,
            current_version: v.id.clone(),
            versions: vec![v],
        };
        inner.ciphers.insert(key.current_version.clone(), (key.id.clone(), cipher));
        inner.keys.insert(key.id.clone(), key.clone());
        self.persist(&inner)?;
        Ok(key)
    }

    /// A copy of a key's record.
    pub fn get(&self, id: &str) -> Option<KeyRecord> {
        self.read().keys.get(id).cloned()
    }

    /// The compartment of a key (cheap; for authorization before an operation).
    pub fn compartment_of(&self, id: &str) -> Option<String> {
        self.read().keys.get(id).map(|k| k.compartment_id.clone())
    }

    /// Keys in a compartment.
    pub fn list(&self, compartment: &str) -> Vec<KeyRecord> {
        self.read().keys.values().filter(|k| k.compartment_id == compartment).cloned().collect()
    }

    /// Adds a version and makes it current (rotation).
    pub fn rotate(&self, id: &str) -> Result<(KeyRecord, VersionRecord), ApiError> {
        let mut inner = self.write();
        let v = new_version();
        let cipher = cipher_for(&v).map_err(ApiError::internal)?;
        let key = inner.keys.get_mut(id).ok_or_else(|| not_found(id))?;
        require_state(key, &[Lifecycle::Enabled])?;
        key.current_version = v.id.clone();
        key.versions.push(v.clone());
        let snapshot = key.clone();
        inner.ciphers.insert(v.id.clone(), (id.to_string(), cipher));
        self.persist(&inner)?;
        Ok((snapshot, v))
    }

    /// Applies a lifecycle change; a change that does not fit the current state is 409.
    pub fn transition(&self, id: &str, t: Transition) -> Result<KeyRecord, ApiError> {
        let mut inner = self.write();
        let key = inner.keys.get_mut(id).ok_or_else(|| not_found(id))?;
        match t {
            Transition::Enable => {
                require_state(key, &[Lifecycle::Disabled])?;
                key.lifecycle_state = Lifecycle::Enabled;
            }
            Transition::Disable => {
                require_state(key, &[Lifecycle::Enabled])?;
                key.lifecycle_state = Lifecycle::Disabled;
            }
            Transition::ScheduleDeletion(at) => {
                require_state(key, &[Lifecycle::Enabled, Lifecycle::Disabled])?;
                key.lifecycle_state = Lifecycle::PendingDeletion;
                key.time_of_deletion = Some(rfc3339(at));
            }
            Transition::CancelDeletion => {
                require_state(key, &[Lifecycle::PendingDeletion])?;
                key.lifecycle_state = Lifecycle::Enabled;
                key.time_of_deletion = None;
            }
        }
        let snapshot = key.clone();
        self.persist(&inner)?;
        Ok(snapshot)
    }

    /// AES-256-GCM-encrypts with the current (or the named) version of an enabled key.
    pub fn encrypt(
        &self,
        key_id: &str,
        version: Option<&str>,
        plaintext: &[u8],
        associated: &BTreeMap<String, String>,
    ) -> Result<Sealed, ApiError> {
        let inner = self.read();
        let key = inner.keys.get(key_id).ok_or_else(|| not_found(key_id))?;
        require_state(key, &[Lifecycle::Enabled])?;
        let version_id = version.unwrap_or(&key.current_version).to_string();
        let cipher = match inner.ciphers.get(&version_id) {
            Some((owner, c)) if owner == key_id => c.clone(),
            _ => {
                return Err(ApiError::invalid(format!(
                    "keyVersionId {version_id} is not a version of key {key_id}"
                )))
            }
        };
        drop(inner);
        let nonce_bytes = random_bytes(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&nonce_bytes)
            .map_err(|_| ApiError::internal("nonce setup failed"))?;
        let mut buf = plaintext.to_vec();
        cipher
            .seal_in_place_append_tag(
                nonce,
                Aad::from(aad_bytes(&version_id, associated)),
                &mut buf,
            )
            .map_err(|_| ApiError::internal("AES-GCM encryption failed"))?;
        let vid = version_id.as_bytes();
        let mut blob = Vec::with_capacity(3 + vid.len() + NONCE_LEN + buf.len());
        blob.push(CIPHERTEXT_FORMAT);
        blob.extend_from_slice(&(vid.len() as u16).to_be_bytes());
        blob.extend_from_slice(vid);
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&buf);
        Ok(Sealed { ciphertext: b64(&blob), key_version_id: version_id })
    }

    /// Decrypts a blob produced by [`Keystore::encrypt`] for `key_id` (any version of it).
    pub fn decrypt(
        &self,
        key_id: &str,
        ciphertext: &str,
        associated: &BTreeMap<String, String>,
    ) -> Result<Opened, ApiError> {
        let bad = || {
            ApiError::invalid(
                "ciphertext is not a valid ciphertext of this service (corrupt or truncated)",
            )
        };
        let blob = unb64(ciphertext).ok_or_else(bad)?;
        if blob.len() < 3 || blob[0] != CIPHERTEXT_FORMAT {
            return Err(bad());
        }
        let vlen = u16::from_be_bytes([blob[1], blob[2]]) as usize;
        if blob.len() < 3 + vlen + NONCE_LEN + 16 {
            return Err(bad());
        }
        let version_id = std::str::from_utf8(&blob[3..3 + vlen]).map_err(|_| bad())?.to_string();
        let inner = self.read();
        let key = inner.keys.get(key_id).ok_or_else(|| not_found(key_id))?;
        require_state(key, &[Lifecycle::Enabled])?;
        let cipher = match inner.ciphers.get(&version_id) {
            Some((owner, c)) if owner == key_id => c.clone(),
            _ => {
                return Err(ApiError::invalid(format!(
                    "ciphertext was not produced by key {key_id}"
                )))
            }
        };
        drop(inner);
        let nonce = Nonce::try_assume_unique_for_key(&blob[3 + vlen..3 + vlen + NONCE_LEN])
            .map_err(|_| bad())?;
        let mut buf = Zeroizing::new(blob[3 + vlen + NONCE_LEN..].to_vec());
        let len = cipher
            .open_in_place(nonce, Aad::from(aad_bytes(&version_id, associated)), &mut buf)
            .map_err(|_| {
                ApiError::invalid(
                    "decryption failed: the ciphertext or its associatedData does not match",
                )
            })?
            .len();
        buf.truncate(len);
        Ok(Opened { plaintext: buf, key_version_id: version_id })
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("key {id} not found or not authorized"))
}

fn require_state(key: &KeyRecord, allowed: &[Lifecycle]) -> Result<(), ApiError> {
    if allowed.contains(&key.lifecycle_state) {
        return Ok(());
    }
    let needed: Vec<&str> = allowed.iter().map(|l| l.as_str()).collect();
    Err(ApiError::incorrect_state(format!(
        "key {} is {}; this operation needs it {}",
        key.id,
        key.lifecycle_state.as_str(),
        needed.join(" or ")
    )))
}

/// Default delay of a scheduled deletion when the request names no time (OCI's 30 days).
pub const DEFAULT_DELETION_DELAY: Duration = Duration::from_secs(30 * 86_400);

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn encrypt_rotate_restart_decrypt() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("state.json");
        let ks = Keystore::open(path.clone()).unwrap();
        let k = ks.create(Some("k1"), "c", "v", "n").unwrap();
        let a = ks.encrypt("k1", None, b"secret", &aad(&[("x", "1")])).unwrap();
        assert_eq!(a.key_version_id, k.current_version);
        let (_, v2) = ks.rotate("k1").unwrap();
        let b = ks.encrypt("k1", None, b"two", &BTreeMap::new()).unwrap();
        assert_eq!(b.key_version_id, v2.id);
        drop(ks);
        let ks = Keystore::open(path).unwrap();
        let o = ks.decrypt("k1", &a.ciphertext, &aad(&[("x", "1")])).unwrap();
        assert_eq!(&o.plaintext[..], b"secret");
        assert_eq!(o.key_version_id, k.current_version);
        assert_eq!(
            &ks.decrypt("k1", &b.ciphertext, &BTreeMap::new()).unwrap().plaintext[..],
            b"two"
        );
        assert_eq!(ks.decrypt("k1", &a.ciphertext, &aad(&[("x", "2")])).err().unwrap().status, 400);
        assert_eq!(ks.decrypt("k1", "AAAA", &BTreeMap::new()).err().unwrap().status, 400);
    }

    #[test]
    fn disabled_key_is_incorrect_state_and_other_keys_cannot_decrypt() {
        let d = tempfile::tempdir().unwrap();
        let ks = Keystore::open(d.path().join("s.json")).unwrap();
        ks.create(Some("k1"), "c", "v", "n").unwrap();
        ks.create(Some("k2"), "c", "v", "n").unwrap();
        let a = ks.encrypt("k1", None, b"p", &BTreeMap::new()).unwrap();
        assert_eq!(ks.decrypt("k2", &a.ciphertext, &BTreeMap::new()).err().unwrap().status, 400);
        ks.transition("k1", Transition::Disable).unwrap();
        let e = ks.encrypt("k1", None, b"p", &BTreeMap::new()).err().unwrap();
        assert_eq!((e.status, e.code), (409, "IncorrectState"));
        assert_eq!(ks.transition("k1", Transition::Disable).err().unwrap().status, 409);
        ks.transition("k1", Transition::Enable).unwrap();
        assert!(ks.decrypt("k1", &a.ciphertext, &BTreeMap::new()).is_ok());
        assert_eq!(ks.encrypt("missing", None, b"p", &BTreeMap::new()).err().unwrap().status, 404);
    }
}

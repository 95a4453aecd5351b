// SPDX-License-Identifier: MPL-2.0
//! The seal: what Vault's `ocikms` wrapper does — validate the key at init, envelope-encrypt,
//! decrypt, report the current key version, rewrap.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::auth::CredentialProvider;
use crate::blob::{BlobInfo, KeyInfo, StoredValue, MECHANISM_DIRECT, MECHANISM_ENVELOPE};
use crate::config::SealConfig;
use crate::envelope;
use crate::error::{Error, ErrorCode, Result};
use crate::kms::{CallContext, EncryptedData, KmsClient};

/// Per-call options (go-kms-wrapping's `WithAad`, `WithoutEnvelope`, plus deadline/cancel).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Additional authenticated data bound to the envelope (not sent to OCI).
    pub aad: Option<Vec<u8>>,
    /// Encrypt the plaintext with OCI directly (mechanism 1) instead of an envelope.
    pub without_envelope: bool,
    /// Overall deadline for the call, retries included; `None` uses the seal's default.
    pub timeout: Option<Duration>,
    /// Cancels the call (and its retries) when triggered.
    pub cancel: Option<CancellationToken>,
}

/// An initialised OCI KMS seal. Cheap to share: all methods take `&self` and are thread-safe.
pub struct Seal {
    config: SealConfig,
    client: KmsClient,
    /// The current key version OCID, from the last Encrypt response.
    key_version: RwLock<String>,
}

impl Seal {
    /// Builds the credential provider and KMS client, then validates the key with an
    /// empty-plaintext encrypt (as Go does) and caches the current key version.
    pub async fn new(config: SealConfig) -> Result<Seal> {
        Seal::init(config, None, &CallOptions::default()).await
    }

    /// [`Seal::new`] with an explicit credential provider (tests, embedders with their own
    /// credentials).
    pub async fn with_provider(
        config: SealConfig,
        provider: Arc<dyn CredentialProvider>,
    ) -> Result<Seal> {
        Seal::init(config, Some(provider), &CallOptions::default()).await
    }

    /// The general constructor: `provider` (or the one `config` describes when `None`), and
    /// `opts.timeout`/`opts.cancel` bounding the validation call.
    pub async fn init(
        config: SealConfig,
        provider: Option<Arc<dyn CredentialProvider>>,
        opts: &CallOptions,
    ) -> Result<Seal> {
        let provider = match provider {
            Some(p) => p,
            None => crate::auth::provider_from_config(&config)?,
        };
        let client = KmsClient::new(&config, provider)?;
        Seal::from_client(config, client, opts).await
    }

    /// A seal over an already built [`KmsClient`] (e.g. with a custom retry policy); validates
    /// the key like [`Seal::new`].
    pub async fn from_client(
        config: SealConfig,
        client: KmsClient,
        opts: &CallOptions,
    ) -> Result<Seal> {
        let seal = Seal { config, client, key_version: RwLock::new(String::new()) };
        let probe = CallOptions { aad: None, without_envelope: false, ..opts.clone() };
        seal.encrypt(&[], &probe).await.map_err(|e| {
            e.context(format!(
                "seal init: validating key {} with an empty-plaintext encrypt",
                seal.config.key_id
            ))
        })?;
        Ok(seal)
    }

    /// Encrypts `plaintext` (empty allowed) into a go-kms-wrapping `BlobInfo`.
    pub async fn encrypt(&self, plaintext: &[u8], opts: &CallOptions) -> Result<BlobInfo> {
        let ctx = self.context(opts);
        if opts.without_envelope {
            if opts.aad.is_some() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    "encrypt: AAD cannot be used without the envelope (mechanism 1 has no AAD, as \
                     in the Go ocikms wrapper): drop the AAD or use the envelope",
                ));
            }
            check_direct_size(plaintext)?;
            let resp = self.client.encrypt(&ctx, &self.config.key_id, plaintext).await?;
            let version = self.key_version_of(&ctx, &resp).await?;
            return Ok(BlobInfo {
                ciphertext: resp.ciphertext.into_bytes(),
                key_info: Some(KeyInfo {
                    mechanism: MECHANISM_DIRECT,
                    key_id: version,
                    ..KeyInfo::default()
                }),
                ..BlobInfo::default()
            });
        }
        let env = envelope::encrypt(plaintext, aad(opts))?;
        let resp = self.client.encrypt(&ctx, &self.config.key_id, &env.dek).await?;
        let version = self.key_version_of(&ctx, &resp).await?;
        Ok(BlobInfo {
            ciphertext: env.ciphertext,
            iv: env.iv,
            key_info: Some(KeyInfo {
                mechanism: MECHANISM_ENVELOPE,
                key_id: version,
                wrapped_key: resp.ciphertext.into_bytes(),
                ..KeyInfo::default()
            }),
            ..BlobInfo::default()
        })
    }

    /// Decrypts a `BlobInfo` produced by this seal or by Vault's Go `ocikms` wrapper.
    pub async fn decrypt(&self, blob: &BlobInfo, opts: &CallOptions) -> Result<Zeroizing<Vec<u8>>> {
        let info = blob.key_info.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::MalformedBlob,
                "decrypt: the blob has no key_info, so it was not written by a KMS seal",
            )
        })?;
        let ctx = self.context(opts);
        match info.mechanism {
            MECHANISM_ENVELOPE => {
                if info.wrapped_key.is_empty() {
                    return Err(Error::new(
                        ErrorCode::MalformedBlob,
                        "decrypt: the envelope blob has no wrapped key",
                    ));
                }
                let wrapped = ascii_field(&info.wrapped_key, "wrapped_key")?;
                let dek = self.client.decrypt(&ctx, &self.config.key_id, wrapped).await?;
                envelope::decrypt(&dek, &blob.iv, &blob.ciphertext, aad(opts))
            }
            MECHANISM_DIRECT => {
                let ciphertext = ascii_field(&blob.ciphertext, "ciphertext")?;
                self.client.decrypt(&ctx, &self.config.key_id, ciphertext).await
            }
            other => Err(Error::new(
                ErrorCode::UnsupportedMechanism,
                format!(
                    "decrypt: the blob uses wrapping mechanism {other}; the OCI KMS seal supports \
                     0 (envelope) and 1 (direct)"
                ),
            )),
        }
    }

    /// Decrypts a value as Vault stores it: `BlobInfo` bytes or the `multiwrapvalue:1` form
    /// (the slots this seal can read are tried, the current key version's first).
    pub async fn decrypt_stored(
        &self,
        bytes: &[u8],
        opts: &CallOptions,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let stored = StoredValue::decode(bytes)?;
        let mut first_error = None;
        for blob in stored.candidates(&self.key_id()) {
            match self.decrypt(blob, opts).await {
                Ok(plaintext) => return Ok(plaintext),
                Err(e) if matches!(e.code(), ErrorCode::Cancelled | ErrorCode::Timeout) => {
                    return Err(e)
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            Error::new(
                ErrorCode::UnsupportedMechanism,
                "the multiwrapvalue:1 value has no slot written by an OCI KMS seal: decrypt it \
                 with the seal that wrote it",
            )
        }))
    }

    /// Re-encrypts `blob` under the current key version if it was written under another one.
    /// Returns `None` when the blob is already under the current version.
    ///
    /// The current version is read from the management endpoint (GetKey) when one is
    /// configured, so an OCI-side rotation is noticed; otherwise the last Encrypt's is used.
    pub async fn rewrap(&self, blob: &BlobInfo, opts: &CallOptions) -> Result<Option<BlobInfo>> {
        let info = blob.key_info.as_ref().ok_or_else(|| {
            Error::new(ErrorCode::MalformedBlob, "rewrap: the blob has no key_info")
        })?;
        if self.config.management_endpoint.is_some() {
            let key = self.client.get_key(&self.context(opts), &self.config.key_id).await?;
            self.set_key_version(&key.current_key_version);
        }
        if info.key_id == self.key_id() {
            return Ok(None);
        }
        let plaintext = self.decrypt(blob, opts).await?;
        let mut encrypt_opts = opts.clone();
        encrypt_opts.without_envelope = info.mechanism == MECHANISM_DIRECT;
        self.encrypt(&plaintext, &encrypt_opts).await.map(Some)
    }

    /// The current key *version* OCID (Go's `KeyId()`), as last seen in an Encrypt response.
    pub fn key_id(&self) -> String {
        self.key_version.read().map(|v| v.clone()).unwrap_or_default()
    }

    /// The metadata map Vault shows: `key_id`, `crypto_endpoint`, `management_endpoint`,
    /// `principal_type`.
    pub fn metadata(&self) -> BTreeMap<String, String> {
        let principal = self.client.provider().principal_type().as_str();
        BTreeMap::from([
            ("key_id".to_owned(), self.config.key_id.clone()),
            ("crypto_endpoint".to_owned(), self.config.crypto_endpoint.clone()),
            (
                "management_endpoint".to_owned(),
                self.config.management_endpoint.clone().unwrap_or_default(),
            ),
            ("principal_type".to_owned(), principal.to_owned()),
        ])
    }

    /// The configuration the seal was built from.
    pub fn config(&self) -> &SealConfig {
        &self.config
    }

    /// The underlying KMS client (management calls such as key rotation).
    pub fn client(&self) -> &KmsClient {
        &self.client
    }

    /// A call context from the options (the seal's `request_timeout` unless overridden).
    pub fn context(&self, opts: &CallOptions) -> CallContext {
        CallContext::new(opts.timeout.unwrap_or(self.config.request_timeout), opts.cancel.clone())
    }

    /// The key version an Encrypt used: its `keyVersionId`, or GetKey's current version when
    /// the response lacks it. Cached as [`Seal::key_id`].
    async fn key_version_of(&self, ctx: &CallContext, resp: &EncryptedData) -> Result<String> {
        let version = match resp.key_version_id.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => v.to_owned(),
            None => self.client.get_key(ctx, &self.config.key_id).await?.current_key_version,
        };
        self.set_key_version(&version);
        Ok(version)
    }

    fn set_key_version(&self, version: &str) {
        if let Ok(mut current) = self.key_version.write() {
            if *current != version {
                *current = version.to_owned();
            }
        }
    }
}

/// The largest plaintext OCI KMS `Encrypt` accepts (4 KiB), so the most mechanism 1 can carry.
pub const MAX_DIRECT_PLAINTEXT: usize = 4096;

/// Rejects a direct-mode plaintext OCI would refuse, before any request is sent.
fn check_direct_size(plaintext: &[u8]) -> Result<()> {
    if plaintext.len() <= MAX_DIRECT_PLAINTEXT {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::InvalidArgument,
        format!(
            "encrypt: the plaintext is {} bytes, but OCI KMS encrypts at most {MAX_DIRECT_PLAINTEXT} \
             bytes directly (without the envelope): use the envelope (the default) for larger values",
            plaintext.len()
        ),
    ))
}

fn aad(opts: &CallOptions) -> &[u8] {
    opts.aad.as_deref().unwrap_or_default()
}

/// A blob field that holds OCI's base64 ciphertext as ASCII.
fn ascii_field<'a>(bytes: &'a [u8], field: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorCode::MalformedBlob,
            format!("decrypt: the blob's {field} is not an OCI ciphertext (not ASCII text)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_futures_are_send() {
        // Compile-time check: callers may spawn seal calls on multi-thread runtimes.
        fn check(seal: &Seal, blob: &BlobInfo, opts: &CallOptions) {
            fn is_send<T: Send>(_: T) {}
            is_send(seal.encrypt(b"", opts));
            is_send(seal.decrypt(blob, opts));
            is_send(seal.decrypt_stored(b"", opts));
            is_send(seal.rewrap(blob, opts));
            is_send(Seal::new(seal.config().clone()));
        }
        let _ = check;
    }

    #[test]
    fn direct_plaintext_is_limited_to_what_oci_accepts() {
        assert!(check_direct_size(&[0; MAX_DIRECT_PLAINTEXT]).is_ok());
        let err = check_direct_size(&[0; MAX_DIRECT_PLAINTEXT + 1]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(
            err.message().contains("4097 bytes") && err.message().contains("envelope"),
            "{err}"
        );
    }

    #[test]
    fn ascii_field_rejects_binary() {
        assert_eq!(ascii_field(b"abc=", "wrapped_key").unwrap(), "abc=");
        let err = ascii_field(&[0xff, 0xfe], "wrapped_key").unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedBlob);
        assert!(err.message().contains("wrapped_key"));
    }
}

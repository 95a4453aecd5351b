// SPDX-License-Identifier: MPL-2.0
//! [`BlockingSeal`]: the [`Seal`] for synchronous callers (the C ABI). Each call runs on the
//! caller's own thread (its KMS requests too: see [`crate::kms`]'s transport), with one shared,
//! lazily created multi-thread tokio runtime for timers and background token refreshes.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use zeroize::Zeroizing;

use crate::auth::CredentialProvider;
use crate::blob::BlobInfo;
use crate::config::SealConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::seal::{CallOptions, Seal};

/// The process-wide runtime, created on first use (or the reason it could not be).
static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("ocikms-worker")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::internal(format!("cannot start the ocikms tokio runtime: {e}")))
}

thread_local! {
    /// Set while this thread runs a [`BlockingSeal`] call.
    static BLOCKING_CALLER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is running a [`BlockingSeal`] call, so that blocking I/O is what
/// its caller asked for (on any other thread, async code must not block).
pub(crate) fn is_blocking_caller() -> bool {
    BLOCKING_CALLER.with(Cell::get)
}

/// Marks the current thread as a blocking caller until dropped.
struct BlockingCallerScope;

impl BlockingCallerScope {
    fn enter() -> BlockingCallerScope {
        BLOCKING_CALLER.with(|flag| flag.set(true));
        BlockingCallerScope
    }
}

impl Drop for BlockingCallerScope {
    fn drop(&mut self) {
        BLOCKING_CALLER.with(|flag| flag.set(false));
    }
}

/// Runs `fut` to completion on the calling thread, within the shared runtime. Refuses (instead
/// of panicking) when called from inside an async runtime, where blocking would deadlock: use
/// [`Seal`] there.
fn block_on<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "BlockingSeal was called from inside an async runtime: use the async Seal instead",
        ));
    }
    let runtime = runtime()?;
    let _scope = BlockingCallerScope::enter();
    runtime.block_on(fut)
}

/// A [`Seal`] with blocking methods. Thread-safe: share it (e.g. in an `Arc`) across threads.
pub struct BlockingSeal {
    seal: Seal,
}

impl BlockingSeal {
    /// Builds and validates a seal ([`Seal::init`]); `opts` bounds the validation call.
    pub fn new(config: SealConfig, opts: &CallOptions) -> Result<BlockingSeal> {
        block_on(Seal::init(config, None, opts)).map(|seal| BlockingSeal { seal })
    }

    /// [`BlockingSeal::new`] with an explicit credential provider.
    pub fn with_provider(
        config: SealConfig,
        provider: Arc<dyn CredentialProvider>,
        opts: &CallOptions,
    ) -> Result<BlockingSeal> {
        block_on(Seal::init(config, Some(provider), opts)).map(|seal| BlockingSeal { seal })
    }

    /// See [`Seal::encrypt`].
    pub fn encrypt(&self, plaintext: &[u8], opts: &CallOptions) -> Result<BlobInfo> {
        block_on(self.seal.encrypt(plaintext, opts))
    }

    /// See [`Seal::decrypt`].
    pub fn decrypt(&self, blob: &BlobInfo, opts: &CallOptions) -> Result<Zeroizing<Vec<u8>>> {
        block_on(self.seal.decrypt(blob, opts))
    }

    /// See [`Seal::decrypt_stored`].
    pub fn decrypt_stored(&self, bytes: &[u8], opts: &CallOptions) -> Result<Zeroizing<Vec<u8>>> {
        block_on(self.seal.decrypt_stored(bytes, opts))
    }

    /// See [`Seal::rewrap`].
    pub fn rewrap(&self, blob: &BlobInfo, opts: &CallOptions) -> Result<Option<BlobInfo>> {
        block_on(self.seal.rewrap(blob, opts))
    }

    /// See [`Seal::key_id`].
    pub fn key_id(&self) -> String {
        self.seal.key_id()
    }

    /// See [`Seal::metadata`].
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.seal.metadata()
    }

    /// The async seal inside.
    pub fn seal(&self) -> &Seal {
        &self.seal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_is_shared_and_refuses_nested_use() {
        let a = runtime().unwrap() as *const _;
        let b = runtime().unwrap() as *const _;
        assert_eq!(a, b);
        let nested = runtime().unwrap().block_on(async { block_on(async { Ok(1) }) });
        assert_eq!(nested.unwrap_err().code(), ErrorCode::InvalidArgument);
        assert!(block_on(async { Ok(is_blocking_caller()) }).unwrap());
        assert!(!is_blocking_caller());
        let on_worker = block_on(async {
            tokio::spawn(async { is_blocking_caller() })
                .await
                .map_err(|e| Error::internal(e.to_string()))
        });
        assert!(!on_worker.unwrap());
    }
}

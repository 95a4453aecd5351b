// SPDX-License-Identifier: MPL-2.0
//! The OCI KMS client (API version `20180608`): crypto operations (encrypt, decrypt,
//! generateDataEncryptionKey) and the management calls the seal and its tools need (get key,
//! create and get key versions, disable and enable the key).
//!
//! Every attempt carries a fresh `opc-request-id`, `date` and signature; failures are retried per
//! [`RetryPolicy`] within the call's [`CallContext`] deadline and cancellation; errors carry the
//! HTTP status, OCI code and message, `opc-request-id`, and whether they are retryable.

mod call;
mod client;
mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod models;
mod request;
mod retry;

pub use call::CallContext;
pub use client::{GeneratedKey, KmsClient};
pub use models::{EncryptedData, Key, KeyShape, KeyVersion};
pub use retry::{is_retryable_status, parse_retry_after, RetryPolicy};

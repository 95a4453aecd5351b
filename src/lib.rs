// SPDX-License-Identifier: MPL-2.0
//! # ocikms
//!
//! The OCI KMS auto-unseal core for HashiCorp Vault and its forks: seal configuration, OCI request
//! signing, credential providers, a retrying KMS client, the AES-256-GCM envelope and the
//! go-kms-wrapping `BlobInfo` wire format — byte-compatible with Vault's Go `ocikms` seal.
//!
//! The async [`Seal`] is the Rust API; [`BlockingSeal`] wraps it for the C ABI (`ffi`).

pub mod auth;
pub mod blob;
pub mod blocking;
pub mod config;
pub mod envelope;
pub mod error;
pub mod ffi;
pub mod http;
pub mod kms;
mod read_limited;
pub mod request_id;
pub mod seal;
pub mod signing;

pub use blocking::BlockingSeal;
pub use error::{Error, ErrorCode, Result, ServiceDetails};
pub use seal::{CallOptions, Seal};

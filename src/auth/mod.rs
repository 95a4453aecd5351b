// SPDX-License-Identifier: MPL-2.0
//! Credential providers: where the signing key and key id of each request come from.
//!
//! Every OCI authentication method implements [`CredentialProvider`]; the signer and the KMS
//! client only ever see [`Credentials`], so new methods drop in without touching them.

pub mod api_key;
pub mod config_file;
pub mod federation;
pub mod instance_principal;
pub mod jwt;
pub mod metadata;
pub mod pem;
pub mod regions;
pub mod resource_principal;
pub mod session_token;
pub mod token_fetch;
pub mod workload_identity;

mod factory;
mod provider;

pub use factory::{provider_from_config, provider_from_config_with_env};
pub use provider::{CredentialProvider, Credentials, PrincipalType};

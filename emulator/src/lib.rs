// SPDX-License-Identifier: MPL-2.0
//! # oci-kms-emulator
//!
//! A local emulator of OCI KMS (crypto and management APIs) with OCI request-signature
//! verification, IAM policies, instance metadata, x509 federation, OKE workload identity and
//! resource-principal tokens, fault injection and counters. Written independently of the
//! `ocikms` client crate so that the two cannot share a bug.

pub mod admin;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod connection;
pub mod counters;
pub mod encoding;
pub mod errors;
pub mod faults;
pub mod fsutil;
pub mod http;
pub mod iam;
pub mod identity;
pub mod instance_api;
pub mod keystore;
pub mod kms_api;
pub mod management_api;
pub mod pem;
pub mod pki;
pub mod policy;
pub mod router;
pub mod rsakeys;
pub mod server;
pub mod session;
pub mod tokens;
pub mod verify;
pub mod workload;
pub mod world;

// SPDX-License-Identifier: MPL-2.0

// Package ocikms is a drop-in replacement for github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2:
// an OCI KMS seal for HashiCorp Vault and its forks, backed by the ocikms Rust library through its
// C ABI (include/ocikms.h).
//
// NewWrapper returns a wrapping.Wrapper and wrapping.InitFinalizer that produces and reads the very
// same BlobInfo values as the Go ocikms wrapper (both mechanisms: envelope and WithoutEnvelope), so
// a Vault fork swaps one import and keeps its stored data.
//
// Linking: by default the static library ../target/release/libocikms.a is linked by its full path
// (no shared library needed at run time); build it first with `cargo build --release -p ocikms`.
// The build tag ocikms_shared links ../target/release/libocikms.so instead.
//
// Contexts: a context deadline bounds the call (retries included) and cancelling the context makes
// an in-flight call return promptly with an *Error whose Code is CodeCancelled (or CodeTimeout) and
// that unwraps to ctx.Err(). Errors from the library are *Error values: use errors.As to read the
// stable Code, the OCI error code, the HTTP status and the opc-request-id.
package ocikms

// SPDX-License-Identifier: MPL-2.0

// Package openbao26 checks blobs both ways with OpenBao 2.6's envelope code:
// github.com/openbao/go-kms-wrapping/v2 v2.8.0, which OpenBao v2.6.0–v2.6.2 pin. Its
// EnvelopeEncrypt writes the standard form again (12-byte Iv) and its EnvelopeDecrypt reads both
// the standard form and OpenBao v2.5.0's nonce-prefixed one.
//
// OpenBao 2.6 pins github.com/openbao/go-kms-wrapping/wrappers/ocikms/v2 v2.3.0, which the Go
// module proxy does not serve (neither the tag nor a pseudo-version of its commit af8b1885827f),
// and v2.2.0 does not build against v2.8.0 (it uses wrapping.WrapperTypeOciKms, removed in
// v2.8.0). v2.3.0's Encrypt and Decrypt are v2.2.0's unchanged (its diff only adds the Type
// constant and reads key_id from the config map), so openBaoSeal below repeats their few lines —
// EnvelopeEncrypt/EnvelopeDecrypt of v2.8.0, the data key wrapped by OCI KMS with the OCI Go SDK —
// instead of importing them.
//
// It is a module of its own because a module can require only one version of
// github.com/openbao/go-kms-wrapping/v2 (the parent module pins OpenBao v2.5.0's v2.6.0).
package openbao26

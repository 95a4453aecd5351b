// SPDX-License-Identifier: MPL-2.0

// Package compat proves that this project's Go binding reads the blobs OpenBao v2.5.0 writes,
// with OpenBao v2.5.0's real seal code: github.com/openbao/go-kms-wrapping/v2 v2.6.0 and
// github.com/openbao/go-kms-wrapping/wrappers/ocikms/v2 v2.2.0, the versions its go.mod pins,
// run against the repository's OCI KMS emulator.
//
// go-kms-wrapping v2.6.0's EnvelopeEncrypt uses cipher.NewGCMWithRandomNonce: the BlobInfo it
// writes has an empty Iv and a Ciphertext of nonce(12) ‖ ciphertext ‖ tag(16). Its
// EnvelopeDecrypt ignores Iv, so OpenBao v2.5.0 cannot read the standard form (12-byte Iv) that
// Vault, OpenBao ≤ 2.4 and ≥ 2.5.1, and this library write: the tests assert that limitation too.
// The openbao26 subdirectory is a module of its own for OpenBao 2.6's go-kms-wrapping v2.8.0,
// which reads both forms.
//
// OpenBao's modules are not in the Go checksum database: run the go command with
// GONOSUMDB=github.com/openbao/* (scripts/test-openbao-compat.sh does).
package compat

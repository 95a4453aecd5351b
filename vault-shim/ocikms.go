// SPDX-License-Identifier: MPL-2.0

// Package ocikms stands in for github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 (v2.0.9):
// it declares exactly the names that package exports and forwards each one to the ocikms binding
// github.com/ocikms/ocikms/go-bindings, so a Vault build that replaces the official module with
// this one (`replace github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 => ./vault-shim`)
// compiles unchanged and seals with the ocikms Rust library.
//
// Types are aliases (the same types as the binding's: methods, Init/Finalize included), constants
// are the binding's constants, functions call the binding's. shim_test.go fails when this
// package's exported names, kinds, constant values or signatures differ from the official
// v2.0.9 package's.
package ocikms

import (
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	binding "github.com/ocikms/ocikms/go-bindings"
)

// Environment variables read by the official wrapper (and by the binding, unless
// wrapping.WithDisallowEnvVars is set, as Vault sets it).
const (
	EnvOciKmsWrapperKeyId                = binding.EnvOciKmsWrapperKeyId
	EnvVaultOciKmsSealKeyId              = binding.EnvVaultOciKmsSealKeyId
	EnvOciKmsWrapperCryptoEndpoint       = binding.EnvOciKmsWrapperCryptoEndpoint
	EnvVaultOciKmsSealCryptoEndpoint     = binding.EnvVaultOciKmsSealCryptoEndpoint
	EnvOciKmsWrapperManagementEndpoint   = binding.EnvOciKmsWrapperManagementEndpoint
	EnvVaultOciKmsSealManagementEndpoint = binding.EnvVaultOciKmsSealManagementEndpoint
	// KMSMaximumNumberOfRetries is the official wrapper's attempt count per call (the binding's
	// default max_retries = 4 retries after the first attempt).
	KMSMaximumNumberOfRetries = binding.KMSMaximumNumberOfRetries
)

// Config map keys, also the keys of the metadata SetConfig returns.
const (
	KmsConfigKeyId              = binding.KmsConfigKeyId
	KmsConfigCryptoEndpoint     = binding.KmsConfigCryptoEndpoint
	KmsConfigManagementEndpoint = binding.KmsConfigManagementEndpoint
	KmsConfigAuthTypeApiKey     = binding.KmsConfigAuthTypeApiKey
)

// Wrapper is the binding's wrapper: wrapping.Wrapper and wrapping.InitFinalizer over the ocikms
// library (so Vault calls Init and Finalize on it, which the Go wrapper did not implement).
type Wrapper = binding.Wrapper

// OptionFunc is the binding's local option type (what WithCryptoEndpoint and friends return
// inside their wrapping.Option).
type OptionFunc = binding.OptionFunc

// NewWrapper creates an unconfigured wrapper; SetConfig configures it.
func NewWrapper() *Wrapper {
	return binding.NewWrapper()
}

// WithCryptoEndpoint sets the crypto endpoint.
func WithCryptoEndpoint(with string) wrapping.Option {
	return binding.WithCryptoEndpoint(with)
}

// WithManagementEndpoint sets the management endpoint.
func WithManagementEndpoint(with string) wrapping.Option {
	return binding.WithManagementEndpoint(with)
}

// WithAuthTypeApiKey selects API-key auth from the OCI config file (false: instance principal).
func WithAuthTypeApiKey(with bool) wrapping.Option {
	return binding.WithAuthTypeApiKey(with)
}

// SPDX-License-Identifier: MPL-2.0

package ocikms

// The names exported by github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2, so that code
// written against it (Vault's internalshared/configutil/kms.go reads the metadata with these
// keys) compiles unchanged after the import swap.
const (
	// KmsConfigKeyId is the config and metadata key of the master key OCID.
	KmsConfigKeyId = "key_id"
	// KmsConfigCryptoEndpoint is the config and metadata key of the vault's crypto endpoint.
	KmsConfigCryptoEndpoint = "crypto_endpoint"
	// KmsConfigManagementEndpoint is the config and metadata key of the management endpoint.
	KmsConfigManagementEndpoint = "management_endpoint"
	// KmsConfigAuthTypeApiKey is the config key selecting API-key (user principal) auth.
	KmsConfigAuthTypeApiKey = "auth_type_api_key"

	// EnvOciKmsWrapperKeyId and EnvVaultOciKmsSealKeyId override the key OCID.
	EnvOciKmsWrapperKeyId   = "OCIKMS_WRAPPER_KEY_ID"
	EnvVaultOciKmsSealKeyId = "VAULT_OCIKMS_SEAL_KEY_ID"
	// EnvOciKmsWrapperCryptoEndpoint and EnvVaultOciKmsSealCryptoEndpoint override the crypto endpoint.
	EnvOciKmsWrapperCryptoEndpoint   = "OCIKMS_WRAPPER_CRYPTO_ENDPOINT"
	EnvVaultOciKmsSealCryptoEndpoint = "VAULT_OCIKMS_CRYPTO_ENDPOINT"
	// EnvOciKmsWrapperManagementEndpoint and EnvVaultOciKmsSealManagementEndpoint override the
	// management endpoint.
	EnvOciKmsWrapperManagementEndpoint   = "OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT"
	EnvVaultOciKmsSealManagementEndpoint = "VAULT_OCIKMS_MANAGEMENT_ENDPOINT"

	// KMSMaximumNumberOfRetries is the Go wrapper's attempt count per OCI call; the library's
	// default (max_retries = 4 retries after the first attempt) makes the same 5 attempts.
	KMSMaximumNumberOfRetries = 5
)

// The KeyInfo.Mechanism values of the BlobInfo values this wrapper writes and reads.
const (
	// OciKmsEnvelopeAesGcmEncrypt: AES-256-GCM envelope, data key wrapped by OCI KMS (default).
	OciKmsEnvelopeAesGcmEncrypt = 0
	// OciKmsEncrypt: the plaintext encrypted by OCI KMS directly (WithoutEnvelope).
	OciKmsEncrypt = 1
)

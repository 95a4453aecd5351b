// SPDX-License-Identifier: MPL-2.0

package adapter

import (
	"errors"
	"fmt"

	ocikms "github.com/ocikms/ocikms/go-bindings"
)

// authenticationFailed is the text of Go's AES-GCM authentication error. OpenBao recognises an
// invalid key by it, by message only (internal/vault/seal.go readStoredKeys answers an unseal with
// ErrInvalidKey, HTTP 400, instead of ErrDecrypt, HTTP 500), and only the message of a plugin's
// error crosses gRPC.
const authenticationFailed = "cipher: message authentication failed"

// decryptError gives a failed authenticated decryption (wrong AAD, tampered or truncated blob,
// wrong key) the text OpenBao treats as an invalid key; other errors are returned unchanged.
func decryptError(err error) error {
	var e *ocikms.Error
	if errors.As(err, &e) && e.Code == ocikms.CodeDecryptFailed {
		return fmt.Errorf("%w: %s", err, authenticationFailed)
	}
	return err
}

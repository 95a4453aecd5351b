// SPDX-License-Identifier: MPL-2.0

package adapter

import (
	"context"
	"errors"
	"fmt"

	wrapping "github.com/openbao/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"
)

// Encrypt encrypts plaintext under the seal's key (honours WithAad). A nil plaintext is encrypted
// as an empty one: gRPC cannot tell them apart, and OpenBao's own wrappers encrypt []byte("") as
// a check.
func (w *Wrapper) Encrypt(ctx context.Context, plaintext []byte, opt ...wrapping.Option) (*wrapping.BlobInfo, error) {
	aad, err := aadOption(opt)
	if err != nil {
		return nil, err
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	stored, err := w.seal.EncryptBytes(ctx, plaintext, aad)
	if err != nil {
		return nil, err
	}
	blob := new(wrapping.BlobInfo)
	if err := proto.Unmarshal(stored, blob); err != nil {
		return nil, fmt.Errorf("ocikms: the library returned a BlobInfo that OpenBao's type cannot read: %w", err)
	}
	return blob, nil
}

// Decrypt decrypts a blob written by this plugin or by the Go ocikms seal (honours WithAad). A
// wrong AAD or a tampered blob fails with an error OpenBao classifies as an invalid key.
func (w *Wrapper) Decrypt(ctx context.Context, blob *wrapping.BlobInfo, opt ...wrapping.Option) ([]byte, error) {
	if blob == nil {
		return nil, errors.New("ocikms: given input for decryption is nil")
	}
	aad, err := aadOption(opt)
	if err != nil {
		return nil, err
	}
	stored, err := proto.Marshal(blob)
	if err != nil {
		return nil, fmt.Errorf("ocikms: cannot encode the BlobInfo: %w", err)
	}
	plaintext, err := w.seal.DecryptStored(ctx, stored, aad)
	if err != nil {
		return nil, decryptError(err)
	}
	return plaintext, nil
}

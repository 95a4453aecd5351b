// SPDX-License-Identifier: MPL-2.0

package openbao26

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	baowrapping "github.com/openbao/go-kms-wrapping/v2"
	"github.com/oracle/oci-go-sdk/v60/common"
	"github.com/oracle/oci-go-sdk/v60/keymanagement"
	"google.golang.org/protobuf/proto"

	"github.com/ocikms/ocikms/tests/openbao-compat/compattest"
)

func TestMain(m *testing.M) { compattest.Main(m) }

// openBaoSeal is the Encrypt/Decrypt of go-kms-wrapping/wrappers/ocikms/v2 v2.3.0 (OpenBao 2.6)
// over go-kms-wrapping/v2 v2.8.0, with API-key auth from the OCI config file.
type openBaoSeal struct {
	keyID      string
	crypto     keymanagement.KmsCryptoClient
	management keymanagement.KmsManagementClient
}

func newOpenBaoSeal(t *testing.T) *openBaoSeal {
	t.Helper()
	provider := common.DefaultConfigProvider()
	crypto, err := keymanagement.NewKmsCryptoClientWithConfigurationProvider(provider, compattest.Emu.CryptoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	management, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(provider, compattest.Emu.ManagementEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	return &openBaoSeal{keyID: compattest.Emu.KeyID, crypto: crypto, management: management}
}

// Encrypt is the wrapper's Encrypt: envelope, data key encrypted by OCI KMS, key version.
func (s *openBaoSeal) Encrypt(ctx context.Context, plaintext []byte, opt ...baowrapping.Option) (*baowrapping.BlobInfo, error) {
	env, err := baowrapping.EnvelopeEncrypt(plaintext, opt...)
	if err != nil {
		return nil, fmt.Errorf("error wrapping data: %w", err)
	}
	encodedKey := base64.StdEncoding.EncodeToString(env.Key)
	output, err := s.crypto.Encrypt(ctx, keymanagement.EncryptRequest{
		EncryptDataDetails: keymanagement.EncryptDataDetails{KeyId: &s.keyID, Plaintext: &encodedKey},
	})
	if err != nil {
		return nil, fmt.Errorf("error encrypting data: %w", err)
	}
	key, err := s.management.GetKey(ctx, keymanagement.GetKeyRequest{KeyId: &s.keyID})
	if err != nil {
		return nil, fmt.Errorf("error getting current key version: %w", err)
	}
	return &baowrapping.BlobInfo{
		Ciphertext: env.Ciphertext,
		Iv:         env.Iv,
		KeyInfo:    &baowrapping.KeyInfo{KeyId: *key.CurrentKeyVersion, WrappedKey: []byte(*output.Ciphertext)},
	}, nil
}

// Decrypt is the wrapper's Decrypt: data key decrypted by OCI KMS, then EnvelopeDecrypt.
func (s *openBaoSeal) Decrypt(ctx context.Context, in *baowrapping.BlobInfo, opt ...baowrapping.Option) ([]byte, error) {
	wrapped := string(in.KeyInfo.WrappedKey)
	output, err := s.crypto.Decrypt(ctx, keymanagement.DecryptRequest{
		DecryptDataDetails: keymanagement.DecryptDataDetails{KeyId: &s.keyID, Ciphertext: &wrapped},
	})
	if err != nil {
		return nil, fmt.Errorf("error decrypting data: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(*output.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("error base64 decrypting data: %w", err)
	}
	return baowrapping.EnvelopeDecrypt(&baowrapping.EnvelopeInfo{Key: key, Iv: in.Iv, Ciphertext: in.Ciphertext}, opt...)
}

func TestOpenBao26BlobsDecryptWithOurBinding(t *testing.T) {
	bao := newOpenBaoSeal(t)
	ours := compattest.OurWrapper(t)
	ctx := context.Background()
	for _, c := range compattest.Cases() {
		blob, err := bao.Encrypt(ctx, c.Plaintext, baowrapping.WithAad(c.AAD))
		if err != nil {
			t.Fatalf("OpenBao 2.6 Encrypt (%s): %v", c.Name, err)
		}
		if len(blob.Iv) != 12 || len(blob.Ciphertext) != len(c.Plaintext)+16 {
			t.Fatalf("OpenBao 2.6 blob (%s): %s; expected the standard form", c.Name, compattest.Describe(blob.Iv, blob.Ciphertext))
		}
		stored, err := proto.Marshal(blob)
		if err != nil {
			t.Fatal(err)
		}
		compattest.Decrypt(t, ours, "OpenBao 2.6 blob", stored, c)
	}
}

func TestOurBlobsDecryptWithOpenBao26(t *testing.T) {
	bao := newOpenBaoSeal(t)
	ours := compattest.OurWrapper(t)
	ctx := context.Background()
	for _, c := range compattest.Cases() {
		stored, _ := compattest.Encrypt(t, ours, c)
		var blob baowrapping.BlobInfo
		if err := proto.Unmarshal(stored, &blob); err != nil {
			t.Fatal(err)
		}
		got, err := bao.Decrypt(ctx, &blob, baowrapping.WithAad(c.AAD))
		if err != nil || !bytes.Equal(got, c.Plaintext) {
			t.Fatalf("OpenBao 2.6 cannot decrypt our blob (%s): %v", c.Name, err)
		}
		if _, err := bao.Decrypt(ctx, &blob, baowrapping.WithAad([]byte("other aad"))); !compattest.IsAuthFailure(err) {
			t.Fatalf("OpenBao 2.6 with the wrong AAD (%s): want message authentication failed, got %v", c.Name, err)
		}
	}
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openbao/go-kms-wrapping/plugin/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"
)

// encryptAsOpenBao encrypts as OpenBao's seal.Access does (a Type call, then Encrypt with a nil
// option) and returns the blob as OpenBao stores and reads it back (protobuf bytes).
func encryptAsOpenBao(t *testing.T, ctx context.Context, w remoteWrapper, plaintext []byte) *wrapping.BlobInfo {
	t.Helper()
	if typ, err := w.Type(ctx); err != nil || typ != "ocikms" {
		t.Fatalf("Type = %q, %v; want ocikms", typ, err)
	}
	blob, err := w.Encrypt(ctx, plaintext, nil)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	stored, err := proto.Marshal(blob)
	if err != nil {
		t.Fatal(err)
	}
	read := new(wrapping.BlobInfo)
	if err := proto.Unmarshal(stored, read); err != nil {
		t.Fatal(err)
	}
	return read
}

// decryptAsOpenBao decrypts as seal.Access does: a Type call, then Decrypt with a nil option.
func decryptAsOpenBao(ctx context.Context, w remoteWrapper, blob *wrapping.BlobInfo) ([]byte, error) {
	if _, err := w.Type(ctx); err != nil {
		return nil, err
	}
	return w.Decrypt(ctx, blob, nil)
}

func TestLifecycleAsOpenBaoDrivesIt(t *testing.T) {
	ctx := t.Context()
	w := startPlugin(t).dispense(t)

	// server.go: ConfigureWrapper → SetConfig with the stanza only; the metadata is printed.
	config, err := w.SetConfig(ctx, wrapping.WithConfigMap(sealStanza()))
	if err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	want := map[string]string{
		"key_id":              emu.KeyID,
		"crypto_endpoint":     emu.CryptoEndpoint,
		"management_endpoint": emu.ManagementEndpoint,
		"principal_type":      "user",
	}
	for key, value := range want {
		if config.Metadata[key] != value {
			t.Errorf("metadata %s = %q, want %q (all: %v)", key, config.Metadata[key], value, config.Metadata)
		}
	}

	// operator init: Init, then the barrier keys are encrypted and stored.
	if err := w.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	keys := []byte(`["c2VjcmV0IGJhcnJpZXIga2V5"]`)
	blob := encryptAsOpenBao(t, ctx, w, keys)

	// unseal: the stored keys are decrypted, then UpgradeKeys compares KeyId with the blob's.
	got, err := decryptAsOpenBao(ctx, w, blob)
	if err != nil || !bytes.Equal(got, keys) {
		t.Fatalf("Decrypt = %q, %v; want %q", got, err, keys)
	}
	keyID, err := w.KeyId(ctx)
	if err != nil || !strings.HasPrefix(keyID, "ocid1.") {
		t.Fatalf("KeyId = %q, %v; want a key version OCID", keyID, err)
	}
	if blob.KeyInfo.GetKeyId() != keyID {
		t.Fatalf("the blob's key id %q differs from KeyId %q without a rotation: OpenBao would re-encrypt at every unseal",
			blob.KeyInfo.GetKeyId(), keyID)
	}

	// The health check: encrypt and decrypt a heartbeat, each bounded by a timeout.
	healthCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	heartbeat := []byte("Heartbeat 42")
	if got, err := decryptAsOpenBao(healthCtx, w, encryptAsOpenBao(t, healthCtx, w, heartbeat)); err != nil || !bytes.Equal(got, heartbeat) {
		t.Fatalf("health check round trip = %q, %v", got, err)
	}

	// Shutdown: Finalize removes the instance; later calls find none.
	if err := w.Finalize(ctx); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if _, err := w.Encrypt(ctx, keys, nil); !errors.Is(err, plugin.ErrNoInstance) {
		t.Fatalf("Encrypt after Finalize: %v, want plugin.ErrNoInstance", err)
	}
}

func TestEmptyPlaintextRoundTrips(t *testing.T) {
	ctx := t.Context()
	w, _ := startPlugin(t).configured(t, sealStanza())
	// gRPC delivers all three as a nil plaintext.
	for name, plaintext := range map[string][]byte{"empty": {}, "nil": nil, `[]byte("")`: []byte("")} {
		blob := encryptAsOpenBao(t, ctx, w, plaintext)
		got, err := decryptAsOpenBao(ctx, w, blob)
		if err != nil || len(got) != 0 {
			t.Errorf("%s: Decrypt = %q, %v; want empty", name, got, err)
		}
	}
}

func TestAADMustMatch(t *testing.T) {
	ctx := t.Context()
	w, _ := startPlugin(t).configured(t, sealStanza())
	plaintext := []byte("recovery key")
	aad := wrapping.WithAad([]byte("core/recovery-key"))
	blob, err := w.Encrypt(ctx, plaintext, aad)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if got, err := w.Decrypt(ctx, blob, aad); err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("Decrypt with the AAD = %q, %v", got, err)
	}
	for name, opt := range map[string]wrapping.Option{
		"no AAD":    nil,
		"other AAD": wrapping.WithAad([]byte("core/other")),
	} {
		if got, err := w.Decrypt(ctx, blob, opt); err == nil {
			t.Errorf("Decrypt with %s succeeded: %q", name, got)
		}
	}
}

// OpenBao's readStoredKeys turns a decrypt error into ErrInvalidKey (an unseal answered with
// HTTP 400, "invalid key") only when its message contains "message authentication failed".
func TestAuthenticationFailureReadsAsInvalidKey(t *testing.T) {
	ctx := t.Context()
	w, _ := startPlugin(t).configured(t, sealStanza())
	blob, err := w.Encrypt(ctx, []byte("barrier keys"), wrapping.WithAad([]byte("right")))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	tampered := proto.Clone(blob).(*wrapping.BlobInfo)
	tampered.Ciphertext[0] ^= 1

	for name, tc := range map[string]struct {
		blob *wrapping.BlobInfo
		opt  wrapping.Option
	}{
		"wrong AAD":           {blob, wrapping.WithAad([]byte("wrong"))},
		"tampered ciphertext": {tampered, wrapping.WithAad([]byte("right"))},
	} {
		_, err := w.Decrypt(ctx, tc.blob, tc.opt)
		if err == nil {
			t.Fatalf("%s: Decrypt succeeded", name)
		}
		if !strings.Contains(err.Error(), "message authentication failed") || strings.Contains(err.Error(), "rpc error") {
			t.Errorf("%s: error %q is not the plain 'message authentication failed' error OpenBao classifies as an invalid key", name, err)
		}
	}
}

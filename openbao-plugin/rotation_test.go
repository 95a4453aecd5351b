// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/oracle/oci-go-sdk/v60/common"
	"github.com/oracle/oci-go-sdk/v60/keymanagement"
)

// rotateKey creates a new version of the emulator's key through the management API (what
// `oci kms management key-version create` does) and returns its OCID.
func rotateKey(t *testing.T) string {
	t.Helper()
	provider, err := common.ConfigurationProviderFromFile(emu.OCIConfigFile, "")
	if err != nil {
		t.Fatal(err)
	}
	management, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(provider, emu.ManagementEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := management.CreateKeyVersion(context.Background(), keymanagement.CreateKeyVersionRequest{KeyId: &emu.KeyID})
	if err != nil {
		t.Fatalf("CreateKeyVersion: %v", err)
	}
	return *resp.Id
}

// After an OCI key rotation, OpenBao's UpgradeKeys encrypts once, reads KeyId, and re-encrypts
// the stored keys when it differs from the stored blob's key id.
func TestRotationChangesKeyIdAndOldBlobsStillDecrypt(t *testing.T) {
	ctx := t.Context()
	w, _ := startPlugin(t).configured(t, sealStanza())
	keys := []byte(`["a2V5cw=="]`)
	stored := encryptAsOpenBao(t, ctx, w, keys)
	before, err := w.KeyId(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rotated := rotateKey(t)
	if rotated == before {
		t.Fatalf("the rotation kept key version %s", before)
	}

	// UpgradeKeys.
	encryptAsOpenBao(t, ctx, w, []byte("a"))
	after, err := w.KeyId(ctx)
	if err != nil || after != rotated {
		t.Fatalf("KeyId after rotation = %q, %v; want the new version %q (was %q)", after, err, rotated, before)
	}
	if stored.KeyInfo.GetKeyId() == after {
		t.Fatalf("the stored blob already names the new version: OpenBao would not re-encrypt it")
	}
	got, err := decryptAsOpenBao(ctx, w, stored)
	if err != nil || !bytes.Equal(got, keys) {
		t.Fatalf("Decrypt of the blob made before the rotation = %q, %v", got, err)
	}
	if upgraded := encryptAsOpenBao(t, ctx, w, got); upgraded.KeyInfo.GetKeyId() != rotated {
		t.Fatalf("re-encrypted blob names key version %q, want %q", upgraded.KeyInfo.GetKeyId(), rotated)
	}
}

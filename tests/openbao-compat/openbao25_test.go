// SPDX-License-Identifier: MPL-2.0

package compat

import (
	"bytes"
	"context"
	"testing"

	baowrapping "github.com/openbao/go-kms-wrapping/v2"
	baoocikms "github.com/openbao/go-kms-wrapping/wrappers/ocikms/v2"
	"google.golang.org/protobuf/proto"

	"github.com/ocikms/ocikms/tests/openbao-compat/compattest"
)

func TestMain(m *testing.M) { compattest.Main(m) }

// openBao250 configures OpenBao v2.5.0's ocikms wrapper on the emulator key as OpenBao does
// (key id option, the seal stanza with auth_type_api_key = true, env vars disallowed).
func openBao250(t *testing.T) *baoocikms.Wrapper {
	t.Helper()
	w := baoocikms.NewWrapper()
	config, err := w.SetConfig(context.Background(),
		baowrapping.WithKeyId(compattest.Emu.KeyID),
		baowrapping.WithConfigMap(compattest.OpenBaoConfigMap()),
		baowrapping.WithDisallowEnvVars(true))
	if err != nil {
		t.Fatalf("OpenBao v2.5.0 wrapper SetConfig: %v", err)
	}
	if got := config.Metadata["principal_type"]; got != "user" {
		t.Fatalf("auth_type_api_key = true gave principal_type %q, want user", got)
	}
	return w
}

// storedBytes is proto.Marshal(blob): the bytes OpenBao stores.
func storedBytes(t *testing.T, blob *baowrapping.BlobInfo) []byte {
	t.Helper()
	stored, err := proto.Marshal(blob)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func TestOpenBao250BlobsDecryptWithOurBinding(t *testing.T) {
	bao := openBao250(t)
	ours := compattest.OurWrapper(t)
	ctx := context.Background()
	for _, c := range compattest.Cases() {
		blob, err := bao.Encrypt(ctx, c.Plaintext, baowrapping.WithAad(c.AAD))
		if err != nil {
			t.Fatalf("OpenBao Encrypt (%s): %v", c.Name, err)
		}
		// OpenBao v2.5.0's form: no Iv, the nonce in front of the ciphertext and tag.
		if len(blob.Iv) != 0 || len(blob.Ciphertext) != 12+len(c.Plaintext)+16 || blob.KeyInfo.GetMechanism() != 0 {
			t.Fatalf("OpenBao v2.5.0 blob (%s): %s, mechanism %d; expected the nonce-prefixed form",
				c.Name, compattest.Describe(blob.Iv, blob.Ciphertext), blob.KeyInfo.GetMechanism())
		}
		got, err := bao.Decrypt(ctx, blob, baowrapping.WithAad(c.AAD))
		if err != nil || !bytes.Equal(got, c.Plaintext) {
			t.Fatalf("OpenBao cannot read its own blob (%s): %v", c.Name, err)
		}
		compattest.Decrypt(t, ours, "OpenBao v2.5.0 blob", storedBytes(t, blob), c)
	}
}

func TestOurStandardBlobsDoNotDecryptWithOpenBao250(t *testing.T) {
	bao := openBao250(t)
	ours := compattest.OurWrapper(t)
	ctx := context.Background()
	for _, c := range compattest.Cases() {
		stored, ourBlob := compattest.Encrypt(t, ours, c)
		var blob baowrapping.BlobInfo
		if err := proto.Unmarshal(stored, &blob); err != nil {
			t.Fatal(err)
		}
		// go-kms-wrapping v2.6.0's EnvelopeDecrypt ignores Iv and takes the first 12 bytes of
		// the ciphertext as the nonce: authentication fails. An OpenBao v2.5.0 limitation.
		if _, err := bao.Decrypt(ctx, &blob, baowrapping.WithAad(c.AAD)); !compattest.IsAuthFailure(err) {
			t.Fatalf("OpenBao v2.5.0 on our standard-form blob (%s): want message authentication failed, got %v", c.Name, err)
		}
		// The same encryption in OpenBao v2.5.0's form (the Iv moved in front of the ciphertext)
		// is read by it: the two forms differ only in where the nonce is stored.
		blob.Ciphertext = append(append([]byte{}, ourBlob.Iv...), ourBlob.Ciphertext...)
		blob.Iv = nil
		blob.KeyInfo.WrappedKey = ourBlob.KeyInfo.WrappedKey
		got, err := bao.Decrypt(ctx, &blob, baowrapping.WithAad(c.AAD))
		if err != nil || !bytes.Equal(got, c.Plaintext) {
			t.Fatalf("OpenBao v2.5.0 on our blob moved to its form (%s): %v", c.Name, err)
		}
	}
}

func TestOurRewrapMovesOpenBao250BlobsToTheStandardForm(t *testing.T) {
	bao := openBao250(t)
	ours := compattest.OurWrapper(t)
	ctx := context.Background()
	c := compattest.Cases()[3] // small, with AAD
	blob, err := bao.Encrypt(ctx, c.Plaintext, baowrapping.WithAad(c.AAD))
	if err != nil {
		t.Fatal(err)
	}
	stored := storedBytes(t, blob)
	version := compattest.Rotate(t)
	rewrapped, changed, err := ours.Rewrap(ctx, compattest.Unmarshal(t, stored), compattest.AAD(c))
	if err != nil || !changed || rewrapped.KeyInfo.GetKeyId() != version {
		t.Fatalf("Rewrap of an OpenBao v2.5.0 blob: changed=%v key %q (want %q) err %v", changed, rewrapped.GetKeyInfo().GetKeyId(), version, err)
	}
	if len(rewrapped.Iv) != 12 {
		t.Fatalf("the rewrapped blob is not in the standard form: %s", compattest.Describe(rewrapped.Iv, rewrapped.Ciphertext))
	}
	restored, err := proto.Marshal(rewrapped)
	if err != nil {
		t.Fatal(err)
	}
	compattest.Decrypt(t, ours, "rewrapped OpenBao v2.5.0 blob", restored, c)
	// The old blob, under the previous key version, still decrypts.
	compattest.Decrypt(t, ours, "OpenBao v2.5.0 blob after the rotation", stored, c)
}

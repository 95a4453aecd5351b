// SPDX-License-Identifier: MPL-2.0

package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	official "github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2"
	"github.com/oracle/oci-go-sdk/v60/common"
	"github.com/oracle/oci-go-sdk/v60/keymanagement"
	"google.golang.org/protobuf/proto"

	ours "github.com/ocikms/ocikms/go-bindings"
	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	emulatortest.Main(m, func(e *emulatortest.Emulator) {
		emu = e
		// Both implementations find the emulator's API key the same way: the OCI SDK's default
		// config provider falls back to OCI_CONFIG_FILE when ~/.oci/config does not exist.
		os.Setenv("OCI_CONFIG_FILE", emu.OCIConfigFile)
	})
}

// vaultOptions are the options Vault passes to SetConfig (configutil/kms.go).
func vaultOptions(keyID string, config map[string]string) []wrapping.Option {
	return []wrapping.Option{
		wrapping.WithKeyId(keyID),
		wrapping.WithConfigMap(config),
		wrapping.WithDisallowEnvVars(true),
	}
}

// newPair configures the official Go wrapper and ours on the same key with the same seal config,
// as Vault would, and checks that both report the same metadata with the wanted principal_type.
func newPair(t *testing.T, config map[string]string, principal string) (*official.Wrapper, *ours.Wrapper) {
	t.Helper()
	ctx := context.Background()
	goWrapper := official.NewWrapper()
	goConfig, err := goWrapper.SetConfig(ctx, vaultOptions(emu.KeyID, config)...)
	if err != nil {
		t.Fatalf("official SetConfig: %v", err)
	}
	ourWrapper := ours.NewWrapper()
	ourConfig, err := ourWrapper.SetConfig(ctx, append(vaultOptions(emu.KeyID, config), ours.WithLogger(hclog.NewNullLogger()))...)
	if err != nil {
		t.Fatalf("our SetConfig: %v", err)
	}
	t.Cleanup(func() { _ = ourWrapper.Finalize(context.Background()) })
	for _, key := range []string{"key_id", "crypto_endpoint", "management_endpoint", "principal_type"} {
		if goConfig.Metadata[key] != ourConfig.Metadata[key] {
			t.Fatalf("metadata %s: official %q, ours %q", key, goConfig.Metadata[key], ourConfig.Metadata[key])
		}
	}
	if got := ourConfig.Metadata["principal_type"]; got != principal {
		t.Fatalf("principal_type %q (both), want %q", got, principal)
	}
	return goWrapper, ourWrapper
}

// sdk is the OCI Go SDK used directly: mechanism 1 blobs (the official v2.0.9 wrapper predates
// WithoutEnvelope) and key rotation.
type sdk struct {
	crypto     keymanagement.KmsCryptoClient
	management keymanagement.KmsManagementClient
}

func newSDK(t *testing.T) *sdk {
	t.Helper()
	provider := common.DefaultConfigProvider()
	crypto, err := keymanagement.NewKmsCryptoClientWithConfigurationProvider(provider, emu.CryptoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	management, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(provider, emu.ManagementEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	return &sdk{crypto: crypto, management: management}
}

func (s *sdk) currentVersion(t *testing.T) string {
	t.Helper()
	resp, err := s.management.GetKey(context.Background(), keymanagement.GetKeyRequest{KeyId: &emu.KeyID})
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	return *resp.CurrentKeyVersion
}

func (s *sdk) rotate(t *testing.T) string {
	t.Helper()
	before := s.currentVersion(t)
	if _, err := s.management.CreateKeyVersion(context.Background(), keymanagement.CreateKeyVersionRequest{KeyId: &emu.KeyID}); err != nil {
		t.Fatalf("CreateKeyVersion: %v", err)
	}
	after := s.currentVersion(t)
	if after == before {
		t.Fatalf("rotation did not change the current key version %s", before)
	}
	return after
}

// encryptDirect makes a mechanism 1 BlobInfo the way the Go wrapper's WithoutEnvelope does.
func (s *sdk) encryptDirect(t *testing.T, plaintext []byte) *wrapping.BlobInfo {
	t.Helper()
	encoded := base64.StdEncoding.EncodeToString(plaintext)
	resp, err := s.crypto.Encrypt(context.Background(), keymanagement.EncryptRequest{
		EncryptDataDetails: keymanagement.EncryptDataDetails{KeyId: &emu.KeyID, Plaintext: &encoded},
	})
	if err != nil {
		t.Fatalf("SDK Encrypt: %v", err)
	}
	return &wrapping.BlobInfo{
		Ciphertext: []byte(*resp.Ciphertext),
		KeyInfo:    &wrapping.KeyInfo{Mechanism: 1, KeyId: s.currentVersion(t)},
	}
}

// decryptDirect reads a mechanism 1 BlobInfo the way the Go wrapper does.
func (s *sdk) decryptDirect(t *testing.T, blob *wrapping.BlobInfo) []byte {
	t.Helper()
	ciphertext := string(blob.Ciphertext)
	resp, err := s.crypto.Decrypt(context.Background(), keymanagement.DecryptRequest{
		DecryptDataDetails: keymanagement.DecryptDataDetails{KeyId: &emu.KeyID, Ciphertext: &ciphertext},
	})
	if err != nil {
		t.Fatalf("SDK Decrypt: %v", err)
	}
	plaintext, err := base64.StdEncoding.DecodeString(*resp.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return plaintext
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// saved is a blob written in one phase, re-read in the next.
type saved struct {
	name      string
	blob      *wrapping.BlobInfo
	aad       []byte
	plaintext []byte
}

// crossCheck encrypts with each implementation and decrypts with the other, both mechanisms,
// with and without AAD; it returns the blobs for later phases.
func crossCheck(t *testing.T, goWrapper *official.Wrapper, ourWrapper *ours.Wrapper, api *sdk, version string) []saved {
	ctx := context.Background()
	var out []saved
	for _, aad := range [][]byte{nil, []byte("core/hsm/barrier-unseal-keys")} {
		plaintext := randomBytes(t, 32)
		goBlob, err := goWrapper.Encrypt(ctx, plaintext, wrapping.WithAad(aad))
		if err != nil {
			t.Fatalf("official Encrypt: %v", err)
		}
		got, err := ourWrapper.Decrypt(ctx, goBlob, wrapping.WithAad(aad))
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("ours cannot decrypt the official blob (aad %q): %v", aad, err)
		}
		stored, err := proto.Marshal(goBlob)
		if err != nil {
			t.Fatal(err)
		}
		got, err = ourWrapper.DecryptStored(ctx, stored, wrapping.WithAad(aad))
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("ours cannot decrypt the official blob as Vault stores it: %v", err)
		}

		ourBlob, err := ourWrapper.Encrypt(ctx, plaintext, wrapping.WithAad(aad))
		if err != nil {
			t.Fatalf("our Encrypt: %v", err)
		}
		got, err = goWrapper.Decrypt(ctx, ourBlob, wrapping.WithAad(aad))
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("the official wrapper cannot decrypt our blob (aad %q): %v", aad, err)
		}
		for name, blob := range map[string]*wrapping.BlobInfo{"official": goBlob, "ours": ourBlob} {
			info := blob.GetKeyInfo()
			if info.GetMechanism() != 0 || info.GetKeyId() != version || len(blob.Iv) != 12 || len(info.GetWrappedKey()) == 0 {
				t.Fatalf("%s blob shape: mechanism %d, key id %q (want %q), iv %d bytes", name, info.GetMechanism(), info.GetKeyId(), version, len(blob.Iv))
			}
		}
		out = append(out,
			saved{"official envelope", goBlob, aad, plaintext},
			saved{"our envelope", ourBlob, aad, plaintext})
	}

	plaintext := randomBytes(t, 48)
	direct := api.encryptDirect(t, plaintext)
	got, err := ourWrapper.Decrypt(ctx, direct)
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("ours cannot decrypt a Go mechanism 1 blob: %v", err)
	}
	ourDirect, err := ourWrapper.Encrypt(ctx, plaintext, wrapping.WithoutEnvelope(true))
	if err != nil {
		t.Fatalf("our Encrypt WithoutEnvelope: %v", err)
	}
	if ourDirect.KeyInfo.GetMechanism() != 1 || ourDirect.KeyInfo.GetKeyId() != version || ourDirect.Iv != nil {
		t.Fatalf("our mechanism 1 blob shape: %v", ourDirect)
	}
	if !bytes.Equal(api.decryptDirect(t, ourDirect), plaintext) {
		t.Fatal("the Go way of reading mechanism 1 does not read our blob")
	}
	out = append(out, saved{"go direct", direct, nil, plaintext}, saved{"our direct", ourDirect, nil, plaintext})

	goKeyID, _ := goWrapper.KeyId(ctx)
	ourKeyID, _ := ourWrapper.KeyId(ctx)
	if goKeyID != version || ourKeyID != version {
		t.Fatalf("KeyId: official %q, ours %q, current version %q", goKeyID, ourKeyID, version)
	}
	return out
}

func TestInteropWithTheOfficialWrapperAcrossARotation(t *testing.T) {
	goWrapper, ourWrapper := newPair(t, emu.ConfigMap(), "user")
	api := newSDK(t)
	ctx := context.Background()

	before := crossCheck(t, goWrapper, ourWrapper, api, api.currentVersion(t))
	newVersion := api.rotate(t)
	after := crossCheck(t, goWrapper, ourWrapper, api, newVersion)

	for _, s := range append(before, after...) {
		got, err := ourWrapper.Decrypt(ctx, s.blob, wrapping.WithAad(s.aad))
		if err != nil || !bytes.Equal(got, s.plaintext) {
			t.Fatalf("ours cannot decrypt the %s blob after the rotation: %v", s.name, err)
		}
		if s.blob.KeyInfo.GetMechanism() == 0 {
			got, err = goWrapper.Decrypt(ctx, s.blob, wrapping.WithAad(s.aad))
			if err != nil || !bytes.Equal(got, s.plaintext) {
				t.Fatalf("the official wrapper cannot decrypt the %s blob after the rotation: %v", s.name, err)
			}
		}
	}

	// Rewrap moves a pre-rotation blob to the new version; the official wrapper reads the result.
	old := before[0]
	rewrapped, changed, err := ourWrapper.Rewrap(ctx, old.blob, wrapping.WithAad(old.aad))
	if err != nil || !changed || rewrapped.KeyInfo.GetKeyId() != newVersion {
		t.Fatalf("Rewrap: changed=%v key %q err %v", changed, rewrapped.GetKeyInfo().GetKeyId(), err)
	}
	got, err := goWrapper.Decrypt(ctx, rewrapped, wrapping.WithAad(old.aad))
	if err != nil || !bytes.Equal(got, old.plaintext) {
		t.Fatalf("the official wrapper cannot decrypt the rewrapped blob: %v", err)
	}
	again, changed, err := ourWrapper.Rewrap(ctx, rewrapped, wrapping.WithAad(old.aad))
	if err != nil || changed || !proto.Equal(again, rewrapped) {
		t.Fatalf("Rewrap of a current blob: changed=%v err %v", changed, err)
	}
}

// TestVaultShapedSequence follows what Vault does with a seal: SetConfig with WithKeyId,
// WithConfigMap and WithDisallowEnvVars, the periodic seal health check (encrypt + decrypt of a
// random value), and KeyId reporting the new key version after an OCI key rotation.
func TestVaultShapedSequence(t *testing.T) {
	goWrapper, ourWrapper := newPair(t, emu.ConfigMap(), "user")
	api := newSDK(t)
	ctx := context.Background()
	if typ, _ := ourWrapper.Type(ctx); typ != wrapping.WrapperTypeOciKms {
		t.Fatalf("Type %q", typ)
	}

	heartbeat := func() string {
		t.Helper()
		value := randomBytes(t, 16)
		blob, err := ourWrapper.Encrypt(ctx, value)
		if err != nil {
			t.Fatalf("heartbeat encrypt: %v", err)
		}
		got, err := ourWrapper.Decrypt(ctx, blob)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("heartbeat decrypt: %v", err)
		}
		id, err := ourWrapper.KeyId(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	first := heartbeat()
	if first != api.currentVersion(t) {
		t.Fatalf("KeyId %q, current version %q", first, api.currentVersion(t))
	}
	rotated := api.rotate(t)
	if got := heartbeat(); got != rotated || got == first {
		t.Fatalf("KeyId after rotation %q, want %q (was %q)", got, rotated, first)
	}
	if _, err := goWrapper.Encrypt(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if goID, _ := goWrapper.KeyId(ctx); goID != rotated {
		t.Fatalf("official KeyId %q after rotation, want %q", goID, rotated)
	}
}

// TestEnvironmentPrecedenceMatchesTheOfficialWrapper: env beats WithKeyId unless
// WithDisallowEnvVars, in both implementations.
func TestEnvironmentPrecedenceMatchesTheOfficialWrapper(t *testing.T) {
	t.Setenv("VAULT_OCIKMS_SEAL_KEY_ID", emu.KeyID)
	ctx := context.Background()
	bogus := "ocid1.key.oc1..doesnotexist"
	envAllowed := []wrapping.Option{wrapping.WithKeyId(bogus), wrapping.WithConfigMap(emu.ConfigMap())}

	if _, err := official.NewWrapper().SetConfig(ctx, envAllowed...); err != nil {
		t.Fatalf("official: env key should win: %v", err)
	}
	w := ours.NewWrapper()
	config, err := w.SetConfig(ctx, append(envAllowed, ours.WithLogger(hclog.NewNullLogger()))...)
	if err != nil || config.Metadata["key_id"] != emu.KeyID {
		t.Fatalf("ours: env key should win: %v", err)
	}
	_ = w.Finalize(ctx)

	disallowed := append(envAllowed, wrapping.WithDisallowEnvVars(true))
	if _, err := official.NewWrapper().SetConfig(ctx, disallowed...); err == nil {
		t.Fatal("official: WithDisallowEnvVars should make the bogus key fail")
	}
	_, err = ours.NewWrapper().SetConfig(ctx, append(disallowed, ours.WithLogger(hclog.NewNullLogger()))...)
	var e *ours.Error
	if !errors.As(err, &e) || e.Code != ours.CodeNotAuthorizedOrNotFound || e.OpcRequestID == "" {
		t.Fatalf("ours: want NotAuthorizedOrNotFound with an opc-request-id, got %v", err)
	}
}

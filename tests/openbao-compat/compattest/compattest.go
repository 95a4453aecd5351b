// SPDX-License-Identifier: MPL-2.0

// Package compattest holds what the OpenBao compatibility tests share, whatever go-kms-wrapping
// version they pin: the emulator, this project's Go binding configured on it, the plaintexts
// every test encrypts, and a KMS client for rotating the key. It imports nothing from OpenBao, so
// each test module can require the OpenBao versions it checks.
package compattest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	"github.com/oracle/oci-go-sdk/v60/common"
	"github.com/oracle/oci-go-sdk/v60/keymanagement"
	"google.golang.org/protobuf/proto"

	ours "github.com/ocikms/ocikms/go-bindings"
	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

// Emu is the emulator every test of the package runs against (set by Main).
var Emu *emulatortest.Emulator

// Main is a TestMain body: it starts the emulator and points OCI_CONFIG_FILE at its OCI config,
// which the OpenBao wrappers' API-key auth (the OCI SDK's default config provider) reads.
func Main(m *testing.M) {
	emulatortest.Main(m, func(e *emulatortest.Emulator) {
		Emu = e
		os.Setenv("OCI_CONFIG_FILE", e.OCIConfigFile)
	})
}

// OpenBaoConfigMap is the seal stanza OpenBao passes to the ocikms wrapper for the emulator, with
// auth_type_api_key = true (the documented meaning: API key).
func OpenBaoConfigMap() map[string]string {
	return Emu.ConfigMap()
}

// Case is one value encrypted by every test: a plaintext and the AAD bound to it.
type Case struct {
	Name      string
	Plaintext []byte
	AAD       []byte
}

// Cases are the values every direction is checked with: empty, small and 4 KiB plaintexts,
// each without and with AAD.
func Cases() []Case {
	big := bytes.Repeat([]byte("0123456789abcdef"), 256)
	var out []Case
	for _, p := range []struct {
		name  string
		value []byte
	}{{"empty", []byte{}}, {"small", []byte("barrier keyring")}, {"4KiB", big}} {
		out = append(out,
			Case{Name: p.name, Plaintext: p.value},
			Case{Name: p.name + "+aad", Plaintext: p.value, AAD: []byte("core/hsm/barrier-unseal-keys")})
	}
	return out
}

// OurWrapper configures this project's binding on the emulator key as OpenBao would, with the
// API-key credentials given inline (tenancy_ocid, user_ocid, fingerprint, private_key): it reads
// no OCI config file.
func OurWrapper(t *testing.T) *ours.Wrapper {
	t.Helper()
	keyFile, err := Emu.APIKeyFile()
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	config := OpenBaoConfigMap()
	config["tenancy_ocid"] = Emu.Tenancy
	config["user_ocid"] = Emu.User
	config["fingerprint"] = Emu.Fingerprint
	config["private_key"] = string(pem)
	w := ours.NewWrapper()
	_, err = w.SetConfig(context.Background(),
		wrapping.WithKeyId(Emu.KeyID),
		wrapping.WithConfigMap(config),
		wrapping.WithDisallowEnvVars(true),
		ours.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatalf("our SetConfig with inline credentials: %v", err)
	}
	t.Cleanup(func() { _ = w.Finalize(context.Background()) })
	return w
}

// Decrypt decrypts stored BlobInfo bytes with our binding and checks the plaintext.
func Decrypt(t *testing.T, w *ours.Wrapper, what string, stored []byte, c Case) {
	t.Helper()
	got, err := w.DecryptStored(context.Background(), stored, AAD(c))
	if err != nil {
		t.Fatalf("%s (%s): our binding cannot decrypt it: %v", what, c.Name, err)
	}
	if !bytes.Equal(got, c.Plaintext) {
		t.Fatalf("%s (%s): our binding decrypted %d bytes, want %d", what, c.Name, len(got), len(c.Plaintext))
	}
	_, err = w.DecryptStored(context.Background(), stored, wrapping.WithAad([]byte("other aad")))
	var e *ours.Error
	if !errors.As(err, &e) || e.Code != ours.CodeDecryptFailed {
		t.Fatalf("%s (%s) with the wrong AAD: want decrypt_failed, got %v", what, c.Name, err)
	}
}

// Encrypt encrypts c with our binding and returns the stored BlobInfo bytes, checking that they
// are in the standard form (a 12-byte IV field).
func Encrypt(t *testing.T, w *ours.Wrapper, c Case) (stored []byte, blob *wrapping.BlobInfo) {
	t.Helper()
	blob, err := w.Encrypt(context.Background(), c.Plaintext, AAD(c))
	if err != nil {
		t.Fatalf("our Encrypt (%s): %v", c.Name, err)
	}
	if len(blob.Iv) != 12 || len(blob.Ciphertext) != len(c.Plaintext)+16 {
		t.Fatalf("our blob (%s) is not in the standard form: iv %d bytes, ciphertext %d bytes", c.Name, len(blob.Iv), len(blob.Ciphertext))
	}
	stored, err = w.EncryptBytes(context.Background(), c.Plaintext, AAD(c))
	if err != nil {
		t.Fatalf("our EncryptBytes (%s): %v", c.Name, err)
	}
	return stored, blob
}

// Rotate creates a new version of the emulator key (with the OCI Go SDK and the emulator's OCI
// config) and returns it.
func Rotate(t *testing.T) string {
	t.Helper()
	management, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(common.DefaultConfigProvider(), Emu.ManagementEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := management.CreateKeyVersion(context.Background(), keymanagement.CreateKeyVersionRequest{KeyId: &Emu.KeyID})
	if err != nil {
		t.Fatalf("CreateKeyVersion: %v", err)
	}
	return *resp.Id
}

// IsAuthFailure reports whether err is Go's AES-GCM "message authentication failed".
func IsAuthFailure(err error) bool {
	return err != nil && strings.Contains(err.Error(), "message authentication failed")
}

// Describe is a short description of a BlobInfo's envelope shape, for messages.
func Describe(iv, ciphertext []byte) string {
	return fmt.Sprintf("iv %d bytes, ciphertext %d bytes", len(iv), len(ciphertext))
}

// Unmarshal parses stored BlobInfo bytes into the binding's BlobInfo type (the same protobuf
// message as OpenBao's).
func Unmarshal(t *testing.T, stored []byte) *wrapping.BlobInfo {
	t.Helper()
	blob := new(wrapping.BlobInfo)
	if err := proto.Unmarshal(stored, blob); err != nil {
		t.Fatalf("BlobInfo does not parse: %v", err)
	}
	return blob
}

// AAD is c's AAD as an option of the binding.
func AAD(c Case) wrapping.Option {
	return wrapping.WithAad(c.AAD)
}

// SPDX-License-Identifier: MPL-2.0

// Command ocikms-demo walks a Vault-like seal lifecycle through the Go binding against a local
// OCI KMS emulator, narrating each step with its timing: start the emulator, configure the seal
// (as Vault's SetConfig), seal a root key (vault operator init), unseal it, rotate the OCI key
// (as an operator would, with the OCI Go SDK), unseal the old blob, rewrap it, stop.
//
// Run from the repository root after `cargo build --release --workspace`:
//
//	cd go-bindings/interop && go run ./cmd/ocikms-demo
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	"github.com/oracle/oci-go-sdk/v60/common"
	"github.com/oracle/oci-go-sdk/v60/keymanagement"

	ocikms "github.com/ocikms/ocikms/go-bindings"
	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

// aad binds the root key to its storage path, as Vault's seal wrapping does.
var aad = []byte("core/hsm/barrier-unseal-keys")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		var e *ocikms.Error
		if errors.As(err, &e) && e.OpcRequestID != "" {
			fmt.Fprintln(os.Stderr, "opc-request-id:", e.OpcRequestID)
		}
		os.Exit(1)
	}
}

// step runs f and prints its outcome and duration.
func step(name string, f func() (string, error)) error {
	start := time.Now()
	detail, err := f()
	elapsed := time.Since(start)
	if err != nil {
		fmt.Printf("✗ %-34s %9s  %v\n", name, elapsed.Round(10*time.Microsecond), err)
		return err
	}
	fmt.Printf("✓ %-34s %9s  %s\n", name, elapsed.Round(10*time.Microsecond), detail)
	return nil
}

func run() error {
	ctx := context.Background()
	fmt.Printf("ocikms %s — a Vault-like seal lifecycle against the local OCI KMS emulator\n\n", ocikms.Version())

	var emu *emulatortest.Emulator
	if err := step("start the OCI KMS emulator", func() (string, error) {
		var err error
		emu, err = emulatortest.Start(emulatortest.DefaultBinary())
		if err != nil {
			return "", err
		}
		return emu.CryptoEndpoint, os.Setenv("OCI_CONFIG_FILE", emu.OCIConfigFile)
	}); err != nil {
		return err
	}
	defer func() {
		_ = step("stop the emulator", func() (string, error) { emu.Stop(); return "state removed", nil })
	}()

	seal := ocikms.NewWrapper()
	defer func() { _ = seal.Finalize(ctx) }()
	if err := step("SetConfig (validates the key)", func() (string, error) {
		config, err := seal.SetConfig(ctx,
			wrapping.WithKeyId(emu.KeyID),
			wrapping.WithConfigMap(emu.ConfigMap()),
			wrapping.WithDisallowEnvVars(true),
			ocikms.WithLogger(hclog.NewNullLogger()))
		if err != nil {
			return "", err
		}
		return "principal " + config.Metadata["principal_type"] + ", key " + short(config.Metadata["key_id"]), nil
	}); err != nil {
		return err
	}

	rootKey := make([]byte, 32)
	if _, err := rand.Read(rootKey); err != nil {
		return err
	}
	var sealed *wrapping.BlobInfo
	if err := step("init: seal the root key", func() (string, error) {
		var err error
		sealed, err = seal.Encrypt(ctx, rootKey, wrapping.WithAad(aad))
		if err != nil {
			return "", err
		}
		return "under key version " + short(sealed.KeyInfo.KeyId), nil
	}); err != nil {
		return err
	}

	unseal := func(blob *wrapping.BlobInfo) (string, error) {
		got, err := seal.Decrypt(ctx, blob, wrapping.WithAad(aad))
		if err != nil {
			return "", err
		}
		if !bytes.Equal(got, rootKey) {
			return "", errors.New("the unsealed root key differs")
		}
		return "root key recovered", nil
	}
	if err := step("unseal", func() (string, error) { return unseal(sealed) }); err != nil {
		return err
	}

	if err := step("rotate the OCI key (operator)", func() (string, error) { return rotate(ctx, emu) }); err != nil {
		return err
	}
	if err := step("unseal the pre-rotation blob", func() (string, error) { return unseal(sealed) }); err != nil {
		return err
	}

	var rewrapped *wrapping.BlobInfo
	if err := step("rewrap under the new version", func() (string, error) {
		var changed bool
		var err error
		rewrapped, changed, err = seal.Rewrap(ctx, sealed, wrapping.WithAad(aad))
		if err != nil {
			return "", err
		}
		if !changed {
			return "", errors.New("the blob was not rewrapped")
		}
		return short(sealed.KeyInfo.KeyId) + " → " + short(rewrapped.KeyInfo.KeyId), nil
	}); err != nil {
		return err
	}
	return step("unseal the rewrapped blob", func() (string, error) { return unseal(rewrapped) })
}

// rotate creates a new key version through the management API, as `oci kms management key-version
// create` would.
func rotate(ctx context.Context, emu *emulatortest.Emulator) (string, error) {
	client, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(common.DefaultConfigProvider(), emu.ManagementEndpoint)
	if err != nil {
		return "", err
	}
	version, err := client.CreateKeyVersion(ctx, keymanagement.CreateKeyVersionRequest{KeyId: &emu.KeyID})
	if err != nil {
		return "", err
	}
	return "new current version " + short(*version.Id), nil
}

// short abbreviates an OCID for display.
func short(ocid string) string {
	if len(ocid) <= 28 {
		return ocid
	}
	return ocid[:18] + "…" + ocid[len(ocid)-8:]
}

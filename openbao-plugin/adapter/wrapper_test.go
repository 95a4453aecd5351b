// SPDX-License-Identifier: MPL-2.0

package adapter

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	hcwrapping "github.com/hashicorp/go-kms-wrapping/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"

	ocikms "github.com/ocikms/ocikms/go-bindings"
	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	emulatortest.Main(m, func(e *emulatortest.Emulator) { emu = e })
}

// stanza is the seal config map for the emulator's key, with API-key auth.
func stanza() map[string]string {
	config := emu.ConfigMap()
	config["key_id"] = emu.KeyID
	config["config_file"] = emu.OCIConfigFile
	return config
}

// configured returns an adapter configured with opts, finalized at the end of the test.
func configured(t *testing.T, opts ...wrapping.Option) *Wrapper {
	t.Helper()
	w := New()
	if _, err := w.SetConfig(t.Context(), opts...); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	t.Cleanup(func() { _ = w.Finalize(context.Background()) })
	return w
}

func TestRoundTripWithOpenBaoTypes(t *testing.T) {
	ctx := t.Context()
	w := New()
	config, err := w.SetConfig(ctx, wrapping.WithConfigMap(stanza()), wrapping.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	defer w.Finalize(context.Background())
	if config.Metadata["key_id"] != emu.KeyID || config.Metadata["principal_type"] != "user" {
		t.Errorf("metadata %v", config.Metadata)
	}
	if typ, err := w.Type(ctx); err != nil || typ != "ocikms" {
		t.Errorf("Type = %q, %v", typ, err)
	}
	if err := w.Init(ctx); err != nil {
		t.Errorf("Init: %v", err)
	}

	aad := wrapping.WithAad([]byte("aad"))
	for _, plaintext := range [][]byte{nil, {}, []byte("root key")} {
		blob, err := w.Encrypt(ctx, plaintext, aad)
		if err != nil {
			t.Fatalf("Encrypt(%q): %v", plaintext, err)
		}
		keyID, err := w.KeyId(ctx)
		if err != nil || blob.KeyInfo.GetKeyId() != keyID || keyID == "" {
			t.Errorf("blob key id %q, KeyId %q, %v", blob.KeyInfo.GetKeyId(), keyID, err)
		}
		got, err := w.Decrypt(ctx, blob, aad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Errorf("Decrypt = %q, %v; want %q", got, err, plaintext)
		}
		if _, err := w.Decrypt(ctx, blob, wrapping.WithAad([]byte("other"))); err == nil ||
			!strings.Contains(err.Error(), "message authentication failed") {
			t.Errorf("Decrypt with another AAD: %v", err)
		}
	}
	if _, err := w.Decrypt(ctx, nil); err == nil {
		t.Error("Decrypt(nil) succeeded")
	}
}

// Blobs cross between OpenBao's and HashiCorp's BlobInfo types unchanged: what the plugin writes,
// the Go binding (and so a Vault or OpenBao with the built-in seal) reads, and the other way.
func TestBlobsCrossBetweenOpenBaoAndHashiCorpTypes(t *testing.T) {
	ctx := t.Context()
	plugin := configured(t, wrapping.WithConfigMap(stanza()))
	binding := ocikms.NewWrapper()
	if _, err := binding.SetConfig(ctx, hcwrapping.WithConfigMap(stanza()), ocikms.WithLogger(hclog.NewNullLogger())); err != nil {
		t.Fatal(err)
	}
	defer binding.Finalize(context.Background())

	fromPlugin, err := plugin.Encrypt(ctx, []byte("from the plugin"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := proto.Marshal(fromPlugin)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := binding.DecryptStored(ctx, stored); err != nil || string(got) != "from the plugin" {
		t.Errorf("the binding reads the plugin's blob as %q, %v", got, err)
	}

	fromBinding, err := binding.Encrypt(ctx, []byte("from the binding"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err = proto.Marshal(fromBinding)
	if err != nil {
		t.Fatal(err)
	}
	asOpenBao := new(wrapping.BlobInfo)
	if err := proto.Unmarshal(stored, asOpenBao); err != nil {
		t.Fatal(err)
	}
	if got, err := plugin.Decrypt(ctx, asOpenBao); err != nil || string(got) != "from the binding" {
		t.Errorf("the plugin reads the binding's blob as %q, %v", got, err)
	}
}

func TestSetConfigOptions(t *testing.T) {
	t.Setenv(ocikms.EnvOciKmsWrapperKeyId, "ocid1.key.oc1..fromtheenvironment")

	t.Run("environment beats the config map", func(t *testing.T) {
		_, err := New().SetConfig(t.Context(), wrapping.WithConfigMap(stanza()))
		if err == nil || !strings.Contains(err.Error(), "fromtheenvironment") {
			t.Fatalf("SetConfig = %v; want a failure naming the key from the environment", err)
		}
	})
	t.Run("WithDisallowEnvVars ignores the environment", func(t *testing.T) {
		configured(t, wrapping.WithConfigMap(stanza()), wrapping.WithDisallowEnvVars(true))
	})
	t.Run("WithKeyId names the key", func(t *testing.T) {
		configured(t, wrapping.WithConfigMap(map[string]string{
			"crypto_endpoint": emu.CryptoEndpoint, "auth_type_api_key": "true", "config_file": emu.OCIConfigFile,
		}), wrapping.WithKeyId(emu.KeyID), wrapping.WithDisallowEnvVars(true))
	})
	t.Run("WithLogger receives the library's lines", func(t *testing.T) {
		var logs bytes.Buffer
		logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})
		config := stanza()
		config["not_an_ocikms_key"] = "x"
		configured(t, wrapping.WithConfigMap(config), wrapping.WithDisallowEnvVars(true), wrapping.WithLogger(logger))
		if !strings.Contains(logs.String(), "not_an_ocikms_key") {
			t.Errorf("the logger did not get the unknown-key warning; it got:\n%s", logs.String())
		}
	})
}

func TestFinalizeEndsTheSeal(t *testing.T) {
	ctx := t.Context()
	w := New()
	if _, err := w.SetConfig(ctx, wrapping.WithConfigMap(stanza())); err != nil {
		t.Fatal(err)
	}
	if err := w.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	var e *ocikms.Error
	if _, err := w.Encrypt(ctx, []byte("x")); !errors.As(err, &e) || e.Code != ocikms.CodeNotInitialized {
		t.Fatalf("Encrypt after Finalize: %v, want not_initialized", err)
	}
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/openbao/go-kms-wrapping/plugin/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
)

// OpenBao serves requests concurrently through one wrapper instance.
func TestConcurrentCallers(t *testing.T) {
	ctx := t.Context()
	w, _ := startPlugin(t).configured(t, sealStanza())
	const callers, rounds = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for caller := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			aad := wrapping.WithAad(fmt.Appendf(nil, "caller %d", caller))
			for round := range rounds {
				plaintext := fmt.Appendf(nil, "caller %d round %d", caller, round)
				blob, err := w.Encrypt(ctx, plaintext, aad)
				if err != nil {
					errs <- fmt.Errorf("caller %d: Encrypt: %w", caller, err)
					return
				}
				got, err := w.Decrypt(ctx, blob, aad)
				if err != nil || !bytes.Equal(got, plaintext) {
					errs <- fmt.Errorf("caller %d: Decrypt = %q, %v; want %q", caller, got, err, plaintext)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A crashed plugin makes every call fail with exactly plugin.ErrPluginShutdown, the error on which
// OpenBao's remoteWrapper respawns the plugin and replays SetConfig and Init; the respawned
// plugin decrypts what the first one encrypted.
func TestKilledPluginReportsShutdownAndARespawnRecovers(t *testing.T) {
	ctx := t.Context()
	first := startPlugin(t)
	w, _ := first.configured(t, sealStanza())
	if err := w.Init(ctx); err != nil {
		t.Fatal(err)
	}
	blob, err := w.Encrypt(ctx, []byte("before the crash"), nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := syscall.Kill(first.client.ReattachConfig().Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !first.client.Exited(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the killed plugin is not reported as exited")
		}
	}
	calls := map[string]func() error{
		"Type":    func() error { _, err := w.Type(ctx); return err },
		"KeyId":   func() error { _, err := w.KeyId(ctx); return err },
		"Encrypt": func() error { _, err := w.Encrypt(ctx, []byte("x"), nil); return err },
		"Decrypt": func() error { _, err := w.Decrypt(ctx, blob, nil); return err },
	}
	for name, call := range calls {
		if err := call(); err != plugin.ErrPluginShutdown {
			t.Errorf("%s after the crash: %v, want plugin.ErrPluginShutdown itself (OpenBao compares with ==)", name, err)
		}
	}

	respawned, _ := startPlugin(t).configured(t, sealStanza())
	if err := respawned.Init(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := respawned.Decrypt(ctx, blob, nil)
	if err != nil || string(got) != "before the crash" {
		t.Fatalf("Decrypt after the respawn = %q, %v", got, err)
	}
}

// A binary whose SHA-256 differs from the stanza's sha256sum is never started.
func TestWrongChecksumIsRefused(t *testing.T) {
	changed := filepath.Join(t.TempDir(), pluginName)
	content, err := os.ReadFile(pluginBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, append(content, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*pluginProcess{
		"binary changed after the checksum was taken": startPluginChecked(t, changed, pluginSHA256),
		"checksum of something else":                  startPluginChecked(t, pluginBin, make([]byte, 32)),
	} {
		if _, err := p.client.Client(); !errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			t.Errorf("%s: start = %v, want go-plugin's ErrChecksumsDoNotMatch", name, err)
		}
	}
}

// The metadata plugin lists the config fields OpenBao must censor when it shows the config.
func TestMetadataListsSensitiveFields(t *testing.T) {
	rpc, err := startPlugin(t).client.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rpc.Dispense("metadata")
	if err != nil {
		t.Fatalf("Dispense(metadata): %v", err)
	}
	metadata := raw.(plugin.Metadata)
	if want := []string{"private_key", "private_key_passphrase"}; !slices.Equal(metadata.SensitiveKMSFields, want) {
		t.Errorf("SensitiveKMSFields = %q, want %q", metadata.SensitiveKMSFields, want)
	}
	if len(metadata.SensitiveKeyFields) != 0 {
		t.Errorf("SensitiveKeyFields = %q, want none (the plugin serves no external keys)", metadata.SensitiveKeyFields)
	}
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/openbao/go-kms-wrapping/plugin/v2"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
)

// remoteWrapper is what Dispense("wrapper") returns, as OpenBao's kmsplugin package asserts it.
type remoteWrapper interface {
	wrapping.Wrapper
	wrapping.InitFinalizer
}

// pluginProcess is one plugin process started as OpenBao's KMS catalog starts it.
type pluginProcess struct {
	client *goplugin.Client
	stderr *lockedBuffer // the plugin's raw stderr: its hclog JSON lines
}

// startPlugin starts the plugin binary as the catalog does (internal/helper/kmsplugin/catalog.go):
// cmd.Env is the stanza's env (go-plugin then appends the server's environment), gRPC only,
// automatic mTLS, the stanza's sha256sum checked before the start. The process is killed at the
// end of the test, which fails if the race detector reported anything.
func startPlugin(t *testing.T, stanzaEnv ...string) *pluginProcess {
	t.Helper()
	return startPluginChecked(t, pluginBin, pluginSHA256, stanzaEnv...)
}

// startPluginChecked is startPlugin with an explicit binary and checksum.
func startPluginChecked(t *testing.T, bin string, checksum []byte, stanzaEnv ...string) *pluginProcess {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(cmd.Env, stanzaEnv...)
	p := &pluginProcess{stderr: new(lockedBuffer)}
	p.client = goplugin.NewClient(&goplugin.ClientConfig{
		Cmd:              cmd,
		VersionedPlugins: plugin.PluginSets,
		HandshakeConfig:  plugin.HandshakeConfig,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SecureConfig:     &goplugin.SecureConfig{Checksum: checksum, Hash: sha256.New()},
		Logger:           hclog.NewNullLogger(),
		Stderr:           p.stderr,
	})
	t.Cleanup(func() {
		p.client.Kill()
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("the plugin reported a data race:\n%s", p.stderr.String())
		}
	})
	return p
}

// dispense returns a new remote wrapper instance, as the catalog's getWrapper does.
func (p *pluginProcess) dispense(t *testing.T) remoteWrapper {
	t.Helper()
	rpc, err := p.client.Client()
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	raw, err := rpc.Dispense("wrapper")
	if err != nil {
		t.Fatalf("Dispense(wrapper): %v", err)
	}
	return raw.(remoteWrapper)
}

// configured dispenses a wrapper and configures it with stanza, as server.go does at start (only
// WithConfigMap). The wrapper is finalized at the end of the test.
func (p *pluginProcess) configured(t *testing.T, stanza map[string]string) (remoteWrapper, *wrapping.WrapperConfig) {
	t.Helper()
	w := p.dispense(t)
	config, err := w.SetConfig(t.Context(), wrapping.WithConfigMap(stanza))
	if err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	t.Cleanup(func() { _ = w.Finalize(context.Background()) })
	return w, config
}

// sealStanza is the seal "ocikms" stanza for the emulator's key, with API-key auth from the
// emulator's OCI config file.
func sealStanza() map[string]string {
	stanza := emu.ConfigMap()
	stanza["key_id"] = emu.KeyID
	stanza["config_file"] = emu.OCIConfigFile
	return stanza
}

// without returns a copy of stanza without the given keys.
func without(stanza map[string]string, keys ...string) map[string]string {
	out := make(map[string]string, len(stanza))
	for k, v := range stanza {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for go-plugin's stderr reader and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

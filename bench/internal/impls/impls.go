// Package impls creates the seal implementations under test — the official Go ocikms wrapper and
// this project's Go binding over the Rust library, configured exactly as Vault does, and the
// OpenBao KMS plugin (the same binding in its own process, over gRPC), configured as OpenBao does.
package impls

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	official "github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2"

	ours "github.com/ocikms/ocikms/go-bindings"
)

// The implementation names used on the command line and in the results.
const (
	Ours     = "ours"
	Official = "official"
	Plugin   = "plugin"
)

// Names lists the implementations in a fixed order.
var Names = []string{Ours, Official, Plugin}

// Target is the KMS key and endpoints every implementation uses, and for the plugin its binary
// and the OCI config file its stanza's env names.
type Target struct {
	KeyID              string
	CryptoEndpoint     string
	ManagementEndpoint string
	PluginBin          string
	PluginSHA256       []byte
	OCIConfigFile      string
}

// vaultOptions are the SetConfig options Vault passes for an API-key ocikms seal
// (internalshared/configutil/kms.go): key id, config map, env vars already merged by Vault.
func (t Target) vaultOptions() []wrapping.Option {
	return []wrapping.Option{
		wrapping.WithKeyId(t.KeyID),
		wrapping.WithConfigMap(map[string]string{
			"crypto_endpoint":     t.CryptoEndpoint,
			"management_endpoint": t.ManagementEndpoint,
			"auth_type_api_key":   "true",
		}),
		wrapping.WithDisallowEnvVars(true),
	}
}

// openBaoOptions are the SetConfig options OpenBao passes to a KMS plugin's wrapper: the seal
// stanza as the config map, nothing else (the API key comes from the plugin stanza's env).
func (t Target) openBaoOptions() []wrapping.Option {
	return []wrapping.Option{
		wrapping.WithConfigMap(map[string]string{
			"key_id":              t.KeyID,
			"crypto_endpoint":     t.CryptoEndpoint,
			"management_endpoint": t.ManagementEndpoint,
			"auth_type_api_key":   "true",
		}),
	}
}

// New returns an unconfigured wrapper of the named implementation; for the plugin, that starts
// the plugin process and dispenses a wrapper from it, as OpenBao does at server start.
func New(name string, t Target) (wrapping.Wrapper, error) {
	switch name {
	case Ours:
		return ours.NewWrapper(), nil
	case Official:
		return official.NewWrapper(), nil
	case Plugin:
		return startPlugin(t)
	}
	return nil, fmt.Errorf("unknown implementation %q (want one of %v)", name, Names)
}

// SetConfig configures w for t as Vault (or, for the plugin, OpenBao) would. Our binding logs
// nowhere (as Vault's null logger); the plugin logs to its stderr, which go-plugin reads.
func SetConfig(ctx context.Context, name string, w wrapping.Wrapper, t Target) error {
	opts := t.vaultOptions()
	switch name {
	case Ours:
		opts = append(opts, ours.WithLogger(hclog.NewNullLogger()))
	case Plugin:
		opts = t.openBaoOptions()
	}
	if _, err := w.SetConfig(ctx, opts...); err != nil {
		if name == Plugin {
			Close(ctx, w) // stops the plugin process
		}
		return fmt.Errorf("%s SetConfig: %w", name, err)
	}
	return nil
}

// ChildPID is the process id of the separate process an implementation runs in (the plugin's),
// or 0 when it runs in this process.
func ChildPID(w wrapping.Wrapper) int {
	if p, ok := w.(*pluginWrapper); ok {
		return p.PID()
	}
	return 0
}

// Close releases what the wrapper holds (our seal handle; the plugin's process; the official
// wrapper holds nothing).
func Close(ctx context.Context, w wrapping.Wrapper) {
	if f, ok := w.(wrapping.InitFinalizer); ok {
		_ = f.Finalize(ctx)
	}
}

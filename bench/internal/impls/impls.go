// Package impls creates the two seal implementations under test — the official Go ocikms wrapper
// and this project's Go binding over the Rust library — configured exactly as Vault does.
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
)

// Names lists the implementations in a fixed order.
var Names = []string{Ours, Official}

// Target is the KMS key and endpoints both implementations use.
type Target struct {
	KeyID              string
	CryptoEndpoint     string
	ManagementEndpoint string
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

// New returns an unconfigured wrapper of the named implementation.
func New(name string) (wrapping.Wrapper, error) {
	switch name {
	case Ours:
		return ours.NewWrapper(), nil
	case Official:
		return official.NewWrapper(), nil
	}
	return nil, fmt.Errorf("unknown implementation %q (want %q or %q)", name, Ours, Official)
}

// SetConfig configures w for t as Vault would. Our binding logs nowhere (as Vault's null logger).
func SetConfig(ctx context.Context, name string, w wrapping.Wrapper, t Target) error {
	opts := t.vaultOptions()
	if name == Ours {
		opts = append(opts, ours.WithLogger(hclog.NewNullLogger()))
	}
	if _, err := w.SetConfig(ctx, opts...); err != nil {
		return fmt.Errorf("%s SetConfig: %w", name, err)
	}
	return nil
}

// Close releases what the wrapper holds (our seal handle; the official wrapper holds nothing).
func Close(ctx context.Context, w wrapping.Wrapper) {
	if f, ok := w.(wrapping.InitFinalizer); ok {
		_ = f.Finalize(ctx)
	}
}

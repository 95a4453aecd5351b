// SPDX-License-Identifier: MPL-2.0

package impls

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	goplugin "github.com/hashicorp/go-plugin"
	baoplugin "github.com/openbao/go-kms-wrapping/plugin/v2"
	bao "github.com/openbao/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"
)

// remoteWrapper is what Dispense("wrapper") returns, as OpenBao's kmsplugin package asserts it.
type remoteWrapper interface {
	bao.Wrapper
	bao.InitFinalizer
}

// pluginWrapper is the OpenBao KMS plugin (openbao-plugin-kms-ocikms) in its own process, driven
// over go-plugin gRPC as OpenBao's KMS plugin catalog drives it, behind the HashiCorp
// wrapping.Wrapper interface the harness measures. The two go-kms-wrapping modules declare the
// same protobuf messages (same field numbers) as different Go types: blobs cross as protobuf bytes.
type pluginWrapper struct {
	client *goplugin.Client
	remote remoteWrapper
	pid    int
}

var (
	_ wrapping.Wrapper       = (*pluginWrapper)(nil)
	_ wrapping.InitFinalizer = (*pluginWrapper)(nil)
)

// PluginChecksum is the sha256 of the plugin binary: the `sha256sum` of the `plugin "kms"` stanza,
// which go-plugin checks against the file at every start.
func PluginChecksum(bin string) ([]byte, error) {
	f, err := os.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("the OpenBao plugin binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("the OpenBao plugin binary: %w", err)
	}
	return h.Sum(nil), nil
}

// startPlugin starts the plugin as OpenBao's catalog does (internal/helper/kmsplugin/catalog.go):
// cmd.Env is the stanza's env (go-plugin appends this process's environment), gRPC only,
// automatic mTLS, the stanza's sha256sum checked before the start; then Dispense("wrapper").
func startPlugin(t Target) (*pluginWrapper, error) {
	cmd := exec.Command(t.PluginBin)
	cmd.Env = []string{"OCI_CONFIG_FILE=" + t.OCIConfigFile}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		Cmd:              cmd,
		VersionedPlugins: baoplugin.PluginSets,
		HandshakeConfig:  baoplugin.HandshakeConfig,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SecureConfig:     &goplugin.SecureConfig{Checksum: t.PluginSHA256, Hash: sha256.New()},
		Logger:           hclog.NewNullLogger(),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("starting the OpenBao plugin %s: %w", t.PluginBin, err)
	}
	raw, err := rpc.Dispense("wrapper")
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("Dispense(wrapper): %w", err)
	}
	remote, ok := raw.(remoteWrapper)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("Dispense(wrapper) returned a %T", raw)
	}
	return &pluginWrapper{client: client, remote: remote, pid: client.ReattachConfig().Pid}, nil
}

// PID is the plugin process's id.
func (w *pluginWrapper) PID() int { return w.pid }

// baoOptions converts the harness's options into OpenBao's (the fields a seal uses).
func baoOptions(opt []wrapping.Option) ([]bao.Option, error) {
	opts, err := wrapping.GetOpts(opt...)
	if err != nil {
		return nil, err
	}
	var out []bao.Option
	if opts.WithConfigMap != nil {
		out = append(out, bao.WithConfigMap(opts.WithConfigMap))
	}
	if opts.WithKeyId != "" {
		out = append(out, bao.WithKeyId(opts.WithKeyId))
	}
	if opts.WithDisallowEnvVars {
		out = append(out, bao.WithDisallowEnvVars(true))
	}
	if opts.WithAad != nil {
		out = append(out, bao.WithAad(opts.WithAad))
	}
	return out, nil
}

// Type returns the remote wrapper's type.
func (w *pluginWrapper) Type(ctx context.Context) (wrapping.WrapperType, error) {
	typ, err := w.remote.Type(ctx)
	return wrapping.WrapperType(typ), err
}

// KeyId returns the key version the plugin's seal last used.
func (w *pluginWrapper) KeyId(ctx context.Context) (string, error) {
	return w.remote.KeyId(ctx)
}

// SetConfig configures the remote wrapper (its constructor, in the plugin SDK).
func (w *pluginWrapper) SetConfig(ctx context.Context, opt ...wrapping.Option) (*wrapping.WrapperConfig, error) {
	opts, err := baoOptions(opt)
	if err != nil {
		return nil, err
	}
	config, err := w.remote.SetConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &wrapping.WrapperConfig{Metadata: config.Metadata}, nil
}

// Encrypt encrypts over gRPC and returns the plugin's BlobInfo as the HashiCorp type.
func (w *pluginWrapper) Encrypt(ctx context.Context, plaintext []byte, opt ...wrapping.Option) (*wrapping.BlobInfo, error) {
	opts, err := baoOptions(opt)
	if err != nil {
		return nil, err
	}
	blob, err := w.remote.Encrypt(ctx, plaintext, opts...)
	if err != nil {
		return nil, err
	}
	out := new(wrapping.BlobInfo)
	if err := reencode(blob, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Decrypt converts the HashiCorp BlobInfo into OpenBao's and decrypts it over gRPC.
func (w *pluginWrapper) Decrypt(ctx context.Context, blob *wrapping.BlobInfo, opt ...wrapping.Option) ([]byte, error) {
	opts, err := baoOptions(opt)
	if err != nil {
		return nil, err
	}
	in := new(bao.BlobInfo)
	if err := reencode(blob, in); err != nil {
		return nil, err
	}
	return w.remote.Decrypt(ctx, in, opts...)
}

// reencode copies a protobuf message into another Go type declaring the same fields (a BlobInfo of
// one go-kms-wrapping module into the other's), through its wire bytes.
func reencode(from, to proto.Message) error {
	stored, err := proto.Marshal(from)
	if err != nil {
		return err
	}
	return proto.Unmarshal(stored, to)
}

// Init forwards to the plugin (OpenBao calls it at `operator init`).
func (w *pluginWrapper) Init(ctx context.Context, opt ...wrapping.Option) error {
	opts, err := baoOptions(opt)
	if err != nil {
		return err
	}
	return w.remote.Init(ctx, opts...)
}

// Finalize releases the remote wrapper and stops the plugin process (OpenBao's shutdown).
func (w *pluginWrapper) Finalize(ctx context.Context, _ ...wrapping.Option) error {
	err := w.remote.Finalize(ctx)
	w.client.Kill()
	return err
}

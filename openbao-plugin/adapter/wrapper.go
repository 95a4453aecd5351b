// SPDX-License-Identifier: MPL-2.0

// Package adapter serves the ocikms Go binding, a HashiCorp go-kms-wrapping v2 Wrapper, as an
// OpenBao go-kms-wrapping v2 Wrapper for the OpenBao KMS plugin. The two modules declare the same
// protobuf messages (same field numbers) as different Go types, so blobs cross between them as
// protobuf bytes.
package adapter

import (
	"context"

	wrapping "github.com/openbao/go-kms-wrapping/v2"

	ocikms "github.com/ocikms/ocikms/go-bindings"
)

// Wrapper is the OCI KMS seal as OpenBao's wrapping.Wrapper and wrapping.InitFinalizer. The
// plugin SDK creates one per SetConfig call (SetConfig is its constructor) and calls Finalize only
// after a successful SetConfig. It is safe for concurrent use.
type Wrapper struct {
	seal *ocikms.Wrapper
}

var (
	_ wrapping.Wrapper       = (*Wrapper)(nil)
	_ wrapping.InitFinalizer = (*Wrapper)(nil)
)

// New returns an unconfigured wrapper; SetConfig creates the seal.
func New() *Wrapper {
	return &Wrapper{seal: ocikms.NewWrapper()}
}

// Type returns "ocikms", the name of the seal stanza.
func (w *Wrapper) Type(ctx context.Context) (wrapping.WrapperType, error) {
	typ, err := w.seal.Type(ctx)
	return wrapping.WrapperType(typ), err
}

// SetConfig creates the seal from the seal stanza (WithConfigMap), WithKeyId,
// WithDisallowEnvVars and WithLogger, validates the key with one encrypt, and returns the metadata
// OpenBao prints at start: key_id, crypto_endpoint, management_endpoint, principal_type.
func (w *Wrapper) SetConfig(ctx context.Context, opt ...wrapping.Option) (*wrapping.WrapperConfig, error) {
	opts, err := configOptions(opt)
	if err != nil {
		return nil, err
	}
	config, err := w.seal.SetConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &wrapping.WrapperConfig{Metadata: config.Metadata}, nil
}

// Init does nothing: SetConfig already created the seal. OpenBao calls it at `operator init`.
func (w *Wrapper) Init(ctx context.Context, _ ...wrapping.Option) error {
	return w.seal.Init(ctx)
}

// Finalize releases the seal (OpenBao calls it at shutdown).
func (w *Wrapper) Finalize(ctx context.Context, _ ...wrapping.Option) error {
	return w.seal.Finalize(ctx)
}

// KeyId returns the OCID of the key version the last encrypt used. OpenBao compares it with the
// key id of its stored blobs after unsealing and re-encrypts them when the key was rotated.
func (w *Wrapper) KeyId(ctx context.Context) (string, error) {
	return w.seal.KeyId(ctx)
}

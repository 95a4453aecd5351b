// SPDX-License-Identifier: MPL-2.0

package ocikms

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include <string.h>
#include "ocikms.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"
)

// Config keys with a meaning for the Go side (the rest go to the library unchanged).
const (
	configKeyIDAlias      = "keyID"
	configDisallowEnvVars = "disallow_env_vars"
)

// Wrapper is an OCI KMS seal implementing wrapping.Wrapper and wrapping.InitFinalizer. It is safe
// for concurrent use.
type Wrapper struct {
	state *sealState
}

var (
	_ wrapping.Wrapper       = (*Wrapper)(nil)
	_ wrapping.InitFinalizer = (*Wrapper)(nil)
)

// ErrFinalized is the cause of the error of a call that Finalize ended while it ran:
// errors.Is(err, ocikms.ErrFinalized) (its Code is CodeCancelled).
var ErrFinalized = errors.New("the ocikms wrapper was finalized during the call")

// sealState owns the C seal handle. Calls hold the read lock; SetConfig (swap) and Finalize
// (free) take the write lock, so a handle is never freed while a call uses it. Finalize first
// ends the handle's lifetime, which cancels the calls in flight, so it does not wait for them to
// run out their deadlines.
type sealState struct {
	mu   sync.RWMutex
	seal *C.ocikms_seal
	// life is the current handle's lifetime (nil without a handle); read without mu by free.
	life atomic.Pointer[lifetime]
}

// lifetime is a seal handle's lifetime: ctx is done once the handle starts being freed.
type lifetime struct {
	ctx context.Context
	end context.CancelCauseFunc
}

// newLifetime starts the lifetime of a new handle.
func newLifetime() *lifetime {
	ctx, end := context.WithCancelCause(context.Background())
	return &lifetime{ctx: ctx, end: end}
}

// install makes seal the current handle and returns the previous one (nil if none), whose calls
// have all returned (the write lock waited for them).
func (s *sealState) install(seal *C.ocikms_seal) *C.ocikms_seal {
	s.mu.Lock()
	defer s.mu.Unlock()
	previous := s.seal
	s.seal = seal
	if old := s.life.Swap(newLifetime()); old != nil {
		old.end(nil)
	}
	return previous
}

// free ends the calls in flight, then releases the handle (idempotent).
func (s *sealState) free() {
	if life := s.life.Load(); life != nil {
		life.end(ErrFinalized)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seal != nil {
		C.ocikms_seal_free(s.seal)
		s.seal = nil
	}
	if life := s.life.Swap(nil); life != nil {
		life.end(ErrFinalized)
	}
}

// NewWrapper creates an unconfigured wrapper; call SetConfig before using it.
func NewWrapper() *Wrapper {
	w := &Wrapper{state: new(sealState)}
	// Safety net: a wrapper dropped without Finalize still releases its handle.
	runtime.AddCleanup(w, func(s *sealState) { s.free() }, w.state)
	return w
}

// withSeal runs f with the live handle and its lifetime (done once Finalize starts) under the
// read lock, or fails when not configured.
func (w *Wrapper) withSeal(f func(seal *C.ocikms_seal, life context.Context) error) error {
	w.state.mu.RLock()
	defer w.state.mu.RUnlock()
	if w.state.seal == nil {
		return newError(CodeNotInitialized, "the ocikms wrapper is not configured: call SetConfig first (or it was finalized)")
	}
	err := f(w.state.seal, w.state.life.Load().ctx)
	runtime.KeepAlive(w)
	return err
}

// Init implements wrapping.InitFinalizer (nothing to do: SetConfig creates the seal).
func (w *Wrapper) Init(_ context.Context, _ ...wrapping.Option) error {
	return nil
}

// Finalize releases the seal. Calls still running are cancelled first (they return CodeCancelled
// with ErrFinalized as the cause), so Finalize returns promptly even during an OCI outage.
// Idempotent; later calls fail with CodeNotInitialized until the next SetConfig.
func (w *Wrapper) Finalize(_ context.Context, _ ...wrapping.Option) error {
	w.state.free()
	return nil
}

// Type returns wrapping.WrapperTypeOciKms ("ocikms").
func (w *Wrapper) Type(_ context.Context) (wrapping.WrapperType, error) {
	return wrapping.WrapperTypeOciKms, nil
}

// KeyId returns the current key version OCID as last seen from OCI ("" before SetConfig).
func (w *Wrapper) KeyId(_ context.Context) (string, error) {
	var keyVersion string
	err := w.withSeal(func(seal *C.ocikms_seal, _ context.Context) error {
		var out *C.char
		var cerr *C.ocikms_error
		if status := C.ocikms_key_version(seal, &out, &cerr); status != C.OCIKMS_STATUS_OK {
			return takeError(status, cerr)
		}
		keyVersion = takeString(out)
		return nil
	})
	var e *Error
	if errors.As(err, &e) && e.Code == CodeNotInitialized {
		return "", nil
	}
	return keyVersion, err
}

// SetConfig configures the seal as Vault does: WithKeyId (the key OCID), WithConfigMap
// (crypto_endpoint, management_endpoint, auth_type_api_key, OpenBao's inline API-key credentials
// tenancy_ocid, user_ocid, fingerprint, private_key, private_key_passphrase, and this library's
// extra keys such as auth_type, config_file, ca_cert, request_timeout, max_retries) and
// WithDisallowEnvVars; also WithCryptoEndpoint, WithManagementEndpoint, WithAuthTypeApiKey and
// WithLogger.
// It validates the key with an empty-plaintext encrypt and returns the metadata Vault shows:
// key_id, crypto_endpoint, management_endpoint, principal_type. ctx bounds the validation.
func (w *Wrapper) SetConfig(ctx context.Context, opt ...wrapping.Option) (*wrapping.WrapperConfig, error) {
	opts, err := getOpts(opt...)
	if err != nil {
		return nil, err
	}
	logger := opts.withLogger
	if logger == nil {
		// Vault passes no logger to a seal: be as quiet as its stock seal, so that swapping the
		// seal changes nothing in the server's log stream (format, level, log_file).
		logger = hclog.NewNullLogger()
	}
	useLogger(logger)

	configJSON, err := configJSON(opts)
	if err != nil {
		return nil, err
	}
	cjson := C.CString(configJSON)
	defer func() {
		// The JSON may hold private_key and private_key_passphrase: zero the C copy before freeing.
		C.memset(unsafe.Pointer(cjson), 0, C.size_t(len(configJSON)))
		C.free(unsafe.Pointer(cjson))
	}()

	var seal *C.ocikms_seal
	err = callWithContext(ctx, context.Background(), callSpec{}, func(o *C.ocikms_call_opts, cerr **C.ocikms_error) C.int32_t {
		return C.ocikms_seal_init_opts(cjson, o, &seal, cerr)
	})
	if err != nil {
		return nil, err
	}
	metadata, err := sealMetadata(seal)
	if err != nil {
		C.ocikms_seal_free(seal)
		return nil, err
	}

	if previous := w.state.install(seal); previous != nil {
		C.ocikms_seal_free(previous)
	}
	return &wrapping.WrapperConfig{Metadata: metadata}, nil
}

// configJSON builds the library's config_json from the wrapping options.
func configJSON(opts *options) (string, error) {
	config := make(map[string]any, len(opts.WithConfigMap)+2)
	for k, v := range opts.WithConfigMap {
		config[k] = v
	}
	for k, v := range opts.config {
		config[k] = v
	}
	if opts.WithKeyId != "" {
		delete(config, configKeyIDAlias)
		config[KmsConfigKeyId] = opts.WithKeyId
	}
	if opts.WithDisallowEnvVars {
		config[configDisallowEnvVars] = true
	}
	out, err := json.Marshal(config)
	if err != nil {
		return "", newError(CodeConfig, "cannot encode the seal configuration: %v", err)
	}
	return string(out), nil
}

// sealMetadata reads the metadata map of a fresh seal.
func sealMetadata(seal *C.ocikms_seal) (map[string]string, error) {
	var out *C.char
	var cerr *C.ocikms_error
	if status := C.ocikms_metadata_json(seal, &out, &cerr); status != C.OCIKMS_STATUS_OK {
		return nil, takeError(status, cerr)
	}
	metadata := map[string]string{}
	if err := json.Unmarshal([]byte(takeString(out)), &metadata); err != nil {
		return nil, newError(CodeInternal, "cannot decode the seal metadata: %v", err)
	}
	return metadata, nil
}

// Encrypt encrypts plaintext (empty allowed, nil rejected as in the Go wrapper). Honours
// WithAad, WithoutEnvelope (mechanism 1: OCI encrypts the plaintext directly) and ctx.
func (w *Wrapper) Encrypt(ctx context.Context, plaintext []byte, opt ...wrapping.Option) (*wrapping.BlobInfo, error) {
	spec, err := encryptSpec(plaintext, opt)
	if err != nil {
		return nil, err
	}
	var blob *wrapping.BlobInfo
	err = w.encrypt(ctx, plaintext, spec, func(buf *C.ocikms_buffer) error {
		var err error
		blob, err = decodeBlob(buf)
		return err
	})
	return blob, err
}

// EncryptBytes is Encrypt returning the BlobInfo protobuf bytes exactly as the C ABI produced
// them (the bytes Vault stores). As in the Go ocikms wrapper, WithAad is ignored together with
// WithoutEnvelope (mechanism 1 has no AAD; the C ABI itself refuses the combination).
func (w *Wrapper) EncryptBytes(ctx context.Context, plaintext []byte, opt ...wrapping.Option) ([]byte, error) {
	spec, err := encryptSpec(plaintext, opt)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = w.encrypt(ctx, plaintext, spec, func(buf *C.ocikms_buffer) error {
		out = takeBuffer(buf)
		return nil
	})
	return out, err
}

// encryptSpec validates an encrypt's arguments and builds its call options.
func encryptSpec(plaintext []byte, opt []wrapping.Option) (callSpec, error) {
	if plaintext == nil {
		return callSpec{}, newError(CodeInvalidArgument, "given plaintext for encryption is nil")
	}
	opts, err := getOpts(opt...)
	if err != nil {
		return callSpec{}, err
	}
	spec := callSpec{aad: opts.WithAad, withoutEnvelope: opts.WithoutEnvelope}
	if spec.withoutEnvelope {
		spec.aad = nil
	}
	return spec, nil
}

// encrypt runs one encrypt and hands the library's BlobInfo buffer to take, which must free it.
func (w *Wrapper) encrypt(ctx context.Context, plaintext []byte, spec callSpec, take func(buf *C.ocikms_buffer) error) error {
	return w.withSeal(func(seal *C.ocikms_seal, life context.Context) error {
		ptr, n := bytesArg(plaintext)
		var buf C.ocikms_buffer
		err := callWithContext(ctx, life, spec, func(o *C.ocikms_call_opts, cerr **C.ocikms_error) C.int32_t {
			return C.ocikms_encrypt(seal, ptr, n, o, &buf, cerr)
		})
		runtime.KeepAlive(plaintext)
		if err != nil {
			return err
		}
		return take(&buf)
	})
}

// decodeBlob parses a library BlobInfo buffer without copying it into Go memory first, then
// frees it. proto.Unmarshal copies bytes and string fields, so the result does not alias C memory.
func decodeBlob(buf *C.ocikms_buffer) (*wrapping.BlobInfo, error) {
	blob := new(wrapping.BlobInfo)
	err := useBuffer(buf, func(view []byte) error {
		if err := proto.Unmarshal(view, blob); err != nil {
			return newError(CodeInternal, "the library returned a BlobInfo that does not parse: %v", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return blob, nil
}

// Decrypt decrypts a BlobInfo written by this wrapper or by the Go ocikms wrapper (either
// mechanism). Honours WithAad and ctx.
func (w *Wrapper) Decrypt(ctx context.Context, in *wrapping.BlobInfo, opt ...wrapping.Option) ([]byte, error) {
	if in == nil {
		return nil, newError(CodeInvalidArgument, "given input for decryption is nil")
	}
	if in.KeyInfo == nil {
		return nil, newError(CodeMalformedBlob, "key info is nil")
	}
	raw, err := proto.Marshal(in)
	if err != nil {
		return nil, newError(CodeMalformedBlob, "cannot encode the BlobInfo: %v", err)
	}
	return w.DecryptStored(ctx, raw, opt...)
}

// DecryptStored decrypts a value as Vault stores it: BlobInfo protobuf bytes or the
// multiwrapvalue:1 form. Honours WithAad and ctx.
func (w *Wrapper) DecryptStored(ctx context.Context, stored []byte, opt ...wrapping.Option) ([]byte, error) {
	opts, err := getOpts(opt...)
	if err != nil {
		return nil, err
	}
	var plaintext []byte
	err = w.withSeal(func(seal *C.ocikms_seal, life context.Context) error {
		ptr, n := bytesArg(stored)
		var buf C.ocikms_buffer
		err := callWithContext(ctx, life, callSpec{aad: opts.WithAad}, func(o *C.ocikms_call_opts, cerr **C.ocikms_error) C.int32_t {
			return C.ocikms_decrypt(seal, ptr, n, o, &buf, cerr)
		})
		runtime.KeepAlive(stored)
		if err != nil {
			return err
		}
		plaintext = takeBuffer(&buf)
		return nil
	})
	return plaintext, err
}

// Rewrap re-encrypts a blob under the key's current version if it was written under an older
// one (after an OCI key rotation). It returns the blob to store and whether it changed.
func (w *Wrapper) Rewrap(ctx context.Context, in *wrapping.BlobInfo, opt ...wrapping.Option) (*wrapping.BlobInfo, bool, error) {
	if in == nil {
		return nil, false, newError(CodeInvalidArgument, "given input for rewrap is nil")
	}
	opts, err := getOpts(opt...)
	if err != nil {
		return nil, false, err
	}
	raw, err := proto.Marshal(in)
	if err != nil {
		return nil, false, newError(CodeMalformedBlob, "cannot encode the BlobInfo: %v", err)
	}
	var blob *wrapping.BlobInfo
	var changed C.bool
	err = w.withSeal(func(seal *C.ocikms_seal, life context.Context) error {
		ptr, n := bytesArg(raw)
		var buf C.ocikms_buffer
		err := callWithContext(ctx, life, callSpec{aad: opts.WithAad}, func(o *C.ocikms_call_opts, cerr **C.ocikms_error) C.int32_t {
			return C.ocikms_rewrap(seal, ptr, n, o, &buf, &changed, cerr)
		})
		runtime.KeepAlive(raw)
		if err != nil {
			return err
		}
		blob, err = decodeBlob(&buf)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return blob, bool(changed), nil
}

// Version returns the linked library's version.
func Version() string {
	return C.GoString(C.ocikms_version())
}

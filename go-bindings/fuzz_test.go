// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"bytes"
	"context"
	"errors"
	"testing"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
)

// FuzzDecryptStored feeds arbitrary stored values to Decrypt: every input either decrypts or
// fails with an *Error, never a panic (in Go or behind the C ABI).
func FuzzDecryptStored(f *testing.F) {
	w := configured(f)
	ctx := context.Background()
	envelope, err := w.EncryptBytes(ctx, []byte("seed"), wrapping.WithAad([]byte("aad")))
	if err != nil {
		f.Fatal(err)
	}
	direct, err := w.EncryptBytes(ctx, []byte("seed"), wrapping.WithoutEnvelope(true))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(envelope)
	f.Add(direct)
	f.Add([]byte{})
	f.Add([]byte("multiwrapvalue:1"))
	f.Add(append([]byte("multiwrapvalue:1\x00\x00\x00\x02\x08\x01"), envelope...))
	f.Fuzz(func(t *testing.T, stored []byte) {
		plaintext, err := w.DecryptStored(ctx, stored, wrapping.WithAad([]byte("aad")))
		if e := decryptFailure(t, plaintext, []byte("seed"), err); e != nil && e.Code == CodePanic {
			t.Fatalf("panic behind the C ABI: %v", e)
		}
	})
}

// decryptFailure checks one fuzzed decrypt's outcome: a success must return want, a failure must
// be an *Error, which it returns (nil after a success).
func decryptFailure(t *testing.T, got, want []byte, err error) *Error {
	t.Helper()
	if err == nil {
		if !bytes.Equal(got, want) {
			t.Fatalf("decrypted to %q", got)
		}
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	return e
}

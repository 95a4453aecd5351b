// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"bytes"
	"context"
	"testing"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
)

// FuzzDecryptBlobInfo feeds BlobInfo values with arbitrary fields (mechanism, IV, ciphertext,
// wrapped key, AAD) to Decrypt: each decrypts to the one plaintext or fails with an *Error of a
// decrypt/blob code, never a panic (in Go or behind the C ABI). Seeds are real blobs and
// single-field corruptions of them (flipped ciphertext, tag and IV bytes, wrong AAD).
func FuzzDecryptBlobInfo(f *testing.F) {
	w := configured(f)
	ctx := context.Background()
	plaintext := []byte("fuzz seed")
	envelope, err := w.Encrypt(ctx, plaintext, wrapping.WithAad([]byte("aad")))
	if err != nil {
		f.Fatal(err)
	}
	direct, err := w.Encrypt(ctx, plaintext, wrapping.WithoutEnvelope(true))
	if err != nil {
		f.Fatal(err)
	}
	add := func(b *wrapping.BlobInfo, aad []byte) {
		f.Add(b.KeyInfo.Mechanism, b.Iv, b.Ciphertext, b.KeyInfo.WrappedKey, aad)
	}
	add(envelope, []byte("aad"))
	add(envelope, []byte("wrong aad"))
	add(direct, nil)
	flipped := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i%len(c)] ^= 0x01
		return c
	}
	f.Add(envelope.KeyInfo.Mechanism, envelope.Iv, flipped(envelope.Ciphertext, 0), envelope.KeyInfo.WrappedKey, []byte("aad"))
	f.Add(envelope.KeyInfo.Mechanism, envelope.Iv, flipped(envelope.Ciphertext, len(envelope.Ciphertext)-1), envelope.KeyInfo.WrappedKey, []byte("aad"))
	f.Add(envelope.KeyInfo.Mechanism, flipped(envelope.Iv, 3), envelope.Ciphertext, envelope.KeyInfo.WrappedKey, []byte("aad"))
	f.Add(uint64(7), envelope.Iv, envelope.Ciphertext, envelope.KeyInfo.WrappedKey, []byte(nil))

	allowed := map[Code]bool{
		CodeDecryptFailed: true, CodeMalformedBlob: true, CodeUnsupportedMechanism: true,
		// OCI itself rejects a corrupted wrapped key or direct ciphertext (400 InvalidParameter).
		CodeServiceError: true, CodeInvalidArgument: true,
	}
	f.Fuzz(func(t *testing.T, mechanism uint64, iv, ciphertext, wrappedKey, aad []byte) {
		blob := &wrapping.BlobInfo{
			Iv: iv, Ciphertext: ciphertext,
			KeyInfo: &wrapping.KeyInfo{Mechanism: mechanism, WrappedKey: wrappedKey, KeyId: envelope.KeyInfo.KeyId},
		}
		got, err := w.Decrypt(ctx, blob, wrapping.WithAad(aad))
		if e := decryptFailure(t, got, plaintext, err); e != nil && !allowed[e.Code] {
			t.Fatalf("unexpected code %s: %v", e.Code, e)
		}
	})
}

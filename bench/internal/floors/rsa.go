// Package floors measures the two floors the results are judged against: the CPU cost of one
// RSA-2048 PKCS#1 v1.5 SHA-256 signature, and the emulator's own capacity.
package floors

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"runtime"

	"github.com/ocikms/ocikms/bench/internal/proc"
)

// LoadRSAKey reads a PKCS#1 or PKCS#8 PEM RSA private key.
func LoadRSAKey(path string) (*rsa.PrivateKey, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#1 or PKCS#8 RSA key: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return key, nil
}

// signRSA is one OCI request signature as the OCI Go SDK makes it (SHA-256, then PKCS#1 v1.5).
func signRSA(key *rsa.PrivateKey, message []byte) ([]byte, error) {
	digest := sha256.Sum256(message)
	return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
}

// GoSignMicros is the best batch mean (of 5 batches, iterations in all) of the CPU time of one
// signature with Go's crypto/rsa, in microseconds: the official wrapper's per-request signing
// cost. CPU time of the signing thread, so that other processes on the machine do not inflate it.
func GoSignMicros(key *rsa.PrivateKey, iterations int) (float64, error) {
	if key.N.BitLen() != 2048 {
		return 0, fmt.Errorf("the key has %d bits, want 2048", key.N.BitLen())
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	message := []byte("date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): post /20180608/encrypt\n" +
		"host: 127.0.0.1:7000\ncontent-length: 120\ncontent-type: application/json\n" +
		"x-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	if _, err := signRSA(key, message); err != nil {
		return 0, err
	}
	const batches = 5
	perBatch := max(iterations/batches, 1)
	best := 0.0
	for range batches {
		start, err := proc.ThreadCPUTime()
		if err != nil {
			return 0, err
		}
		for range perBatch {
			if _, err := signRSA(key, message); err != nil {
				return 0, err
			}
		}
		end, err := proc.ThreadCPUTime()
		if err != nil {
			return 0, err
		}
		mean := float64((end - start).Nanoseconds()) / 1e3 / float64(perBatch)
		if best == 0 || mean < best {
			best = mean
		}
	}
	return best, nil
}

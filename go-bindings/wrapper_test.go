// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	"google.golang.org/protobuf/proto"

	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

var emu *emulatortest.Emulator

func TestMain(m *testing.M) {
	emulatortest.Main(m, func(e *emulatortest.Emulator) { emu = e })
}

// configured returns a wrapper set up as Vault does, against the emulator.
func configured(t testing.TB, extra ...wrapping.Option) *Wrapper {
	t.Helper()
	w := NewWrapper()
	config := emu.ConfigMap()
	config["config_file"] = emu.OCIConfigFile
	opts := append([]wrapping.Option{
		wrapping.WithKeyId(emu.KeyID),
		wrapping.WithConfigMap(config),
		wrapping.WithDisallowEnvVars(true),
		WithLogger(hclog.NewNullLogger()),
	}, extra...)
	if _, err := w.SetConfig(context.Background(), opts...); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	t.Cleanup(func() { _ = w.Finalize(context.Background()) })
	return w
}

func TestRoundTripBothMechanismsWithAndWithoutAAD(t *testing.T) {
	w := configured(t)
	ctx := context.Background()
	for _, plaintext := range [][]byte{{}, []byte("root key"), bytes.Repeat([]byte{7}, 4096)} {
		for _, withoutEnvelope := range []bool{false, true} {
			for _, aad := range [][]byte{nil, []byte("core/keyring")} {
				name := fmt.Sprintf("len=%d/direct=%v/aad=%v", len(plaintext), withoutEnvelope, aad != nil)
				t.Run(name, func(t *testing.T) {
					blob, err := w.Encrypt(ctx, plaintext, wrapping.WithAad(aad), wrapping.WithoutEnvelope(withoutEnvelope))
					if err != nil {
						t.Fatalf("Encrypt: %v", err)
					}
					wantMechanism := uint64(0)
					if withoutEnvelope {
						wantMechanism = 1
					}
					if blob.KeyInfo.GetMechanism() != wantMechanism {
						t.Fatalf("mechanism %d, want %d", blob.KeyInfo.GetMechanism(), wantMechanism)
					}
					got, err := w.Decrypt(ctx, blob, wrapping.WithAad(aad))
					if err != nil {
						t.Fatalf("Decrypt: %v", err)
					}
					if !bytes.Equal(got, plaintext) {
						t.Fatalf("plaintext mismatch")
					}
				})
			}
		}
	}
}

func TestBlobInfoMarshalsToTheBytesTheCABIProduced(t *testing.T) {
	w := configured(t)
	for _, direct := range []bool{false, true} {
		raw, err := w.EncryptBytes(context.Background(), []byte("secret"), wrapping.WithoutEnvelope(direct))
		if err != nil {
			t.Fatal(err)
		}
		blob := new(wrapping.BlobInfo)
		if err := proto.Unmarshal(raw, blob); err != nil {
			t.Fatal(err)
		}
		again, err := proto.Marshal(blob)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raw) {
			t.Fatalf("proto.Marshal(BlobInfo) = %x, C ABI produced %x", again, raw)
		}
		plaintext, err := w.DecryptStored(context.Background(), raw)
		if err != nil || string(plaintext) != "secret" {
			t.Fatalf("DecryptStored: %q, %v", plaintext, err)
		}
	}
}

func TestWrongAADAndBadInputs(t *testing.T) {
	w := configured(t)
	ctx := context.Background()
	blob, err := w.Encrypt(ctx, []byte("secret"), wrapping.WithAad([]byte("a")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Decrypt(ctx, blob, wrapping.WithAad([]byte("b")))
	assertCode(t, err, CodeDecryptFailed)
	_, err = w.Encrypt(ctx, nil)
	assertCode(t, err, CodeInvalidArgument)
	_, err = w.Decrypt(ctx, nil)
	assertCode(t, err, CodeInvalidArgument)
	_, err = w.Decrypt(ctx, &wrapping.BlobInfo{Ciphertext: []byte("x")})
	assertCode(t, err, CodeMalformedBlob)
	_, err = w.Decrypt(ctx, &wrapping.BlobInfo{Ciphertext: []byte("x"), KeyInfo: &wrapping.KeyInfo{Mechanism: 7}})
	assertCode(t, err, CodeUnsupportedMechanism)
	_, err = w.DecryptStored(ctx, []byte{0xff, 0xff})
	assertCode(t, err, CodeMalformedBlob)
}

func assertCode(t *testing.T, err error, want Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *ocikms.Error", err, err)
	}
	if e.Code != want {
		t.Fatalf("code %s, want %s: %v", e.Code, want, e)
	}
	return e
}

func TestUnconfiguredFinalizedAndType(t *testing.T) {
	ctx := context.Background()
	w := NewWrapper()
	if typ, _ := w.Type(ctx); typ != wrapping.WrapperTypeOciKms {
		t.Fatalf("Type = %s", typ)
	}
	if id, err := w.KeyId(ctx); id != "" || err != nil {
		t.Fatalf("KeyId before SetConfig = %q, %v", id, err)
	}
	_, err := w.Encrypt(ctx, []byte("x"))
	assertCode(t, err, CodeNotInitialized)
	if err := w.Init(ctx); err != nil {
		t.Fatal(err)
	}

	w = configured(t)
	if id, _ := w.KeyId(ctx); !strings.HasPrefix(id, "ocid1.") {
		t.Fatalf("KeyId after SetConfig = %q", id)
	}
	for i := 0; i < 2; i++ {
		if err := w.Finalize(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, err = w.Encrypt(ctx, []byte("x"))
	assertCode(t, err, CodeNotInitialized)
}

func TestServiceErrorsExposeCodeAndRequestID(t *testing.T) {
	w := NewWrapper()
	config := emu.ConfigMap()
	config["config_file"] = emu.OCIConfigFile
	_, err := w.SetConfig(context.Background(), wrapping.WithKeyId("ocid1.key.oc1..doesnotexist"),
		wrapping.WithConfigMap(config), wrapping.WithDisallowEnvVars(true))
	e := assertCode(t, err, CodeNotAuthorizedOrNotFound)
	if e.OpcRequestID == "" || e.HTTPStatus != 404 || e.OCICode != "NotAuthorizedOrNotFound" || e.Retryable {
		t.Fatalf("error details: %+v", e)
	}
	if !strings.Contains(err.Error(), e.OpcRequestID) {
		t.Fatalf("message lacks the opc-request-id: %v", err)
	}
}

func TestSetConfigErrors(t *testing.T) {
	w := NewWrapper()
	_, err := w.SetConfig(context.Background(), wrapping.WithConfigMap(map[string]string{"crypto_endpoint": emu.CryptoEndpoint}),
		wrapping.WithDisallowEnvVars(true))
	assertCode(t, err, CodeConfig)
}

// slowEncrypt makes the emulator hold every encrypt for 5 s.
func slowEncrypt(t *testing.T) {
	t.Helper()
	if err := emu.SetFaults(`{"rules":[{"route":"encrypt","probability":1.0,"fault":{"kind":"delay","ms":5000}}]}`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.ClearFaults() })
}

func TestContextCancellationStopsAnInFlightCall(t *testing.T) {
	w := configured(t)
	slowEncrypt(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := w.Encrypt(ctx, []byte("x"))
	elapsed := time.Since(start)
	assertCode(t, err, CodeCancelled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("errors.Is(err, context.Canceled) = false: %v", err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("cancelled call returned after %v", elapsed)
	}
	// A context cancelled before the call never reaches the library.
	_, err = w.Encrypt(ctx, []byte("x"))
	assertCode(t, err, CodeCancelled)
}

// emptyTokenPool takes every pooled cancellation token out of the pool for the test's duration.
func emptyTokenPool(t *testing.T) {
	var taken []*cancelToken
	for len(idleTokens.idle) > 0 {
		taken = append(taken, <-idleTokens.idle)
	}
	t.Cleanup(func() {
		for _, token := range taken {
			idleTokens.put(token)
		}
	})
}

func TestOnlyUncancelledTokensAreReused(t *testing.T) {
	w := configured(t)
	emptyTokenPool(t)
	// Every call on a configured wrapper has a token (Finalize cancels it), ctx cancellable or not.
	if _, err := w.Encrypt(context.Background(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := len(idleTokens.idle); n != 1 {
		t.Fatalf("a call without a cancellable context left %d idle tokens, want its own", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 3; i++ {
		if _, err := w.Encrypt(ctx, []byte("x")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := len(idleTokens.idle); n != 1 {
		t.Fatalf("sequential calls left %d idle tokens, want the one they shared", n)
	}

	slowEncrypt(t)
	held, cancelHeld := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancelHeld)
	_, err := w.Encrypt(held, []byte("x"))
	assertCode(t, err, CodeCancelled)
	if n := len(idleTokens.idle); n != 0 {
		t.Fatalf("the cancelled call's token went back to the pool (%d idle)", n)
	}
	_ = emu.ClearFaults()
	for i := 0; i < 2; i++ {
		if _, err := w.Encrypt(ctx, []byte("x")); err != nil {
			t.Fatalf("call after a cancellation %d: %v", i, err)
		}
	}
	if n := len(idleTokens.idle); n != 1 {
		t.Fatalf("%d idle tokens after the cancellation, want 1", n)
	}
}

func TestContextDeadlineBoundsTheCall(t *testing.T) {
	w := configured(t)
	slowEncrypt(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := w.Encrypt(ctx, []byte("x"))
	assertCode(t, err, CodeTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("call with a 300 ms deadline returned after %v", elapsed)
	}
}

// pastDeadline is a context whose deadline has passed but which does not say so yet (its timer
// has not fired): what a call can see in the instant after a deadline.
type pastDeadline struct{ context.Context }

func (pastDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Second), true }

func TestAPastDeadlineIsAnImmediateTimeout(t *testing.T) {
	w := configured(t)
	start := time.Now()
	_, err := w.Encrypt(pastDeadline{context.Background()}, []byte("x"))
	assertCode(t, err, CodeTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Fatalf("a call whose deadline had passed returned after %v", elapsed)
	}
}

func TestConcurrentUseOfOneWrapper(t *testing.T) {
	w := configured(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				pt := []byte(fmt.Sprintf("goroutine %d iteration %d", g, i))
				blob, err := w.Encrypt(context.Background(), pt, wrapping.WithAad(pt[:5]))
				if err == nil {
					var got []byte
					got, err = w.Decrypt(context.Background(), blob, wrapping.WithAad(pt[:5]))
					if err == nil && !bytes.Equal(got, pt) {
						err = errors.New("plaintext mismatch")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFinalizeWhileCallsRunIsSafe(t *testing.T) {
	w := configured(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := w.Encrypt(context.Background(), []byte("x")); err != nil {
					// Finalized before the call (not initialized) or during it (cancelled).
					var e *Error
					if !errors.As(err, &e) || (e.Code != CodeNotInitialized && !errors.Is(err, ErrFinalized)) {
						t.Errorf("unexpected error: %v", err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	_ = w.Finalize(context.Background())
	wg.Wait()
}

// syncBuffer is a goroutine-safe writer for the logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogLinesReachTheHclogLogger(t *testing.T) {
	out := new(syncBuffer)
	logger := hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Trace, Output: out})
	w := configured(t, WithLogger(logger))
	if _, err := w.Encrypt(context.Background(), []byte("do-not-log-me")); err != nil {
		t.Fatal(err)
	}
	logs := out.String()
	if !strings.Contains(logs, "ocikms") {
		t.Fatalf("no library log line reached the logger: %q", logs)
	}
	if strings.Contains(logs, "do-not-log-me") {
		t.Fatalf("plaintext in the logs: %q", logs)
	}
	// Back to a quiet logger for the other tests.
	useLogger(hclog.NewNullLogger())
}

func TestVersion(t *testing.T) {
	if Version() == "" {
		t.Fatal("empty version")
	}
}

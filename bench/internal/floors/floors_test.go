package floors

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReplayedRequestIsSignedAndFramed(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Header.Get("Authorization"))
		w.Write([]byte(`{"ciphertext":"x"}`))
	}))
	defer server.Close()
	req, err := SignEncrypt(server.URL, "ocid1.key.oc1..k", "t/u/f", key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Capacity(req, 2, time.Millisecond, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if us, err := TransportCPUMicros(req, 10); err != nil || us <= 0 {
		t.Fatalf("transport floor %v µs: %v", us, err)
	}
	auth := seen[0]
	for _, want := range []string{`keyId="t/u/f"`, `algorithm="rsa-sha256"`, `headers="date (request-target) host content-length content-type x-content-sha256"`} {
		if !strings.Contains(auth, want) {
			t.Fatalf("authorization %q lacks %s", auth, want)
		}
	}
	for _, a := range seen {
		if a != auth {
			t.Fatal("a replay changed the signature")
		}
	}
	if us, err := GoSignMicros(key, 5); err != nil || us <= 0 {
		t.Fatalf("Go signature floor %v µs: %v", us, err)
	}
}

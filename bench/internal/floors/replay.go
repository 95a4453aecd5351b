package floors

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ocikms/ocikms/bench/internal/load"
)

// SignedRequest is one OCI KMS request signed once, to be sent again and again: the emulator
// accepts it for 5 minutes (its clock-skew window), so replaying it costs the client no signing.
type SignedRequest struct {
	url     string
	body    []byte
	headers http.Header
}

// SignEncrypt signs `POST {crypto}/20180608/encrypt` of a 32-byte key for keyID, with the API key
// whose OCI key id is apiKeyID (`<tenancy>/<user>/<fingerprint>`).
func SignEncrypt(cryptoEndpoint, keyID, apiKeyID string, key *rsa.PrivateKey) (*SignedRequest, error) {
	target, err := url.Parse(strings.TrimSuffix(cryptoEndpoint, "/") + "/20180608/encrypt")
	if err != nil {
		return nil, err
	}
	body := []byte(fmt.Sprintf(`{"keyId":%q,"plaintext":%q}`, keyID, base64.StdEncoding.EncodeToString(make([]byte, 32))))
	sum := sha256.Sum256(body)
	h := http.Header{}
	h.Set("date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("content-type", "application/json")
	h.Set("x-content-sha256", base64.StdEncoding.EncodeToString(sum[:]))
	h.Set("content-length", strconv.Itoa(len(body)))
	names := []string{"date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"}
	lines := make([]string, len(names))
	for i, name := range names {
		value := h.Get(name)
		switch name {
		case "(request-target)":
			value = "post " + target.EscapedPath()
		case "host":
			value = target.Host
		}
		lines[i] = name + ": " + value
	}
	signature, err := signRSA(key, []byte(strings.Join(lines, "\n")))
	if err != nil {
		return nil, err
	}
	h.Set("authorization", fmt.Sprintf(`Signature version="1",headers=%q,keyId=%q,algorithm="rsa-sha256",signature=%q`,
		strings.Join(names, " "), apiKeyID, base64.StdEncoding.EncodeToString(signature)))
	return &SignedRequest{url: target.String(), body: body, headers: h}, nil
}

// send posts the request once and fails unless the emulator answers 200.
func (r *SignedRequest) send(client *http.Client) error {
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	for name, values := range r.headers {
		req.Header[name] = values
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the emulator answered the replayed request with HTTP %d: %s", resp.StatusCode, text)
	}
	return nil
}

// Capacity replays r at the given concurrency for duration over kept-alive connections and
// returns the emulator's throughput (requests per second) and the requests measured.
func Capacity(r *SignedRequest, concurrency int, warmup, duration time.Duration) (float64, int, error) {
	transport := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	send := func(int) error { return r.send(client) }
	if _, err := load.Phase(concurrency, warmup, send); err != nil {
		return 0, 0, fmt.Errorf("replaying a signed encrypt: %w", err)
	}
	res, err := load.Phase(concurrency, duration, send)
	if err != nil {
		return 0, 0, fmt.Errorf("replaying a signed encrypt: %w", err)
	}
	return float64(res.Ops()) / res.Wall.Seconds(), res.Ops(), nil
}

// SPDX-License-Identifier: MPL-2.0

// Package gosdk checks the OCI KMS emulator against the official OCI Go SDK: if the SDK cannot
// tell the emulator from OCI for these calls, neither can code built on it.
package gosdk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Endpoints mirrors the emulator's endpoints.json.
type Endpoints struct {
	CryptoEndpoint     string            `json:"crypto_endpoint"`
	ManagementEndpoint string            `json:"management_endpoint"`
	MetadataBaseURL    string            `json:"metadata_base_url"`
	AuthURL            string            `json:"auth_url"`
	AdminURL           string            `json:"admin_url"`
	KeyID              string            `json:"key_id"`
	CompartmentID      string            `json:"compartment_id"`
	Tenancy            string            `json:"tenancy"`
	User               string            `json:"user"`
	Region             string            `json:"region"`
	OCIConfigFile      string            `json:"oci_config_file"`
	StateDir           string            `json:"state_dir"`
	Instances          map[string]string `json:"instances"`
	ResourcePrincipal  *struct {
		RPST       string `json:"rpst"`
		PrivatePEM string `json:"private_pem"`
	} `json:"resource_principal"`
	Workload *struct {
		TokenFile string `json:"service_account_token_file"`
		CAFile    string `json:"ca_file"`
		Endpoint  string `json:"endpoint"`
	} `json:"workload"`
}

// emulatorBin is the emulator binary: $OCIKMS_EMULATOR_BIN or the workspace debug build.
func emulatorBin(t *testing.T) string {
	if p := os.Getenv("OCIKMS_EMULATOR_BIN"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../target/debug/oci-kms-emulator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("emulator binary %s not found: run `cargo build -p oci-kms-emulator` or set OCIKMS_EMULATOR_BIN", p)
	}
	return p
}

// startEmulator runs the emulator on a fresh state dir (or `stateDir` if given) with extra args,
// waits for its endpoints line and stops it (SIGTERM) when the test ends.
func startEmulator(t *testing.T, stateDir string, args ...string) Endpoints {
	t.Helper()
	if stateDir == "" {
		stateDir = t.TempDir()
	}
	cmd := exec.Command(emulatorBin(t), append([]string{"--state-dir", stateDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		if s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var ep Endpoints
	select {
	case line, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("emulator exited before announcing endpoints: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &ep); err != nil {
			t.Fatalf("endpoints line is not JSON: %v: %s", err, line)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("emulator did not start in 60s: %s", stderr.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("emulator did not exit cleanly: %v: %s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("emulator ignored SIGTERM")
		}
	})
	return ep
}

// admin calls the emulator's admin API and decodes the JSON answer into out (if non-nil).
func admin(t *testing.T, ep Endpoints, method, path string, body any, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, ep.AdminURL+path, rd)
	resp, err := adminClient(ep).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// adminClient trusts the emulator's CA (DIR/ca.pem) so the admin API works with --tls too.
func adminClient(ep Endpoints) *http.Client {
	pool := x509.NewCertPool()
	if pemBytes, err := os.ReadFile(filepath.Join(ep.StateDir, "ca.pem")); err == nil {
		pool.AppendCertsFromPEM(pemBytes)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// writeConfig writes a world config file and returns its path.
func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "world.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

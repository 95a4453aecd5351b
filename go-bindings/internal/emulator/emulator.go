// Package emulator starts the repository's OCI KMS emulator (target/release/oci-kms-emulator, or
// $OCIKMS_EMULATOR_BIN) for tests, and drives its admin API (fault plans).
package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Endpoints is the part of the emulator's endpoints.json the tests use.
type Endpoints struct {
	CryptoEndpoint     string `json:"crypto_endpoint"`
	ManagementEndpoint string `json:"management_endpoint"`
	AdminURL           string `json:"admin_url"`
	KeyID              string `json:"key_id"`
	OCIConfigFile      string `json:"oci_config_file"`
	MetadataBaseURL    string `json:"metadata_base_url"` // instance metadata service (OCI_METADATA_BASE_URL)
	AuthURL            string `json:"auth_url"`          // federation host (OCI_SDK_AUTH_CLIENT_REGION_URL)
}

// Emulator is a running emulator process with its own state directory.
type Emulator struct {
	Endpoints
	StateDir string
	cmd      *exec.Cmd
}

// binary returns the emulator path: $OCIKMS_EMULATOR_BIN or <repo>/target/release/oci-kms-emulator.
func binary() string {
	if bin := os.Getenv("OCIKMS_EMULATOR_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "target", "release", "oci-kms-emulator")
}

// Start launches the emulator on a free loopback port and waits for its endpoints line.
func Start() (*Emulator, error) {
	dir, err := os.MkdirTemp("", "ocikms-emulator-")
	if err != nil {
		return nil, err
	}
	bin := binary()
	cmd := exec.Command(bin, "--state-dir", dir, "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s (build it with 'cargo build --release -p oci-kms-emulator'): %w", bin, err)
	}
	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		if scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
	}()
	e := &Emulator{StateDir: dir, cmd: cmd}
	select {
	case line, ok := <-lines:
		if !ok {
			e.Stop()
			return nil, fmt.Errorf("the emulator exited at start: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &e.Endpoints); err != nil {
			e.Stop()
			return nil, fmt.Errorf("bad endpoints line %q: %w", line, err)
		}
	case <-time.After(20 * time.Second):
		e.Stop()
		return nil, fmt.Errorf("the emulator did not start within 20 s: %s", stderr.String())
	}
	return e, nil
}

// Stop terminates the emulator and removes its state directory.
func (e *Emulator) Stop() {
	if e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = e.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = e.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(e.StateDir)
}

// ConfigMap is the seal config map Vault would pass for this emulator (API-key auth).
func (e *Emulator) ConfigMap() map[string]string {
	return map[string]string{
		"crypto_endpoint":     e.CryptoEndpoint,
		"management_endpoint": e.ManagementEndpoint,
		"auth_type_api_key":   "true",
	}
}

// SetFaults replaces the emulator's fault plan (see the emulator's README for the format).
func (e *Emulator) SetFaults(plan string) error {
	return e.admin(http.MethodPut, "/faults", plan)
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() error {
	return e.admin(http.MethodDelete, "/faults", "")
}

func (e *Emulator) admin(method, path, body string) error {
	req, err := http.NewRequest(method, e.AdminURL+path, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return nil
}

// RouteTotals returns how many requests the emulator has answered per route ("federation",
// "metadata", "encrypt", ...), from its counters.
func (e *Emulator) RouteTotals() (map[string]uint64, error) {
	resp, err := http.Get(e.AdminURL + "/counters")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/counters: HTTP %d", e.AdminURL, resp.StatusCode)
	}
	var counters struct {
		Totals map[string]uint64 `json:"totals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&counters); err != nil {
		return nil, fmt.Errorf("GET %s/counters: %w", e.AdminURL, err)
	}
	return counters.Totals, nil
}

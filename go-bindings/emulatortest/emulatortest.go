// SPDX-License-Identifier: MPL-2.0

// Package emulatortest is a test helper: it starts the repository's OCI KMS emulator
// (target/release/oci-kms-emulator, or $OCIKMS_EMULATOR_BIN) on a loopback port with a fresh
// state directory, describes it (endpoints, key, API-key profile) and drives its admin API (fault
// plans, counters). It is used by the binding's tests, the interop tests and demo, and the
// benchmark harness; it is not part of the binding's API.
package emulatortest

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
	"strings"
	"syscall"
	"testing"
	"time"
)

// Endpoints is the part of the emulator's endpoints.json that tests and the benchmark use.
type Endpoints struct {
	CryptoEndpoint     string `json:"crypto_endpoint"`
	ManagementEndpoint string `json:"management_endpoint"`
	AdminURL           string `json:"admin_url"`
	KeyID              string `json:"key_id"`
	OCIConfigFile      string `json:"oci_config_file"`
	MetadataBaseURL    string `json:"metadata_base_url"` // instance metadata service (OCI_METADATA_BASE_URL)
	AuthURL            string `json:"auth_url"`          // federation host (OCI_SDK_AUTH_CLIENT_REGION_URL)
	Tenancy            string `json:"tenancy"`
	User               string `json:"user"`
	Fingerprint        string `json:"fingerprint"`
}

// APIKeyFile is the PEM key file of the DEFAULT profile of the emulator's OCI config.
func (e Endpoints) APIKeyFile() (string, error) {
	text, err := os.ReadFile(e.OCIConfigFile)
	if err != nil {
		return "", fmt.Errorf("reading the emulator's OCI config: %w", err)
	}
	inDefault := false
	for _, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			inDefault = line == "[DEFAULT]"
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && inDefault && strings.TrimSpace(k) == "key_file" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: the DEFAULT profile has no key_file", e.OCIConfigFile)
}

// Emulator is a running emulator process with its own state directory.
type Emulator struct {
	Endpoints
	stateDir string
	cmd      *exec.Cmd
}

// DefaultBinary returns the emulator path: $OCIKMS_EMULATOR_BIN or
// <repo>/target/release/oci-kms-emulator.
func DefaultBinary() string {
	if bin := os.Getenv("OCIKMS_EMULATOR_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "target", "release", "oci-kms-emulator")
}

// Start launches binary on a free loopback port with a fresh state directory and waits for the
// endpoints line it prints once listening.
func Start(binary string) (*Emulator, error) {
	dir, err := os.MkdirTemp("", "ocikms-emulator-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "--state-dir", dir, "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the emulator %s (build it: cargo build --release -p oci-kms-emulator): %w", binary, err)
	}
	e := &Emulator{stateDir: dir, cmd: cmd}
	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		if scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			e.Stop()
			return nil, fmt.Errorf("the emulator exited at start: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &e.Endpoints); err != nil {
			e.Stop()
			return nil, fmt.Errorf("the emulator printed a bad endpoints line %q: %w", line, err)
		}
	case <-time.After(20 * time.Second):
		e.Stop()
		return nil, fmt.Errorf("the emulator did not start within 20 s: %s", stderr.String())
	}
	return e, nil
}

// Main is a TestMain body: it starts the default emulator (exiting with status 1 if it cannot),
// hands it to use (e.g. to keep it in a package variable), runs the tests, stops the emulator and
// exits with the tests' status.
func Main(m *testing.M, use func(*Emulator)) {
	e, err := Start(DefaultBinary())
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
	use(e)
	code := m.Run()
	e.Stop()
	os.Exit(code)
}

// Home returns a directory to use as $HOME for the wrappers: .oci/config there is the emulator's
// config, which the OCI SDK's default config provider (the official wrapper's API-key auth) reads.
func (e *Emulator) Home() (string, error) {
	home := filepath.Join(e.stateDir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".oci"), 0o700); err != nil {
		return "", err
	}
	link := filepath.Join(home, ".oci", "config")
	if _, err := os.Lstat(link); err == nil {
		return home, nil
	}
	return home, os.Symlink(e.OCIConfigFile, link)
}

// PID is the emulator's process id.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

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
	os.RemoveAll(e.stateDir)
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

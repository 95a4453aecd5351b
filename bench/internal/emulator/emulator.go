// Package emulator starts the repository's OCI KMS emulator for a benchmark run and describes it
// (endpoints, key, API-key profile) to the worker processes.
package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Endpoints is the part of the emulator's endpoints.json the benchmark uses.
type Endpoints struct {
	CryptoEndpoint     string `json:"crypto_endpoint"`
	ManagementEndpoint string `json:"management_endpoint"`
	AdminURL           string `json:"admin_url"`
	KeyID              string `json:"key_id"`
	OCIConfigFile      string `json:"oci_config_file"`
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

// Start launches binary on a free loopback port with a fresh state directory and waits for the
// endpoints line it prints once listening.
func Start(binary string) (*Emulator, error) {
	dir, err := os.MkdirTemp("", "ocikms-bench-emulator-")
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

// Home returns a directory to use as $HOME for the wrappers: .oci/config there is the emulator's
// config, which the OCI SDK's default config provider (the official wrapper's API-key auth) reads.
func (e *Emulator) Home() (string, error) {
	home := filepath.Join(e.stateDir, "bench-home")
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

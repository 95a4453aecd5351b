// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ocikms/ocikms/go-bindings/emulatortest"
)

// The tests drive the plugin binary as OpenBao's KMS catalog does. The binary is
// $OCIKMS_PLUGIN_BIN when set (e.g. the static release build), else built here; with
// OCIKMS_PLUGIN_RACE=1 it is built with the race detector and any race it reports fails the test
// that caused it.
var (
	emu          *emulatortest.Emulator
	pluginBin    string
	pluginSHA256 []byte
)

// environmentUnderTest lists the variables that change the plugin's behaviour; TestMain removes
// them so that each test sets what it needs.
var environmentUnderTest = []string{
	"OCIKMS_WRAPPER_KEY_ID", "VAULT_OCIKMS_SEAL_KEY_ID",
	"OCIKMS_WRAPPER_CRYPTO_ENDPOINT", "VAULT_OCIKMS_CRYPTO_ENDPOINT",
	"OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT", "VAULT_OCIKMS_MANAGEMENT_ENDPOINT",
	"OCI_CONFIG_FILE", "OCI_CLI_PROFILE", "BAO_LOG_LEVEL", "VAULT_LOG_LEVEL",
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	work, err := os.MkdirTemp("", "openbao-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	if pluginBin, err = pluginBinary(work); err != nil {
		fmt.Fprintln(os.Stderr, "plugin binary:", err)
		return 1
	}
	if pluginSHA256, err = fileSHA256(pluginBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, name := range environmentUnderTest {
		os.Unsetenv(name)
	}
	// An empty home: no ~/.oci/config for the plugin to fall back on.
	home := filepath.Join(work, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("HOME", home)

	if emu, err = emulatortest.Start(emulatortest.DefaultBinary()); err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		return 1
	}
	defer emu.Stop()
	return m.Run()
}

// pluginBinary returns $OCIKMS_PLUGIN_BIN, or builds the plugin into dir (with -race when
// OCIKMS_PLUGIN_RACE=1).
func pluginBinary(dir string) (string, error) {
	if bin := os.Getenv("OCIKMS_PLUGIN_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	bin := filepath.Join(dir, pluginName)
	args := []string{"build", "-o", bin}
	if os.Getenv("OCIKMS_PLUGIN_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go %v: %w", args, err)
	}
	return bin, nil
}

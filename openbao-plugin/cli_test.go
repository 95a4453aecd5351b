// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	ocikms "github.com/ocikms/ocikms/go-bindings"
	"github.com/openbao/go-kms-wrapping/plugin/v2"
)

// runBinary runs the plugin binary with args and env (the test's environment plus env) and returns
// its stdout, stderr and exit code.
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(pluginBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", pluginBin, err)
	}
	return out.String(), errOut.String(), code
}

func TestVersionPrintsPluginLibraryAndSDKVersions(t *testing.T) {
	stdout, _, code := runBinary(t, nil, "--version")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, pattern := range []string{
		`(?m)^openbao-plugin-kms-ocikms \d+\.\d+\.\d+\S*$`,
		`(?m)^ocikms library ` + regexp.QuoteMeta(ocikms.Version()) + `$`,
		`(?m)^github\.com/openbao/go-kms-wrapping/plugin/v2 v2\.\d+\.\d+\S*$`,
		`(?m)^github\.com/hashicorp/go-plugin v1\.\d+\.\d+\S*$`,
		`(?m)^go1\.\d+`,
	} {
		if !regexp.MustCompile(pattern).MatchString(stdout) {
			t.Errorf("--version output does not match %s:\n%s", pattern, stdout)
		}
	}
}

// Started by hand, the plugin explains what it is and how to install it (with its own checksum)
// and exits non-zero, whether the magic cookie is missing or wrong.
func TestOutsideOpenBaoExplainsAndFails(t *testing.T) {
	for name, env := range map[string][]string{
		"no cookie":    nil,
		"wrong cookie": {plugin.HandshakeConfig.MagicCookieKey + "=not-the-cookie"},
	} {
		stdout, stderr, code := runBinary(t, env)
		if code == 0 {
			t.Errorf("%s: exit code 0", name)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q, want nothing", name, stdout)
		}
		for _, want := range []string{
			"OpenBao", `plugin "kms" "ocikms"`, `command   = "openbao-plugin-kms-ocikms"`,
			`sha256sum = "` + hex.EncodeToString(pluginSHA256) + `"`, `seal "ocikms"`, "plugin_directory",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: the explanation lacks %q:\n%s", name, want, stderr)
			}
		}
	}
}

func TestHelpExplainsAndSucceeds(t *testing.T) {
	stdout, _, code := runBinary(t, nil, "--help")
	if code != 0 || !strings.Contains(stdout, `plugin "kms" "ocikms"`) {
		t.Fatalf("--help: exit code %d, output:\n%s", code, stdout)
	}
}

func TestUnknownArgumentIsRefused(t *testing.T) {
	_, stderr, code := runBinary(t, nil, "--serve")
	if code != 2 || !strings.Contains(stderr, `unknown argument "--serve"`) {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
}

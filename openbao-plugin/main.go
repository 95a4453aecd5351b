// SPDX-License-Identifier: MPL-2.0

// Command openbao-plugin-kms-ocikms is the OCI KMS auto-unseal of OpenBao 2.6 and later as an
// external KMS plugin (OpenBao 2.7 no longer has a built-in ocikms seal). OpenBao starts it from
// its plugin directory, as declared by a `plugin "kms" "ocikms"` stanza, and drives it over
// go-plugin gRPC; the seal itself is the ocikms library through its Go binding.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/openbao/go-kms-wrapping/plugin/v2"
)

func main() {
	if code, done := runCommandLine(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	plugin.Serve(serveOpts(pluginLogger(os.LookupEnv)))
}

// runCommandLine handles what is not serving OpenBao: --version, --help, unknown arguments, and
// a start outside OpenBao. It returns done = false when the plugin should serve.
func runCommandLine(args []string, stdout, stderr io.Writer) (code int, done bool) {
	for _, arg := range args {
		switch arg {
		case "--version", "-version", "version":
			fmt.Fprint(stdout, versionText())
			return 0, true
		case "--help", "-help", "-h", "help":
			fmt.Fprint(stdout, aboutText())
			return 0, true
		default:
			// "[ERROR]": go-plugin logs such a line of a plugin's stderr at error level in OpenBao.
			fmt.Fprintf(stderr, "[ERROR] %s: unknown argument %q (it takes none; try --version or --help)\n", pluginName, arg)
			return 2, true
		}
	}
	if !startedByOpenBao() {
		fmt.Fprint(stderr, aboutText())
		return 1, true
	}
	return 0, false
}

// startedByOpenBao tells whether OpenBao's KMS plugin catalog started this process: it sets the
// handshake's magic cookie in the environment (go-plugin's own check would print a generic
// message instead of ours).
func startedByOpenBao() bool {
	return os.Getenv(plugin.HandshakeConfig.MagicCookieKey) == plugin.HandshakeConfig.MagicCookieValue
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	ocikms "github.com/ocikms/ocikms/go-bindings"
)

// pluginVersion is the plugin's version; a release build may set it with
// -ldflags "-X main.pluginVersion=...".
var pluginVersion = "0.1.0"

// The modules whose versions --version reports: the OpenBao plugin SDK (it defines the protocol
// OpenBao speaks) and go-plugin.
const (
	sdkModule      = "github.com/openbao/go-kms-wrapping/plugin/v2"
	goPluginModule = "github.com/hashicorp/go-plugin"
)

// versionText is the --version output: the plugin, the ocikms library, the SDK, go-plugin, Go.
func versionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", pluginName, pluginVersion)
	fmt.Fprintf(&b, "ocikms library %s\n", ocikms.Version())
	fmt.Fprintf(&b, "%s %s\n", sdkModule, moduleVersion(sdkModule))
	fmt.Fprintf(&b, "%s %s\n", goPluginModule, moduleVersion(goPluginModule))
	fmt.Fprintf(&b, "%s\n", runtime.Version())
	return b.String()
}

// moduleVersion returns the version of a module linked into this binary, from its build info
// ("unknown" when the binary carries none).
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path != path {
			continue
		}
		if dep.Replace != nil {
			return dep.Replace.Path + " " + dep.Replace.Version
		}
		return dep.Version
	}
	return "unknown"
}

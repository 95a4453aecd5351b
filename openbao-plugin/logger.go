// SPDX-License-Identifier: MPL-2.0

package main

import (
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// The server's log level variables: OpenBao reads BAO_LOG_LEVEL, then VAULT_LOG_LEVEL, and a
// plugin inherits the server's environment.
var logLevelVariables = []string{"BAO_LOG_LEVEL", "VAULT_LOG_LEVEL"}

// pluginLogger is the plugin's logger: hclog JSON on stderr, which go-plugin parses and re-logs
// through the server's logger, dropping lines below the server's level. OpenBao passes no level to
// a KMS plugin, so the plugin uses the level of the server's environment when it names one (fewer
// lines made for nothing), else trace (the server filters).
func pluginLogger(lookupEnv func(string) (string, bool)) hclog.Logger {
	level := hclog.Trace
	for _, name := range logLevelVariables {
		if value, ok := lookupEnv(name); ok {
			if parsed := parseLevel(value); parsed != hclog.NoLevel {
				level = parsed
			}
			break
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Level:      level,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// parseLevel reads a level as OpenBao spells it (trace, debug, notice/info, warn/warning,
// err/error, off); NoLevel when it is none of them.
func parseLevel(value string) hclog.Level {
	aliases := map[string]string{"notice": "info", "warning": "warn", "err": "error"}
	value = strings.ToLower(strings.TrimSpace(value))
	if canonical, ok := aliases[value]; ok {
		value = canonical
	}
	return hclog.LevelFromString(value)
}

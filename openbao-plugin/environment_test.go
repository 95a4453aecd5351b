// SPDX-License-Identifier: MPL-2.0

package main

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
)

// The stanza's env reaches the plugin: here it alone names the key and the OCI config file.
func TestStanzaEnvReachesThePlugin(t *testing.T) {
	p := startPlugin(t, "OCIKMS_WRAPPER_KEY_ID="+emu.KeyID, "OCI_CONFIG_FILE="+emu.OCIConfigFile)
	_, config := p.configured(t, without(sealStanza(), "key_id", "config_file"))
	if config.Metadata["key_id"] != emu.KeyID {
		t.Fatalf("key_id %q, want %q from the stanza env", config.Metadata["key_id"], emu.KeyID)
	}
}

// go-plugin appends the server's environment after the stanza's env, and the last value of a
// variable wins: the server's environment beats the stanza's env.
func TestServerEnvironmentBeatsStanzaEnv(t *testing.T) {
	t.Setenv("OCIKMS_WRAPPER_KEY_ID", emu.KeyID)
	t.Setenv("OCI_CONFIG_FILE", emu.OCIConfigFile)
	p := startPlugin(t, "OCIKMS_WRAPPER_KEY_ID=ocid1.key.oc1..fromthestanza", "OCI_CONFIG_FILE=/nonexistent/stanza/config")
	_, config := p.configured(t, without(sealStanza(), "key_id", "config_file"))
	if config.Metadata["key_id"] != emu.KeyID {
		t.Fatalf("key_id %q, want %q from the server's environment", config.Metadata["key_id"], emu.KeyID)
	}
}

// The seal's own environment variables beat the stanza's key_id (OpenBao never sets
// WithDisallowEnvVars for a seal), as with the Go ocikms seal.
func TestSealEnvironmentVariableBeatsStanzaKeyID(t *testing.T) {
	p := startPlugin(t, "OCIKMS_WRAPPER_KEY_ID=ocid1.key.oc1..fromtheenvironment")
	_, err := p.dispense(t).SetConfig(t.Context(), wrapping.WithConfigMap(sealStanza()))
	if err == nil || !strings.Contains(err.Error(), "fromtheenvironment") {
		t.Fatalf("SetConfig = %v; want a failure naming the key from OCIKMS_WRAPPER_KEY_ID", err)
	}
}

// OpenBao passes no log level to a KMS plugin and go-plugin drops the plugin's lines below the
// server's level; the plugin takes the level from BAO_LOG_LEVEL (else VAULT_LOG_LEVEL) of the
// server's environment, else logs everything (trace) and lets the server filter.
func TestLogLevelFollowsTheServerEnvironment(t *testing.T) {
	// What the library logs at SetConfig, one line per level, as hclog JSON.
	stanza := sealStanza()
	stanza["not_an_ocikms_key"] = "x"
	lines := []struct {
		level hclog.Level
		json  string
	}{
		{hclog.Debug, `{"@level":"debug","@message":"ocikms::ffi::seal: ocikms_seal_init: seal ready`},
		{hclog.Info, `{"@level":"info","@message":"ocikms::auth::api_key: using OCI API key`},
		{hclog.Warn, `{"@level":"warn","@message":"ocikms::config: ignoring unknown ocikms seal config key (check its spelling) key=not_an_ocikms_key"`},
	}
	for name, tc := range map[string]struct {
		env   map[string]string
		level hclog.Level
	}{
		"no level set":                 {nil, hclog.Trace},
		"BAO_LOG_LEVEL=warn":           {map[string]string{"BAO_LOG_LEVEL": "warn"}, hclog.Warn},
		"VAULT_LOG_LEVEL=info":         {map[string]string{"VAULT_LOG_LEVEL": "info"}, hclog.Info},
		"BAO_LOG_LEVEL beats VAULT_":   {map[string]string{"BAO_LOG_LEVEL": "error", "VAULT_LOG_LEVEL": "trace"}, hclog.Error},
		"OpenBao spelling: WARNING":    {map[string]string{"BAO_LOG_LEVEL": "WARNING"}, hclog.Warn},
		"OpenBao spelling: notice":     {map[string]string{"BAO_LOG_LEVEL": "notice"}, hclog.Info},
		"unknown level: everything on": {map[string]string{"BAO_LOG_LEVEL": "loud"}, hclog.Trace},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			p := startPlugin(t)
			p.configured(t, stanza)
			p.client.Kill() // the plugin's stderr is complete once it has exited
			logs := p.stderr.String()
			for _, line := range lines {
				if logged, want := strings.Contains(logs, line.json), line.level >= tc.level; logged != want {
					t.Errorf("%s line logged = %v, want %v; the plugin's stderr:\n%s", line.level, logged, want, logs)
				}
			}
		})
	}
}

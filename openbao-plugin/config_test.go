// SPDX-License-Identifier: MPL-2.0

package main

import (
	"strings"
	"testing"

	wrapping "github.com/openbao/go-kms-wrapping/v2"
)

// OpenBao prints a failed SetConfig as `Error configuring seal "ocikms": <message>` and exits: the
// message must say what is wrong and how to fix it, without gRPC noise.
func TestConfigErrorsAreReadable(t *testing.T) {
	p := startPlugin(t)
	for name, tc := range map[string]struct {
		stanza map[string]string
		want   []string
	}{
		"missing key_id": {
			stanza: without(sealStanza(), "key_id"),
			want:   []string{"key_id is not set", "seal stanza", "OCIKMS_WRAPPER_KEY_ID"},
		},
		"missing crypto_endpoint": {
			stanza: without(sealStanza(), "crypto_endpoint"),
			want:   []string{"crypto_endpoint is not set", "https://"},
		},
		"endpoint that is not a URL": {
			stanza: func() map[string]string { s := sealStanza(); s["crypto_endpoint"] = "kms.example.com"; return s }(),
			want:   []string{"crypto_endpoint", `"kms.example.com"`, "https://"},
		},
		"endpoint with another scheme": {
			stanza: func() map[string]string { s := sealStanza(); s["crypto_endpoint"] = "ftp://kms.example.com"; return s }(),
			want:   []string{"crypto_endpoint", "does not start with https://"},
		},
		"missing API key config file": {
			stanza: func() map[string]string { s := sealStanza(); s["config_file"] = "/nonexistent/oci/config"; return s }(),
			want:   []string{"/nonexistent/oci/config"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.dispense(t).SetConfig(t.Context(), wrapping.WithConfigMap(tc.stanza))
			if err == nil {
				t.Fatal("SetConfig succeeded")
			}
			msg := err.Error()
			t.Logf(`OpenBao prints: Error configuring seal "ocikms": %s`, msg)
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, "rpc error") || strings.Contains(msg, "code = ") {
				t.Errorf("message %q carries gRPC noise", msg)
			}
		})
	}
}

// An endpoint nobody answers on fails SetConfig within the configured timeout, naming the endpoint.
func TestUnreachableEndpointFailsSetConfigReadably(t *testing.T) {
	stanza := sealStanza()
	stanza["crypto_endpoint"] = "http://127.0.0.1:9"
	stanza["management_endpoint"] = "http://127.0.0.1:9"
	stanza["request_timeout"] = "3s"
	stanza["max_retries"] = "0"
	_, err := startPlugin(t).dispense(t).SetConfig(t.Context(), wrapping.WithConfigMap(stanza))
	if err == nil {
		t.Fatal("SetConfig succeeded against a closed port")
	}
	t.Logf(`OpenBao prints: Error configuring seal "ocikms": %s`, err)
	if !strings.Contains(err.Error(), "127.0.0.1:9") {
		t.Errorf("message %q does not name the endpoint", err)
	}
}

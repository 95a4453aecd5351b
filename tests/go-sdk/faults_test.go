// SPDX-License-Identifier: MPL-2.0

package gosdk

import (
	"testing"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/keymanagement"
)

// The SDK's own retry policy sees injected 429/503 as OCI's and recovers; counters record each.
func TestInjectedFaultsAreRetriedBySDK(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := clients(t, p, ep)
	admin(t, ep, "PUT", "/faults", map[string]any{"rules": []any{map[string]any{
		"route": "encrypt",
		"sequence": []any{
			map[string]any{"kind": "status", "status": 429, "retry_after": 1},
			map[string]any{"kind": "status", "status": 503},
		},
	}}}, nil)
	policy := common.DefaultRetryPolicy()
	_, err = c.Encrypt(ctx, keymanagement.EncryptRequest{
		EncryptDataDetails: keymanagement.EncryptDataDetails{KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")},
		RequestMetadata:    common.RequestMetadata{RetryPolicy: &policy},
	})
	if err != nil {
		t.Fatalf("encrypt with retries: %v", err)
	}
	var counters struct {
		Routes map[string]map[string]int `json:"routes"`
	}
	admin(t, ep, "GET", "/counters", nil, &counters)
	enc := counters.Routes["encrypt"]
	if enc["429"] != 1 || enc["503"] != 1 || enc["200"] != 1 {
		t.Fatalf("want one 429, one 503, one 200; counters: %v", enc)
	}
	// Without retries the first injected fault surfaces as OCI's service error.
	admin(t, ep, "PUT", "/faults", map[string]any{"rules": []any{map[string]any{
		"route": "encrypt", "sequence": []any{map[string]any{"kind": "status", "status": 429, "retry_after": 3}}}}}, nil)
	_, err = c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")}})
	expectServiceError(t, err, 429, "TooManyRequests")
}

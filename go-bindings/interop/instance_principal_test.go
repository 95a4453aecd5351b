// SPDX-License-Identifier: MPL-2.0

package interop

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// sdkMetadataBaseURL is where OCI Go SDK v60 (the official wrapper v2.0.9's SDK) reads instance
// metadata; unlike later SDKs it has no OCI_METADATA_BASE_URL override.
const sdkMetadataBaseURL = "http://169.254.169.254/opc/v2"

// metadataRedirect sends the SDK's metadata requests to the emulator's metadata service and every
// other request to the transport it wraps.
type metadataRedirect struct {
	target string
	next   http.RoundTripper
}

func (m metadataRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "169.254.169.254" {
		return m.next.RoundTrip(req)
	}
	url := req.URL.String()
	if !strings.HasPrefix(url, sdkMetadataBaseURL+"/") {
		return nil, fmt.Errorf("unexpected metadata request %s (only %s/... is served by the emulator)", url, sdkMetadataBaseURL)
	}
	redirected := req.Clone(req.Context())
	target, err := req.URL.Parse(m.target + strings.TrimPrefix(url, sdkMetadataBaseURL))
	if err != nil {
		return nil, err
	}
	redirected.URL = target
	redirected.Host = ""
	return m.next.RoundTrip(redirected)
}

// useEmulatorInstanceMetadata points both implementations' instance principal at the emulator:
// ours through OCI_METADATA_BASE_URL, the SDK v60 through http.DefaultTransport (its metadata
// client has no transport of its own), both through OCI_SDK_AUTH_CLIENT_REGION_URL for federation.
func useEmulatorInstanceMetadata(t *testing.T) {
	t.Setenv("OCI_METADATA_BASE_URL", emu.MetadataBaseURL)
	t.Setenv("OCI_SDK_AUTH_CLIENT_REGION_URL", emu.AuthURL)
	original := http.DefaultTransport
	http.DefaultTransport = metadataRedirect{target: emu.MetadataBaseURL, next: original}
	t.Cleanup(func() { http.DefaultTransport = original })
}

// federations is how many instance-principal federation calls the emulator has answered.
func federations(t *testing.T) uint64 {
	t.Helper()
	totals, err := emu.RouteTotals()
	if err != nil {
		t.Fatalf("emulator counters: %v", err)
	}
	return totals["federation"]
}

// TestInteropWithTheOfficialWrapperUsingInstancePrincipal: with auth_type_api_key unset (the
// default of both wrappers) each authenticates as the emulator's compute instance (the emulator
// counts their federation calls), reports principal_type "instance", and each decrypts the
// other's blobs, with and without AAD.
func TestInteropWithTheOfficialWrapperUsingInstancePrincipal(t *testing.T) {
	useEmulatorInstanceMetadata(t)
	config := emu.ConfigMap()
	delete(config, "auth_type_api_key")
	before := federations(t)
	goWrapper, ourWrapper := newPair(t, config, "instance")
	api := newSDK(t)
	crossCheck(t, goWrapper, ourWrapper, api, api.currentVersion(t))
	// The official wrapper builds one instance-principal provider per KMS client (crypto and
	// management), each federating once; ours shares one provider: 2 + 1.
	if got := federations(t) - before; got != 3 {
		t.Fatalf("%d federation calls, want 3 (2 by the official wrapper, 1 by ours)", got)
	}
}

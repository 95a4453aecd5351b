// SPDX-License-Identifier: MPL-2.0

package gosdk

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"
	"github.com/oracle/oci-go-sdk/v65/keymanagement"
)

var ctx = context.Background()

func clients(t *testing.T, p common.ConfigurationProvider, ep Endpoints) (keymanagement.KmsCryptoClient, keymanagement.KmsManagementClient) {
	t.Helper()
	c, err := keymanagement.NewKmsCryptoClientWithConfigurationProvider(p, ep.CryptoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	m, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(p, ep.ManagementEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// roundTrip encrypts with associated data, decrypts, and checks key and version ids.
func roundTrip(t *testing.T, c keymanagement.KmsCryptoClient, keyID string) string {
	t.Helper()
	plain := []byte("hello from the Go SDK")
	aad := map[string]string{"purpose": "test"}
	enc, err := c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: common.String(keyID), Plaintext: common.String(base64.StdEncoding.EncodeToString(plain)), AssociatedData: aad}})
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	if *enc.KeyId != keyID || enc.KeyVersionId == nil || *enc.KeyVersionId == "" || enc.OpcRequestId == nil {
		t.Fatalf("encrypt response lacks ids: %+v", enc.EncryptedData)
	}
	dec, err := c.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{
		KeyId: common.String(keyID), Ciphertext: enc.Ciphertext, AssociatedData: aad}})
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	got, _ := base64.StdEncoding.DecodeString(*dec.Plaintext)
	if !bytes.Equal(got, plain) || *dec.KeyVersionId != *enc.KeyVersionId {
		t.Fatalf("decrypt returned %q (version %s), want %q (version %s)", got, *dec.KeyVersionId, plain, *enc.KeyVersionId)
	}
	// Wrong associated data must not decrypt.
	_, err = c.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{
		KeyId: common.String(keyID), Ciphertext: enc.Ciphertext, AssociatedData: map[string]string{"purpose": "other"}}})
	expectServiceError(t, err, 400, "InvalidParameter")
	return *enc.KeyVersionId
}

func expectServiceError(t *testing.T, err error, status int, code string) {
	t.Helper()
	se, ok := common.IsServiceError(err)
	if !ok {
		t.Fatalf("want service error %d %s, got %v", status, code, err)
	}
	if se.GetHTTPStatusCode() != status || se.GetCode() != code || se.GetOpcRequestID() == "" {
		t.Fatalf("want %d %s with opc-request-id, got %d %s (%q, request id %q)", status, code,
			se.GetHTTPStatusCode(), se.GetCode(), se.GetMessage(), se.GetOpcRequestID())
	}
}

func exerciseKey(t *testing.T, p common.ConfigurationProvider, ep Endpoints) {
	c, m := clients(t, p, ep)
	v1 := roundTrip(t, c, ep.KeyID)
	key, err := m.GetKey(ctx, keymanagement.GetKeyRequest{KeyId: common.String(ep.KeyID)})
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if *key.Id != ep.KeyID || *key.CurrentKeyVersion != v1 || key.LifecycleState != keymanagement.KeyLifecycleStateEnabled || key.Etag == nil {
		t.Fatalf("GetKey: unexpected %+v (etag %v)", key.Key, key.Etag)
	}
	kv, err := m.CreateKeyVersion(ctx, keymanagement.CreateKeyVersionRequest{KeyId: common.String(ep.KeyID)})
	if err != nil {
		t.Fatalf("CreateKeyVersion: %v", err)
	}
	if *kv.Id == v1 || *kv.KeyId != ep.KeyID {
		t.Fatalf("CreateKeyVersion: unexpected %+v", kv.KeyVersion)
	}
	if v2 := roundTrip(t, c, ep.KeyID); v2 != *kv.Id {
		t.Fatalf("after rotation encrypt used %s, want %s", v2, *kv.Id)
	}
	list, err := m.ListKeyVersions(ctx, keymanagement.ListKeyVersionsRequest{KeyId: common.String(ep.KeyID)})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("ListKeyVersions: %v, %d items", err, len(list.Items))
	}
}

func TestAPIKeyPlainPEM(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	exerciseKey(t, p, ep)
}

func TestAPIKeyEncryptedPEM(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "ENCRYPTED", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PrivateRSAKey(); err != nil {
		t.Fatalf("SDK cannot read the encrypted key file: %v", err)
	}
	exerciseKey(t, p, ep)
}

func TestAPIKeyPKCS8PEM(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "PKCS8", "")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := clients(t, p, ep)
	roundTrip(t, c, ep.KeyID)
}

func TestInstancePrincipal(t *testing.T) {
	ep := startEmulator(t, "")
	t.Setenv("OCI_METADATA_BASE_URL", ep.MetadataBaseURL)
	t.Setenv("OCI_SDK_AUTH_CLIENT_REGION_URL", ep.AuthURL)
	p, err := auth.InstancePrincipalConfigurationProvider()
	if err != nil {
		t.Fatalf("instance principal provider: %v", err)
	}
	exerciseKey(t, p, ep)
	var counters struct {
		Routes map[string]map[string]int `json:"routes"`
	}
	admin(t, ep, "GET", "/counters", nil, &counters)
	if counters.Routes["federation"]["200"] != 1 {
		t.Fatalf("want exactly one federation call, counters: %v", counters.Routes)
	}
}

func TestResourcePrincipal(t *testing.T) {
	ep := startEmulator(t, "")
	if ep.ResourcePrincipal == nil {
		t.Fatal("no resource principal in endpoints.json")
	}
	t.Setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
	t.Setenv("OCI_RESOURCE_PRINCIPAL_RPST", ep.ResourcePrincipal.RPST)
	t.Setenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", ep.ResourcePrincipal.PrivatePEM)
	t.Setenv("OCI_RESOURCE_PRINCIPAL_REGION", ep.Region)
	p, err := auth.ResourcePrincipalConfigurationProvider()
	if err != nil {
		t.Fatalf("resource principal provider: %v", err)
	}
	c, _ := clients(t, p, ep)
	roundTrip(t, c, ep.KeyID)
}

func TestOkeWorkloadIdentity(t *testing.T) {
	ep := startEmulator(t, "", "--workload-listen", "127.0.0.1:0")
	sa, err := os.ReadFile(ep.Workload.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK always appends ":12250/resourcePrincipalSessionTokens" to the host; point it at the
	// emulator's port and let the URL fragment absorb the SDK's suffix.
	hostPort := strings.TrimSuffix(strings.TrimPrefix(ep.Workload.Endpoint, "https://"), "/resourcePrincipalSessionTokens")
	host := hostPort + "/resourcePrincipalSessionTokens#"
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", ep.Workload.CAFile)
	t.Setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
	t.Setenv("OCI_RESOURCE_PRINCIPAL_REGION", ep.Region)
	p, err := auth.OkeWorkloadIdentityConfigurationProviderWithServiceAccountTokenProvider(
		auth.NewSuppliedServiceAccountTokenProvider(strings.TrimSpace(string(sa))))
	if err != nil {
		t.Fatalf("workload identity provider: %v", err)
	}
	c, _ := clients(t, p, ep)
	roundTrip(t, c, ep.KeyID)
}

func TestDisabledKeyIsIncorrectState(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	c, m := clients(t, p, ep)
	if _, err := m.DisableKey(ctx, keymanagement.DisableKeyRequest{KeyId: common.String(ep.KeyID)}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	_, err = c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")}})
	expectServiceError(t, err, 409, "IncorrectState")
	if _, err := m.EnableKey(ctx, keymanagement.EnableKeyRequest{KeyId: common.String(ep.KeyID)}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	roundTrip(t, c, ep.KeyID)
}

func TestDeniedPolicyIsNotAuthorizedOrNotFound(t *testing.T) {
	cfg := `
[[tenancies]]
name = "t"
id = "ocid1.tenancy.oc1..denied"
policies = ["allow group KeyAdmins to use keys in tenancy"]
compartments = [{ name = "kms", id = "ocid1.compartment.oc1..kms" }]
users = [{ id = "ocid1.user.oc1..nokeys", groups = ["Readers"] }]
vaults = [{ id = "ocid1.vault.oc1..v", compartment = "kms" }]
keys = [{ id = "ocid1.key.oc1..k", vault = "ocid1.vault.oc1..v", compartment = "kms" }]
`
	ep := startEmulator(t, "", "--config", writeConfig(t, cfg))
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	c, m := clients(t, p, ep)
	_, err = c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")}})
	expectServiceError(t, err, 404, "NotAuthorizedOrNotFound")
	_, err = m.GetKey(ctx, keymanagement.GetKeyRequest{KeyId: common.String(ep.KeyID)})
	expectServiceError(t, err, 404, "NotAuthorizedOrNotFound")
}

func TestBadSignatureIsNotAuthenticated(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := clients(t, p, ep)
	// Change a signed header after signing.
	c.HTTPClient = tamperingClient{}
	_, err = c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")}})
	expectServiceError(t, err, 401, "NotAuthenticated")
}

// tamperingClient changes the signed date header before sending.
type tamperingClient struct{}

func (tamperingClient) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set("Date", "Mon, 01 Jan 2024 00:00:00 GMT")
	return http.DefaultClient.Do(r)
}

func TestUserSessionToken(t *testing.T) {
	ep := startEmulator(t, "")
	p, err := common.ConfigurationProviderForSessionTokenWithProfile(ep.OCIConfigFile, "SESSION", "")
	if err != nil {
		t.Fatal(err)
	}
	exerciseKey(t, p, ep)
}

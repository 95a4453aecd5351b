// SPDX-License-Identifier: MPL-2.0

package gosdk

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/common/auth"
	"github.com/oracle/oci-go-sdk/v65/keymanagement"
)

// crossTenancyConfig is the seed's cross-tenancy example: an instance of tenancy A (in dynamic
// group vault-hosts) uses a key of tenancy B. withEndorse/withAdmit drop either side. The metadata
// service answers the short region code, as OCI's does.
func crossTenancyConfig(withEndorse, withAdmit bool) string {
	a := []string{`"define tenancy tenantB as ocid1.tenancy.oc1..tenantb"`}
	if withEndorse {
		a = append(a, `"endorse dynamic-group vault-hosts to use keys in tenancy tenantB"`)
	}
	b := []string{`"define tenancy tenantA as ocid1.tenancy.oc1..tenanta"`,
		`"define dynamic-group vault-hosts as ocid1.dynamicgroup.oc1..vaulthosts"`}
	if withAdmit {
		b = append(b, `"admit dynamic-group vault-hosts of tenancy tenantA to use keys in compartment kms"`)
	}
	return fmt.Sprintf(`
region = "us-phoenix-1"
metadata_region = "phx"

[ready]
key = "ocid1.key.oc1..crosskey"

[[tenancies]]
name = "tenantA"
id = "ocid1.tenancy.oc1..tenanta"
policies = [%s]
users = [{ id = "ocid1.user.oc1..alice" }]
dynamic_groups = [{ name = "vault-hosts", id = "ocid1.dynamicgroup.oc1..vaulthosts", members = ["ocid1.instance.oc1..vault1"] }]
instances = [{ id = "ocid1.instance.oc1..vault1" }]

[[tenancies]]
name = "tenantB"
id = "ocid1.tenancy.oc1..tenantb"
policies = [%s]
compartments = [{ name = "kms", id = "ocid1.compartment.oc1..kms" }]
vaults = [{ id = "ocid1.vault.oc1..v", compartment = "kms" }]
keys = [{ id = "ocid1.key.oc1..crosskey", vault = "ocid1.vault.oc1..v", compartment = "kms" }]
`, strings.Join(a, ", "), strings.Join(b, ", "))
}

func instancePrincipal(t *testing.T, ep Endpoints) common.ConfigurationProvider {
	t.Helper()
	t.Setenv("OCI_METADATA_BASE_URL", ep.MetadataBaseURL)
	t.Setenv("OCI_SDK_AUTH_CLIENT_REGION_URL", ep.AuthURL)
	p, err := auth.InstancePrincipalConfigurationProvider()
	if err != nil {
		t.Fatalf("instance principal provider: %v", err)
	}
	return p
}

func TestCrossTenancyPolicyAllows(t *testing.T) {
	ep := startEmulator(t, "", "--config", writeConfig(t, crossTenancyConfig(true, true)))
	c, m := clients(t, instancePrincipal(t, ep), ep)
	roundTrip(t, c, ep.KeyID)
	if _, err := m.GetKey(ctx, keymanagement.GetKeyRequest{KeyId: common.String(ep.KeyID)}); err != nil {
		t.Fatalf("GetKey (use includes read): %v", err)
	}
	_, err := m.CreateKeyVersion(ctx, keymanagement.CreateKeyVersionRequest{KeyId: common.String(ep.KeyID)})
	expectServiceError(t, err, 404, "NotAuthorizedOrNotFound")
}

func TestCrossTenancyPolicyNeedsBothSides(t *testing.T) {
	for _, side := range []struct {
		name           string
		endorse, admit bool
	}{{"no endorse", false, true}, {"no admit", true, false}} {
		t.Run(side.name, func(t *testing.T) {
			ep := startEmulator(t, "", "--config", writeConfig(t, crossTenancyConfig(side.endorse, side.admit)))
			c, _ := clients(t, instancePrincipal(t, ep), ep)
			_, err := c.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
				KeyId: common.String(ep.KeyID), Plaintext: common.String("AAAA")}})
			expectServiceError(t, err, 404, "NotAuthorizedOrNotFound")
		})
	}
}

func TestTLSWithWrittenCA(t *testing.T) {
	ep := startEmulator(t, "", "--tls")
	if !strings.HasPrefix(ep.CryptoEndpoint, "https://") {
		t.Fatalf("crypto endpoint %s is not https", ep.CryptoEndpoint)
	}
	var raw struct {
		CACert string `json:"ca_cert"`
	}
	admin(t, ep, "GET", "/endpoints", nil, &raw)
	pemBytes, err := os.ReadFile(raw.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("ca_cert holds no certificate")
	}
	p, err := common.ConfigurationProviderFromFileWithProfile(ep.OCIConfigFile, "DEFAULT", "")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := clients(t, p, ep)
	c.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	roundTrip(t, c, ep.KeyID)
}

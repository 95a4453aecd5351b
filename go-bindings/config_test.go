// SPDX-License-Identifier: MPL-2.0

package ocikms

import (
	"encoding/json"
	"reflect"
	"testing"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
)

func TestConfigJSONFollowsTheGoWrapperOptions(t *testing.T) {
	opts, err := getOpts(
		wrapping.WithConfigMap(map[string]string{"keyID": "ocid1.key.map", "crypto_endpoint": "https://map", "auth_type_api_key": "false"}),
		wrapping.WithKeyId("ocid1.key.option"),
		wrapping.WithDisallowEnvVars(true),
		WithCryptoEndpoint("https://option"),
		WithAuthTypeApiKey(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, err := configJSON(opts)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"key_id":            "ocid1.key.option",
		"crypto_endpoint":   "https://option",
		"auth_type_api_key": true,
		"disallow_env_vars": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config_json %v, want %v", got, want)
	}
}

func TestCodeNamesComeFromTheLibrary(t *testing.T) {
	if CodeNotAuthorizedOrNotFound.String() != "not_authorized_or_not_found" || Code(999).String() != "unknown" {
		t.Fatalf("names: %s, %s", CodeNotAuthorizedOrNotFound, Code(999))
	}
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// pluginName is the binary's name, the `command` of the plugin stanza.
const pluginName = "openbao-plugin-kms-ocikms"

// aboutText explains what the binary is and how to install it, with its own SHA-256 filled in.
func aboutText() string {
	return fmt.Sprintf(`%[1]s is OpenBao's OCI KMS auto-unseal as a KMS plugin (OpenBao 2.6 or later).
OpenBao starts it itself: it is not a command to run by hand.

To install it:
  1. Copy this binary into OpenBao's plugin directory, e.g. /etc/openbao/plugins/%[1]s
     (owned by OpenBao's user, not writable by others).
  2. Add to the server configuration:

       plugin_directory = "/etc/openbao/plugins"

       plugin "kms" "ocikms" {
         command   = "%[1]s"
         sha256sum = "%[2]s"
         # env     = ["OCI_CONFIG_FILE=/etc/openbao/oci/config"]   # optional; the server's own
         #                                                        # environment takes precedence
       }

       seal "ocikms" {
         key_id              = "ocid1.key.oc1..."
         crypto_endpoint     = "https://<vault>-crypto.kms.<region>.oraclecloud.com"
         management_endpoint = "https://<vault>-management.kms.<region>.oraclecloud.com"
         # auth_type_api_key = "true"   # API key from the OCI config file; default: instance principal
       }

  3. Restart OpenBao.

Run %[1]s --version for the plugin, library and SDK versions.
`, pluginName, ownChecksum())
}

// ownChecksum returns the hex SHA-256 of the running executable, or a placeholder telling how to
// compute it.
func ownChecksum() string {
	path, err := os.Executable()
	if err != nil {
		return "<output of: sha256sum " + pluginName + ">"
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return "<output of: sha256sum " + pluginName + ">"
	}
	return hex.EncodeToString(sum)
}

// fileSHA256 returns the SHA-256 of a file's content (what a plugin stanza's sha256sum holds).
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

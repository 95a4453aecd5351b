// SPDX-License-Identifier: MPL-2.0

// Command vault is stock HashiCorp Vault (github.com/hashicorp/vault, the version go.mod
// requires) with its official Go ocikms seal: this file is Vault's own main.go, go.mod has the
// same requirements as ../go.mod without the replacement of the seal. scripts/build-vault.sh stock
// builds it (target/vault/vault-stock) for the cross tests against ours.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}

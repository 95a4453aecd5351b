// SPDX-License-Identifier: MPL-2.0

// Command vault is stock HashiCorp Vault (github.com/hashicorp/vault, the version go.mod
// requires) built as it is: this file is Vault's own main.go. The one difference is in go.mod:
// github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 is replaced by ../vault-shim, so the
// `seal "ocikms"` stanza is served by the ocikms Rust library. Build it with
// scripts/build-vault.sh (target/vault/vault); stock/ builds the same Vault without the replace.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}

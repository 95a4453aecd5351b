// SPDX-License-Identifier: MPL-2.0

// Package interop holds the interoperability tests between this project's Go binding and the
// official github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 wrapper (and the OCI Go SDK it
// uses), run against the same emulator key. It is its own module so that the official wrapper
// and the OCI SDK never become dependencies of the binding.
package interop

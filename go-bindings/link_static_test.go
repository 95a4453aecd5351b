// SPDX-License-Identifier: MPL-2.0

//go:build !ocikms_shared

package ocikms

// linkedShared: this build links the static library.
const linkedShared = false

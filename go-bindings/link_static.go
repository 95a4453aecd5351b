// SPDX-License-Identifier: MPL-2.0

//go:build !ocikms_shared && !ocikms_musl

package ocikms

// Default: link the static library by its full path, so the linker cannot pick the shared
// library beside it and the Go binary needs no libocikms.so at run time. The system libraries
// are what `cargo rustc --release -- --print native-static-libs` reports on Linux.
// Build the library first: `cargo build --release -p ocikms` in the repository root.

/*
#cgo LDFLAGS: ${SRCDIR}/../target/release/libocikms.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
*/
import "C"

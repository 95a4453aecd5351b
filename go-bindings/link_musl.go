// SPDX-License-Identifier: MPL-2.0

//go:build ocikms_musl && !ocikms_shared

package ocikms

// With the build tag ocikms_musl: link the static library built for the Rust target
// x86_64-unknown-linux-musl (with CC=musl-gcc, for a fully static binary; see
// scripts/build-plugin.sh). `cargo rustc --target x86_64-unknown-linux-musl -p ocikms --lib
// --crate-type staticlib -- --print native-static-libs` reports `-lunwind -lc`: musl's libc.a
// holds pthread, dl, rt, m and util, and LLVM's libunwind.a (shipped with the Rust target, which
// musl-gcc lacks) is expected beside the library and linked by path.

/*
#cgo LDFLAGS: ${SRCDIR}/../target/x86_64-unknown-linux-musl/release/libocikms.a ${SRCDIR}/../target/x86_64-unknown-linux-musl/release/libunwind.a -lc
*/
import "C"

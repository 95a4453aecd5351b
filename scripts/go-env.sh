# SPDX-License-Identifier: MPL-2.0
# Sourced (POSIX sh), with OCIKMS_ROOT set to the repository root, before building or testing Go
# code that links target/release/libocikms.a: the go command does not notice when a library named
# in `#cgo LDFLAGS` changes, so it would reuse a cached binary or test binary linked with the
# previous library. Stamping the library's digest into the link flags makes every change relink.
ocikms_lib="${OCIKMS_ROOT:-.}/target/release/libocikms.a"
if [ -f "$ocikms_lib" ]; then
  GOFLAGS="${GOFLAGS:+$GOFLAGS }-ldflags=-X=main.ocikmsLibraryDigest=$(sha256sum "$ocikms_lib" | cut -c1-16)"
  export GOFLAGS
fi
unset ocikms_lib

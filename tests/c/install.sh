#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# `make install` into a temporary prefix, then builds and runs a C program with nothing but
# `pkg-config --cflags --libs ocikms` (shared: the binary must need libocikms.so.<major>, the
# SONAME) and `pkg-config --cflags --libs ocikms-static` (static: no libocikms at run time).
# Needs target/release/libocikms.{a,so} (make build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CC=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
"$ROOT/scripts/install.sh" "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
major=$(sed -n 's/^#define OCIKMS_VERSION_MAJOR \([0-9]*\)/\1/p' "$prefix/include/ocikms.h")

# shellcheck disable=SC2046
"$CC" -o "$work/shared" "$ROOT/tests/c/installed.c" $(pkg-config --cflags --libs ocikms)
needed=$(readelf -d "$work/shared" | sed -n 's/.*Shared library: \[\(libocikms[^]]*\)\]/\1/p')
[ "$needed" = "libocikms.so.$major" ] || { echo "install test: the program needs '$needed', expected libocikms.so.$major" >&2; exit 1; }
LD_LIBRARY_PATH="$prefix/lib" "$work/shared"

# shellcheck disable=SC2046
"$CC" -o "$work/static" "$ROOT/tests/c/installed.c" $(pkg-config --cflags --libs ocikms-static)
if readelf -d "$work/static" | grep -q 'libocikms'; then
  echo "install test: the static program still needs libocikms at run time" >&2; exit 1
fi
"$work/static"
echo "install test: 2 passed, 0 failed"

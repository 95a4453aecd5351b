#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds the OpenBao KMS plugin fully static (Rust x86_64-unknown-linux-musl + cgo with musl-gcc),
# stripped, and writes its sha256 beside it:
#   target/openbao-plugin/openbao-plugin-kms-ocikms
#   target/openbao-plugin/openbao-plugin-kms-ocikms.sha256   (the 64 hex digits, nothing else)
# The binary has no dynamic dependency, so it runs in OpenBao's distroless/static and Alpine images.
# Installs its toolchain pieces from the registries (rustup's musl target, Debian's musl-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
musl_target=x86_64-unknown-linux-musl
out_dir="$root/target/openbao-plugin"
plugin="$out_dir/openbao-plugin-kms-ocikms"

if ! command -v musl-gcc >/dev/null 2>&1; then
  echo "build-plugin: installing musl-tools from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq musl-tools >/dev/null
fi
if ! rustup target list --installed | grep -qx "$musl_target"; then
  echo "build-plugin: adding the Rust target $musl_target"
  rustup target add "$musl_target" >/dev/null
fi

# The library as a static archive only (no cdylib: a musl cdylib is neither needed nor wanted).
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo rustc --release --locked --quiet --target "$musl_target" -p ocikms --lib --crate-type staticlib
musl_release="$root/target/$musl_target/release"
# Rust's musl std links LLVM's libunwind (`native-static-libs: -lunwind -lc`); musl-gcc has none,
# so the copy shipped with the Rust target sits beside the library, where the ocikms_musl build
# tag of the Go binding links it by path.
cp "$(rustc --print sysroot)/lib/rustlib/$musl_target/lib/self-contained/libunwind.a" "$musl_release/"

mkdir -p "$out_dir"
(
  cd openbao-plugin
  export GONOSUMDB='github.com/openbao/*' CGO_ENABLED=1 CC=musl-gcc
  # netgo/osusergo: Go's resolver and user lookups, no libc NSS at run time.
  go build -trimpath -tags 'ocikms_musl netgo osusergo' \
    -ldflags "-s -w -linkmode external -extldflags -static" \
    -o "$plugin" .
)

if ! file "$plugin" | grep -q 'statically linked'; then
  file "$plugin" >&2
  echo "build-plugin: $plugin is not statically linked" >&2
  exit 1
fi
if ldd "$plugin" >/dev/null 2>&1; then
  ldd "$plugin" >&2
  echo "build-plugin: ldd found dynamic dependencies in $plugin" >&2
  exit 1
fi
# distroless/static has no libc, no /etc and no shell: the binary must start in an empty root.
if [ "$(id -u)" = 0 ]; then
  empty_root="$(mktemp -d)"
  trap 'rm -rf "$empty_root"' EXIT
  cp "$plugin" "$empty_root/"
  if ! chroot "$empty_root" /openbao-plugin-kms-ocikms --version >/dev/null; then
    echo "build-plugin: $plugin does not start in an empty root (as in distroless/static)" >&2
    exit 1
  fi
fi
sha256sum "$plugin" | cut -d' ' -f1 > "$plugin.sha256"
echo "build-plugin: $plugin ($(stat -c %s "$plugin") bytes, static, stripped) sha256 $(cat "$plugin.sha256")"

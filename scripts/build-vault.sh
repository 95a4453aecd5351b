#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Builds stock HashiCorp Vault (github.com/hashicorp/vault v1.21.4 from the Go module proxy, no
# edited file) for the real-server tests and for use:
#
#   scripts/build-vault.sh [ours]   → target/vault/vault        the ocikms seal is this repository's
#                                     (vault-build/: the official wrappers/ocikms/v2 module
#                                     replaced by vault-shim/, cgo, libocikms.a linked in)
#   scripts/build-vault.sh stock    → target/vault/vault-stock  the official Go seal
#                                     (vault-build/stock/: same versions, no replacement)
#   scripts/build-vault.sh all      → both, ours first
#
#   scripts/build-vault.sh sdk      → only target/vault/sdk (needed before `go mod tidy` there)
#
# Vault 1.21.4 was built against its in-tree sdk/, which is neither in the module zip nor
# published. Both modules replace github.com/hashicorp/vault/sdk with target/vault/sdk: the
# published v0.21.0 (its hash checked against the one pinned below), with
# vault-build/sdk-v0.21.0.patch applied (two hunks; vault-build/README.md explains them).
# Nothing else is patched: Vault and every other module come as the proxy serves them.
#
# Incremental: the go command's build cache, and go build leaves an up-to-date output alone. For
# ours, scripts/go-env.sh stamps the digest of target/release/libocikms.a into the link flags, so
# a rebuilt library relinks. Stripped (-s -w) and -trimpath, as HashiCorp's release builds.
# Both variants compile with the same settings (CGO_ENABLED=1, the same tags and -trimpath) and
# the same module versions, so stock reuses ours' cached packages and compiles only the 30 that
# import the seal. With CGO_ENABLED=0 for stock, ~1400 of Vault's ~2600 packages compiled again
# (cgo changes net and os/user, which most import); with Vault's own go-kms-wrapping/v2 and
# protobuf versions, ~600. The official seal is pure Go either way.
# Afterwards `go version -m` must show the shim in place of the official wrapper and no
# github.com/oracle/oci-go-sdk/v60 (the Go seal's SDK) in ours, and the reverse in stock.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
variant="${1:-ours}"
out_dir="$root/target/vault"
sdk_patch="$root/vault-build/sdk-v0.21.0.patch"
sdk_version=v0.21.0
sdk_sum="h1:3gDqdKLhHY2ekmCEE9EeesoNpgsReq2bo/SpMqvBYdw="   # sum.golang.org's hash of sdk v0.21.0
sdk_out="$out_dir/sdk"
# Vault's own release build sets these; GitCommit is left empty (the module zip has no git data).
build_date=2026-03-05T01:40:05Z   # the v1.21.4 tag's time, from the module proxy
version_ldflags="-X github.com/hashicorp/vault/version.BuildDate=$build_date"

# target/vault/sdk: sdk v0.21.0 from the module cache (downloaded and checked against
# sum.golang.org by the go command, then against the hash above) with the patch applied. Rewritten
# on every run; the go command's cache keys on file contents, so unchanged files rebuild nothing.
prepare_sdk() {
  local tmp download dir sum
  tmp="$(mktemp -d)"
  download="$(cd "$tmp" && GOFLAGS=-mod=mod GOWORK=off go mod download -json \
    "github.com/hashicorp/vault/sdk@$sdk_version")"
  rmdir "$tmp"
  dir="$(echo "$download" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  sum="$(echo "$download" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')"
  if [ "$sum" != "$sdk_sum" ] || [ ! -d "$dir" ]; then
    echo "build-vault: github.com/hashicorp/vault/sdk@$sdk_version has hash '$sum', expected $sdk_sum" >&2
    echo "$download" >&2
    exit 1
  fi
  mkdir -p "$out_dir"
  rm -rf "$sdk_out.new"
  cp -r "$dir" "$sdk_out.new"
  chmod -R u+w "$sdk_out.new"
  patch --quiet --forward --batch -p1 -d "$sdk_out.new" < "$sdk_patch"
  rm -rf "$sdk_out"
  mv "$sdk_out.new" "$sdk_out"
}

case "$variant" in
  sdk)
    prepare_sdk
    echo "build-vault: ${sdk_out#"$root"/} = sdk $sdk_version + ${sdk_patch#"$root"/}"
    exit 0
    ;;
  all)
    "$0" ours
    exec "$0" stock
    ;;
  ours)
    module_dir="$root/vault-build"
    output="$out_dir/vault"
    ;;
  stock)
    module_dir="$root/vault-build/stock"
    output="$out_dir/vault-stock"
    ;;
  *)
    echo "usage: $0 [ours|stock|all|sdk]" >&2
    exit 2
    ;;
esac
export GOWORK=off GOFLAGS="${GOFLAGS:-}"

extra_ldflags=""
if [ "$variant" = ours ]; then
  if [ ! -f "$root/target/release/libocikms.a" ]; then
    echo "build-vault: target/release/libocikms.a is missing: run cargo build --release -p ocikms" >&2
    exit 1
  fi
  # go-env.sh appends -ldflags=-X=main.ocikmsLibraryDigest=<digest> to GOFLAGS; a command-line
  # -ldflags would replace it, so it is moved into ours.
  OCIKMS_ROOT="$root" . scripts/go-env.sh
  kept=""
  for flag in $GOFLAGS; do
    case "$flag" in
      -ldflags=*) extra_ldflags="$extra_ldflags ${flag#-ldflags=}" ;;
      *) kept="$kept $flag" ;;
    esac
  done
  GOFLAGS="${kept# }"
fi

prepare_sdk
cd "$module_dir"

echo "build-vault: building $variant → ${output#"$root"/}"
started=$(date +%s)
CGO_ENABLED=1 go build -trimpath -tags vault \
  -ldflags "-s -w $version_ldflags$extra_ldflags" -o "$output" .
elapsed=$(( $(date +%s) - started ))

# What went into the binary.
info="$(go version -m "$output")"
fail() { echo "build-vault: $output: $*" >&2; echo "$info" | grep -E 'ocikms|oci-go-sdk' >&2 || true; exit 1; }
official_line="$(echo "$info" | grep -A1 -E $'^\tdep\tgithub.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2\t' || true)"
if [ "$variant" = ours ]; then
  echo "$official_line" | grep -qE $'^\t=>\t\\.\\./vault-shim\t' ||
    fail "the official wrappers/ocikms/v2 module is linked without the => ../vault-shim replacement"
  ! echo "$info" | grep -qE $'^\tdep\tgithub.com/oracle/oci-go-sdk/v60\t' ||
    fail "github.com/oracle/oci-go-sdk/v60 (the official Go seal's SDK) is linked"
  echo "$info" | grep -qE $'^\tdep\tgithub.com/ocikms/ocikms/go-bindings\t' ||
    fail "the ocikms Go binding is not linked"
else
  [ -n "$official_line" ] && ! echo "$official_line" | grep -q '=>' ||
    fail "the stock build does not link the official wrappers/ocikms/v2"
  echo "$info" | grep -qE $'^\tdep\tgithub.com/oracle/oci-go-sdk/v60\t' ||
    fail "the stock build does not link github.com/oracle/oci-go-sdk/v60"
fi
others="$(echo "$info" | sed -n -E $'s/^\tdep\t(github.com\\/oracle\\/oci-go-sdk[^\t]*)\t([^\t]*).*/\\1 \\2/p' | tr '\n' ' ')"
echo "build-vault: $output ($(stat -c %s "$output") bytes, ${elapsed}s);" \
  "OCI SDKs linked: ${others:-none}"

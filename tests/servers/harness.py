# SPDX-License-Identifier: MPL-2.0
"""Drives real Vault-family servers (OpenBao's `bao`, HashiCorp's `vault`) against the emulator.

Shared by the real-server suites (tests/servers/*_suite.py): the OCI KMS emulator, a server node
with raft storage on loopback listeners, its CLI, and the step runner (`Step`, `Suite.run`; the
suites' `--steps N,N` picks steps) that prints one line per step with its timing and a closing
`N passed, N failed` line. Every process started here is stopped by `Cleanup`, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "target" / "release"


class StepFailed(AssertionError):
    """A suite step's assertion did not hold."""


def check(condition: bool, message: str) -> None:
    """Fails the current step with `message` unless `condition` holds."""
    if not condition:
        raise StepFailed(message)


def wait_for(what: str, probe: Callable[[], object], timeout: float = 60.0, every: float = 0.25):
    """Returns the first truthy result of `probe` within `timeout` seconds, else fails."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except StepFailed:
            raise
        except Exception as error:  # probes may fail while a server starts
            last_error = error
        time.sleep(every)
    raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}"
                     + (f" (last error: {last_error})" if last_error else ""))


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cleanup:
    """Stops every registered process (SIGTERM, then SIGKILL) and removes temporary folders."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.folders: list[Path] = []

    def process(self, proc: subprocess.Popen) -> subprocess.Popen:
        self.processes.append(proc)
        return proc

    def folder(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self.folders.append(path)
        return path

    def close(self) -> None:
        for proc in reversed(self.processes):
            stop_process(proc)
        keep = os.environ.get("OCIKMS_KEEP_SERVER_DIRS") == "1"
        for path in self.folders:
            if keep:
                print(f"kept {path}", file=sys.stderr)
            else:
                shutil.rmtree(path, ignore_errors=True)


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Emulator:
    """The repository's OCI KMS emulator on a loopback port with its own state folder."""

    def __init__(self, cleanup: Cleanup, binary: Path | None = None) -> None:
        binary = binary or Path(os.environ.get("OCIKMS_EMULATOR_BIN", RELEASE / "oci-kms-emulator"))
        self.state_dir = cleanup.folder("ocikms-emu-")
        self.log = open(self.state_dir / "emulator.log", "w")
        self.proc = cleanup.process(subprocess.Popen(
            [str(binary), "--state-dir", str(self.state_dir), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self.log, text=True))
        line = self.proc.stdout.readline()
        check(bool(line), f"the emulator exited at start: see {self.state_dir}/emulator.log")
        self.endpoints = json.loads(line)

    def __getitem__(self, name: str) -> str:
        return self.endpoints[name]

    def admin(self, method: str, path: str, body: object | None = None) -> object:
        """Calls the emulator's admin API (faults, counters) and returns the decoded answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self["admin_url"] + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def set_faults(self, plan: dict) -> None:
        self.admin("PUT", "/faults", plan)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def counters(self) -> dict:
        return self.admin("GET", "/counters")

    def instance_principal_env(self) -> dict[str, str]:
        """Environment that points instance-principal auth at the emulator's metadata service."""
        return {"OCI_METADATA_BASE_URL": self["metadata_base_url"],
                "OCI_SDK_AUTH_CLIENT_REGION_URL": self["auth_url"]}


class EmulatorWorld:
    """The emulator a suite's steps share, and its key's seal settings."""

    def __init__(self, cleanup: Cleanup) -> None:
        self.cleanup = cleanup
        self.emu = Emulator(cleanup)
        self.endpoints = {"key_id": self.emu["key_id"], "crypto_endpoint": self.emu["crypto_endpoint"],
                          "management_endpoint": self.emu["management_endpoint"]}


@dataclass
class SealStanza:
    """The server config's seal (and, for a plugin, its `plugin "kms"` stanza)."""

    kind: str = "ocikms"
    config: dict[str, str] = field(default_factory=dict)
    disabled: bool = False
    plugin_binary: Path | None = None
    plugin_env: list[str] = field(default_factory=list)

    def hcl(self, plugin_dir: Path) -> str:
        text = ""
        if self.plugin_binary is not None:
            name = self.plugin_binary.name
            digest = Path(str(self.plugin_binary) + ".sha256").read_text().strip()
            target = plugin_dir / name
            if not target.exists():
                shutil.copy(self.plugin_binary, target)
                target.chmod(0o755)
            env = ", ".join(json.dumps(e) for e in self.plugin_env)
            text += (f'plugin "kms" "{self.kind}" {{\n  command = "{name}"\n'
                     f'  sha256sum = "{digest}"\n  env = [{env}]\n}}\n')
        body = "".join(f"  {k} = {json.dumps(v)}\n" for k, v in self.config.items())
        if self.disabled:
            body += '  disabled = "true"\n'
        return text + f'seal "{self.kind}" {{\n{body}}}\n'


class Node:
    """One server process (bao or vault) with raft storage and a loopback listener."""

    # Seconds between probes while start() and wait_unsealed() wait (lower it to time restarts
    # more finely).
    poll_interval = 0.25

    def __init__(self, cleanup: Cleanup, binary: Path, name: str, env_prefix: str,
                 base_env: dict[str, str] | None = None) -> None:
        self.cleanup = cleanup
        self.binary = binary
        self.name = name
        self.env_prefix = env_prefix  # "BAO" or "VAULT"
        self.dir = cleanup.folder(f"ocikms-{name}-")
        (self.dir / "raft").mkdir()
        (self.dir / "plugins").mkdir()
        self.port, self.cluster_port = free_port(), free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.base_env = dict(base_env or {})
        self.proc: subprocess.Popen | None = None
        self.root_token: str | None = None
        self.starts = 0

    def config_text(self, seal: SealStanza | None, retry_join: list["Node"]) -> str:
        joins = "".join(f'  retry_join {{ leader_api_addr = "{n.addr}" }}\n' for n in retry_join)
        return (
            f'disable_mlock = true\nui = false\nlog_level = "debug"\n'
            f'api_addr = "{self.addr}"\ncluster_addr = "https://127.0.0.1:{self.cluster_port}"\n'
            f'plugin_directory = "{self.dir / "plugins"}"\n'
            f'listener "tcp" {{\n  address = "127.0.0.1:{self.port}"\n'
            f'  cluster_address = "127.0.0.1:{self.cluster_port}"\n  tls_disable = true\n}}\n'
            f'storage "raft" {{\n  path = "{self.dir / "raft"}"\n  node_id = "{self.name}"\n{joins}}}\n'
            + (seal.hcl(self.dir / "plugins") if seal else "")
        )

    @property
    def config_path(self) -> Path:
        return self.dir / "server.hcl"

    @property
    def log_path(self) -> Path:
        return self.dir / f"server-{self.starts}.log"

    def start(self, seal: SealStanza | None, retry_join: list["Node"] = (),
              extra_env: dict[str, str] | None = None) -> None:
        """Writes the config and starts the server (returns once its API answers)."""
        check(self.proc is None or self.proc.poll() is not None, f"{self.name} is already running")
        self.config_path.write_text(self.config_text(seal, list(retry_join)))
        self.starts += 1
        env = {**os.environ, **self.base_env, **(extra_env or {})}
        self.log = open(self.log_path, "w")
        self.proc = self.cleanup.process(subprocess.Popen(
            [str(self.binary), "server", f"-config={self.config_path}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env))
        wait_for(f"{self.name}'s API", lambda: self.health() is not None or self._died(), 60,
                 self.poll_interval)
        self._died()

    def _died(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise StepFailed(f"{self.name} exited with {self.proc.returncode}:\n" + self.log_tail())
        return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def children(self, name: str) -> list[int]:
        """PIDs of this server's child processes whose executable is called `name`."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                exe = Path(os.readlink(entry / "exe")).name
            except (OSError, IndexError, ValueError):
                continue
            if self.proc is not None and ppid == self.proc.pid and exe == name:
                pids.append(int(entry.name))
        return pids

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def health(self) -> dict | None:
        """`/v1/sys/health` (answers with any status while the server runs), or None."""
        request = urllib.request.Request(self.addr + "/v1/sys/health?standbyok=true&perfstandbyok=true"
                                         "&sealedcode=200&uninitcode=200&standbycode=200")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            return None

    def cli(self, *args: str, token: str | None = None, check_rc: bool = True,
            input_text: str | None = None) -> subprocess.CompletedProcess:
        """Runs the server binary's CLI against this node."""
        env = {**os.environ, f"{self.env_prefix}_ADDR": self.addr}
        if token or self.root_token:
            env[f"{self.env_prefix}_TOKEN"] = token or self.root_token
        result = subprocess.run([str(self.binary), *args], env=env, capture_output=True, text=True,
                                input=input_text, timeout=120)
        if check_rc and result.returncode != 0:
            raise StepFailed(f"`{self.binary.name} {' '.join(args)}` on {self.name} failed "
                             f"({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
        return result


    def status(self) -> dict:
        return json.loads(self.cli("status", "-format=json", check_rc=False).stdout)

    def wait_unsealed(self, timeout: float = 90.0) -> dict:
        """Waits until the node reports unsealed (and active or standby), then returns its status."""
        def probe():
            self._died()
            health = self.health()
            return health if health and health.get("initialized") and not health.get("sealed") else None
        wait_for(f"{self.name} to unseal", probe, timeout, self.poll_interval)
        return self.status()

    def wait_sealed(self, timeout: float = 60.0) -> dict:
        def probe():
            self._died()
            health = self.health()
            return health if health and health.get("sealed") else None
        return wait_for(f"{self.name} to come up sealed", probe, timeout)

    def init_autoseal(self) -> dict:
        """`operator init -recovery-shares=3 -recovery-threshold=2`; keeps the root token."""
        out = json.loads(self.cli("operator", "init", "-recovery-shares=3", "-recovery-threshold=2",
                                  "-format=json").stdout)
        self.root_token = out["root_token"]
        return out

    def init_shamir(self) -> dict:
        out = json.loads(self.cli("operator", "init", "-key-shares=1", "-key-threshold=1",
                                  "-format=json").stdout)
        self.root_token = out["root_token"]
        return out

    def wait_active(self, timeout: float = 60.0) -> None:
        """Waits until this node is the active node and serves requests."""
        def probe():
            health = self.health()
            return health and not health.get("sealed") and not health.get("standby")
        wait_for(f"{self.name} to become active", probe, timeout)



@dataclass(frozen=True)
class Step:
    """One step of a suite. `label` starts with the step's id (`2a.`, `b.`); its group is the id
    without the dot and a letter suffix (`2`, `b`), which `--steps` selects. A step is skipped when
    the step it `needs` (an id) did not pass; a failed `gate` ends the suite, since nothing after it
    would mean anything."""

    label: str
    body: Callable[[object, dict], str | None]
    needs: str | None = None
    gate: bool = False

    @property
    def id(self) -> str:
        return self.label.split(" ", 1)[0]

    @property
    def group(self) -> str:
        number = self.id.rstrip(".")
        return number.rstrip("abcdefghijklmnopqrstuvwxyz") or number


def parse_steps(steps: list[Step], argv: list[str] | None = None) -> set[str] | None:
    """The groups named by `--steps 1,2` on the command line, or None (every step)."""
    groups = list(dict.fromkeys(step.group for step in steps))
    parser = argparse.ArgumentParser(description="Runs the suite's steps against the emulator.")
    parser.add_argument("--steps", metavar="N,N",
                        help=f"only these steps (of {','.join(groups)}), with the steps they need")
    args = parser.parse_args(argv)
    if args.steps is None:
        return None
    chosen = {group.strip() for group in args.steps.split(",") if group.strip()}
    unknown = sorted(chosen - set(groups))
    if not chosen or unknown:
        parser.error(f"--steps {args.steps!r}: no step {', '.join(unknown) or 'named'}; "
                     f"the steps are {','.join(groups)}")
    return chosen


def select(steps: list[Step], groups: set[str] | None) -> list[Step]:
    """The steps of `groups` (all when None), the gates and every step they need, in order."""
    if groups is None:
        return list(steps)
    by_id = {step.id: step for step in steps}
    wanted = {step.id for step in steps if step.group in groups or step.gate}
    pending = list(wanted)
    while pending:
        needs = by_id[pending.pop()].needs
        if needs is not None and needs not in wanted:
            wanted.add(needs)
            pending.append(needs)
    return [step for step in steps if step.id in wanted]


class Suite:
    """Runs steps in order, printing `✓/✗ label (seconds)` for each and a closing
    `title: N passed, N failed` line."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def run(self, steps: list[Step], make_world: Callable[[Cleanup], object],
            groups: set[str] | None = None) -> int:
        """Runs the selected steps (see `select`) against one world, `make_world(cleanup)`, sharing
        a `state` dict; stops every process afterwards. Returns the exit status (0: all passed)."""
        chosen = select(steps, groups)
        if groups is not None:
            print(f"{self.title}: steps {', '.join(step.id for step in chosen)} "
                  f"(--steps {','.join(sorted(groups))})", flush=True)
        cleanup = Cleanup()
        try:
            world = make_world(cleanup)
            state: dict = {}
            not_passed: set[str] = set()
            for step in chosen:
                if step.needs in not_passed:
                    print(f"- {step.label}: skipped ({step.needs} did not pass)", flush=True)
                    self.skipped += 1
                    not_passed.add(step.id)
                    continue
                if not self.step(step.label, lambda step=step: step.body(world, state)):
                    not_passed.add(step.id)
                    if step.gate:
                        break
        finally:
            cleanup.close()
        return self.finish()

    def step(self, name: str, body: Callable[[], str | None]) -> bool:
        started = time.monotonic()
        try:
            detail = body()
        except Exception as error:  # a failed step is reported, not raised
            self.failed += 1
            elapsed = time.monotonic() - started
            print(f"✗ {name} ({elapsed:.1f} s)\n    {error}", flush=True)
            if not isinstance(error, StepFailed):
                traceback.print_exc()
            return False
        self.passed += 1
        elapsed = time.monotonic() - started
        print(f"✓ {name} ({elapsed:.1f} s){' — ' + detail if detail else ''}", flush=True)
        return True

    def finish(self) -> int:
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        print(f"{self.title}: {self.passed} passed, {self.failed} failed{skipped}", flush=True)
        return 0 if self.failed == 0 else 1

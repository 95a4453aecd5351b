// SPDX-License-Identifier: MPL-2.0
//! Test support: runs `oci-kms-emulator` in a temporary state directory and the `ocikms` binary
//! against it.
//!
//! The emulator binary is `$OCIKMS_EMULATOR_BIN`, else `target/release/oci-kms-emulator`, else
//! `target/debug/oci-kms-emulator` (build it with `cargo build -p oci-kms-emulator`).

#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};

/// A running emulator, killed on drop.
pub struct Emulator {
    child: Child,
    /// The endpoints JSON it printed.
    pub info: Value,
    /// Its state directory.
    pub state: tempfile::TempDir,
}

/// The emulator binary to run.
pub fn emulator_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("OCIKMS_EMULATOR_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("oci-kms-emulator"))
        .find(|p| p.exists())
        .expect("oci-kms-emulator not found: run `cargo build -p oci-kms-emulator` or set OCIKMS_EMULATOR_BIN")
}

impl Emulator {
    /// Starts the emulator with its permissive default world.
    pub fn start() -> Emulator {
        Emulator::start_with_world(None)
    }

    /// Starts the emulator with a `--config` world (JSON), when given.
    pub fn start_with_world(world: Option<&Value>) -> Emulator {
        Emulator::start_with(world, None)
    }

    /// Starts the emulator with a world and a fault plan (`--faults`), when given.
    pub fn start_with(world: Option<&Value>, faults: Option<&Value>) -> Emulator {
        let state = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(emulator_bin());
        cmd.arg("--state-dir").arg(state.path());
        if let Some(plan) = faults {
            let path = state.path().join("faults.json");
            std::fs::write(&path, serde_json::to_vec(plan).unwrap()).unwrap();
            cmd.arg("--faults").arg(path);
        }
        if let Some(world) = world {
            let path = state.path().join("world.json");
            std::fs::write(&path, serde_json::to_vec_pretty(world).unwrap()).unwrap();
            cmd.arg("--config").arg(path);
        }
        let mut child =
            cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("emulator endpoints line");
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!("emulator printed {line:?}: {e}")
        });
        Emulator { child, info, state }
    }

    /// A string field of the endpoints JSON.
    pub fn field(&self, name: &str) -> String {
        self.info[name].as_str().unwrap_or_else(|| panic!("endpoints JSON lacks {name}")).to_owned()
    }

    /// Writes a Vault config file whose `seal "ocikms"` block uses the ready user's API key
    /// (the Go wrapper's older spellings, as the seed documents them).
    pub fn vault_hcl(&self) -> PathBuf {
        let path = self.state.path().join("vault.hcl");
        let text = format!(
            "storage \"raft\" {{\n  path = \"/var/lib/vault\"\n}}\n\n\
             seal \"ocikms\" {{\n  keyID               = \"{}\"\n  cryptoEndpoint      = \"{}\"\n  \
             management_endpoint = \"{}\"\n  authTypeAPIKey      = \"true\"\n  config_file         = \"{}\"\n}}\n",
            self.field("key_id"),
            self.field("crypto_endpoint"),
            self.field("management_endpoint"),
            self.field("oci_config_file"),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The flags naming the key and endpoints (no auth type).
    pub fn endpoint_flags(&self) -> Vec<String> {
        vec![
            "--key-id".into(),
            self.field("key_id"),
            "--crypto-endpoint".into(),
            self.field("crypto_endpoint"),
            "--management-endpoint".into(),
            self.field("management_endpoint"),
        ]
    }

    /// The environment an instance principal on the emulator's ready instance sees.
    pub fn instance_env(&self) -> Vec<(String, String)> {
        vec![
            ("OCI_METADATA_BASE_URL".into(), self.field("metadata_base_url")),
            ("OCI_SDK_AUTH_CLIENT_REGION_URL".into(), self.field("auth_url")),
        ]
    }

    /// Rotates the ready key with `ocikms rotate`; returns the new current version.
    pub fn rotate(&self) -> String {
        let out = ocikms(
            &["rotate", "--json", "--config", self.vault_hcl().to_str().unwrap()],
            &[],
            None,
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        json(&out)["key_version"].as_str().expect("new key version").to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenancy whose key is in compartment `kms`, a user without a policy, an instance in the
/// dynamic group `ocikms-vault`, and the given policies.
pub fn world(policies: &[String]) -> Value {
    json!({
        "ready": {"user": "ocid1.user.oc1..nopolicy", "key": "ocid1.key.oc1..sealkey", "instance": "ocid1.instance.oc1..vault1"},
        "tenancies": [{
            "name": "acme", "id": "ocid1.tenancy.oc1..acme",
            "policies": policies,
            "compartments": [{"name": "kms", "id": "ocid1.compartment.oc1..kms"}, {"name": "apps", "id": "ocid1.compartment.oc1..apps"}],
            "users": [{"id": "ocid1.user.oc1..nopolicy", "groups": ["ocikms-vault-users"]}],
            "dynamic_groups": [{"name": "ocikms-vault", "id": "ocid1.dynamicgroup.oc1..dg", "members": ["ocid1.instance.oc1..vault1"]}],
            "instances": [{"id": "ocid1.instance.oc1..vault1", "compartment": "apps"}],
            "vaults": [{"id": "ocid1.vault.oc1..v", "compartment": "kms"}],
            "keys": [{"id": "ocid1.key.oc1..sealkey", "vault": "ocid1.vault.oc1..v", "compartment": "kms"}]
        }]
    })
}

/// The variables that would change what `ocikms` reads: removed from its environment.
const SCRUBBED: [&str; 10] = [
    "OCIKMS_WRAPPER_KEY_ID",
    "VAULT_OCIKMS_SEAL_KEY_ID",
    "OCIKMS_WRAPPER_CRYPTO_ENDPOINT",
    "VAULT_OCIKMS_CRYPTO_ENDPOINT",
    "OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT",
    "VAULT_OCIKMS_MANAGEMENT_ENDPOINT",
    "OCI_METADATA_BASE_URL",
    "OCI_SDK_AUTH_CLIENT_REGION_URL",
    "OCI_CONFIG_FILE",
    "OCI_CLI_PROFILE",
];

/// A `Command` for the `ocikms` binary under test, with a clean environment plus `env`.
pub fn ocikms_command(args: &[&str], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ocikms"));
    cmd.args(args);
    for name in SCRUBBED {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `ocikms args...` with `stdin` and returns its output.
pub fn ocikms(args: &[&str], env: &[(String, String)], stdin: Option<&[u8]>) -> Output {
    let mut child = ocikms_command(args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ocikms");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        // A command that fails before reading stdin closes it: that is for the test to judge.
        let _ = pipe.write_all(input);
    }
    drop(pipe);
    child.wait_with_output().expect("ocikms output")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout parsed as JSON.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}\nstderr: {}", stdout(out), stderr(out))
    })
}

/// The exit code (panics on a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("ocikms exited normally")
}

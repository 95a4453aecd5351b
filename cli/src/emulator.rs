// SPDX-License-Identifier: MPL-2.0
//! `ocikms emulator`: runs `oci-kms-emulator` in the foreground, writes a Vault seal block for
//! it and prints what to export.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::args::EmulatorArgs;
use crate::Exit;

const BINARY: &str = "oci-kms-emulator";

/// Runs the emulator until it exits or this process is interrupted/terminated.
pub async fn run(args: &EmulatorArgs) -> Exit {
    let Some(state_dir) = args.state_dir.clone().or_else(default_state_dir) else {
        eprintln!("no --state-dir given and HOME is not set: give --state-dir DIR");
        return Exit::Usage;
    };
    let Some(binary) = args.emulator_bin.clone().or_else(find_binary) else {
        eprintln!(
            "{BINARY} not found next to ocikms or on PATH: build it (`cargo build --release -p \
             oci-kms-emulator`) and put it on PATH, or give --emulator-bin PATH"
        );
        return Exit::Failure;
    };
    let mut child = match Command::new(&binary)
        .arg("--state-dir")
        .arg(&state_dir)
        .arg("--listen")
        .arg(&args.listen)
        .args(&args.extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start {}: {e}", binary.display());
            return Exit::Failure;
        }
    };
    let Some(info) = endpoints(&mut child).await else {
        eprintln!(
            "{} exited before printing its endpoints (see its messages above)",
            binary.display()
        );
        let _ = child.wait().await;
        return Exit::Failure;
    };
    let seal_hcl = state_dir.join("vault-seal.hcl");
    if let Err(e) = std::fs::write(&seal_hcl, seal_block(&info)) {
        eprintln!("cannot write {}: {e}", seal_hcl.display());
    }
    if args.output.json {
        let mut doc = info.clone();
        doc["seal_hcl"] = Value::String(seal_hcl.display().to_string());
        println!("{doc}");
    } else {
        print_usage(&info, &seal_hcl);
    }
    wait(child).await
}

/// `$XDG_STATE_HOME/ocikms-emulator`, else `~/.local/state/ocikms-emulator`.
fn default_state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("ocikms-emulator"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/ocikms-emulator"))
}

/// The emulator binary next to the running `ocikms`, else the first on PATH.
fn find_binary() -> Option<PathBuf> {
    let sibling = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|d| d.join(BINARY)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(BINARY));
    sibling.into_iter().chain(on_path).find(|p| p.is_file())
}

/// The JSON line the emulator prints once it listens.
async fn endpoints(child: &mut Child) -> Option<Value> {
    let stdout = child.stdout.take()?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next_line().await.ok()??;
    // Keep draining its stdout so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    serde_json::from_str(&line).ok()
}

fn field<'a>(info: &'a Value, name: &str) -> &'a str {
    info[name].as_str().unwrap_or("")
}

/// A Vault `seal "ocikms"` block for the emulator's ready user and key.
fn seal_block(info: &Value) -> String {
    let mut block = format!(
        "# Written by `ocikms emulator`: the seal block for the local OCI KMS emulator.\n\
         seal \"ocikms\" {{\n  key_id              = \"{}\"\n  crypto_endpoint     = \"{}\"\n  \
         management_endpoint = \"{}\"\n  auth_type_api_key   = \"true\"\n  config_file         = \"{}\"\n",
        field(info, "key_id"),
        field(info, "crypto_endpoint"),
        field(info, "management_endpoint"),
        field(info, "oci_config_file"),
    );
    if let Some(ca) = info["ca_cert"].as_str() {
        block.push_str(&format!("  ca_cert             = \"{ca}\"\n"));
    }
    block.push_str("}\n");
    block
}

/// Prints, as shell lines (comments and exports), how to use the running emulator.
fn print_usage(info: &Value, seal_hcl: &Path) {
    let state = field(info, "state_dir");
    println!(
        "# OCI KMS emulator listening on {} (state in {state}); stop it with Ctrl-C",
        field(info, "crypto_endpoint")
    );
    println!("#");
    println!("# A Vault seal block for it (API key auth) is in {}:", seal_hcl.display());
    println!("#   ocikms check --config {}", seal_hcl.display());
    println!("#");
    println!("# Or export these (the environment wins over the config, as in Vault):");
    println!("export OCIKMS_WRAPPER_KEY_ID={}", field(info, "key_id"));
    println!("export OCIKMS_WRAPPER_CRYPTO_ENDPOINT={}", field(info, "crypto_endpoint"));
    println!("export OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT={}", field(info, "management_endpoint"));
    println!("# and pick an authentication method:");
    println!(
        "#   API key:            ocikms check --auth-type api_key --config-file {}",
        field(info, "oci_config_file")
    );
    println!("#   instance principal: export the two variables below, then ocikms check --auth-type instance_principal");
    println!("export OCI_METADATA_BASE_URL={}", field(info, "metadata_base_url"));
    println!("export OCI_SDK_AUTH_CLIENT_REGION_URL={}", field(info, "auth_url"));
    if let Some(env_file) = info["resource_principal"]["env_file"].as_str() {
        println!("#   resource principal: source {env_file}; ocikms check --auth-type resource_principal");
    }
    if let Some(ca) = info["ca_cert"].as_str() {
        println!("# TLS: also give --ca-cert {ca}");
    }
}

/// Waits for the emulator; on SIGINT/SIGTERM asks it to stop and waits for it.
async fn wait(mut child: Child) -> Exit {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot watch SIGTERM: {e}");
            return Exit::Failure;
        }
    };
    let stopped_by_us = tokio::select! {
        status = child.wait() => return exit_of(status.ok()),
        _ = tokio::signal::ctrl_c() => true,
        _ = term.recv() => true,
    };
    if stopped_by_us {
        terminate(&child);
    }
    let _ = child.wait().await;
    Exit::Success
}

fn exit_of(status: Option<std::process::ExitStatus>) -> Exit {
    match status {
        Some(s) if s.success() => Exit::Success,
        _ => {
            eprintln!("the emulator stopped with {status:?}");
            Exit::Failure
        }
    }
}

/// Sends SIGTERM (a clean stop: the emulator flushes its state).
fn terminate(child: &Child) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped); no memory is shared.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_block_is_valid_hcl_for_the_seal() {
        let info = serde_json::json!({
            "key_id": "ocid1.key.oc1..k", "crypto_endpoint": "http://127.0.0.1:1",
            "management_endpoint": "http://127.0.0.1:1", "oci_config_file": "/tmp/x/oci/config",
            "ca_cert": "/tmp/x/ca.pem"
        });
        let map = crate::hcl_seal::seal_block(&seal_block(&info), None).unwrap();
        assert_eq!(map["key_id"], "ocid1.key.oc1..k");
        assert_eq!(map["auth_type_api_key"], "true");
        assert_eq!(map["ca_cert"], "/tmp/x/ca.pem");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! `ocikms encrypt`, `decrypt`, `key-info`, `rewrap` and `emulator` against the emulator.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{code, json, ocikms, ocikms_command, stderr, stdout, Emulator};
use ocikms::blob::{BlobInfo, MultiWrapValue, MECHANISM_DIRECT};

fn config_args(emu: &Emulator) -> Vec<String> {
    vec!["--config".into(), emu.vault_hcl().display().to_string()]
}

fn run(cmd: &str, emu: &Emulator, extra: &[&str], stdin: &[u8]) -> std::process::Output {
    let config = config_args(emu);
    let mut args = vec![cmd];
    args.extend(config.iter().map(String::as_str));
    args.extend_from_slice(extra);
    ocikms(&args, &[], Some(stdin))
}

#[test]
fn encrypt_writes_blobinfo_that_decrypt_reads() {
    let emu = Emulator::start();
    let out = run("encrypt", &emu, &[], b"my unseal key");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let blob = BlobInfo::decode_bytes(&out.stdout).expect("stdout is BlobInfo protobuf");
    let info = blob.key_info.as_ref().unwrap();
    assert_eq!(info.mechanism, 0);
    assert!(info.key_id.starts_with("ocid1.keyversion."));
    assert_eq!(blob.iv.len(), 12);
    assert!(!out.stdout.windows(13).any(|w| w == b"my unseal key"), "no plaintext in the blob");

    let back = run("decrypt", &emu, &[], &out.stdout);
    assert_eq!(code(&back), 0, "{}", stderr(&back));
    assert_eq!(back.stdout, b"my unseal key");

    // Vault's multi-seal form decrypts too.
    let multi = MultiWrapValue { generation: 1, slots: vec![blob] }.encode_stored().unwrap();
    let back = run("decrypt", &emu, &[], &multi);
    assert_eq!(back.stdout, b"my unseal key", "{}", stderr(&back));
}

#[test]
fn json_format_aad_and_without_envelope() {
    let emu = Emulator::start();
    let out = run("encrypt", &emu, &["--format", "json", "--aad", "ctx-1"], b"secret");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["keyInfo"]["mechanism"], 0);
    assert!(doc["keyInfo"]["wrappedKey"].is_string() && doc["iv"].is_string());

    let ok = run("decrypt", &emu, &["--aad", "ctx-1"], &out.stdout);
    assert_eq!(ok.stdout, b"secret", "{}", stderr(&ok));
    let wrong = run("decrypt", &emu, &["--aad", "ctx-2"], &out.stdout);
    assert_eq!(code(&wrong), 1);
    assert!(stderr(&wrong).contains("decrypt_failed"), "{}", stderr(&wrong));

    let direct = run("encrypt", &emu, &["--without-envelope"], b"small");
    let blob = BlobInfo::decode_bytes(&direct.stdout).unwrap();
    assert_eq!(blob.key_info.unwrap().mechanism, MECHANISM_DIRECT);
    let back = run("decrypt", &emu, &["--json"], &direct.stdout);
    assert_eq!(json(&back)["plaintext"], "c21hbGw=");
}

#[test]
fn decrypt_rejects_garbage_with_the_right_code() {
    let emu = Emulator::start();
    let out = run("decrypt", &emu, &["--json"], b"\xff\xff not a blob");
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["error"]["code"], "malformed_blob");
    let empty = run("decrypt", &emu, &[], b"");
    assert_eq!(code(&empty), 1);
    assert!(stderr(&empty).contains("stdin is empty"));
}

#[test]
fn decrypt_and_rewrap_read_openbao_v2_5_0_nonce_prefixed_blobs() {
    let emu = Emulator::start();
    let out = run("encrypt", &emu, &["--aad", "ctx"], b"openbao 2.5.0 value");
    // OpenBao v2.5.0's form: no IV field, the nonce in front of the ciphertext.
    let mut blob = BlobInfo::decode_bytes(&out.stdout).unwrap();
    blob.ciphertext = [blob.iv.as_slice(), &blob.ciphertext].concat();
    blob.iv.clear();
    let stored = blob.encode_bytes();
    let back = run("decrypt", &emu, &["--aad", "ctx"], &stored);
    assert_eq!(code(&back), 0, "{}", stderr(&back));
    assert_eq!(back.stdout, b"openbao 2.5.0 value");

    emu.rotate();
    let out = run("rewrap", &emu, &["--aad", "ctx"], &stored);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rewrapped = BlobInfo::decode_bytes(&out.stdout).unwrap();
    assert_eq!(rewrapped.iv.len(), 12, "rewritten in the standard form");
    assert_eq!(run("decrypt", &emu, &["--aad", "ctx"], &out.stdout).stdout, b"openbao 2.5.0 value");
}

#[test]
fn key_info_lists_versions_and_rewrap_moves_to_the_current_one() {
    let emu = Emulator::start();
    let old = run("encrypt", &emu, &[], b"barrier key");
    let old_version = BlobInfo::decode_bytes(&old.stdout).unwrap().key_info.unwrap().key_id;

    // Nothing to do before a rotation: the value comes back unchanged.
    let same = run("rewrap", &emu, &[], &old.stdout);
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    assert_eq!(same.stdout, old.stdout);
    assert!(stderr(&same).contains("nothing to do"), "{}", stderr(&same));

    let new_version = emu.rotate();
    let info = run("key-info", &emu, &["--json"], b"");
    let doc = json(&info);
    assert_eq!(doc["current_key_version"], new_version.as_str());
    assert_eq!(doc["lifecycle_state"], "ENABLED");
    let versions: Vec<&str> =
        doc["versions"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert!(
        versions.contains(&old_version.as_str()) && versions.contains(&new_version.as_str()),
        "{versions:?}"
    );
    let text = stdout(&run("key-info", &emu, &[], b""));
    assert!(
        text.contains(&format!("{new_version}  ENABLED")) && text.contains("(current)"),
        "{text}"
    );

    let rewrapped = run("rewrap", &emu, &["--json"], &old.stdout);
    let report = json(&rewrapped);
    assert_eq!(report["rewrapped"], true);
    assert_eq!(report["from_key_version"], old_version.as_str());
    assert_eq!(report["key_version"], new_version.as_str());

    let out = run("rewrap", &emu, &[], &old.stdout);
    let blob = BlobInfo::decode_bytes(&out.stdout).unwrap();
    assert_eq!(blob.key_info.as_ref().unwrap().key_id, new_version);
    assert_eq!(run("decrypt", &emu, &[], &out.stdout).stdout, b"barrier key");
}

#[test]
fn emulator_command_starts_a_usable_emulator_and_stops_it() {
    let state = tempfile::tempdir().unwrap();
    let bin = common::emulator_bin();
    let mut child = ocikms_command(
        &[
            "emulator",
            "--json",
            "--state-dir",
            state.path().to_str().unwrap(),
            "--emulator-bin",
            bin.to_str().unwrap(),
        ],
        &[],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).expect("endpoints JSON line");
    let seal_hcl = info["seal_hcl"].as_str().unwrap().to_owned();
    let emulator_pid = info["pid"].as_u64().unwrap().to_string();

    let check = ocikms(&["check", "--config", &seal_hcl], &[], None);
    assert_eq!(code(&check), 0, "{}", stdout(&check));

    // SIGTERM to ocikms stops the emulator too.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{emulator_pid}")).exists() {
        assert!(Instant::now() < deadline, "the emulator is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn emulator_command_without_a_binary_fails_clearly() {
    let out = ocikms(
        &["emulator", "--state-dir", "/tmp", "--emulator-bin", "/nonexistent/oci-kms-emulator"],
        &[],
        None,
    );
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("cannot start /nonexistent/oci-kms-emulator"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rotate_without_manage_permission_names_the_manage_statement() {
    let read_only = "allow group ocikms-vault-users to use keys in compartment kms".to_owned();
    let emu = Emulator::start_with_world(Some(&common::world(&[read_only])));
    let out = run("rotate", &emu, &[], b"");
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("NotAuthorizedOrNotFound") && err.contains("opc-request-id: "), "{err}");
    assert!(
        err.contains("allow group ocikms-vault-users to manage keys in compartment id"),
        "{err}"
    );
    // `use` is enough for the seal itself.
    let sealed = run("encrypt", &emu, &["--format", "json"], b"x");
    assert_eq!(code(&sealed), 0, "{}", stderr(&sealed));
}

#[test]
fn aad_without_envelope_is_a_usage_error() {
    let out =
        ocikms(&["encrypt", "--without-envelope", "--aad", "x", "--key-id", "k"], &[], Some(b"x"));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

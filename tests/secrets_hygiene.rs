// SPDX-License-Identifier: MPL-2.0
//! Secret hygiene: runs a representative suite (init, both mechanisms, retries under faults, bad
//! credentials, tampered blobs, an expired token) with every tracing event captured at TRACE,
//! gathers all log lines and every error's `Display` and `Debug`, and asserts that no plaintext,
//! AAD, DEK, private key, passphrase or token appears in any of them — whether the key comes from
//! a key file or inline from the seal configuration (`private_key`, `private_key_passphrase`).
//! Also: a private key file readable by group/others is warned about, and no configuration turns
//! TLS verification off.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::Emulator;
use ocikms::{CallOptions, ErrorCode};
use serde_json::json;

/// Everything the tracing subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install() -> Captured {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The secrets of a run and the forms they could leak in (raw text, base64, hex).
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add_bytes(&mut self, what: &str, bytes: &[u8]) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.0.push((format!("{what} (base64)"), b64));
        self.0.push((format!("{what} (hex)"), hex));
        if let Ok(text) = std::str::from_utf8(bytes) {
            self.0.push((what.to_owned(), text.to_owned()));
        }
    }

    /// A PEM key leaks if any 24-character run of its base64 body appears.
    fn add_pem(&mut self, what: &str, pem: &str) {
        let body: String =
            pem.lines().filter(|l| !l.starts_with("-----") && !l.contains(':')).collect();
        for (i, chunk) in body.as_bytes().chunks(24).enumerate() {
            if chunk.len() == 24 {
                self.0.push((format!("{what} chunk {i}"), String::from_utf8_lossy(chunk).into()));
            }
        }
    }

    fn assert_absent(&self, haystack: &str, source: &str) {
        for (what, needle) in &self.0 {
            assert!(
                !needle.is_empty() && !haystack.contains(needle.as_str()),
                "{what} appears in {source}"
            );
        }
    }
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_or_an_error_message() {
    let captured = Captured::install();
    let emu = Emulator::start();
    let mut errors: Vec<String> = Vec::new();
    let mut secrets = Secrets(Vec::new());

    // Happy paths, both mechanisms, with AAD, under retried faults (503, 429, reset).
    let seal = emu.seal().await;
    emu.set_faults(json!({"rules": [{"route": "*", "sequence": [
        {"kind": "status", "status": 503}, {"kind": "none"},
        {"kind": "status", "status": 429, "retry_after": 0}, {"kind": "none"},
        {"kind": "reset"}, {"kind": "none"}]}]}))
        .await;
    let plaintext = b"PLAINTEXT-root-token-s.9f8e7d6c5b4a";
    let aad = b"AAD-core/keyring/secret-path";
    let with_aad = CallOptions { aad: Some(aad.to_vec()), ..CallOptions::default() };
    let direct = CallOptions { without_envelope: true, ..CallOptions::default() };
    let blob = seal.encrypt(plaintext, &with_aad).await.unwrap();
    assert_eq!(&*seal.decrypt(&blob, &with_aad).await.unwrap(), plaintext);
    let direct_blob = seal.encrypt(plaintext, &direct).await.unwrap();
    assert_eq!(&*seal.decrypt(&direct_blob, &CallOptions::default()).await.unwrap(), plaintext);
    secrets.add_bytes("plaintext", plaintext);
    secrets.add_bytes("AAD", aad);
    // The DEK: unwrap it the way decrypt does.
    let wrapped = std::str::from_utf8(&blob.key_info.as_ref().unwrap().wrapped_key).unwrap();
    let ctx = seal.context(&CallOptions::default());
    let dek = seal.client().decrypt(&ctx, &emu.field("key_id"), wrapped).await.unwrap();
    assert_eq!(dek.len(), 32);
    secrets.add_bytes("DEK", &dek);

    // Failures that handle secrets: tampered blob, wrong AAD, a total outage.
    let mut tampered = blob.clone();
    tampered.ciphertext[3] ^= 1;
    errors.push(format!("{0} {0:?}", seal.decrypt(&tampered, &with_aad).await.unwrap_err()));
    errors.push(format!(
        "{0} {0:?}",
        seal.decrypt(&blob, &CallOptions::default()).await.unwrap_err()
    ));
    emu.set_faults(json!({"rules": [{"route": "*", "probability": 1.0,
        "fault": {"kind": "status", "status": 503}}]}))
        .await;
    errors.push(format!("{0} {0:?}", seal.encrypt(plaintext, &with_aad).await.unwrap_err()));
    errors.push(format!("{0} {0:?}", seal.decrypt(&direct_blob, &direct).await.unwrap_err()));
    emu.set_faults(json!({"rules": []})).await;

    // Credentials: the private key, the passphrase (right and wrong), the session token.
    let key_pem = std::fs::read_to_string(emu.profile_value("DEFAULT", "key_file")).unwrap();
    secrets.add_pem("private key", &key_pem);
    let passphrase = emu.profile_value("ENCRYPTED", "pass_phrase");
    secrets.add_bytes("passphrase", passphrase.as_bytes());
    let mut map = emu.config_map();
    map.insert("config_profile".into(), json!("ENCRYPTED"));
    let encrypted_seal = emu.seal_for(Emulator::config_from(&map)).await.unwrap();
    encrypted_seal.encrypt(plaintext, &with_aad).await.unwrap();
    let wrong_pass = "WRONG-passphrase-0xdeadbeef";
    secrets.add_bytes("wrong passphrase", wrong_pass.as_bytes());
    let oci_config = std::fs::read_to_string(emu.field("oci_config_file")).unwrap();
    let bad_config = emu.state.path().join("bad-passphrase-config");
    std::fs::write(&bad_config, oci_config.replace(&passphrase, wrong_pass)).unwrap();
    map.insert("config_file".into(), json!(bad_config.display().to_string()));
    match emu.seal_for(Emulator::config_from(&map)).await {
        Ok(_) => panic!("a wrong passphrase must fail"),
        Err(err) => errors.push(format!("{err} {err:?}")),
    }
    let profile = ocikms::auth::config_file::OciProfile::load(&bad_config, "ENCRYPTED").unwrap();
    errors.push(format!("{profile:?} {}", profile.describe()));

    // The same credentials inline in the seal configuration (OpenBao's tenancy_ocid, user_ocid,
    // fingerprint, private_key, private_key_passphrase): a working seal, a wrong passphrase, an
    // incomplete set, a non-API-key auth type, and the configuration's Debug.
    let encrypted_pem =
        std::fs::read_to_string(emu.profile_value("ENCRYPTED", "key_file")).unwrap();
    secrets.add_pem("encrypted private key", &encrypted_pem);
    let mut raw = emu.config_map();
    raw.remove("config_file");
    for (key, profile_key) in
        [("tenancy_ocid", "tenancy"), ("user_ocid", "user"), ("fingerprint", "fingerprint")]
    {
        raw.insert(key.into(), json!(emu.profile_value("ENCRYPTED", profile_key)));
    }
    raw.insert("private_key".into(), json!(encrypted_pem));
    raw.insert("private_key_passphrase".into(), json!(passphrase));
    let raw_config = Emulator::config_from(&raw);
    errors.push(format!("{raw_config:?}"));
    let raw_seal = emu.seal_for(raw_config).await.unwrap();
    raw_seal.encrypt(plaintext, &with_aad).await.unwrap();
    errors.push(raw_seal.metadata().values().cloned().collect::<Vec<_>>().join(" "));
    let mut raw_plain = raw.clone();
    raw_plain.insert("private_key".into(), json!(key_pem));
    raw_plain.remove("private_key_passphrase");
    emu.seal_for(Emulator::config_from(&raw_plain)).await.unwrap();
    let mut raw_wrong = raw.clone();
    raw_wrong.insert("private_key_passphrase".into(), json!(wrong_pass));
    match emu.seal_for(Emulator::config_from(&raw_wrong)).await {
        Ok(_) => panic!("a wrong private_key_passphrase must fail"),
        Err(err) => errors.push(format!("{err} {err:?}")),
    }
    for (remove, add) in [
        ("user_ocid", None),
        ("auth_type", Some(("auth_type", "instance_principal"))),
        ("fingerprint", Some(("config_profile", "DEFAULT"))),
    ] {
        let mut broken = raw.clone();
        broken.remove(remove);
        if let Some((key, value)) = add {
            broken.insert(key.into(), json!(value));
        }
        let err = ocikms::config::SealConfig::from_sources(&broken, None, true, &|_| None)
            .expect_err("a broken inline credential set must fail");
        assert_eq!(err.code(), ErrorCode::Config, "{err}");
        errors.push(format!("{err} {err:?}"));
    }

    let mut session = emu.config_map();
    session.insert("auth_type".into(), json!("security_token"));
    session.insert("config_profile".into(), json!("SESSION"));
    let session_seal = emu.seal_for(Emulator::config_from(&session)).await.unwrap();
    session_seal.encrypt(plaintext, &CallOptions::default()).await.unwrap();
    let token = std::fs::read_to_string(emu.state.path().join("oci/session/token")).unwrap();
    secrets.add_bytes("session token", token.trim().as_bytes());
    let session_key =
        std::fs::read_to_string(emu.state.path().join("oci/session/key.pem")).unwrap();
    secrets.add_pem("session key", &session_key);
    let provider = ocikms::auth::provider_from_config(&Emulator::config_from(&session)).unwrap();
    let creds = provider.credentials().await.unwrap();
    errors.push(format!("{creds:?} {}", provider.describe()));
    // An expired session token: its error, and the 401 after the emulator's own expiry.
    let url = format!("{}/_emulator/token-lifetime", emu.field("crypto_endpoint"));
    let admin = common::admin_client(None);
    admin.put(url).body(r#"{"seconds":1}"#).send().await.unwrap();
    emu.admin_post("session-token/refresh", json!({})).await;
    let expired = std::fs::read_to_string(emu.state.path().join("oci/session/token")).unwrap();
    secrets.add_bytes("expired session token", expired.trim().as_bytes());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    errors.push(format!(
        "{0} {0:?}",
        session_seal.encrypt(plaintext, &CallOptions::default()).await.unwrap_err()
    ));
    match emu.seal_for(Emulator::config_from(&session)).await {
        Ok(_) => panic!("an expired session token must fail"),
        Err(err) => errors.push(format!("{err} {err:?}")),
    }
    errors.push(format!("{:?}", Emulator::config_from(&session)));

    let logs = captured.text();
    assert!(logs.contains("retrying OCI KMS call"), "the suite must exercise retries:\n{logs}");
    assert!(logs.lines().count() > 10, "too few log lines captured:\n{logs}");
    secrets.assert_absent(&logs, "the captured log");
    for (i, message) in errors.iter().enumerate() {
        secrets.assert_absent(message, &format!("error message {i}: {message}"));
    }
    eprintln!(
        "checked {} log lines and {} error messages against {} secret forms",
        logs.lines().count(),
        errors.len(),
        secrets.0.len()
    );
}

#[cfg(unix)]
#[test]
fn a_private_key_readable_by_others_is_warned_about_only_then() {
    use std::os::unix::fs::PermissionsExt;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let emu = Emulator::start();
    let source = emu.profile_value("DEFAULT", "key_file");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("api_key.pem");
    std::fs::copy(source, &key).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        for mode in [0o600, 0o640, 0o604, 0o644] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            let before = captured.text().len();
            ocikms::auth::pem::load_key_file(&key, None).expect("loose modes still load");
            let warned = captured.text()[before..].contains("readable by group or others");
            assert_eq!(warned, mode != 0o600, "mode {mode:o}");
        }
    });
    assert!(captured.text().contains("chmod 600"), "{}", captured.text());
}

#[tokio::test]
async fn tls_verification_cannot_be_turned_off() {
    // No code path builds a verifier that accepts any certificate.
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut scanned = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            for knob in ["danger_accept_invalid", "dangerous()", "ServerCertVerifier", "NoVerif"] {
                assert!(!source.contains(knob), "{} contains {knob}", path.display());
            }
            scanned += 1;
        }
    }
    assert!(scanned > 20, "scanned only {scanned} files");
    // Config keys other TLS clients use to skip verification are not options here.
    let emu = Emulator::start_with(&["--tls"], None);
    for knob in
        ["tls_skip_verify", "insecure_skip_verify", "tls_insecure", "insecure", "skip_verify"]
    {
        let mut map = emu.config_map();
        map.insert(knob.into(), json!("true"));
        let err = match emu.seal_for(Emulator::config_from(&map)).await {
            Ok(_) => panic!("{knob}=true turned TLS verification off"),
            Err(err) => err,
        };
        assert_eq!(err.code(), ErrorCode::Network, "{knob}: {err}");
        assert!(err.message().contains("not trusted"), "{knob}: {err}");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! Bad input at the Rust API, one test per case: each must fail with a stable [`ErrorCode`] and a
//! message that says what is wrong and what to do, never crash, never leak the secret involved.
//! (NULL pointers, bad lengths, invalid JSON and UTF-8 across the C ABI: `src/ffi/tests.rs` and
//! `tests/c/test_ocikms.c`; the table of cases is in `/work/notes/RELIABILITY.md`.)

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use common::{policy_denied_world, Emulator};
use ocikms::blob::{BlobInfo, MULTI_WRAP_HEADER};
use ocikms::{CallOptions, Error, ErrorCode};
use serde_json::{json, Value};

/// Starts a seal from `map`; returns the init error (the seal must not come up).
async fn init_error(emu: &Emulator, map: &std::collections::BTreeMap<String, Value>) -> Error {
    match emu.seal_for(Emulator::config_from(map)).await {
        Ok(_) => panic!("seal init must fail"),
        Err(err) => err,
    }
}

/// Writes an OCI config file whose `[DEFAULT]` profile is the emulator's `profile` with `edits`.
fn oci_config_with(emu: &Emulator, profile: &str, edits: &[(&str, &str)]) -> PathBuf {
    let text = std::fs::read_to_string(emu.field("oci_config_file")).expect("emulator OCI config");
    let header = format!("[{profile}]");
    let mut lines: Vec<(String, String)> = text
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().into(), v.trim().into())))
        .collect();
    for (key, value) in edits {
        lines.retain(|(k, _)| k != key);
        lines.push(((*key).into(), (*value).into()));
    }
    let body: String = lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let path = emu.state.path().join(format!("oci-config-{}", edits.len() + body.len()));
    std::fs::write(&path, format!("[DEFAULT]\n{body}")).expect("write OCI config");
    path
}

/// The ready seal config, but reading credentials from `config_file`.
fn map_with_config_file(
    emu: &Emulator,
    file: &std::path::Path,
) -> std::collections::BTreeMap<String, Value> {
    let mut map = emu.config_map();
    map.insert("config_file".into(), json!(file.display().to_string()));
    map
}

#[test]
fn unknown_auth_type_is_a_config_error_listing_the_valid_ones() {
    let mut map = std::collections::BTreeMap::new();
    map.insert("key_id".to_owned(), json!("ocid1.key.oc1..k"));
    map.insert(
        "crypto_endpoint".to_owned(),
        json!("https://v-crypto.kms.us-ashburn-1.oraclecloud.com"),
    );
    map.insert("auth_type".to_owned(), json!("kerberos"));
    let err = ocikms::config::SealConfig::from_sources(&map, None, true, &|_| None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config, "{err}");
    let msg = err.message();
    assert!(msg.contains("\"kerberos\"") && msg.contains("auth_type"), "{msg}");
    for valid in ["api_key", "instance_principal", "resource_principal", "workload_identity"] {
        assert!(msg.contains(valid), "{msg}");
    }
}

/// `request_timeout` is capped at 24 hours: above it is a config error (a value such as `1e19`
/// seconds used to overflow the call's deadline, a panic), 24h itself is accepted.
#[test]
fn request_timeout_above_24h_is_a_config_error() {
    let config = |timeout: &str| {
        let mut map = std::collections::BTreeMap::new();
        map.insert("key_id".to_owned(), json!("ocid1.key.oc1..k"));
        map.insert(
            "crypto_endpoint".to_owned(),
            json!("https://v-crypto.kms.us-ashburn-1.oraclecloud.com"),
        );
        map.insert("request_timeout".to_owned(), json!(timeout));
        ocikms::config::SealConfig::from_sources(&map, None, true, &|_| None)
    };
    for ok in ["24h", "86400", "23h59m59s"] {
        assert!(config(ok).unwrap().request_timeout <= Duration::from_secs(86_400), "{ok}");
    }
    for too_long in ["1e19", "24h0m1s", "86401", "2562047h"] {
        let err = config(too_long).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Config, "{too_long}: {err}");
        assert!(err.message().contains("maximum of 24h"), "{too_long}: {err}");
    }
}

#[tokio::test]
async fn missing_key_file_is_a_credentials_error_naming_the_path() {
    let emu = Emulator::start();
    let file = oci_config_with(&emu, "DEFAULT", &[("key_file", "/nonexistent/oci/api_key.pem")]);
    let err = init_error(&emu, &map_with_config_file(&emu, &file)).await;
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains("/nonexistent/oci/api_key.pem"), "{err}");
    assert!(err.message().contains("key_file"), "{err}");
    assert_eq!(emu.total("encrypt").await, 0, "no request without credentials");
}

#[tokio::test]
async fn unreadable_key_file_is_a_credentials_error_naming_the_path() {
    let emu = Emulator::start();
    // A directory cannot be read as a file, even by root (chmod 000 would not stop root).
    let dir = emu.state.path().join("key-is-a-directory.pem");
    std::fs::create_dir(&dir).unwrap();
    let file = oci_config_with(&emu, "DEFAULT", &[("key_file", dir.to_str().unwrap())]);
    let err = init_error(&emu, &map_with_config_file(&emu, &file)).await;
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains("cannot read private key file"), "{err}");
    assert!(err.message().contains(dir.to_str().unwrap()), "{err}");
}

#[tokio::test]
async fn wrong_passphrase_is_a_credentials_error_without_the_passphrase() {
    let emu = Emulator::start();
    let file = oci_config_with(&emu, "ENCRYPTED", &[("pass_phrase", "not-the-passphrase-4711")]);
    let err = init_error(&emu, &map_with_config_file(&emu, &file)).await;
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    let text = err.to_string();
    assert!(text.contains("wrong pass_phrase"), "{text}");
    assert!(!text.contains("not-the-passphrase-4711"), "the passphrase leaked: {text}");
}

#[tokio::test]
async fn fingerprint_mismatch_names_both_fingerprints() {
    let emu = Emulator::start();
    let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
    let file = oci_config_with(&emu, "DEFAULT", &[("fingerprint", wrong)]);
    let err = init_error(&emu, &map_with_config_file(&emu, &file)).await;
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains("fingerprint mismatch"), "{err}");
    assert!(err.message().contains(wrong), "{err}");
    assert!(err.message().contains(&emu.field("fingerprint")), "{err}");
}

#[tokio::test]
async fn expired_session_token_says_to_refresh_it() {
    let emu = Emulator::start();
    let url = format!("{}/_emulator/token-lifetime", emu.field("crypto_endpoint"));
    let resp = common::admin_client(None).put(url).body(r#"{"seconds":1}"#).send().await.unwrap();
    assert!(resp.status().is_success(), "token-lifetime: {}", resp.status());
    emu.admin_post("session-token/refresh", json!({})).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut map = emu.config_map();
    map.insert("auth_type".into(), json!("security_token"));
    map.insert("config_profile".into(), json!("SESSION"));
    let err = init_error(&emu, &map).await;
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains("expired"), "{err}");
    assert!(err.message().contains("oci session refresh"), "{err}");
    let token = std::fs::read_to_string(emu.state.path().join("oci/session/token")).unwrap();
    assert!(!err.to_string().contains(token.trim()), "the token leaked: {err}");
}

/// A TCP proxy that moves each request's `date` header `skew` into the past, as a host with a
/// wrong clock would send it (the date is signed, so OCI answers 401 for the date, not the
/// signature).
fn skewed_clock_proxy(upstream: &str, skew: Duration) -> String {
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(&upstream) else { return };
            let (mut client_r, mut server_w) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = client_r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let chunk = rewrite_date(&buf[..n], skew);
                    if server_w.write_all(&chunk).is_err() {
                        break;
                    }
                }
                let _ = server_w.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(Shutdown::Write);
            });
        }
    });
    format!("http://{addr}")
}

/// Replaces the value of a `date:` header line in `chunk` (HTTP dates have a fixed length).
fn rewrite_date(chunk: &[u8], skew: Duration) -> Vec<u8> {
    let mut out = chunk.to_vec();
    let needle = b"\r\ndate: ";
    if let Some(i) = out.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)) {
        let start = i + needle.len();
        let skewed = httpdate::fmt_http_date(SystemTime::now() - skew);
        if out.len() >= start + skewed.len() {
            out[start..start + skewed.len()].copy_from_slice(skewed.as_bytes());
        }
    }
    out
}

#[tokio::test]
async fn clock_skew_401_says_to_check_the_clock() {
    let emu = Emulator::start();
    let proxy = skewed_clock_proxy(&emu.field("crypto_endpoint"), Duration::from_secs(600));
    let mut map = emu.config_map();
    map.insert("crypto_endpoint".into(), json!(proxy));
    map.insert("management_endpoint".into(), json!(proxy));
    let err = init_error(&emu, &map).await;
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains("check that this host's clock is correct"), "{err}");
    let service = err.service().expect("service details");
    assert_eq!(service.status, 401);
    assert!(service.message.contains("date"), "{err}");
    assert!(!service.opc_request_id.is_empty());
}

#[tokio::test]
async fn tampered_envelope_fields_and_wrong_aad_fail_authentication() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let aad = |a: &[u8]| CallOptions { aad: Some(a.to_vec()), ..CallOptions::default() };
    let blob = seal.encrypt(b"unseal key share", &aad(b"core/keyring")).await.unwrap();
    let last = blob.ciphertext.len() - 1;
    let flip = |f: &dyn Fn(&mut BlobInfo)| {
        let mut b = blob.clone();
        f(&mut b);
        b
    };
    let cases: Vec<(&str, BlobInfo, CallOptions)> = vec![
        ("wrong AAD", blob.clone(), aad(b"core/other")),
        ("missing AAD", blob.clone(), CallOptions::default()),
        ("flipped ciphertext byte", flip(&|b| b.ciphertext[0] ^= 0x01), aad(b"core/keyring")),
        ("flipped tag byte", flip(&|b| b.ciphertext[last] ^= 0x80), aad(b"core/keyring")),
        ("flipped IV byte", flip(&|b| b.iv[5] ^= 0x10), aad(b"core/keyring")),
        ("truncated tag", flip(&|b| b.ciphertext.truncate(last)), aad(b"core/keyring")),
    ];
    for (case, tampered, opts) in cases {
        let err = seal.decrypt(&tampered, &opts).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::DecryptFailed, "{case}: {err}");
        assert!(err.message().contains("wrong AAD"), "{case}: {err}");
        assert!(!err.is_retryable(), "{case}");
    }
    let err = seal.decrypt(&flip(&|b| b.iv.truncate(8)), &aad(b"core/keyring")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedBlob, "short IV: {err}");
}

#[tokio::test]
async fn truncated_and_garbage_protobuf_are_malformed_blobs() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions::default();
    let stored = seal.encrypt(b"v", &opts).await.unwrap().encode_bytes();
    let mut multi = MULTI_WRAP_HEADER.to_vec();
    multi.extend_from_slice(&1000u32.to_be_bytes());
    multi.extend_from_slice(&stored);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", stored[..stored.len() / 2].to_vec()),
        ("garbage", vec![0xff; 40]),
        ("empty", Vec::new()),
        ("multiwrapvalue with a wrong length", multi),
        ("multiwrapvalue header only", MULTI_WRAP_HEADER.to_vec()),
    ];
    for (case, bytes) in cases {
        let err = seal.decrypt_stored(&bytes, &opts).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedBlob, "{case}: {err}");
        assert!(
            err.message().contains("truncated") || err.message().contains("no key_info"),
            "{case}: {err}"
        );
    }
}

#[tokio::test]
async fn deleted_key_is_incorrect_state() {
    let emu = Emulator::start();
    let (seal, key_id, blob) = emu.seal_with_disabled_key().await;
    let path = format!("/20180608/keys/{key_id}/actions/scheduleDeletion");
    let (status, text) = signed_post(&emu, &path, b"{}").await;
    assert_eq!(status, 200, "scheduleDeletion: {text}");
    for err in [
        seal.encrypt(b"v", &CallOptions::default()).await.unwrap_err(),
        seal.decrypt(&blob, &CallOptions::default()).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::IncorrectState, "{err}");
        assert!(err.message().contains(&key_id), "{err}");
        assert!(err.message().contains("pending deletion"), "{err}");
        assert_eq!(err.service().unwrap().status, 409);
    }
}

#[tokio::test]
async fn policy_denial_names_the_principal_and_the_policy_statement() {
    let emu = Emulator::start_with(&[], Some(&policy_denied_world()));
    let err = init_error(&emu, &emu.config_map()).await;
    assert_eq!(err.code(), ErrorCode::NotAuthorizedOrNotFound, "{err}");
    let msg = err.message();
    assert!(msg.contains("user ocid1.user.oc1..aaaaaaaaoperator"), "principal: {msg}");
    assert!(msg.contains("allow group <group> to use keys in compartment"), "policy: {msg}");
}

#[tokio::test]
async fn unreachable_endpoint_is_a_retryable_network_error() {
    let emu = Emulator::start();
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut map = emu.config_map();
    map.insert("crypto_endpoint".into(), json!(endpoint));
    map.insert("max_retries".into(), json!("1"));
    let err = init_error(&emu, &map).await;
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
    assert!(err.is_retryable());
    assert!(err.message().contains(&endpoint), "{err}");
    assert!(err.message().contains("cannot reach the endpoint"), "{err}");
}

#[tokio::test]
async fn oversized_direct_plaintext_is_refused_before_any_request() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.reset_counters().await;
    let direct = CallOptions { without_envelope: true, ..CallOptions::default() };
    let big = vec![0x5a; ocikms::seal::MAX_DIRECT_PLAINTEXT + 1];
    let err = seal.encrypt(&big, &direct).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    assert!(err.message().contains("4097 bytes") && err.message().contains("4096"), "{err}");
    assert_eq!(emu.total("encrypt").await, 0, "refused locally");
    // At the limit it works; the envelope has no limit.
    let at_limit = vec![0x5a; ocikms::seal::MAX_DIRECT_PLAINTEXT];
    let blob = seal.encrypt(&at_limit, &direct).await.unwrap();
    assert_eq!(*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), at_limit);
    let blob = seal.encrypt(&big, &CallOptions::default()).await.unwrap();
    assert_eq!(*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), big);
}

/// A POST signed with the ready user's API key, outside the client (calls it does not offer).
async fn signed_post(emu: &Emulator, path: &str, body: &[u8]) -> (u16, String) {
    let endpoint = emu.field("crypto_endpoint");
    let host = endpoint.trim_start_matches("http://").to_owned();
    let provider = ocikms::auth::provider_from_config(&emu.config()).unwrap();
    let creds = provider.credentials().await.unwrap();
    let date = ocikms::signing::http_date(SystemTime::now());
    let parts = ocikms::signing::RequestParts {
        method: "POST",
        path_and_query: path,
        host: &host,
        date: &date,
        content_type: Some("application/json"),
        body: Some(body),
    };
    let signed = ocikms::signing::sign(
        &parts,
        ocikms::signing::default_signed_headers("POST"),
        &creds.key_id,
        creds.key.as_ref(),
    )
    .unwrap();
    let mut req = common::admin_client(None)
        .post(format!("{endpoint}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in signed.to_pairs() {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_emulator_enforces_the_direct_limit_too() {
    // What OCI answers when a client does not check: 400 InvalidParameter.
    let emu = Emulator::start();
    let big = base64::engine::general_purpose::STANDARD.encode([0u8; 4097]);
    let body = json!({"keyId": emu.field("key_id"), "plaintext": big}).to_string();
    let (status, text) = signed_post(&emu, "/20180608/encrypt", body.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("InvalidParameter"), "{text}");
}

#[tokio::test]
async fn plain_http_to_a_network_host_needs_allow_plaintext_http() {
    let emu = Emulator::start();
    let mut map = emu.config_map();
    map.insert("crypto_endpoint".into(), json!("http://192.0.2.10:8080"));
    map.insert("request_timeout".into(), json!("1s"));
    let err = init_error(&emu, &map).await;
    assert_eq!(err.code(), ErrorCode::Config, "{err}");
    assert!(err.message().contains("http://192.0.2.10:8080"), "{err}");
    assert!(err.message().contains("allow_plaintext_http = true"), "{err}");
    // With the opt-in the endpoint is used (192.0.2.0/24 is TEST-NET-1: nothing answers there).
    map.insert("allow_plaintext_http".into(), json!(true));
    let err = init_error(&emu, &map).await;
    assert_ne!(err.code(), ErrorCode::Config, "{err}");
}

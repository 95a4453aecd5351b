// SPDX-License-Identifier: MPL-2.0
//! End-to-end behaviour of the emulator binary: persistence across restarts, rotation, error
//! shapes, fault injection, rate limits, federation and token expiry.

mod common;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{admin, call, decrypt, encrypt, Emu, Signer};
use oci_kms_emulator::rsakeys::RsaKey;
use serde_json::json;

#[test]
fn restart_keeps_keys_and_old_ciphertexts_decrypt_after_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    let user = emu.user_signer();
    let r = encrypt(&emu, &user, b"before restart").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("opc-request-id").is_some());
    let c1 = r.json()["ciphertext"].as_str().unwrap().to_string();
    let v1 = r.json()["keyVersionId"].as_str().unwrap().to_string();
    let key_path = format!("/20180608/keys/{}", emu.field("key_id"));
    let rot = call(
        &emu.addr(),
        "POST",
        &format!("{key_path}/keyVersions"),
        Some(&json!({})),
        Some(&user),
    )
    .unwrap();
    assert_eq!(rot.status, 200);
    let v2 = rot.json()["id"].as_str().unwrap().to_string();
    assert_ne!(v1, v2);
    let key_id = emu.field("key_id");
    emu.stop();

    let emu = Emu::start(dir.path(), &[]);
    assert_eq!(emu.field("key_id"), key_id);
    let user = emu.user_signer();
    let d = decrypt(&emu, &user, &c1).unwrap();
    assert_eq!(d.status, 200);
    assert_eq!(
        STANDARD.decode(d.json()["plaintext"].as_str().unwrap()).unwrap(),
        b"before restart"
    );
    assert_eq!(d.json()["keyVersionId"], v1.as_str());
    let key = call(&emu.addr(), "GET", &key_path, None, Some(&user)).unwrap();
    assert_eq!(key.json()["currentKeyVersion"], v2.as_str());
    assert!(key.header("etag").is_some());
    let e = encrypt(&emu, &user, b"after").unwrap();
    assert_eq!(e.json()["keyVersionId"], v2.as_str());
    emu.stop();
}

#[test]
fn authentication_failures_name_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    let user = emu.user_signer();
    let addr = emu.addr();
    let unsigned =
        call(&addr, "GET", &format!("/20180608/keys/{}", emu.field("key_id")), None, None).unwrap();
    assert_eq!(unsigned.status, 401);
    assert_eq!(unsigned.json()["code"], "NotAuthenticated");
    assert!(unsigned.header("opc-request-id").is_some());
    let stranger = Signer { key_id: user.key_id.clone(), key: RsaKey::generate().unwrap() };
    let r = encrypt(&emu, &stranger, b"x").unwrap();
    assert_eq!(r.status, 401);
    assert!(r.json()["message"].as_str().unwrap().contains("signature check failed"));
    let unknown = Signer { key_id: "t/u/00:11".into(), key: RsaKey::generate().unwrap() };
    let r = encrypt(&emu, &unknown, b"x").unwrap();
    assert!(r.json()["message"].as_str().unwrap().contains("keyId check failed"));
    // The empty-body POST still needs body headers: a raw request without them is rejected.
    let r =
        common::raw(&addr, "POST", "/20180608/encrypt", &[("host".into(), addr.clone())], b"{}")
            .unwrap();
    assert_eq!(r.status, 401);
    // Unknown key: 404 NotAuthorizedOrNotFound; wrong path: 404 NotFound.
    let r = call(&addr, "GET", "/20180608/keys/ocid1.key.oc1..nope", None, Some(&user)).unwrap();
    assert_eq!((r.status, r.json()["code"].as_str().unwrap()), (404, "NotAuthorizedOrNotFound"));
    emu.stop();
}

#[test]
fn fault_sequences_resets_truncation_delay_and_counters() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    let user = emu.user_signer();
    let plan = json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "status", "status": 429, "retry_after": 2},
        {"kind": "status", "status": 503},
        {"kind": "reset"},
        {"kind": "truncate"},
        {"kind": "delay", "ms": 300},
        {"kind": "none"}
    ]}]});
    admin(&emu, "PUT", "/faults", Some(&plan));
    let r = encrypt(&emu, &user, b"x").unwrap();
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
    assert_eq!(r.json()["code"], "TooManyRequests");
    let r = encrypt(&emu, &user, b"x").unwrap();
    assert_eq!((r.status, r.json()["code"].as_str().unwrap()), (503, "ServiceUnavailable"));
    let reset = encrypt(&emu, &user, b"x").unwrap_err();
    assert_eq!(reset.kind(), std::io::ErrorKind::ConnectionReset, "{reset}");
    let short = encrypt(&emu, &user, b"x").unwrap_err();
    assert!(
        short.to_string().contains("truncated body"),
        "status line and half the body arrive: {short}"
    );
    let t = Instant::now();
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    // Other routes are untouched.
    let key_path = format!("/20180608/keys/{}", emu.field("key_id"));
    assert_eq!(call(&emu.addr(), "GET", &key_path, None, Some(&user)).unwrap().status, 200);
    let c = admin(&emu, "GET", "/counters", None);
    let enc = &c["routes"]["encrypt"];
    assert_eq!(
        (
            enc["429"].as_u64(),
            enc["503"].as_u64(),
            enc["reset"].as_u64(),
            enc["truncated"].as_u64(),
            enc["200"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(2))
    );
    assert_eq!(c["routes"]["getKey"]["200"], 1);
    admin(&emu, "POST", "/counters/reset", None);
    assert_eq!(admin(&emu, "GET", "/counters", None)["total"], 0);
    emu.stop();
}

#[test]
fn faults_from_a_start_file_and_probability_rules() {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("faults.json");
    std::fs::write(&plan_path, json!({"rules": [{"route": "*", "probability": 1.0, "fault": {"kind": "status", "status": 500}, "times": 2}]}).to_string()).unwrap();
    let emu = Emu::start(&dir.path().join("s"), &["--faults", plan_path.to_str().unwrap()]);
    let user = emu.user_signer();
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 500);
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 500);
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    emu.stop();
}

#[test]
fn per_key_rate_limit_answers_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    let user = emu.user_signer();
    admin(
        &emu,
        "PUT",
        "/faults",
        Some(
            &json!({"rate_limits": [{"key_id": emu.field("key_id"), "per_second": 0.5, "burst": 2}]}),
        ),
    );
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    let r = encrypt(&emu, &user, b"x").unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    admin(&emu, "DELETE", "/faults", None);
    assert_eq!(encrypt(&emu, &user, b"x").unwrap().status, 200);
    emu.stop();
}

/// Runs x509 federation like an instance would and returns a session signer.
fn federate(emu: &Emu, sha256: bool) -> Signer {
    let meta = |p: &str| {
        let h = vec![
            ("authorization".to_string(), "Bearer Oracle".to_string()),
            ("host".to_string(), emu.addr()),
        ];
        let r = common::raw(&emu.addr(), "GET", &format!("/opc/v2/{p}"), &h, b"").unwrap();
        assert_eq!(r.status, 200, "metadata {p}");
        String::from_utf8(r.body).unwrap()
    };
    let cert = meta("identity/cert.pem");
    let leaf_key = RsaKey::from_pem(&meta("identity/key.pem")).unwrap();
    let intermediate = meta("identity/intermediate.pem");
    let der = |pem: &str| oci_kms_emulator::pem::decode(pem).unwrap().1;
    let (alg, form) = if sha256 {
        (&aws_lc_rs::digest::SHA256, "fed-x509-sha256")
    } else {
        (&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, "fed-x509")
    };
    let fp =
        oci_kms_emulator::encoding::colon_hex(aws_lc_rs::digest::digest(alg, &der(&cert)).as_ref());
    let session = RsaKey::generate().unwrap();
    let mut body = json!({
        "certificate": STANDARD.encode(der(&cert)),
        "publicKey": STANDARD.encode(session.spki_der().unwrap()),
        "intermediateCertificates": [STANDARD.encode(der(&intermediate))],
    });
    if sha256 {
        body["fingerprintAlgorithm"] = "SHA256".into();
    }
    let fed = Signer { key_id: format!("{}/{form}/{fp}", emu.field("tenancy")), key: leaf_key };
    let r = call(&emu.addr(), "POST", "/v1/x509", Some(&body), Some(&fed)).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let token = r.json()["token"].as_str().unwrap().to_string();
    Signer { key_id: format!("ST${token}"), key: session }
}

#[test]
fn federation_tokens_authenticate_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &["--token-lifetime", "2s"]);
    let h = vec![("host".to_string(), emu.addr())];
    assert_eq!(
        common::raw(&emu.addr(), "GET", "/opc/v2/instance/region", &h, b"").unwrap().status,
        401
    );
    let st = federate(&emu, true);
    assert_eq!(encrypt(&emu, &st, b"as instance").unwrap().status, 200);
    let legacy = federate(&emu, false);
    assert_eq!(encrypt(&emu, &legacy, b"legacy fed-x509 form").unwrap().status, 200);
    // The token binds the session key: another key with the same token is rejected.
    let forged = Signer { key_id: st.key_id.clone(), key: RsaKey::generate().unwrap() };
    assert_eq!(encrypt(&emu, &forged, b"x").unwrap().status, 401);
    std::thread::sleep(Duration::from_millis(2_500));
    let r = encrypt(&emu, &st, b"late").unwrap();
    assert_eq!(r.status, 401);
    assert!(r.json()["message"].as_str().unwrap().contains("expired"));
    let c = admin(&emu, "GET", "/counters", None);
    assert_eq!(c["routes"]["federation"]["200"], 2);
    emu.stop();
}

#[test]
fn tls_serves_with_the_written_ca() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &["--tls"]);
    assert!(emu.field("crypto_endpoint").starts_with("https://127.0.0.1:"));
    let ca = std::fs::read_to_string(emu.field("ca_cert")).unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE"));
    // A plain-HTTP request to the TLS port gets no HTTP answer.
    let addr = emu.field("crypto_endpoint").trim_start_matches("https://").to_string();
    assert!(common::raw(&addr, "GET", "/_emulator/health", &[], b"").is_err());
    emu.stop();
}

#[test]
fn management_lifecycle_create_list_and_data_keys() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    let user = emu.user_signer();
    let addr = emu.addr();
    let key = emu.field("key_id");
    let action = |a: &str, body: serde_json::Value| {
        call(&addr, "POST", &format!("/20180608/keys/{key}/actions/{a}"), Some(&body), Some(&user))
            .unwrap()
    };
    let r = action("scheduleDeletion", json!({"timeOfDeletion": "2030-01-02T03:04:05.000Z"}));
    assert_eq!((r.status, r.json()["lifecycleState"].as_str().unwrap()), (200, "PENDING_DELETION"));
    assert_eq!(r.json()["timeOfDeletion"], "2030-01-02T03:04:05.000Z");
    let e = encrypt(&emu, &user, b"x").unwrap();
    assert_eq!((e.status, e.json()["code"].as_str().unwrap()), (409, "IncorrectState"));
    assert_eq!(action("enable", json!({})).status, 409, "enable needs DISABLED");
    assert_eq!(action("cancelDeletion", json!({})).json()["lifecycleState"], "ENABLED");

    let gdk = json!({"keyId": key, "includePlaintextKey": true, "keyShape": {"algorithm": "AES", "length": 32}});
    let r = call(&addr, "POST", "/20180608/generateDataEncryptionKey", Some(&gdk), Some(&user))
        .unwrap();
    assert_eq!(r.status, 200);
    let dek = r.json()["plaintext"].as_str().unwrap().to_string();
    assert_eq!(STANDARD.decode(&dek).unwrap().len(), 32);
    let d = decrypt(&emu, &user, r.json()["ciphertext"].as_str().unwrap()).unwrap();
    assert_eq!(d.json()["plaintext"], dek.as_str());

    let compartment = emu.field("compartment_id");
    let created = call(
        &addr,
        "POST",
        "/20180608/keys",
        Some(&json!({"compartmentId": compartment, "displayName": "second",
        "keyShape": {"algorithm": "AES", "length": 32}})),
        Some(&user),
    )
    .unwrap();
    assert_eq!(created.status, 200, "{}", String::from_utf8_lossy(&created.body));
    let list = call(
        &addr,
        "GET",
        &format!("/20180608/keys?compartmentId={compartment}"),
        None,
        Some(&user),
    )
    .unwrap();
    assert_eq!(list.json().as_array().unwrap().len(), 2);
    emu.stop();
}

#[test]
fn user_session_token_profile_expires_and_refreshes() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &["--token-lifetime", "1s"]);
    let session = |d: &std::path::Path| Signer {
        key_id: format!("ST${}", std::fs::read_to_string(d.join("oci/session/token")).unwrap()),
        key: RsaKey::from_pem(&std::fs::read_to_string(d.join("oci/session/key.pem")).unwrap())
            .unwrap(),
    };
    let config = std::fs::read_to_string(dir.path().join("oci/config")).unwrap();
    assert!(config.contains("[SESSION]") && config.contains("security_token_file="));
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(encrypt(&emu, &session(dir.path()), b"x").unwrap().status, 401);
    admin(&emu, "PUT", "/token-lifetime", Some(&json!({"seconds": 60})));
    admin(&emu, "POST", "/session-token/refresh", None);
    assert_eq!(encrypt(&emu, &session(dir.path()), b"x").unwrap().status, 200);
    emu.stop();
}

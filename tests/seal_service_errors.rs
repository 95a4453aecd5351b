// SPDX-License-Identifier: MPL-2.0
//! OCI service errors through the seal: disabled key, IAM policy denial, untrusted TLS.

mod common;

use common::{policy_denied_world, Emulator};
use ocikms::{CallOptions, ErrorCode};
use serde_json::json;

fn is_request_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || "-/_.".contains(c))
}

#[tokio::test]
async fn disabled_key_is_incorrect_state_and_recovers_when_enabled() {
    let emu = Emulator::start();
    let (seal, key_id, blob) = emu.seal_with_disabled_key().await;
    emu.reset_counters().await;

    let err = seal.encrypt(b"v", &CallOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::IncorrectState, "{err}");
    let service = err.service().expect("service details");
    assert_eq!((service.status, service.code.as_str()), (409, "IncorrectState"));
    assert!(is_request_id(&service.opc_request_id));
    assert!(err.message().contains(&key_id));
    // 409 IncorrectState is retried (it may be transient) up to max_attempts.
    assert_eq!(emu.count("encrypt", "409").await, u64::from(seal.config().max_attempts));
    assert_eq!(
        seal.decrypt(&blob, &CallOptions::default()).await.unwrap_err().code(),
        ErrorCode::IncorrectState
    );

    let ctx = seal.context(&CallOptions::default());
    seal.client().enable_key(&ctx, &key_id).await.unwrap();
    assert_eq!(&*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), b"v");
}

#[tokio::test]
async fn policy_denial_is_reported_with_code_request_id_and_advice() {
    let emu = Emulator::start_with(&[], Some(&policy_denied_world()));
    let err = match emu.seal_for(emu.config()).await {
        Ok(_) => panic!("init must fail without a policy"),
        Err(err) => err,
    };
    assert_eq!(err.code(), ErrorCode::NotAuthorizedOrNotFound, "{err}");
    let service = err.service().expect("service details");
    assert_eq!((service.status, service.code.as_str()), (404, "NotAuthorizedOrNotFound"));
    assert!(is_request_id(&service.opc_request_id));
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("ocid1.key.oc1.phx.aaaaaaaakey"), "{text}");
    assert!(text.contains("use keys"), "{text}");
    assert!(text.contains("seal init"), "{text}");
    assert!(text.contains(&service.opc_request_id), "{text}");
    assert_eq!(emu.total("encrypt").await, 1, "a 404 is not retried");
}

#[tokio::test]
async fn tls_needs_the_ca_bundle() {
    let emu = Emulator::start_with(&["--tls"], None);
    assert!(emu.field("crypto_endpoint").starts_with("https://"));
    let mut map = emu.config_map();
    let err = match emu.seal_for(Emulator::config_from(&map)).await {
        Ok(_) => panic!("an unknown CA must be refused"),
        Err(err) => err,
    };
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
    assert!(err.message().contains("ca_cert"), "{err}");
    assert!(!err.is_retryable());

    map.insert("ca_cert".into(), json!(emu.field("ca_cert")));
    let seal = emu.seal_for(Emulator::config_from(&map)).await.expect("trusted with ca_cert");
    let blob = seal.encrypt(b"tls", &CallOptions::default()).await.unwrap();
    assert_eq!(&*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), b"tls");
}

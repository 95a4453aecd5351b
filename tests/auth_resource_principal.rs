// SPDX-License-Identifier: MPL-2.0
//! Resource principal v2.2 against the emulator: file and literal values, rotation of the files
//! under load, and the errors for missing, unreadable or expired settings.

mod auth_support;
mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_support::{
    load_across_rotations, provider, resource_env, round_trip, seal_for, seal_with,
};
use common::Emulator;
use ocikms::ErrorCode;

const RPST: &str = "OCI_RESOURCE_PRINCIPAL_RPST";
const PRIVATE_PEM: &str = "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM";

fn rp_file(emu: &Emulator, field: &str) -> String {
    emu.info["resource_principal"][field].as_str().expect("resource principal file").to_string()
}

#[tokio::test]
async fn round_trip_with_token_and_key_files() {
    let emu = Emulator::start();
    let seal = seal_for(&emu, "resource_principal", &resource_env(&emu)).await.expect("seal init");
    round_trip(&seal, b"function secret").await.expect("round trip");
    assert_eq!(seal.metadata()["principal_type"], "resource");
}

#[tokio::test]
async fn round_trip_with_literal_values() {
    let emu = Emulator::start();
    let env = resource_env(&emu)
        .set(RPST, std::fs::read_to_string(rp_file(&emu, "rpst")).unwrap())
        .set(PRIVATE_PEM, std::fs::read_to_string(rp_file(&emu, "private_pem")).unwrap());
    let seal = seal_for(&emu, "resource_principal", &env).await.expect("seal init");
    round_trip(&seal, b"literal").await.expect("round trip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotated_files_are_followed_under_load() {
    // 10 s tokens rotated every second by the "platform": each refresh (at half-life) finds a
    // newer token, with seconds to spare even when the host is heavily loaded.
    let emu = Emulator::start_with(&["--token-lifetime", "10s"], None);
    let provider = provider(&emu, "resource_principal", &resource_env(&emu)).unwrap();
    let seal =
        Arc::new(seal_with(&emu, "resource_principal", provider.clone()).await.expect("seal init"));
    // The platform's part: write a fresh token and key every second.
    let emu = Arc::new(emu);
    let platform = emu.clone();
    let rotator = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            platform.admin_post("resource-principal/refresh", serde_json::json!({})).await;
        }
    });
    let report = load_across_rotations(seal, provider, 32, 4, Duration::from_secs(60)).await;
    rotator.abort();
    assert!(
        report.failures.is_empty(),
        "{} failed calls, first: {:?}",
        report.failures.len(),
        report.failures.first()
    );
    assert!(report.tokens_seen >= 4, "only {} tokens followed", report.tokens_seen);
}

#[tokio::test]
async fn missing_variables_are_named() {
    let emu = Emulator::start();
    for variable in
        ["OCI_RESOURCE_PRINCIPAL_VERSION", RPST, PRIVATE_PEM, "OCI_RESOURCE_PRINCIPAL_REGION"]
    {
        let env = resource_env(&emu).unset(variable);
        let err = seal_for(&emu, "resource_principal", &env).await.err().expect("variable missing");
        assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
        assert!(err.message().contains(variable), "{err}");
    }
}

#[tokio::test]
async fn unreadable_files_are_named() {
    let emu = Emulator::start();
    let missing = emu.state.path().join("rp").join("no-such-token");
    let env = resource_env(&emu).set(RPST, missing.display().to_string());
    let err = seal_for(&emu, "resource_principal", &env).await.err().expect("token file missing");
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains(&missing.display().to_string()), "{err}");

    let garbage = emu.state.path().join("rp").join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let env = resource_env(&emu).set(PRIVATE_PEM, garbage.display().to_string());
    let err = seal_for(&emu, "resource_principal", &env).await.err().expect("key unusable");
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains("garbage.pem"), "{err}");
}

#[tokio::test]
async fn expired_literal_token_cannot_be_renewed() {
    let emu = Emulator::start_with(&["--token-lifetime", "1s"], None);
    let env = resource_env(&emu)
        .set(RPST, std::fs::read_to_string(rp_file(&emu, "rpst")).unwrap())
        .set(PRIVATE_PEM, std::fs::read_to_string(rp_file(&emu, "private_pem")).unwrap());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let err = seal_for(&emu, "resource_principal", &env).await.err().expect("token expired");
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains("a literal token cannot be renewed"), "{err}");
}

// SPDX-License-Identifier: MPL-2.0
//! OKE workload identity against the emulator's proxymux (TLS with its own CA): round trip,
//! rotation under load, and the errors for a refused service account or missing files.

mod auth_support;
mod common;

use auth_support::{
    load_across_rotations_one_token_call_each, provider, round_trip, seal_for, workload_env,
};
use common::Emulator;
use ocikms::ErrorCode;

const PROXYMUX: [&str; 2] = ["--workload-listen", "127.0.0.1:0"];

#[tokio::test]
async fn round_trip_with_workload_identity() {
    let emu = Emulator::start_with(&PROXYMUX, None);
    let seal = seal_for(&emu, "workload_identity", &workload_env(&emu)).await.expect("seal init");
    round_trip(&seal, b"pod secret").await.expect("round trip");
    assert_eq!(seal.metadata()["principal_type"], "workload");
    assert_eq!(emu.count("workload", "200").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_loops_across_ten_rotations_one_exchange_each() {
    let mut args = PROXYMUX.to_vec();
    args.extend(["--token-lifetime", "5s"]);
    let emu = Emulator::start_with(&args, None);
    let provider = provider(&emu, "workload_identity", &workload_env(&emu)).unwrap();
    load_across_rotations_one_token_call_each(&emu, "workload_identity", provider, "workload")
        .await;
}

#[tokio::test]
async fn refused_service_account_token_is_not_authenticated() {
    let emu = Emulator::start_with(&PROXYMUX, None);
    let wrong = emu.state.path().join("wrong-token");
    std::fs::write(&wrong, "not-the-service-account-token").unwrap();
    let env =
        workload_env(&emu).set("OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH", wrong.display().to_string());
    let err = seal_for(&emu, "workload_identity", &env).await.err().expect("token refused");
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains("/resourcePrincipalSessionTokens"), "{err}");
    assert_eq!(err.service().map(|s| s.status), Some(401), "{err}");
}

#[tokio::test]
async fn missing_files_and_variables_are_named() {
    let emu = Emulator::start_with(&PROXYMUX, None);
    let missing = emu.state.path().join("no-such-file");
    for variable in
        ["OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", "OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH"]
    {
        let env = workload_env(&emu).set(variable, missing.display().to_string());
        let err = seal_for(&emu, "workload_identity", &env).await.err().expect("file missing");
        assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
        assert!(err.message().contains(&missing.display().to_string()), "{err}");
        assert!(err.message().contains(variable), "{err}");
    }
    for variable in [
        "OCI_RESOURCE_PRINCIPAL_VERSION",
        "OCI_RESOURCE_PRINCIPAL_REGION",
        "KUBERNETES_SERVICE_HOST",
    ] {
        let err = seal_for(&emu, "workload_identity", &workload_env(&emu).unset(variable))
            .await
            .err()
            .expect("unset");
        assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
        assert!(err.message().contains(variable), "{err}");
    }
}

#[tokio::test]
async fn proxymux_with_an_untrusted_certificate_is_a_network_error() {
    let emu = Emulator::start_with(&PROXYMUX, None);
    // A CA bundle that did not sign the proxymux certificate (the emulator's intermediate is a
    // CA certificate too, but not an issuer of the TLS leaf).
    let other_ca = emu.state.path().join("pki").join("intermediate.pem");
    let env = workload_env(&emu)
        .set("OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", other_ca.display().to_string());
    let err = seal_for(&emu, "workload_identity", &env).await.err().expect("TLS refused");
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
    assert!(err.message().contains("proxymux"), "{err}");
}

//! OKE workload identity against the emulator's proxymux (TLS with its own CA): round trip,
//! rotation under load, and the errors for a refused service account or missing files.

mod auth_support;
mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_support::{
    load_across_rotations, provider, round_trip, seal_for, seal_with, workload_env,
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
    let seal =
        Arc::new(seal_with(&emu, "workload_identity", provider.clone()).await.expect("seal init"));
    let report = load_across_rotations(seal, provider, 32, 11, Duration::from_secs(90)).await;
    println!(
        "{} round trips over {} tokens, slowest {:?}",
        report.round_trips, report.tokens_seen, report.slowest
    );
    assert!(
        report.failures.is_empty(),
        "{} failed calls, first: {:?}",
        report.failures.len(),
        report.failures.first()
    );
    assert!(report.tokens_seen >= 11, "only {} tokens in 90 s", report.tokens_seen);
    assert!(report.round_trips > 100, "only {} round trips", report.round_trips);
    let exchanges = emu.total("workload").await;
    assert!(
        exchanges == report.tokens_seen as u64 || exchanges == report.tokens_seen as u64 + 1,
        "{exchanges} proxymux calls for {} tokens",
        report.tokens_seen
    );
    // A request signed just before its token's expiry can reach a loaded server just after it:
    // the 401 is answered by one retry with the newer token (no extra token request, see
    // above). At worst each loop is caught so once per rotation; a stale token kept in use
    // would fail far more often (and the calls would fail).
    let unauthorized = emu.count("encrypt", "401").await + emu.count("decrypt", "401").await;
    println!("{unauthorized} requests crossed a token expiry and were retried");
    let bound = 32 * report.tokens_seen as u64;
    assert!(unauthorized <= bound, "{unauthorized} 401s for {} tokens", report.tokens_seen);
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

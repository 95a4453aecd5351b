// SPDX-License-Identifier: MPL-2.0
//! Instance principal against the emulator: metadata service → federation → KMS, token rotation
//! under load with single-flight refresh, 401 recovery, and the errors an operator can meet.

mod auth_support;
mod common;

use std::time::Duration;

use auth_support::{
    closed_port, fail_route, instance_env, load_across_rotations_one_token_call_each, provider,
    round_trip, seal_for, seal_with,
};
use common::Emulator;
use ocikms::auth::PrincipalType;
use ocikms::ErrorCode;

#[tokio::test]
async fn round_trip_with_instance_principal() {
    let emu = Emulator::start();
    let seal = seal_for(&emu, "instance_principal", &instance_env(&emu)).await.expect("seal init");
    round_trip(&seal, b"unseal key").await.expect("round trip");
    assert_eq!(seal.metadata()["principal_type"], "instance");
    // One token served the init and the round trip.
    assert_eq!(emu.count("federation", "200").await, 1);
    assert_eq!(emu.count("metadata", "401").await, 0, "metadata requests carry Bearer Oracle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_loops_across_ten_rotations_one_federation_call_each() {
    let emu = Emulator::start_with(&["--token-lifetime", "5s"], None);
    let provider = provider(&emu, "instance_principal", &instance_env(&emu)).unwrap();
    assert_eq!(provider.principal_type(), PrincipalType::Instance);
    let federation = load_across_rotations_one_token_call_each(
        &emu,
        "instance_principal",
        provider,
        "federation",
    )
    .await;
    assert_eq!(emu.count("federation", "200").await, federation);
}

#[tokio::test]
async fn metadata_and_federation_over_tls_trust_the_ca_cert_bundle() {
    let emu = Emulator::start_with(&["--tls"], None);
    assert!(emu.field("auth_url").starts_with("https://"));
    let seal = seal_for(&emu, "instance_principal", &instance_env(&emu)).await.expect("seal init");
    round_trip(&seal, b"over TLS").await.expect("round trip");
}

#[tokio::test]
async fn unauthorized_answer_refreshes_once_and_retries() {
    let emu = Emulator::start();
    let seal = seal_for(&emu, "instance_principal", &instance_env(&emu)).await.expect("seal init");
    emu.set_faults(serde_json::json!({"rules": [{"route": "encrypt", "sequence": [{"kind": "status", "status": 401}]}]}))
        .await;
    round_trip(&seal, b"after a 401").await.expect("the 401 is recovered from");
    assert_eq!(emu.count("encrypt", "401").await, 1);
    assert_eq!(emu.count("federation", "200").await, 2, "one refresh after the 401");
}

#[tokio::test]
async fn metadata_service_down_says_what_was_tried() {
    let emu = Emulator::start();
    let base = format!("http://127.0.0.1:{}/opc/v2", closed_port());
    let env = instance_env(&emu).set("OCI_METADATA_BASE_URL", base.clone());
    let err = seal_for(&emu, "instance_principal", &env).await.err().expect("no metadata service");
    assert_eq!(err.code(), ErrorCode::Credentials, "{err}");
    assert!(err.message().contains(&format!("metadata service at {base}/")), "{err}");
    assert!(err.message().contains("auth_type_api_key"), "{err}");
}

#[tokio::test]
async fn federation_denied_is_not_authenticated_with_details() {
    let emu = Emulator::start();
    fail_route(&emu, "federation", 401).await;
    let err = seal_for(&emu, "instance_principal", &instance_env(&emu))
        .await
        .err()
        .expect("federation denied");
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains(&format!("{}/v1/x509", emu.field("auth_url"))), "{err}");
    let service = err.service().expect("HTTP details");
    assert_eq!(service.status, 401);
    assert!(!service.opc_request_id.is_empty(), "{err}");
    assert_eq!(emu.total("federation").await, 1, "a 401 from federation is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_that_cannot_be_refreshed_fails_clearly_then_recovers() {
    let emu = Emulator::start_with(&["--token-lifetime", "2s"], None);
    let seal = seal_for(&emu, "instance_principal", &instance_env(&emu)).await.expect("seal init");
    fail_route(&emu, "federation", 401).await;
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let err = round_trip(&seal, b"late").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotAuthenticated, "{err}");
    assert!(err.message().contains("session token of the instance principal"), "{err}");
    assert!(err.message().contains("expired at"), "{err}");
    assert!(err.message().contains("could not be refreshed"), "{err}");
    emu.set_faults(serde_json::json!({"rules": []})).await;
    round_trip(&seal, b"recovered").await.expect("works again once federation does");
}

/// Two tenancies: Vault's instance in A (dynamic group `vault-servers`), the key in B; `policies`
/// are B's statements (A's are the seed's `define` + `endorse`).
fn cross_tenancy_world(b_policies: &[&str]) -> serde_json::Value {
    let (a, b) = ("ocid1.tenancy.oc1..aaaatenanta", "ocid1.tenancy.oc1..aaaatenantb");
    let instance = "ocid1.instance.oc1..aaaavaultserver";
    let mut policies_b = vec![format!("define tenancy tenantA as {a}")];
    policies_b.extend(b_policies.iter().map(|p| p.to_string()));
    serde_json::json!({
        "ready": {"instance": instance, "key": "ocid1.key.oc1..aaaasealkey"},
        "tenancies": [
            {
                "name": "tenantA", "id": a,
                "policies": [
                    format!("define tenancy tenantB as {b}"),
                    "endorse dynamic-group vault-servers to use keys in tenancy tenantB",
                ],
                "users": [{"id": "ocid1.user.oc1..aaaaoperator", "groups": ["Administrators"]}],
                "dynamic_groups": [{"name": "vault-servers", "id": "ocid1.dynamicgroup.oc1..aaaavaultservers", "members": [instance]}],
                "instances": [{"id": instance}],
            },
            {
                "name": "tenantB", "id": b,
                "policies": policies_b,
                "compartments": [{"name": "vault-keys", "id": "ocid1.compartment.oc1..aaaavaultkeys"}],
                "vaults": [{"id": "ocid1.vault.oc1..aaaavault", "compartment": "vault-keys"}],
                "keys": [{"id": "ocid1.key.oc1..aaaasealkey", "vault": "ocid1.vault.oc1..aaaavault", "compartment": "vault-keys"}],
            },
        ],
    })
}

#[tokio::test]
async fn seed_cross_tenancy_dynamic_group_policy_allows_the_instance() {
    let emu = Emulator::start_with(
        &[],
        Some(&cross_tenancy_world(&[
            "define dynamic-group vault-servers as ocid1.dynamicgroup.oc1..aaaavaultservers",
            "admit dynamic-group vault-servers of tenancy tenantA to use keys in compartment vault-keys",
        ])),
    );
    let seal = seal_for(&emu, "instance_principal", &instance_env(&emu)).await.expect("seal init");
    round_trip(&seal, b"cross-tenancy").await.expect("round trip");
}

#[tokio::test]
async fn without_the_admit_statement_the_key_is_not_found() {
    let emu = Emulator::start_with(&[], Some(&cross_tenancy_world(&[])));
    let err =
        seal_for(&emu, "instance_principal", &instance_env(&emu)).await.err().expect("no policy");
    assert_eq!(err.code(), ErrorCode::NotAuthorizedOrNotFound, "{err}");
}

/// The `sub` claim (the instance OCID at the emulator) of a session token key id `ST$<jwt>`.
fn token_subject(key_id: &str) -> String {
    use base64::Engine as _;
    let payload = key_id.trim_start_matches("ST$").split('.').nth(1).expect("JWT payload");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    let claims: serde_json::Value = serde_json::from_slice(&json).expect("JSON claims");
    claims["sub"].as_str().expect("sub claim").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_instance_certificate_is_used_from_the_next_token_on() {
    // Two instances of the permissive tenancy: switching the metadata service from the first to
    // the second makes it serve a different leaf certificate and key, as a rotation does.
    let emu = Emulator::start_with(&["--token-lifetime", "2s"], None);
    let first = emu.field("instance_id");
    let second_world = {
        let mut world: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(emu.state.path().join("world.json")).unwrap(),
        )
        .unwrap();
        let tenancy = &mut world["tenancies"][0];
        let second = "ocid1.instance.oc1..aaaarotatedcert";
        tenancy["instances"].as_array_mut().unwrap().push(serde_json::json!({"id": second}));
        tenancy["dynamic_groups"][0]["members"].as_array_mut().unwrap().push(second.into());
        world["ready"]["instance"] = first.clone().into();
        world
    };
    drop(emu);
    let emu = Emulator::start_with(&["--token-lifetime", "2s"], Some(&second_world));
    let urls = emu.info["instances"].as_object().unwrap().clone();
    let first_url = urls[&first].as_str().unwrap();
    let (second, second_url) = urls
        .iter()
        .find(|(id, _)| **id != first)
        .map(|(id, u)| (id.clone(), u.as_str().unwrap()))
        .unwrap();

    let relay = auth_support::MetadataRelay::start(first_url);
    let env = instance_env(&emu).set("OCI_METADATA_BASE_URL", relay.base_url.clone());
    let provider = provider(&emu, "instance_principal", &env).unwrap();
    let seal = seal_with(&emu, "instance_principal", provider.clone()).await.expect("seal init");
    assert_eq!(token_subject(&provider.credentials().await.unwrap().key_id), first);

    relay.switch_to(second_url);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(token_subject(&provider.credentials().await.unwrap().key_id), second);
    round_trip(&seal, b"after rotation")
        .await
        .expect("round trip with the new certificate's token");
}

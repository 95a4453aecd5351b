// SPDX-License-Identifier: MPL-2.0
//! `ocikms check` against the emulator: passing configurations (Vault HCL, flags, instance
//! principal, JSON), policy denials with the filled-in statements — which, applied, make the
//! check pass — and usage/config errors.

mod common;

use std::process::Output;

use common::{code, json, ocikms, stdout, world, Emulator};
use serde_json::Value;

#[test]
fn check_passes_with_a_vault_hcl_seal_block() {
    let emu = Emulator::start();
    let hcl = emu.vault_hcl();
    let out = ocikms(&["check", "--config", hcl.to_str().unwrap()], &[], None);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    for line in
        ["✓ config", "✓ credentials", "– metadata", "– federation", "✓ GetKey", "✓ round trip"]
    {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains(&emu.field("user")), "the user OCID is shown:\n{text}");
    assert!(
        text.contains(&format!("{}  ({})", emu.field("key_id"), hcl.display())),
        "key source:\n{text}"
    );
    assert!(text.contains("ENABLED"));
    assert!(text.contains("check passed"));
    assert!(text.contains(" ms"), "timings:\n{text}");
}

#[test]
fn check_passes_with_openbao_inline_credentials_and_reads_no_config_file() {
    let emu = Emulator::start();
    // The emulator's encrypted API key (its profile ENCRYPTED) and that key's passphrase.
    let oci = emu.state.path().join("oci");
    let pem = std::fs::read_to_string(oci.join("api_key_encrypted.pem")).unwrap();
    let passphrase = std::fs::read_to_string(oci.join("pass_phrase")).unwrap().trim().to_owned();
    let hcl = emu.state.path().join("openbao.hcl");
    let text = format!(
        "seal \"ocikms\" {{\n  key_id = \"{}\"\n  crypto_endpoint = \"{}\"\n  \
         management_endpoint = \"{}\"\n  auth_type_api_key = \"true\"\n  tenancy_ocid = \"{}\"\n  \
         user_ocid = \"{}\"\n  fingerprint = \"{}\"\n  region = \"us-ashburn-1\"\n  \
         private_key_passphrase = \"{passphrase}\"\n  private_key = <<EOF\n{pem}EOF\n}}\n",
        emu.field("key_id"),
        emu.field("crypto_endpoint"),
        emu.field("management_endpoint"),
        emu.field("tenancy"),
        emu.field("user"),
        emu.field("fingerprint"),
    );
    std::fs::write(&hcl, text).unwrap();
    // HOME has no .oci/config and OCI_CONFIG_FILE is unset: nothing to fall back to.
    let home = tempfile::tempdir().unwrap();
    let env = [("HOME".to_owned(), home.path().display().to_string())];
    let out = ocikms(&["check", "--config", hcl.to_str().unwrap()], &env, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("check passed") && text.contains(&emu.field("user")), "{text}");
    assert!(
        text.contains("the seal configuration (tenancy_ocid, user_ocid, private_key)"),
        "{text}"
    );
    let body: Vec<&str> =
        pem.lines().filter(|l| !l.starts_with("-----") && !l.contains(':')).collect();
    assert!(
        !text.contains(&passphrase) && !text.contains(body[1]),
        "secrets in the output:\n{text}"
    );
}

#[test]
fn check_json_reports_every_step() {
    let emu = Emulator::start();
    let config_file = emu.field("oci_config_file");
    let mut args = vec!["check", "--json", "--auth-type", "api_key", "--config-file", &config_file];
    let flags = emu.endpoint_flags();
    args.extend(flags.iter().map(String::as_str));
    let out = ocikms(&args, &[], None);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(doc["ok"], true);
    let statuses: Vec<(&str, &str)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("config", "pass"),
            ("credentials", "pass"),
            ("metadata", "skip"),
            ("federation", "skip"),
            ("GetKey", "pass"),
            ("round trip", "pass")
        ]
    );
}

#[test]
fn check_passes_with_instance_principal_and_shows_its_ocids() {
    let emu = Emulator::start();
    let out = check_as_instance(&emu, &[]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("✓ metadata") && text.contains("✓ federation"), "{text}");
    assert!(text.contains(&emu.field("instance_id")), "instance OCID shown:\n{text}");
    assert!(text.contains("instance_principal"));
    assert!(text.contains("token valid for"));
}

/// Runs `ocikms check` with `extra` arguments and `emu`'s endpoints, as the emulator's instance.
fn check_as_instance(emu: &Emulator, extra: &[&str]) -> Output {
    let flags = emu.endpoint_flags();
    let mut args = vec!["check"];
    args.extend(extra);
    args.extend(flags.iter().map(String::as_str));
    ocikms(&args, &emu.instance_env(), None)
}

fn step<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

#[test]
fn check_denied_user_prints_the_error_request_id_and_policy_statements() {
    let emu = Emulator::start_with_world(Some(&world(&[])));
    let hcl = emu.vault_hcl();
    let out = ocikms(&["check", "--config", hcl.to_str().unwrap()], &[], None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("✗ GetKey") && text.contains("✗ round trip"), "{text}");
    assert!(text.contains("HTTP 404 NotAuthorizedOrNotFound"), "{text}");
    assert!(text.contains("opc-request-id: "), "{text}");
    assert!(
        text.contains(
            "allow group ocikms-vault-users to use keys in compartment id <key-compartment-ocid>"
        ),
        "{text}"
    );
    assert!(text.contains("where request.user.id = 'ocid1.user.oc1..nopolicy'"), "{text}");
    assert!(text.contains("where target.key.id = 'ocid1.key.oc1..sealkey'"), "{text}");
    assert!(text.contains("check FAILED at: GetKey, round trip"), "{text}");

    // The JSON report carries the same details.
    let out = ocikms(&["check", "--json", "--config", hcl.to_str().unwrap()], &[], None);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    let get_key = step(&doc, "GetKey");
    assert_eq!(get_key["status"], "fail");
    assert_eq!(get_key["error"]["code"], "not_authorized_or_not_found");
    assert_eq!(get_key["error"]["http_status"], 404);
    assert!(!get_key["error"]["opc_request_id"].as_str().unwrap().is_empty());
}

/// The instance may read keys but not use them: GetKey passes (so the key's compartment is
/// known), the round trip is denied, and the printed statement — applied — makes check pass.
#[test]
fn check_denied_instance_prints_statements_that_make_it_pass() {
    let read_only = "allow dynamic-group ocikms-vault to read keys in compartment kms".to_owned();
    let emu = Emulator::start_with_world(Some(&world(&[read_only])));
    let out = check_as_instance(&emu, &["--json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(step(&doc, "GetKey")["status"], "pass");
    let round_trip = step(&doc, "round trip");
    assert_eq!(round_trip["error"]["oci_code"], "NotAuthorizedOrNotFound");
    let fix: Vec<String> = round_trip["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().trim().to_owned())
        .collect();
    assert!(
        fix.contains(&"ANY {instance.id = 'ocid1.instance.oc1..vault1'}".to_owned()),
        "{fix:#?}"
    );
    let allow = fix
        .iter()
        .find(|l| l.starts_with("allow dynamic-group"))
        .unwrap_or_else(|| panic!("no allow statement in {fix:#?}"))
        .clone();
    assert_eq!(
        allow,
        "allow dynamic-group ocikms-vault to use keys in compartment id ocid1.compartment.oc1..kms"
    );
    assert!(
        fix.iter().any(|l| l.contains("define tenancy vaulttenancy as ocid1.tenancy.oc1..acme")),
        "{fix:#?}"
    );
    drop(emu);

    // Apply the printed statement: now the instance passes every step.
    let emu = Emulator::start_with_world(Some(&world(&[allow])));
    let out = check_as_instance(&emu, &[]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn configuration_errors_fail_and_usage_errors_exit_2() {
    let out = ocikms(
        &["check", "--crypto-endpoint", "https://v-crypto.kms.us-ashburn-1.oraclecloud.com"],
        &[],
        None,
    );
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("✗ config") && text.contains("key_id is not set"), "{text}");

    let missing = ocikms(&["check", "--config", "/nonexistent/vault.hcl"], &[], None);
    assert_eq!(code(&missing), 1);
    assert!(stdout(&missing).contains("/nonexistent/vault.hcl"));

    assert_eq!(code(&ocikms(&["check", "--no-such-flag"], &[], None)), 2);
    assert_eq!(code(&ocikms(&["check", "--auth-type", "password"], &[], None)), 2);
    assert_eq!(code(&ocikms(&[], &[], None)), 2);
    let help = ocikms(&["check", "--help"], &[], None);
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("Examples:"), "long help teaches with examples");
}

#[test]
fn environment_wins_over_the_file_as_in_vault() {
    let emu = Emulator::start();
    let hcl = emu.vault_hcl();
    let env = [("VAULT_OCIKMS_SEAL_KEY_ID".to_owned(), "ocid1.key.oc1..fromenv".to_owned())];
    let out = ocikms(&["check", "--json", "--config", hcl.to_str().unwrap()], &env, None);
    assert_eq!(code(&out), 1, "an unknown key fails");
    let doc = json(&out);
    let config = &step(&doc, "config")["details"];
    let key_line = config.as_array().unwrap().iter().find(|d| d[0] == "key_id").unwrap();
    assert_eq!(key_line[1], "ocid1.key.oc1..fromenv  (environment VAULT_OCIKMS_SEAL_KEY_ID)");
}

#[test]
fn check_passes_with_resource_principal_and_shows_the_resource_ocid() {
    let emu = Emulator::start();
    let env_file = emu.info["resource_principal"]["env_file"].as_str().unwrap().to_owned();
    let env: Vec<(String, String)> = std::fs::read_to_string(env_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect();
    assert!(env.iter().any(|(k, _)| k == "OCI_RESOURCE_PRINCIPAL_RPST"), "{env:?}");
    let flags = emu.endpoint_flags();
    let mut args = vec!["check", "--auth-type", "resource_principal"];
    args.extend(flags.iter().map(String::as_str));
    let out = ocikms(&args, &env, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    let resource = emu.info["resource_principal"]["id"].as_str().unwrap();
    assert!(text.contains(&format!("resource         {resource}")), "{text}");
    assert!(text.contains("principal_type  resource"), "{text}");
}

#[test]
fn check_stops_at_a_refused_federation_with_its_request_id() {
    let faults = serde_json::json!({"rules": [{"route": "federation", "sequence": [{"kind": "status", "status": 401}]}]});
    let emu = Emulator::start_with(None, Some(&faults));
    let out = check_as_instance(&emu, &["--json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(doc["failed"], serde_json::json!(["federation"]));
    let federation = step(&doc, "federation");
    assert_eq!(federation["error"]["code"], "not_authenticated");
    assert_eq!(federation["error"]["http_status"], 401);
    assert!(federation["fix"][0].as_str().unwrap().contains("OCI_SDK_AUTH_CLIENT_REGION_URL"));
    assert!(doc["steps"].as_array().unwrap().iter().all(|s| s["name"] != "GetKey"), "stops there");
}

// SPDX-License-Identifier: MPL-2.0
//! What to do about a failure: a short fix per error code and, for `NotAuthorizedOrNotFound`,
//! the IAM policy statements (the seed's forms, REFERENCE §6) filled in with the principal's
//! OCIDs and the key's compartment.

use ocikms::{Error, ErrorCode};

use crate::args::SealArgs;
use crate::principal::{self, Principal};
use crate::settings;

/// The dynamic group name the suggested statements use (any name works; keep them consistent).
pub const DYNAMIC_GROUP: &str = "ocikms-vault";
/// The group name the suggested statements use for users.
pub const GROUP: &str = "ocikms-vault-users";

/// What the fix for a failure needs to know.
pub struct Context<'a> {
    /// The configured key OCID.
    pub key_id: &'a str,
    /// The key's compartment OCID, when GetKey could read it.
    pub key_compartment: Option<&'a str>,
    /// The principal, as far as known.
    pub principal: Option<&'a Principal>,
    /// The IAM verb the failed call needs (`read` for GetKey, `use` for encrypt/decrypt,
    /// `manage` for rotation).
    pub verb: &'a str,
}

/// The lines of the fix for `err`.
pub fn fix(err: &Error, ctx: &Context<'_>) -> Vec<String> {
    match err.code() {
        ErrorCode::NotAuthorizedOrNotFound => not_authorized(ctx),
        ErrorCode::NotAuthenticated => vec![
            "OCI did not accept the request signature or session token:".to_owned(),
            "- API key: the key_file must be the private key of the public key uploaded to the user, \
             and fingerprint, user and tenancy in the OCI config must be that user's"
                .to_owned(),
            "- check this host's clock (NTP): OCI rejects requests more than 5 minutes off".to_owned(),
            "- session token: renew it (`oci session refresh` / `oci session authenticate`)".to_owned(),
        ],
        ErrorCode::IncorrectState => vec![format!(
            "the key is disabled or pending deletion: enable it in the OCI console (Key Management → \
             the vault → the key → Enable) or `oci kms management key enable --key-id {} \
             --endpoint <management endpoint>`",
            ctx.key_id
        )],
        ErrorCode::Network => vec![
            "check the endpoint URL (the vault's crypto/management endpoints are on its details page), \
             DNS, proxy (HTTPS_PROXY) and firewall/security-list egress to port 443"
                .to_owned(),
            "a private CA? set ca_cert (--ca-cert) to its PEM bundle".to_owned(),
        ],
        ErrorCode::Timeout => {
            vec!["the endpoint did not answer in time: check connectivity, or raise request_timeout \
                  (--request-timeout 120s)"
                .to_owned()]
        }
        ErrorCode::Throttled => vec![
            "OCI KMS throttled the requests: retry later, or ask for a higher KMS request limit".to_owned(),
        ],
        ErrorCode::ServiceUnavailable => vec![
            "OCI KMS had a server-side failure: retry later; if it persists, open a service request \
             quoting the opc-request-id"
                .to_owned(),
        ],
        ErrorCode::Credentials | ErrorCode::Config => {
            vec!["fix the setting the message names, then run `ocikms check` again".to_owned()]
        }
        ErrorCode::DecryptFailed => vec![
            "the data does not decrypt: give the same --aad as at encryption, and check that the value \
             was not altered"
                .to_owned(),
        ],
        ErrorCode::MalformedBlob | ErrorCode::UnsupportedMechanism => vec![
            "the input is not a value written by an OCI KMS seal: give the BlobInfo bytes Vault stored, \
             a multiwrapvalue:1 value, or `ocikms encrypt --format json` output"
                .to_owned(),
        ],
        _ => vec![],
    }
}

/// The fix for a failed command (not `check`): the configuration is re-read for the key OCID
/// and the principal (as far as known without network calls), and `ocikms check` suggested.
pub fn for_command(err: &Error, args: &SealArgs, verb: &str) -> Vec<String> {
    let config = settings::load(args).ok().map(|l| l.config);
    let principal = config.as_ref().map(principal::offline);
    let key_id = config.as_ref().map_or("<key-ocid>", |c| c.key_id.as_str());
    let ctx = Context { key_id, key_compartment: None, principal: principal.as_ref(), verb };
    let mut lines = fix(err, &ctx);
    lines.extend(suggest_check(err));
    lines
}

/// For failures in reaching or using OCI: a pointer to `ocikms check`.
fn suggest_check(err: &Error) -> Option<String> {
    let about_oci = !matches!(
        err.code(),
        ErrorCode::DecryptFailed
            | ErrorCode::MalformedBlob
            | ErrorCode::UnsupportedMechanism
            | ErrorCode::InvalidArgument
    );
    about_oci
        .then(|| "run `ocikms check` with the same options for a step-by-step diagnosis".to_owned())
}

/// The checklist and policy statements for HTTP 404 `NotAuthorizedOrNotFound`.
fn not_authorized(ctx: &Context<'_>) -> Vec<String> {
    let mut lines = vec![
        "OCI answers 404 NotAuthorizedOrNotFound when the key does not exist, when the endpoint is \
         another vault's, or when no IAM policy allows the principal. Check in turn:"
            .to_owned(),
        format!("1. the key OCID {} exists (OCI console → Key Management)", ctx.key_id),
        "2. crypto_endpoint / management_endpoint are those of the vault that holds the key".to_owned(),
        format!(
            "3. an IAM policy allows the principal to {} the key:",
            if ctx.verb == "manage" { "manage" } else { "use" }
        ),
    ];
    lines.extend(policy_statements(ctx).into_iter().map(|l| format!("   {l}")));
    lines
}

/// The statements that let the principal use the key, in the form its kind needs.
pub fn policy_statements(ctx: &Context<'_>) -> Vec<String> {
    let compartment = match ctx.key_compartment {
        Some(c) => format!("compartment id {c}"),
        None => "compartment id <key-compartment-ocid>".to_owned(),
    };
    let kind = ctx.principal.map_or("instance", |p| p.kind);
    let id = |fallback: &str| {
        ctx.principal.and_then(|p| p.id.clone()).unwrap_or_else(|| fallback.to_owned())
    };
    let tenancy = ctx
        .principal
        .and_then(|p| p.tenancy.clone())
        .unwrap_or_else(|| "<principal-tenancy-ocid>".to_owned());
    // Rotation needs `manage`; everything else the seal does needs `use` (which includes read).
    let grant = if ctx.verb == "manage" { "manage" } else { "use" };
    let mut out = Vec::new();
    match kind {
        "user" | "session" => {
            out.push(format!("# add user {} to a group, e.g. {GROUP}, then:", id("<user-ocid>")));
            out.push(format!("allow group {GROUP} to {grant} keys in {compartment}"));
            out.push(format!(
                "# or, without a group: allow any-user to {grant} keys in {compartment} where request.user.id = '{}'",
                id("<user-ocid>")
            ));
        }
        "workload" => {
            out.push(format!(
                "allow any-user to {grant} keys in {compartment} where ALL {{request.principal.type = 'workload', \
                 request.principal.cluster_id = '<cluster-ocid>', request.principal.namespace = '<namespace>', \
                 request.principal.service_account = '<service-account>'}}"
            ));
        }
        _ => {
            let rule = match (kind, ctx.principal.and_then(|p| p.id.as_deref())) {
                ("resource", Some(rid)) => format!("ALL {{resource.id = '{rid}'}}"),
                ("resource", None) => "ALL {resource.id = '<resource-ocid>'}".to_owned(),
                (_, Some(iid)) => format!("ANY {{instance.id = '{iid}'}}"),
                (_, None) => match ctx.principal.and_then(|p| p.compartment.as_deref()) {
                    Some(c) => format!("ANY {{instance.compartment.id = '{c}'}}"),
                    None => "ANY {instance.id = '<instance-ocid>'}".to_owned(),
                },
            };
            out.push(format!(
                "# a dynamic group {DYNAMIC_GROUP} in tenancy {tenancy} with the matching rule:"
            ));
            out.push(rule);
            if kind == "instance" {
                if let Some(c) = ctx.principal.and_then(|p| p.compartment.as_deref()) {
                    out.push(format!("# (or every instance of its compartment: ANY {{instance.compartment.id = '{c}'}})"));
                }
            }
            out.push("# and the policy:".to_owned());
            out.push(format!(
                "allow dynamic-group {DYNAMIC_GROUP} to {grant} keys in {compartment}"
            ));
            out.push(
                "# if the key is in another tenancy (the seed's cross-tenancy example):".to_owned(),
            );
            out.push(format!("#   in tenancy {tenancy}:"));
            out.push("#     define tenancy keytenancy as <key-tenancy-ocid>".to_owned());
            out.push(format!(
                "#     endorse dynamic-group {DYNAMIC_GROUP} to {grant} keys in tenancy keytenancy"
            ));
            out.push("#   in the key's tenancy:".to_owned());
            out.push(format!("#     define tenancy vaulttenancy as {tenancy}"));
            out.push(format!("#     define dynamic-group {DYNAMIC_GROUP} as <dynamic-group-ocid>"));
            out.push(format!(
                "#     admit dynamic-group {DYNAMIC_GROUP} of tenancy vaulttenancy to {grant} keys in {compartment}"
            ));
        }
    }
    out.push(format!(
        "# to allow only this key, append to the allow statement: where target.key.id = '{}'",
        ctx.key_id
    ));
    if ctx.verb == "read" {
        out.push("# (GetKey needs `read keys`; `use keys` includes it)".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: &'static str) -> Principal {
        Principal {
            kind,
            id: Some(format!("ocid1.{kind}.oc1..p")),
            tenancy: Some("ocid1.tenancy.oc1..t".into()),
            compartment: Some("ocid1.compartment.oc1..pc".into()),
            source: "test".into(),
        }
    }

    #[test]
    fn instance_statements_are_filled_in() {
        let p = principal("instance");
        let ctx = Context {
            key_id: "ocid1.key.oc1..k",
            key_compartment: Some("ocid1.compartment.oc1..kc"),
            principal: Some(&p),
            verb: "use",
        };
        let lines = policy_statements(&ctx);
        assert!(
            lines.contains(&"ANY {instance.id = 'ocid1.instance.oc1..p'}".to_owned()),
            "{lines:#?}"
        );
        assert!(lines.contains(&format!("allow dynamic-group {DYNAMIC_GROUP} to use keys in compartment id ocid1.compartment.oc1..kc")));
        assert!(lines
            .iter()
            .any(|l| l.contains("define tenancy vaulttenancy as ocid1.tenancy.oc1..t")));
        assert!(lines.iter().any(|l| l.contains("target.key.id = 'ocid1.key.oc1..k'")));
    }

    #[test]
    fn unknown_compartment_is_a_placeholder_and_users_get_group_statements() {
        let p = principal("user");
        let ctx = Context {
            key_id: "ocid1.key.oc1..k",
            key_compartment: None,
            principal: Some(&p),
            verb: "read",
        };
        let lines = policy_statements(&ctx);
        assert!(lines.contains(&format!(
            "allow group {GROUP} to use keys in compartment id <key-compartment-ocid>"
        )));
        assert!(lines.iter().any(|l| l.contains("request.user.id = 'ocid1.user.oc1..p'")));
        let err = Error::new(ErrorCode::NotAuthorizedOrNotFound, "get key failed");
        let fix = fix(&err, &ctx);
        assert!(fix.iter().any(|l| l.contains("ocid1.key.oc1..k exists")));
    }
}

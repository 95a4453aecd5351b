// SPDX-License-Identifier: MPL-2.0
//! Instance metadata (`/opc/v2/...`, `Authorization: Bearer Oracle`) and x509 federation
//! (`POST /v1/x509`): the leaf certificates of the emulated instances and session tokens for them.

use aws_lc_rs::digest;
use serde::Deserialize;
use serde_json::{json, Map};

use crate::app::App;
use crate::encoding::{colon_hex, unb64};
use crate::errors::ApiError;
use crate::http::{Reply, Request};
use crate::rsakeys;
use crate::verify::{self, VerifyOptions};
use crate::world::PrincipalKind;

/// Serves `/opc/v2/<rest>` for `instance`.
pub fn metadata(app: &App, req: &Request, instance: &str, rest: &str) -> Result<Reply, ApiError> {
    if req.header("authorization").map(str::trim) != Some("Bearer Oracle") {
        return Err(ApiError::not_authenticated(
            "instance metadata v2 requires the header `Authorization: Bearer Oracle`",
        ));
    }
    let (leaf, place) = app
        .identity
        .leaf(instance)
        .ok_or_else(|| ApiError::no_route(format!("no emulated instance {instance}")))?;
    match rest {
        "instance/region" => Ok(Reply::text(
            app.world.metadata_region.clone().unwrap_or_else(|| app.world.region.clone()),
        )),
        "instance/canonicalRegionName" => Ok(Reply::text(app.world.region.clone())),
        "instance/id" => Ok(Reply::text(instance.to_string())),
        "instance/compartmentId" => Ok(Reply::text(place.compartment.clone())),
        "instance" | "instance/" => Ok(Reply::json(&json!({
            "id": instance, "compartmentId": place.compartment, "tenantId": place.tenancy,
            "region": app.world.region, "canonicalRegionName": app.world.region,
        }))),
        "identity/cert.pem" => Ok(Reply::text(leaf.cert_pem.clone())),
        "identity/key.pem" => Ok(Reply::text(leaf.key_pem.to_string())),
        "identity/intermediate.pem" => Ok(Reply::text(app.identity.pki.intermediate_pem.clone())),
        other => Err(ApiError::no_route(format!("no metadata at /opc/v2/{other}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FederationBody {
    certificate: String,
    public_key: String,
    #[serde(default)]
    intermediate_certificates: Vec<String>,
    #[serde(default)]
    fingerprint_algorithm: Option<String>,
}

/// `POST /v1/x509`: verifies the leaf-key signature and chain, returns `{"token": <JWT>}`.
pub fn federation(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let pending = verify::prepare(
        &req.signed(),
        &VerifyOptions { now: Some(std::time::SystemTime::now()), require_host: false },
    )?;
    let body: FederationBody = req.json()?;
    let unauth = |m: String| ApiError::not_authenticated(m);
    let mut parts = pending.key_id.splitn(3, '/');
    let (tenancy, form, fp) = match (parts.next(), parts.next(), parts.next()) {
        (Some(t), Some(f), Some(p)) => (t, f, p),
        _ => {
            return Err(unauth(
                "keyId check failed: expected <tenancy>/fed-x509-sha256/<fingerprint>".into(),
            ))
        }
    };
    let leaf_der = unb64(&body.certificate)
        .ok_or_else(|| ApiError::invalid("certificate is not base64 DER"))?;
    let actual_fp = match form {
        "fed-x509-sha256" => colon_hex(digest::digest(&digest::SHA256, &leaf_der).as_ref()),
        "fed-x509" => {
            colon_hex(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &leaf_der).as_ref())
        }
        other => {
            return Err(unauth(format!(
                "keyId check failed: unknown federation key form {other:?}"
            )))
        }
    };
    if let Some(alg) = body.fingerprint_algorithm.as_deref() {
        let expected = if form == "fed-x509-sha256" { "SHA256" } else { "SHA1" };
        if !alg.eq_ignore_ascii_case(expected) {
            return Err(ApiError::invalid(format!(
                "fingerprintAlgorithm {alg} does not match keyId form {form}"
            )));
        }
    }
    if !fp.eq_ignore_ascii_case(&actual_fp) {
        return Err(unauth(
            "keyId check failed: the fingerprint does not match the presented certificate".into(),
        ));
    }
    let intermediates: Vec<Vec<u8>> =
        body.intermediate_certificates.iter().filter_map(|c| unb64(c)).collect();
    let (instance, cert_tenancy) = app
        .identity
        .pki
        .verify_chain(&leaf_der, &intermediates)
        .map_err(|e| unauth(format!("certificate check failed: {e}")))?;
    if cert_tenancy != tenancy {
        return Err(unauth(format!(
            "keyId check failed: tenancy {tenancy} is not the certificate's opc-tenant"
        )));
    }
    let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der)
        .map_err(|_| ApiError::invalid("certificate is not X.509"))?;
    let leaf_key = rsakeys::verifier(leaf.public_key().raw)
        .map_err(|e| unauth(format!("certificate key: {e}")))?;
    pending.verify_with(&leaf_key)?;
    let place = match app.world.workload(&instance) {
        Some((PrincipalKind::Instance, p)) => p.clone(),
        _ => {
            return Err(unauth(format!(
                "certificate check failed: {instance} is not an emulated instance"
            )))
        }
    };
    let session_der =
        unb64(&body.public_key).ok_or_else(|| ApiError::invalid("publicKey is not base64 DER"))?;
    let session_spki = rsakeys::public_der_to_spki(&session_der)
        .map_err(|e| ApiError::invalid(format!("publicKey: {e}")))?;
    let mut claims = Map::new();
    claims.insert("sub".into(), instance.clone().into());
    claims.insert("tenant".into(), place.tenancy.clone().into());
    claims.insert("ptype".into(), "instance".into());
    claims.insert("opc-instance".into(), instance.into());
    claims.insert("opc-compartment".into(), place.compartment.into());
    claims.insert("opc-tenant".into(), place.tenancy.into());
    claims.insert("ttype".into(), "x509".into());
    let token = app.tokens.issue(claims, &session_spki).map_err(ApiError::internal)?;
    Ok(Reply::json(&json!({"token": token})))
}

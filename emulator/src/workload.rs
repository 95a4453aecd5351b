// SPDX-License-Identifier: MPL-2.0
//! OKE workload identity (`POST /resourcePrincipalSessionTokens` with a service-account bearer
//! token and a `podKey`) and resource-principal session tokens written to `DIR/rp/`.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Map};

use crate::app::App;
use crate::encoding::b64;
use crate::errors::ApiError;
use crate::fsutil::write_atomic;
use crate::http::{Reply, Request};
use crate::rsakeys::{self, RsaKey};
use crate::world::PrincipalKind;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodKeyBody {
    pod_key: String,
}

/// `POST /resourcePrincipalSessionTokens`: answers a JSON string holding base64 of
/// `{"token": "ST$<jwt>"}` for the ready workload.
pub fn token(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let bearer =
        req.header("authorization").and_then(|h| h.trim().strip_prefix("Bearer ")).map(str::trim);
    if bearer != Some(app.sa_token.as_str()) {
        return Err(ApiError::not_authenticated(
            "service account token check failed: Authorization must be `Bearer <DIR/workload/token>`",
        ));
    }
    let workload = app
        .world
        .ready
        .workload
        .clone()
        .ok_or_else(|| ApiError::not_found("no OKE workload is configured"))?;
    let place = match app.world.workload(&workload) {
        Some((PrincipalKind::Workload, p)) => p.clone(),
        _ => return Err(ApiError::not_found(format!("{workload} is not a configured workload"))),
    };
    let body: PodKeyBody = req.json()?;
    let spki = rsakeys::public_pem_to_spki(&body.pod_key)
        .map_err(|e| ApiError::invalid(format!("podKey: {e}")))?;
    let mut claims = Map::new();
    claims.insert("sub".into(), workload.clone().into());
    claims.insert("tenant".into(), place.tenancy.clone().into());
    claims.insert("ptype".into(), "workload".into());
    claims.insert("res_tenant".into(), place.tenancy.into());
    claims.insert("res_compartment".into(), place.compartment.into());
    claims.insert("res_id".into(), workload.into());
    claims.insert("res_type".into(), "workload".into());
    let jwt = app.tokens.issue(claims, &spki).map_err(ApiError::internal)?;
    let inner = json!({"token": format!("ST${jwt}")}).to_string();
    Ok(Reply::json(&b64(inner.as_bytes())))
}

/// Writes `DIR/rp/rpst`, `DIR/rp/private.pem` and `DIR/rp/env` for the ready resource principal
/// (a fresh session key and token); returns `false` when none is configured.
pub fn write_resource_principal(app: &App, dir: &Path) -> Result<bool, String> {
    let Some(resource) = app.world.ready.resource.clone() else { return Ok(false) };
    let Some((PrincipalKind::Resource, place)) = app.world.workload(&resource).cloned() else {
        return Err(format!("{resource} is not a configured resource principal"));
    };
    let key = RsaKey::generate()?;
    let mut claims = Map::new();
    claims.insert("sub".into(), resource.clone().into());
    claims.insert("tenant".into(), place.tenancy.clone().into());
    claims.insert("ptype".into(), "resource".into());
    claims.insert("res_tenant".into(), place.tenancy.into());
    claims.insert("res_compartment".into(), place.compartment.into());
    claims.insert("res_id".into(), resource.into());
    claims.insert("res_type".into(), "resource".into());
    let token = app.tokens.issue(claims, &key.spki_der()?)?;
    let rpst = dir.join("rpst");
    let pem_path = dir.join("private.pem");
    write_atomic(&rpst, token.as_bytes(), 0o600)?;
    write_atomic(&pem_path, key.pkcs1_pem()?.as_bytes(), 0o600)?;
    let env = format!(
        "export OCI_RESOURCE_PRINCIPAL_VERSION=2.2\nexport OCI_RESOURCE_PRINCIPAL_RPST={}\nexport OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM={}\nexport OCI_RESOURCE_PRINCIPAL_REGION={}\n",
        rpst.display(),
        pem_path.display(),
        app.world.region
    );
    write_atomic(&dir.join("env"), env.as_bytes(), 0o600)?;
    Ok(true)
}

// SPDX-License-Identifier: MPL-2.0
//! The KMS management API: keys (create, list, get), key versions (list, get, create =
//! rotation) and lifecycle actions (enable, disable, scheduleDeletion, cancelDeletion).

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::App;
use crate::encoding::hex;
use crate::errors::ApiError;
use crate::http::{Reply, Request};
use crate::iam::Verb;
use crate::keystore::{KeyRecord, Transition, VersionRecord, DEFAULT_DELETION_DELAY};

/// A management operation on one key, from the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOp {
    /// `GET /keys/{id}`.
    Get,
    /// `GET /keys/{id}/keyVersions`.
    ListVersions,
    /// `POST /keys/{id}/keyVersions`.
    CreateVersion,
    /// `GET /keys/{id}/keyVersions/{versionId}`.
    GetVersion,
    /// `POST /keys/{id}/actions/<action>`.
    Action(KeyAction),
}

/// The lifecycle actions of `POST /keys/{id}/actions/<action>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// `enable`.
    Enable,
    /// `disable`.
    Disable,
    /// `scheduleDeletion` (body: optional `timeOfDeletion`).
    ScheduleDeletion,
    /// `cancelDeletion`.
    CancelDeletion,
}

fn key_json(k: &KeyRecord) -> Value {
    let mut v = json!({
        "id": k.id,
        "compartmentId": k.compartment_id,
        "vaultId": k.vault_id,
        "displayName": k.display_name,
        "currentKeyVersion": k.current_version,
        "keyShape": {"algorithm": "AES", "length": 32},
        "lifecycleState": k.lifecycle_state,
        "protectionMode": "SOFTWARE",
        "timeCreated": k.time_created,
        "isPrimary": true,
        "definedTags": {},
        "freeformTags": {},
    });
    if let Some(t) = &k.time_of_deletion {
        v["timeOfDeletion"] = t.clone().into();
    }
    v
}

fn version_json(k: &KeyRecord, ver: &VersionRecord) -> Value {
    json!({
        "id": ver.id,
        "keyId": k.id,
        "compartmentId": k.compartment_id,
        "vaultId": k.vault_id,
        "timeCreated": ver.time_created,
        "lifecycleState": ver.lifecycle_state,
        "origin": "INTERNAL",
        "isPrimary": true,
    })
}

/// A JSON reply with an `etag` derived from the content.
fn with_etag(v: &Value) -> Reply {
    let body = v.to_string();
    let tag =
        hex(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.as_bytes()).as_ref()[..16]);
    Reply::json(v).with_header("etag", tag)
}

fn required_verb(op: KeyOp) -> Verb {
    match op {
        KeyOp::Get | KeyOp::ListVersions | KeyOp::GetVersion => Verb::Read,
        KeyOp::CreateVersion | KeyOp::Action(_) => Verb::Manage,
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ScheduleBody {
    time_of_deletion: Option<String>,
}

/// Parses OCI's RFC 3339 `timeOfDeletion` (UTC `Z` form) into a time.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let t = text.trim().trim_end_matches('Z');
    let (date, clock) = t.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, dd) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':').map(|x| x.parse::<u64>());
    let (hh, mm, ss) = (c.next()?.ok()?, c.next()?.ok()?, c.next()?.ok()?);
    // Days from civil (H. Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + hh * 3600 + mm * 60 + ss))
}

/// Handles an operation on key `key_id` (and `version_id` for GetVersion).
pub fn key_op(
    app: &App,
    req: &Request,
    op: KeyOp,
    key_id: &str,
    version_id: Option<&str>,
) -> Result<Reply, ApiError> {
    let principal = app.authenticate(req)?;
    app.rate_check(key_id)?;
    app.authorize_key(&principal, required_verb(op), key_id)?;
    let missing = || ApiError::not_found(format!("key {key_id} not found"));
    match op {
        KeyOp::Get => with_etag_key(&app.keys.get(key_id).ok_or_else(missing)?),
        KeyOp::ListVersions => {
            let k = app.keys.get(key_id).ok_or_else(missing)?;
            let mut list: Vec<Value> = k.versions.iter().map(|v| version_json(&k, v)).collect();
            list.reverse();
            Ok(Reply::json(&Value::Array(list)))
        }
        KeyOp::GetVersion => {
            let k = app.keys.get(key_id).ok_or_else(missing)?;
            let vid = version_id.unwrap_or_default();
            let v = k.versions.iter().find(|v| v.id == vid).ok_or_else(|| {
                ApiError::not_found(format!("key version {vid} of key {key_id} not found"))
            })?;
            Ok(with_etag(&version_json(&k, v)))
        }
        KeyOp::CreateVersion => {
            let (k, v) = app.keys.rotate(key_id)?;
            Ok(with_etag(&version_json(&k, &v)))
        }
        KeyOp::Action(action) => {
            let t = match action {
                KeyAction::Enable => Transition::Enable,
                KeyAction::Disable => Transition::Disable,
                KeyAction::CancelDeletion => Transition::CancelDeletion,
                KeyAction::ScheduleDeletion => {
                    let body: ScheduleBody =
                        if req.body.is_empty() { ScheduleBody::default() } else { req.json()? };
                    let at = match body.time_of_deletion {
                        Some(s) => parse_rfc3339(&s).ok_or_else(|| {
                            ApiError::invalid(format!("timeOfDeletion {s:?} is not RFC 3339"))
                        })?,
                        None => SystemTime::now() + DEFAULT_DELETION_DELAY,
                    };
                    Transition::ScheduleDeletion(at)
                }
            };
            with_etag_key(&app.keys.transition(key_id, t)?)
        }
    }
}

fn with_etag_key(k: &KeyRecord) -> Result<Reply, ApiError> {
    Ok(with_etag(&key_json(k)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKeyBody {
    compartment_id: Option<String>,
    display_name: Option<String>,
    key_shape: Option<Value>,
}

/// `POST /20180608/keys`: creates an AES-256 key in the compartment's tenancy's vault.
pub fn create_key(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let principal = app.authenticate(req)?;
    let body: CreateKeyBody = req.json()?;
    let compartment =
        body.compartment_id.ok_or_else(|| ApiError::missing("compartmentId is required"))?;
    if let Some(shape) = &body.key_shape {
        if shape.get("algorithm").and_then(Value::as_str) != Some("AES")
            || shape.get("length").and_then(Value::as_u64) != Some(32)
        {
            return Err(ApiError::invalid(
                "only keyShape {algorithm: AES, length: 32} is supported by the emulator",
            ));
        }
    }
    if !app.world.has_compartment(&compartment) {
        return Err(ApiError::not_found(format!("compartment {compartment} not found")));
    }
    app.authorize_compartment(&principal, Verb::Manage, &compartment, "CreateKey")?;
    let tenancy = app.world.tenancy_of_compartment(&compartment).unwrap_or_default().to_string();
    let vault = app.world.vault_in_tenancy(&tenancy).ok_or_else(|| {
        ApiError::invalid(format!("tenancy {tenancy} has no vault configured for new keys"))
    })?;
    let k = app.keys.create(
        None,
        &compartment,
        &vault,
        body.display_name.as_deref().unwrap_or("key"),
    )?;
    with_etag_key(&k)
}

/// `GET /20180608/keys?compartmentId=...`.
pub fn list_keys(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let principal = app.authenticate(req)?;
    let compartment = req
        .query_param("compartmentId")
        .ok_or_else(|| ApiError::missing("compartmentId is required"))?;
    app.authorize_compartment(&principal, Verb::Inspect, &compartment, "ListKeys")?;
    let list: Vec<Value> = app
        .keys
        .list(&compartment)
        .iter()
        .map(|k| {
            json!({"id": k.id, "compartmentId": k.compartment_id, "vaultId": k.vault_id, "displayName": k.display_name,
                   "lifecycleState": k.lifecycle_state, "timeCreated": k.time_created, "protectionMode": "SOFTWARE",
                   "algorithm": "AES", "definedTags": {}, "freeformTags": {}})
        })
        .collect();
    Ok(Reply::json(&Value::Array(list)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::rfc3339;

    #[test]
    fn rfc3339_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(951_868_800))
        );
        assert_eq!(parse_rfc3339("nope"), None);
    }
}

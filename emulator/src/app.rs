// SPDX-License-Identifier: MPL-2.0
//! The application state shared by all handlers, and authentication + authorization of requests.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::counters::Counters;
use crate::errors::ApiError;
use crate::faults::Faults;
use crate::http::Request;
use crate::iam::{self, Verb};
use crate::identity::Identity;
use crate::keystore::Keystore;
use crate::tokens::TokenIssuer;
use crate::verify::{self, redact_key_id, VerifyOptions};
use crate::world::{Principal, PrincipalKind, World};

/// Everything a handler needs.
pub struct App {
    /// The configured world.
    pub world: World,
    /// Keys.
    pub keys: Keystore,
    /// Session tokens.
    pub tokens: TokenIssuer,
    /// Fault injection and rate limits.
    pub faults: Faults,
    /// Request counters.
    pub counters: Counters,
    /// Certificates for instance metadata, federation and TLS.
    pub identity: Identity,
    /// The state directory.
    pub state_dir: std::path::PathBuf,
    /// The service-account token accepted by the workload-identity endpoint.
    pub sa_token: String,
    /// Whether to log each request to stderr.
    pub log_requests: bool,
    /// The endpoints document (also served at `/_emulator/endpoints`).
    pub endpoints: std::sync::OnceLock<Value>,
}

/// Shared handle.
pub type AppRef = Arc<App>;

impl App {
    /// Verifies the request signature and returns the calling principal; 401 otherwise.
    pub fn authenticate(&self, req: &Request) -> Result<Principal, ApiError> {
        let opts = VerifyOptions { now: Some(SystemTime::now()), require_host: true };
        let pending = verify::prepare(&req.signed(), &opts)?;
        if let Some(token) = pending.key_id.strip_prefix("ST$") {
            let session = self.tokens.verify(token)?;
            pending.verify_with(&session.key)?;
            return principal_from_claims(&session.claims);
        }
        let api_key = self.world.api_key(&pending.key_id).ok_or_else(|| {
            ApiError::not_authenticated(format!(
                "keyId check failed: no API key is registered as {:?} (expected <tenancy>/<user>/<fingerprint> of an uploaded key, or ST$<token>)",
                redact_key_id(&pending.key_id)
            ))
        })?;
        pending.verify_with(&api_key.key)?;
        Ok(api_key.principal.clone())
    }

    /// Checks that `principal` may act with `verb` on key `key_id`; 404 when not (or no such key).
    pub fn authorize_key(
        &self,
        principal: &Principal,
        verb: Verb,
        key_id: &str,
    ) -> Result<(), ApiError> {
        let compartment = self.keys.compartment_of(key_id).ok_or_else(|| {
            ApiError::not_found(format!(
                "Authorization failed or requested resource not found: key {key_id} does not exist"
            ))
        })?;
        self.authorize_compartment(principal, verb, &compartment, &format!("key {key_id}"))
    }

    /// Checks that `principal` may act with `verb` on keys in `compartment`; 404 when not.
    pub fn authorize_compartment(
        &self,
        p: &Principal,
        verb: Verb,
        compartment: &str,
        what: &str,
    ) -> Result<(), ApiError> {
        if iam::permits(&self.world, p, verb, compartment) {
            return Ok(());
        }
        Err(ApiError::not_found(format!(
            "Authorization failed or requested resource not found: no policy lets {} {} {} keys in compartment {} ({what})",
            kind_name(p.kind),
            p.id,
            verb_name(verb),
            compartment
        )))
    }

    /// Applies the per-key rate limit (429 with `Retry-After`).
    pub fn rate_check(&self, key_id: &str) -> Result<(), ApiError> {
        self.faults.rate_check(key_id).map_err(|secs| {
            ApiError::too_many(format!("request rate limit exceeded for key {key_id}"), secs)
        })
    }
}

fn kind_name(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::User => "user",
        PrincipalKind::Instance => "instance",
        PrincipalKind::Resource => "resource",
        PrincipalKind::Workload => "workload",
    }
}

fn verb_name(v: Verb) -> &'static str {
    match v {
        Verb::Inspect => "inspect",
        Verb::Read => "read",
        Verb::Use => "use",
        Verb::Manage => "manage",
    }
}

/// The principal a verified token speaks for (claims `ptype`, `sub`, `tenant`).
fn principal_from_claims(claims: &serde_json::Map<String, Value>) -> Result<Principal, ApiError> {
    let get = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = match get("ptype").as_deref() {
        Some("instance") => PrincipalKind::Instance,
        Some("resource") => PrincipalKind::Resource,
        Some("workload") => PrincipalKind::Workload,
        Some("user") => PrincipalKind::User,
        _ => {
            return Err(ApiError::not_authenticated(
                "token check failed: unknown principal type in the token",
            ))
        }
    };
    match (get("sub"), get("tenant")) {
        (Some(id), Some(tenancy)) => Ok(Principal { kind, id, tenancy }),
        _ => Err(ApiError::not_authenticated(
            "token check failed: the token names no subject or tenancy",
        )),
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The admin API under `/_emulator/` (unauthenticated, loopback peers only): health, endpoints,
//! counters, faults and rate limits, token lifetime, resource-principal and user-session refresh.

use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::errors::ApiError;
use crate::faults::FaultPlan;
use crate::http::{Reply, Request};
use crate::session;
use crate::workload;

#[derive(Deserialize)]
struct Lifetime {
    seconds: u64,
}

/// Handles `/_emulator/<rest>`.
pub fn handle(app: &App, req: &Request, rest: &str) -> Result<Reply, ApiError> {
    if !req.peer.ip().is_loopback() {
        return Err(ApiError::not_found("the admin API only answers loopback clients"));
    }
    let m = req.method.as_str();
    match (m, rest.trim_end_matches('/')) {
        ("GET", "health") => Ok(Reply::json(&json!({"ok": true}))),
        ("GET", "endpoints") => Ok(Reply::json(app.endpoints.get().unwrap_or(&json!({})))),
        ("GET", "counters") => {
            let mut snap = app.counters.snapshot();
            snap["tokens_issued"] = app.tokens.issued().into();
            Ok(Reply::json(&snap))
        }
        ("POST", "counters/reset") | ("DELETE", "counters") => {
            app.counters.reset();
            Ok(Reply::json(&json!({"reset": true})))
        }
        ("GET", "faults") => Ok(Reply::json(&app.faults.plan())),
        ("PUT", "faults") | ("POST", "faults") => {
            let plan: FaultPlan = req.json()?;
            plan.validate().map_err(ApiError::invalid)?;
            app.faults.replace(plan);
            Ok(Reply::json(&app.faults.plan()))
        }
        ("DELETE", "faults") => {
            app.faults.replace(FaultPlan::default());
            Ok(Reply::json(&app.faults.plan()))
        }
        ("GET", "token-lifetime") => Ok(Reply::json(&json!({"seconds": app.tokens.lifetime()}))),
        ("PUT", "token-lifetime") | ("POST", "token-lifetime") => {
            let l: Lifetime = req.json()?;
            app.tokens.set_lifetime(l.seconds);
            Ok(Reply::json(&json!({"seconds": l.seconds})))
        }
        ("POST", "resource-principal/refresh") => {
            let written = workload::write_resource_principal(app, &app.state_dir.join("rp"))
                .map_err(ApiError::internal)?;
            Ok(Reply::json(&json!({"written": written})))
        }
        ("POST", "session-token/refresh") => {
            let dir = app.state_dir.join("oci").join("session");
            session::write_user_session(&app.tokens, &app.world, &dir)
                .map_err(ApiError::internal)?;
            Ok(Reply::json(&json!({"written": true})))
        }
        _ => Err(ApiError::no_route(format!("no admin endpoint {m} /_emulator/{rest}"))),
    }
}

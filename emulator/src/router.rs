// SPDX-License-Identifier: MPL-2.0
//! Maps method + path to a named route (the names used by counters and fault rules) and
//! dispatches it to its handler.

use crate::admin;
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Request};
use crate::instance_api;
use crate::kms_api;
use crate::management_api::{self, KeyAction, KeyOp};
use crate::workload;

const API: &str = "/20180608";

/// A classified request.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /20180608/encrypt`.
    Encrypt,
    /// `POST /20180608/decrypt`.
    Decrypt,
    /// `POST /20180608/generateDataEncryptionKey`.
    GenerateDataKey,
    /// `GET /20180608/keys`.
    ListKeys,
    /// `POST /20180608/keys`.
    CreateKey,
    /// An operation on one key.
    Key {
        /// Which operation.
        op: KeyOp,
        /// Key OCID.
        key: String,
        /// Version OCID for GetVersion.
        version: Option<String>,
    },
    /// Instance metadata for `instance` (`None` = the ready instance).
    Metadata {
        /// Instance OCID from a `/i/<ocid>/opc/v2` prefix.
        instance: Option<String>,
        /// Path below `/opc/v2/`.
        rest: String,
    },
    /// `POST /v1/x509`.
    Federation,
    /// `POST /resourcePrincipalSessionTokens` (OKE workload identity).
    Workload,
    /// `/_emulator/<rest>`.
    Admin(String),
}

impl Route {
    /// The route's name in counters and fault rules.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Encrypt => "encrypt",
            Route::Decrypt => "decrypt",
            Route::GenerateDataKey => "generateDataEncryptionKey",
            Route::ListKeys => "listKeys",
            Route::CreateKey => "createKey",
            Route::Key { op, .. } => match op {
                KeyOp::Get => "getKey",
                KeyOp::ListVersions => "listKeyVersions",
                KeyOp::CreateVersion => "createKeyVersion",
                KeyOp::GetVersion => "getKeyVersion",
                KeyOp::Action(KeyAction::Enable) => "enableKey",
                KeyOp::Action(KeyAction::Disable) => "disableKey",
                KeyOp::Action(KeyAction::ScheduleDeletion) => "scheduleKeyDeletion",
                KeyOp::Action(KeyAction::CancelDeletion) => "cancelKeyDeletion",
            },
            Route::Metadata { .. } => "metadata",
            Route::Federation => "federation",
            Route::Workload => "workload",
            Route::Admin(_) => "admin",
        }
    }
}

/// Classifies a request; unknown paths are 404 `NotFound`, wrong methods 405.
pub fn classify(method: &str, path: &str) -> Result<Route, ApiError> {
    let wrong = || ApiError::method_not_allowed(format!("{method} is not allowed on {path}"));
    let post = method == "POST";
    let get = method == "GET";
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return Ok(Route::Admin(rest.to_string()));
    }
    if let Some(rest) = path.strip_prefix("/opc/v2/") {
        return if get {
            Ok(Route::Metadata { instance: None, rest: rest.to_string() })
        } else {
            Err(wrong())
        };
    }
    if let Some(rest) = path.strip_prefix("/i/") {
        if let Some((instance, tail)) = rest.split_once("/opc/v2/") {
            return if get {
                Ok(Route::Metadata { instance: Some(instance.to_string()), rest: tail.to_string() })
            } else {
                Err(wrong())
            };
        }
    }
    let simple = |r: Route, ok: bool| if ok { Ok(r) } else { Err(wrong()) };
    match path {
        "/v1/x509" => return simple(Route::Federation, post),
        "/resourcePrincipalSessionTokens" => return simple(Route::Workload, post),
        _ => {}
    }
    let Some(rest) = path.strip_prefix(API) else {
        return Err(ApiError::no_route(format!("no such API path: {path}")));
    };
    let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let key = |i: usize| segs[i].to_string();
    match segs.as_slice() {
        ["encrypt"] => simple(Route::Encrypt, post),
        ["decrypt"] => simple(Route::Decrypt, post),
        ["generateDataEncryptionKey"] => simple(Route::GenerateDataKey, post),
        ["keys"] => match method {
            "GET" => Ok(Route::ListKeys),
            "POST" => Ok(Route::CreateKey),
            _ => Err(wrong()),
        },
        ["keys", _] => simple(Route::Key { op: KeyOp::Get, key: key(1), version: None }, get),
        ["keys", _, "keyVersions"] => match method {
            "GET" => Ok(Route::Key { op: KeyOp::ListVersions, key: key(1), version: None }),
            "POST" => Ok(Route::Key { op: KeyOp::CreateVersion, key: key(1), version: None }),
            _ => Err(wrong()),
        },
        ["keys", _, "keyVersions", v] => simple(
            Route::Key { op: KeyOp::GetVersion, key: key(1), version: Some(v.to_string()) },
            get,
        ),
        ["keys", _, "actions", action] => {
            let t = match *action {
                "enable" => KeyAction::Enable,
                "disable" => KeyAction::Disable,
                "scheduleDeletion" => KeyAction::ScheduleDeletion,
                "cancelDeletion" => KeyAction::CancelDeletion,
                other => {
                    return Err(ApiError::no_route(format!("key action {other:?} is not emulated")))
                }
            };
            simple(Route::Key { op: KeyOp::Action(t), key: key(1), version: None }, post)
        }
        _ => Err(ApiError::no_route(format!("no such API path: {path}"))),
    }
}

/// Runs the handler of `route`.
pub fn dispatch(app: &App, req: &Request, route: &Route) -> Result<Reply, ApiError> {
    match route {
        Route::Encrypt => kms_api::encrypt(app, req),
        Route::Decrypt => kms_api::decrypt(app, req),
        Route::GenerateDataKey => kms_api::generate_data_key(app, req),
        Route::ListKeys => management_api::list_keys(app, req),
        Route::CreateKey => management_api::create_key(app, req),
        Route::Key { op, key, version } => {
            management_api::key_op(app, req, *op, key, version.as_deref())
        }
        Route::Metadata { instance, rest } => {
            let ready = app.world.ready.instance.as_deref();
            let id = instance
                .as_deref()
                .or(ready)
                .ok_or_else(|| ApiError::no_route("no emulated instance is configured"))?;
            instance_api::metadata(app, req, id, rest)
        }
        Route::Federation => instance_api::federation(app, req),
        Route::Workload => workload::token(app, req),
        Route::Admin(rest) => admin::handle(app, req, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_sdk_paths() {
        assert_eq!(classify("POST", "/20180608/encrypt").unwrap().name(), "encrypt");
        assert_eq!(classify("GET", "/20180608/keys/ocid1.key.oc1..a").unwrap().name(), "getKey");
        assert_eq!(
            classify("POST", "/20180608/keys/k/keyVersions").unwrap().name(),
            "createKeyVersion"
        );
        assert_eq!(
            classify("GET", "/20180608/keys/k/keyVersions/v").unwrap().name(),
            "getKeyVersion"
        );
        assert_eq!(
            classify("POST", "/20180608/keys/k/actions/disable").unwrap().name(),
            "disableKey"
        );
        assert_eq!(classify("GET", "/opc/v2/identity/cert.pem").unwrap().name(), "metadata");
        assert_eq!(
            classify("GET", "/i/ocid1.instance.oc1..x/opc/v2/instance/region").unwrap(),
            Route::Metadata {
                instance: Some("ocid1.instance.oc1..x".into()),
                rest: "instance/region".into()
            }
        );
        assert_eq!(classify("GET", "/20180608/encrypt").unwrap_err().status, 405);
        assert_eq!(classify("GET", "/nope").unwrap_err().status, 404);
    }
}

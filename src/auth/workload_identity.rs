// SPDX-License-Identifier: MPL-2.0
//! OKE workload identity: a pod exchanges its Kubernetes service account token at the cluster's
//! proxymux (`POST https://$KUBERNETES_SERVICE_HOST:12250/resourcePrincipalSessionTokens`) for a
//! resource principal session token bound to a fresh RSA-2048 session key.
//!
//! Environment (as the OCI SDKs): `OCI_RESOURCE_PRINCIPAL_VERSION` (`2.2` or `1.1`),
//! `OCI_RESOURCE_PRINCIPAL_REGION`, `KUBERNETES_SERVICE_HOST`,
//! `OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH` (the CA that signed the proxymux certificate,
//! default `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`). This library adds
//! `OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH` (default
//! `/var/run/secrets/kubernetes.io/serviceaccount/token`) and `OCIKMS_PROXYMUX_PORT` (default
//! `12250`), for tests and unusual clusters. The service account token is re-read for every
//! exchange (Kubernetes rotates projected tokens).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeyPair;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::auth::federation::{SessionToken, SessionTokenProvider, TokenSource};
use crate::auth::regions::resolve_region_with;
use crate::auth::resource_principal::{REGION_ENV, VERSION_ENV};
use crate::auth::token_fetch::{read_token_response, SessionKeys, TOKEN_REQUEST_TIMEOUT};
use crate::auth::PrincipalType;
use crate::config::Env;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::read_limited::{read_limited_text, SECRET_FILE_LIMIT};

/// `KUBERNETES_SERVICE_HOST`: the cluster's API service host, where the proxymux listens too.
pub const KUBERNETES_SERVICE_HOST_ENV: &str = "KUBERNETES_SERVICE_HOST";
/// `OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH`: the CA bundle the proxymux certificate chains to.
pub const SERVICE_ACCOUNT_CERT_PATH_ENV: &str = "OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH";
/// `OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH`: where the service account token is read from.
pub const SERVICE_ACCOUNT_TOKEN_PATH_ENV: &str = "OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH";
/// `OCIKMS_PROXYMUX_PORT`: the proxymux port (default 12250).
pub const PROXYMUX_PORT_ENV: &str = "OCIKMS_PROXYMUX_PORT";

/// The service account CA Kubernetes mounts into every pod.
pub const DEFAULT_SERVICE_ACCOUNT_CERT_PATH: &str =
    "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
/// The service account token Kubernetes mounts into every pod.
pub const DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH: &str =
    "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The port the OKE proxymux serves resource principal session tokens on.
pub const DEFAULT_PROXYMUX_PORT: u16 = 12250;

/// Why workload identity settings could be missing.
const WHERE_HINT: &str = "OKE workload identity works in pods of an OKE enhanced cluster; \
     elsewhere choose another auth type (instance principal, auth_type_api_key)";

/// The workload identity credential provider.
pub type WorkloadIdentityProvider = SessionTokenProvider<WorkloadIdentitySource>;

/// The workload identity settings, read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadIdentitySettings {
    /// `https://<host>:<port>/resourcePrincipalSessionTokens`.
    pub endpoint: String,
    /// The CA bundle trusted for the proxymux.
    pub ca_cert: PathBuf,
    /// The service account token file.
    pub token_path: PathBuf,
    /// The region identifier.
    pub region: String,
}

impl WorkloadIdentitySettings {
    /// Reads and validates the settings through `env` (a variable lookup); no file is read.
    pub fn from_env_with(env: Env<'_>) -> Result<Self> {
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let required = |name: &str, meaning: &str| {
            get(name).ok_or_else(|| {
                Error::credentials(format!(
                    "workload identity authentication needs {name} ({meaning}); it is not set: \
                     {WHERE_HINT}"
                ))
            })
        };
        let version = required(VERSION_ENV, "the resource principal version, 2.2")?;
        if version != "2.2" && version != "1.1" {
            return Err(Error::credentials(format!(
                "{VERSION_ENV} is {version:?}: workload identity needs 2.2 (or 1.1)"
            )));
        }
        let region = required(REGION_ENV, "the cluster's region, such as us-phoenix-1")?;
        let host = required(KUBERNETES_SERVICE_HOST_ENV, "set by Kubernetes in every pod")?;
        let port = match get(PROXYMUX_PORT_ENV) {
            Some(port) => port.parse::<u16>().map_err(|_| {
                Error::credentials(format!(
                    "{PROXYMUX_PORT_ENV} is {port:?}: expected a TCP port number"
                ))
            })?,
            None => DEFAULT_PROXYMUX_PORT,
        };
        let host =
            if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
        Ok(WorkloadIdentitySettings {
            endpoint: format!("https://{host}:{port}/resourcePrincipalSessionTokens"),
            ca_cert: PathBuf::from(
                get(SERVICE_ACCOUNT_CERT_PATH_ENV)
                    .unwrap_or(DEFAULT_SERVICE_ACCOUNT_CERT_PATH.into()),
            ),
            token_path: PathBuf::from(
                get(SERVICE_ACCOUNT_TOKEN_PATH_ENV)
                    .unwrap_or(DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH.into()),
            ),
            region: resolve_region_with(&region, env).id,
        })
    }
}

/// Creates a workload identity provider. `http_client` builds the proxymux client from the CA
/// bundle path (it must trust that bundle); the CA file is checked here, the token at each
/// exchange.
pub fn workload_identity_provider(
    settings: WorkloadIdentitySettings,
    http_client: impl FnOnce(&Path) -> Result<Arc<HttpClient>>,
) -> Result<WorkloadIdentityProvider> {
    std::fs::metadata(&settings.ca_cert).map_err(|err| {
        Error::credentials(format!(
            "cannot read the Kubernetes service account CA {} ({err}): set \
             {SERVICE_ACCOUNT_CERT_PATH_ENV} to the CA bundle of the proxymux",
            settings.ca_cert.display()
        ))
    })?;
    let http = http_client(&settings.ca_cert)?;
    Ok(SessionTokenProvider::new(WorkloadIdentitySource {
        settings,
        http,
        session_keys: SessionKeys::default(),
    }))
}

/// Exchanges service account tokens for session tokens (see the module docs).
pub struct WorkloadIdentitySource {
    settings: WorkloadIdentitySettings,
    http: Arc<HttpClient>,
    session_keys: SessionKeys,
}

/// What to check when the proxymux refuses the exchange.
const PROXYMUX_HINT: &str = "check that the cluster is an OKE enhanced cluster, that the pod's \
     service account token is valid, and that an IAM policy allows the workload (`allow any-user \
     to use keys in compartment <c> where all {request.principal.type = 'workload', ...}`)";

#[async_trait]
impl TokenSource for WorkloadIdentitySource {
    async fn fetch(&self) -> Result<SessionToken> {
        let token_path = &self.settings.token_path;
        let sa_token = read_limited_text(token_path, SECRET_FILE_LIMIT).map_err(|err| {
            Error::credentials(format!(
                "cannot read the Kubernetes service account token {} ({err}): set \
                 {SERVICE_ACCOUNT_TOKEN_PATH_ENV} or mount the service account token",
                token_path.display()
            ))
        })?;
        let session_key = self.session_keys.take().await?;
        let body = serde_json::json!({ "podKey": public_key_pem(&session_key)? }).to_string();
        let url = &self.settings.endpoint;
        let parsed = url::Url::parse(url)
            .map_err(|err| Error::config(format!("invalid proxymux endpoint {url}: {err}")))?;
        let bearer = bearer(sa_token.trim());
        let request_id = crate::request_id::new_request_id();
        let headers = [
            ("content-type", "application/json"),
            ("opc-request-id", request_id.as_str()),
            ("authorization", bearer.as_str()),
        ];
        let sent = self
            .http
            .fetch("POST", &parsed, &headers, body.as_bytes(), TOKEN_REQUEST_TIMEOUT)
            .await;
        let answer =
            read_token_response(sent, "the OKE workload identity proxymux", url, PROXYMUX_HINT)?;
        let token = decode_proxymux_answer(&answer).map_err(|why| {
            Error::internal(format!(
                "the answer of the OKE workload identity proxymux at {url} {why}"
            ))
        })?;
        SessionToken::new(token, Arc::new(session_key))
    }

    async fn prepare_next(&self) {
        // A failure here only means `fetch` generates the key itself.
        let _ = self.session_keys.prepare().await;
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::Workload
    }

    fn describe(&self) -> String {
        format!("OKE workload identity (region {})", self.settings.region)
    }
}

/// The `Authorization` value that presents the service account token, zeroed on drop (sized up
/// front, so no reallocation leaves a copy behind).
fn bearer(token: &str) -> Zeroizing<String> {
    let mut value = Zeroizing::new(String::with_capacity("Bearer ".len() + token.len()));
    value.push_str("Bearer ");
    value.push_str(token);
    value
}

/// The PEM (`PUBLIC KEY`, SPKI) of a key's public half.
fn public_key_pem(key: &KeyPair) -> Result<String> {
    let spki = aws_lc_rs::signature::KeyPair::public_key(key)
        .as_der()
        .map_err(|_| Error::internal("encoding the session public key failed"))?;
    Ok(pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec())))
}

/// The JWT in a proxymux answer: a JSON string holding base64 of `{"token": "ST$<jwt>"}`.
fn decode_proxymux_answer(
    answer: &serde_json::Value,
) -> std::result::Result<Zeroizing<String>, &'static str> {
    let encoded = answer.as_str().ok_or("is not a JSON string")?;
    let decoded = Zeroizing::new(B64.decode(encoded.trim()).map_err(|_| "is not base64")?);
    let inner: serde_json::Value =
        serde_json::from_slice(&decoded).map_err(|_| "does not hold a JSON object")?;
    let token = inner.get("token").and_then(|t| t.as_str()).ok_or("has no `token` field")?;
    let token = token.strip_prefix("ST$").unwrap_or(token);
    if token.is_empty() {
        return Err("holds an empty token");
    }
    Ok(Zeroizing::new(token.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn settings_follow_the_sdk_defaults_and_our_overrides() {
        let base =
            [(VERSION_ENV, "2.2"), (REGION_ENV, "phx"), (KUBERNETES_SERVICE_HOST_ENV, "10.96.0.1")];
        let s = WorkloadIdentitySettings::from_env_with(&env_of(&base)).unwrap();
        assert_eq!(s.endpoint, "https://10.96.0.1:12250/resourcePrincipalSessionTokens");
        assert_eq!(s.ca_cert, Path::new(DEFAULT_SERVICE_ACCOUNT_CERT_PATH));
        assert_eq!(s.token_path, Path::new(DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH));
        assert_eq!(s.region, "us-phoenix-1");

        let mut custom = base.to_vec();
        custom.extend([
            (KUBERNETES_SERVICE_HOST_ENV, "fd00::1"),
            (PROXYMUX_PORT_ENV, "8443"),
            (SERVICE_ACCOUNT_CERT_PATH_ENV, "/tmp/ca.pem"),
            (SERVICE_ACCOUNT_TOKEN_PATH_ENV, "/tmp/token"),
        ]);
        let s = WorkloadIdentitySettings::from_env_with(&env_of(&custom)).unwrap();
        assert_eq!(s.endpoint, "https://[fd00::1]:8443/resourcePrincipalSessionTokens");
        assert_eq!(
            (s.ca_cert.to_str(), s.token_path.to_str()),
            (Some("/tmp/ca.pem"), Some("/tmp/token"))
        );
    }

    #[test]
    fn missing_or_bad_settings_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[(REGION_ENV, "phx"), (KUBERNETES_SERVICE_HOST_ENV, "h")], VERSION_ENV),
            (&[(VERSION_ENV, "2.2"), (KUBERNETES_SERVICE_HOST_ENV, "h")], REGION_ENV),
            (&[(VERSION_ENV, "2.2"), (REGION_ENV, "phx")], KUBERNETES_SERVICE_HOST_ENV),
            (
                &[
                    (VERSION_ENV, "2.2"),
                    (REGION_ENV, "phx"),
                    (KUBERNETES_SERVICE_HOST_ENV, "h"),
                    (PROXYMUX_PORT_ENV, "x"),
                ],
                PROXYMUX_PORT_ENV,
            ),
        ];
        for (pairs, variable) in cases {
            let err = WorkloadIdentitySettings::from_env_with(&env_of(pairs)).unwrap_err();
            assert!(err.message().contains(variable), "{}", err.message());
        }
    }

    #[test]
    fn proxymux_answers_are_decoded() {
        let inner = br#"{"token":"ST$aaa.bbb.ccc"}"#;
        let answer = serde_json::Value::String(B64.encode(inner));
        assert_eq!(decode_proxymux_answer(&answer).unwrap().as_str(), "aaa.bbb.ccc");
        assert!(decode_proxymux_answer(&serde_json::json!({"token": "x"})).is_err());
        assert!(decode_proxymux_answer(&serde_json::json!("%%%")).is_err());
        let empty = serde_json::Value::String(B64.encode(br#"{"token":"ST$"}"#));
        assert_eq!(decode_proxymux_answer(&empty).unwrap_err(), "holds an empty token");
    }

    #[test]
    fn pod_key_is_a_pem_public_key() {
        let key = KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pem_text = public_key_pem(&key).unwrap();
        assert!(pem_text.starts_with("-----BEGIN PUBLIC KEY-----"));
        let der = pem::parse(&pem_text).unwrap().into_contents();
        let public = aws_lc_rs::signature::KeyPair::public_key(&key).as_der().unwrap();
        assert_eq!(der, public.as_ref());
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The OCI instance metadata service (IMDS v2) client: the instance's region and its identity
//! certificates, as instance principal authentication needs them.
//!
//! Base URL `http://169.254.169.254/opc/v2`, overridable with `OCI_METADATA_BASE_URL`; every
//! request carries `Authorization: Bearer Oracle`.

use std::sync::Arc;
use std::time::Duration;

use url::Url;
use zeroize::Zeroizing;

use crate::config::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{HttpClient, TransportError};

/// The metadata service's base URL on OCI compute instances.
pub const DEFAULT_METADATA_BASE_URL: &str = "http://169.254.169.254/opc/v2";
/// Environment variable overriding [`DEFAULT_METADATA_BASE_URL`] (as the OCI SDKs honour).
pub const METADATA_BASE_URL_ENV: &str = "OCI_METADATA_BASE_URL";

/// Path of the instance's region (a name or a short code).
pub const REGION_PATH: &str = "/instance/region";
/// Path of the instance's leaf certificate (PEM).
pub const LEAF_CERT_PATH: &str = "/identity/cert.pem";
/// Path of the leaf certificate's private key (PEM).
pub const LEAF_KEY_PATH: &str = "/identity/key.pem";
/// Path of the intermediate certificate(s) (PEM).
pub const INTERMEDIATE_CERT_PATH: &str = "/identity/intermediate.pem";

/// Time allowed for one metadata request (the service is link-local: it answers fast or never).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per metadata request, for connection failures and 5xx answers.
const ATTEMPTS: u32 = 3;

/// A client of the instance metadata service.
#[derive(Clone)]
pub struct MetadataClient {
    base_url: String,
    http: Arc<HttpClient>,
}

impl MetadataClient {
    /// A client for `OCI_METADATA_BASE_URL` (looked up in `env`), or the default base URL when it
    /// is unset or empty.
    pub fn from_env(env: Env<'_>, http: Arc<HttpClient>) -> Self {
        let base = env(METADATA_BASE_URL_ENV).filter(|v| !v.trim().is_empty());
        MetadataClient::new(base.as_deref().unwrap_or(DEFAULT_METADATA_BASE_URL), http)
    }

    /// A client for an explicit base URL (such as `http://127.0.0.1:8080/opc/v2`).
    pub fn new(base_url: &str, http: Arc<HttpClient>) -> Self {
        MetadataClient { base_url: base_url.trim().trim_end_matches('/').to_string(), http }
    }

    /// The URL of `path` (one of the `*_PATH` constants) under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The instance's region as the service reports it (a name or a short code such as `phx`).
    pub async fn region(&self) -> Result<String> {
        Ok(self.get(REGION_PATH).await?.trim().to_string())
    }

    /// The instance's leaf certificate (PEM).
    pub async fn leaf_certificate(&self) -> Result<String> {
        Ok(self.get(LEAF_CERT_PATH).await?.to_string())
    }

    /// The leaf certificate's private key (PEM). Secret: zeroed on drop.
    pub async fn leaf_private_key(&self) -> Result<Zeroizing<String>> {
        self.get(LEAF_KEY_PATH).await
    }

    /// The intermediate certificate(s) (PEM).
    pub async fn intermediate_certificate(&self) -> Result<String> {
        Ok(self.get(INTERMEDIATE_CERT_PATH).await?.to_string())
    }

    /// GETs `path` under the base URL, retrying connection failures and 5xx answers briefly. The
    /// text is zeroed on drop (it may be the identity key).
    async fn get(&self, path: &str) -> Result<Zeroizing<String>> {
        let url = self.url(path);
        let mut attempt = 1;
        loop {
            match self.get_once(&url).await {
                Err(err) if err.is_retryable() && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn get_once(&self, url: &str) -> Result<Zeroizing<String>> {
        let parsed = Url::parse(url).map_err(|err| {
            Error::config(format!(
                "the instance metadata URL {url} is not valid ({err}): check \
                 {METADATA_BASE_URL_ENV}"
            ))
        })?;
        let headers = [("authorization", "Bearer Oracle")];
        let response = self
            .http
            .fetch("GET", &parsed, &headers, b"", REQUEST_TIMEOUT)
            .await
            .map_err(|err| unreachable_error(url, &err))?;
        let body = Zeroizing::new(String::from_utf8_lossy(&response.body).into_owned());
        if !(200..300).contains(&response.status) {
            let snippet: String = body.chars().take(200).collect();
            return Err(Error::credentials(format!(
                "the instance metadata service answered HTTP {} for {url}: {}",
                response.status,
                snippet.trim()
            ))
            .retryable(response.status >= 500));
        }
        Ok(body)
    }
}

/// The error for a metadata request that got no answer: says what was tried and what else to use.
fn unreachable_error(url: &str, err: &TransportError) -> Error {
    let reason = crate::error::error_chain(err);
    Error::new(
        ErrorCode::Credentials,
        format!(
            "instance principal authentication could not reach the OCI instance metadata service \
             at {url} ({reason}); it only works on an OCI compute instance (set \
             {METADATA_BASE_URL_ENV} if the service is elsewhere). Off OCI compute, set \
             auth_type_api_key = true to use an API key from ~/.oci/config, or choose another \
             auth_type (resource_principal, workload_identity, security_token)"
        ),
    )
    .retryable(true)
}

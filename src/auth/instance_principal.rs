// SPDX-License-Identifier: MPL-2.0
//! Instance principal authentication: the compute instance's identity certificate, from the
//! metadata service, is exchanged at the federation service (`POST /v1/x509`) for a session
//! token bound to a fresh RSA-2048 session key.
//!
//! Each token fetch re-reads the leaf certificate, its key and the intermediate certificate, so
//! a rotated instance certificate is picked up at the next refresh. Caching and refresh timing
//! live in [`federation`](super::federation).
//!
//! Environment (as the OCI SDKs): `OCI_METADATA_BASE_URL` (metadata service base URL),
//! `OCI_SDK_AUTH_CLIENT_REGION_URL` (federation host, with or without scheme, instead of
//! `https://auth.<region>.<realm domain>`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeyPair;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use url::Url;
use zeroize::Zeroizing;

use crate::auth::federation::{SessionToken, SessionTokenProvider, TokenSource};
use crate::auth::metadata::{
    MetadataClient, INTERMEDIATE_CERT_PATH, LEAF_CERT_PATH, LEAF_KEY_PATH,
};
use crate::auth::regions::{resolve_region_with, DEFAULT_REALM_ENV, REGION_METADATA_ENV};
use crate::auth::token_fetch::{read_token_response, SessionKeys, TOKEN_REQUEST_TIMEOUT};
use crate::auth::PrincipalType;
use crate::config::Env;
use crate::error::{Error, Result};
use crate::http::{check_cleartext, HttpClient};
use crate::signing::{self, RequestParts, FEDERATION_SIGNED_HEADERS};

/// `OCI_SDK_AUTH_CLIENT_REGION_URL`: overrides the federation endpoint's host.
pub const AUTH_CLIENT_REGION_URL_ENV: &str = "OCI_SDK_AUTH_CLIENT_REGION_URL";

/// The leaf certificate subject attribute prefix that names the tenancy.
const TENANT_PREFIX: &str = "opc-tenant:";
/// Attempts per federation call: 5xx answers and network failures are retried (as the SDK does).
const FEDERATION_ATTEMPTS: u32 = 3;

/// The instance principal credential provider.
pub type InstancePrincipalProvider = SessionTokenProvider<InstancePrincipalSource>;

/// Creates an instance principal provider from the environment `env`. Nothing is fetched until
/// the first request. `http` (trusting the configured CA bundle) talks to the metadata and the
/// federation services. A federation override of plain `http://` to a host that is not a
/// loopback address is a config error unless `allow_plaintext_http` (the session token, a
/// credential, would come back in clear text).
pub fn instance_principal_provider(
    env: Env<'_>,
    http: Arc<HttpClient>,
    allow_plaintext_http: bool,
) -> Result<InstancePrincipalProvider> {
    let host_override = env(AUTH_CLIENT_REGION_URL_ENV).filter(|v| !v.trim().is_empty());
    let mut url_override = None;
    if let Some(host) = &host_override {
        let url = federation_url(host);
        let parsed = Url::parse(&url).map_err(|e| {
            Error::config(format!(
                "{AUTH_CLIENT_REGION_URL_ENV} {host:?} is not a valid federation host or URL \
                 ({e}): give a host such as auth.us-ashburn-1.oraclecloud.com or an https:// URL"
            ))
        })?;
        check_cleartext(
            &parsed,
            AUTH_CLIENT_REGION_URL_ENV,
            "session tokens",
            allow_plaintext_http,
        )?;
        url_override = Some(url);
    }
    let region_env = [REGION_METADATA_ENV, DEFAULT_REALM_ENV]
        .into_iter()
        .filter_map(|name| env(name).map(|value| (name, value)))
        .collect();
    Ok(SessionTokenProvider::new(InstancePrincipalSource {
        metadata: MetadataClient::from_env(env, Arc::clone(&http)),
        federation_http: http,
        region_env,
        federation_url: tokio::sync::OnceCell::new_with(url_override),
        tenancy: Mutex::new(None),
        session_keys: SessionKeys::default(),
    }))
}

/// Fetches instance principal session tokens (see the module docs).
pub struct InstancePrincipalSource {
    metadata: MetadataClient,
    federation_http: Arc<HttpClient>,
    /// The region-resolution variables, captured at creation.
    region_env: Vec<(&'static str, String)>,
    /// Set at creation from `OCI_SDK_AUTH_CLIENT_REGION_URL`, else from the instance's region
    /// at first use.
    federation_url: tokio::sync::OnceCell<String>,
    tenancy: Mutex<Option<String>>,
    session_keys: SessionKeys,
}

/// The instance identity as the metadata service serves it at one moment.
struct InstanceIdentity {
    leaf_der: Vec<u8>,
    leaf_key: KeyPair,
    intermediates_der: Vec<Vec<u8>>,
    tenancy: String,
}

impl InstancePrincipalSource {
    /// The federation URL: from `OCI_SDK_AUTH_CLIENT_REGION_URL` (set at creation) or the
    /// instance's region.
    async fn federation_url(&self) -> Result<&str> {
        self.federation_url
            .get_or_try_init(|| async {
                let lookup = |name: &str| {
                    self.region_env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
                };
                let region = resolve_region_with(&self.metadata.region().await?, &lookup);
                Ok(federation_url(&region.service_host("auth")))
            })
            .await
            .map(String::as_str)
    }

    /// Reads the current leaf certificate, its key and the intermediate certificate(s).
    async fn identity(&self) -> Result<InstanceIdentity> {
        let (leaf_pem, key_pem, intermediate_pem) = tokio::try_join!(
            self.metadata.leaf_certificate(),
            self.metadata.leaf_private_key(),
            self.metadata.intermediate_certificate()
        )?;
        let leaf_url = self.metadata.url(LEAF_CERT_PATH);
        let leaf_der =
            certificates_der(&leaf_pem, &leaf_url)?.into_iter().next().ok_or_else(|| {
                Error::credentials(format!("no certificate in the PEM served at {leaf_url}"))
            })?;
        let tenancy = tenancy_from_certificate(&leaf_der).map_err(|why| {
            Error::credentials(format!("the instance certificate from {leaf_url} {why}"))
        })?;
        let leaf_key = crate::auth::pem::parse_key(
            key_pem.as_bytes(),
            None,
            &self.metadata.url(LEAF_KEY_PATH),
        )?;
        let intermediates_der =
            certificates_der(&intermediate_pem, &self.metadata.url(INTERMEDIATE_CERT_PATH))?;
        Ok(InstanceIdentity { leaf_der, leaf_key, intermediates_der, tenancy })
    }

    /// One `POST /v1/x509`, signed with the leaf key; returns the token.
    async fn federate(
        &self,
        url: &str,
        identity: &InstanceIdentity,
        body: &str,
    ) -> Result<Zeroizing<String>> {
        let parsed = url::Url::parse(url)
            .map_err(|err| Error::config(format!("invalid federation endpoint {url}: {err}")))?;
        let path_and_query = match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let host = parsed.host_str().unwrap_or_default();
        let date = signing::http_date(std::time::SystemTime::now());
        let parts = RequestParts {
            method: "POST",
            path_and_query: &path_and_query,
            host,
            date: &date,
            content_type: Some("application/json"),
            body: Some(body.as_bytes()),
        };
        let key_id = federation_key_id(&identity.tenancy, &identity.leaf_der);
        let signed = signing::sign(&parts, FEDERATION_SIGNED_HEADERS, &key_id, &identity.leaf_key)?;
        let request_id = crate::request_id::new_request_id();
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("opc-request-id", request_id.as_str()),
        ];
        headers.extend(signed.to_pairs());
        let sent = self
            .federation_http
            .fetch("POST", &parsed, &headers, body.as_bytes(), TOKEN_REQUEST_TIMEOUT)
            .await;
        read_token_response(sent, "the instance principal federation service", url, FEDERATION_HINT)
            .and_then(|json| token_field(&json, url))
    }
}

/// What to check when the federation service refuses the instance certificate.
const FEDERATION_HINT: &str =
    "check that this instance's certificate is valid (the metadata service \
     serves it) and that the federation endpoint matches the instance's region/realm \
     (OCI_SDK_AUTH_CLIENT_REGION_URL overrides it)";

#[async_trait]
impl TokenSource for InstancePrincipalSource {
    async fn fetch(&self) -> Result<SessionToken> {
        let url = self.federation_url().await?.to_string();
        let identity = self.identity().await?;
        *self.tenancy.lock().unwrap_or_else(|p| p.into_inner()) = Some(identity.tenancy.clone());
        let session_key = self.session_keys.take().await?;
        let body = federation_body(&identity, &session_key)?;
        let mut attempt = 1;
        loop {
            match self.federate(&url, &identity, &body).await {
                Ok(token) => return SessionToken::new(token, Arc::new(session_key)),
                Err(err) if err.is_retryable() && attempt < FEDERATION_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn prepare_next(&self) {
        // A failure here only means `fetch` generates the key itself.
        let _ = self.session_keys.prepare().await;
    }

    fn principal_type(&self) -> PrincipalType {
        PrincipalType::Instance
    }

    fn describe(&self) -> String {
        match self.tenancy.lock().unwrap_or_else(|p| p.into_inner()).as_deref() {
            Some(tenancy) => format!("instance principal in tenancy {tenancy}"),
            None => "instance principal".to_string(),
        }
    }
}

/// `<host>/v1/x509`, adding `https://` when the host has no scheme.
fn federation_url(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.contains("://") {
        format!("{host}/v1/x509")
    } else {
        format!("https://{host}/v1/x509")
    }
}

/// The federation request's keyId:
/// `<tenancy>/fed-x509-sha256/<SHA-256 of the leaf DER, colon hex>`.
fn federation_key_id(tenancy: &str, leaf_der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf_der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("{tenancy}/fed-x509-sha256/{}", hex.join(":"))
}

/// The federation request body (keys in alphabetical order, as the SDK sends them).
fn federation_body(identity: &InstanceIdentity, session_key: &KeyPair) -> Result<String> {
    let spki = aws_lc_rs::signature::KeyPair::public_key(session_key)
        .as_der()
        .map_err(|_| Error::internal("encoding the session public key failed"))?;
    let intermediates: Vec<String> =
        identity.intermediates_der.iter().map(|d| B64.encode(d)).collect();
    let body = serde_json::json!({
        "certificate": B64.encode(&identity.leaf_der),
        "fingerprintAlgorithm": "SHA256",
        "intermediateCertificates": intermediates,
        "publicKey": B64.encode(spki.as_ref()),
    });
    Ok(body.to_string())
}

/// The `token` of a federation response.
fn token_field(json: &serde_json::Value, url: &str) -> Result<Zeroizing<String>> {
    json.get("token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(|t| Zeroizing::new(t.to_string()))
        .ok_or_else(|| {
            Error::internal(format!("the federation response from {url} has no `token` field"))
        })
}

/// The DER of every `CERTIFICATE` block of a PEM document.
fn certificates_der(pem_text: &str, source: &str) -> Result<Vec<Vec<u8>>> {
    let blocks = pem::parse_many(pem_text).map_err(|err| {
        Error::credentials(format!("the PEM served at {source} is malformed: {err}"))
    })?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

/// The tenancy OCID: the leaf certificate subject attribute value after `opc-tenant:`.
fn tenancy_from_certificate(der: &[u8]) -> std::result::Result<String, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|err| format!("is not valid X.509: {err}"))?;
    let tenancy = cert
        .subject()
        .iter_attributes()
        .filter_map(|attr| attr.as_str().ok())
        .find_map(|value| value.strip_prefix(TENANT_PREFIX))
        .map(str::to_string);
    tenancy.ok_or_else(|| format!("has no `{TENANT_PREFIX}` subject attribute naming the tenancy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_url_adds_scheme_and_path() {
        assert_eq!(
            federation_url("auth.us-phoenix-1.oraclecloud.com"),
            "https://auth.us-phoenix-1.oraclecloud.com/v1/x509"
        );
        assert_eq!(federation_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/v1/x509");
    }

    #[test]
    fn a_plain_http_federation_override_to_a_network_host_needs_allow_plaintext_http() {
        let provider = |url: &'static str, allow: bool| {
            let env =
                move |name: &str| (name == AUTH_CLIENT_REGION_URL_ENV).then(|| url.to_owned());
            let http = Arc::new(HttpClient::new(crate::http::tls_config(None).unwrap()));
            instance_principal_provider(&env, http, allow).map(|_| ())
        };
        let err = provider("http://auth.example.com", false).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Config);
        let message = err.to_string();
        for part in [AUTH_CLIENT_REGION_URL_ENV, "http://auth.example.com", "session tokens"] {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
        assert!(message.contains("allow_plaintext_http = true"), "{message}");
        // Opted in; https, no scheme (https is added) and loopback need nothing.
        provider("http://auth.example.com", true).unwrap();
        for url in ["https://auth.example.com", "auth.example.com", "http://127.0.0.1:9/"] {
            provider(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        // Not a URL even with https:// added: said at init, not at the first token fetch.
        let err = provider("auth example", false).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Config);
        assert!(err.to_string().contains("not a valid federation host"), "{err}");
    }

    #[test]
    fn key_id_uses_the_sha256_fingerprint_of_the_leaf() {
        let key_id = federation_key_id("ocid1.tenancy.oc1..t", b"abc");
        assert_eq!(
            key_id,
            "ocid1.tenancy.oc1..t/fed-x509-sha256/ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:ae:22:23:\
             b0:03:61:a3:96:17:7a:9c:b4:10:ff:61:f2:00:15:ad"
        );
    }

    #[test]
    fn tenancy_is_read_from_the_subject() {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "ocid1.instance.oc1..i");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationalUnitName, "opc-certtype:instance");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationalUnitName, "opc-tenant:ocid1.tenancy.oc1..t");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(tenancy_from_certificate(cert.der()).unwrap(), "ocid1.tenancy.oc1..t");
        let der = certificates_der(&cert.pem(), "test").unwrap();
        assert_eq!(der, vec![cert.der().to_vec()]);

        let plain = rcgen::CertificateParams::new(vec!["x".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(tenancy_from_certificate(plain.der()).unwrap_err().contains("opc-tenant:"));
        assert!(tenancy_from_certificate(b"junk").unwrap_err().contains("not valid X.509"));
    }
}

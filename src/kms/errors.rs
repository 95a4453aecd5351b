// SPDX-License-Identifier: MPL-2.0
//! Turns OCI error responses and transport failures into the crate's [`Error`], with the
//! service's details, retryability, and a message that says what to do.

use std::sync::Arc;

use crate::auth::{CredentialProvider, Credentials, PrincipalType};
use crate::error::{Error, ErrorCode, Result, ServiceDetails};

use super::models::ErrorBody;
use super::retry::is_retryable_status;

/// What a request was for, to word its errors: `"encrypt with key ocid1.key..."` and the IAM
/// verb the operation needs.
/// Borrows everything: it is built for every call and only read when a call fails.
#[derive(Clone, Copy)]
pub(crate) struct Operation<'a> {
    /// Short name (`"encrypt"`, `"get key"`).
    pub name: &'static str,
    /// The key OCID the operation uses.
    pub key_id: &'a str,
    /// The endpoint (scheme + host) called.
    pub endpoint: &'a str,
    /// The IAM verb on `keys` the operation needs (`use`, `read`, `manage`).
    pub verb: &'static str,
    /// The credential provider the requests are signed with (it describes the principal).
    pub provider: &'a dyn CredentialProvider,
}

impl Operation<'_> {
    fn what(&self) -> String {
        format!("OCI KMS {} with key {} at {}", self.name, self.key_id, self.endpoint)
    }

    /// A safe description of the principal.
    fn principal(&self) -> String {
        self.provider.describe()
    }

    /// The principal's kind, to word the IAM policy example.
    fn principal_type(&self) -> PrincipalType {
        self.provider.principal_type()
    }
}

/// Maps an HTTP error response. `sent_request_id` is used when the response carries none.
pub(crate) fn service_error(
    op: &Operation,
    status: u16,
    response_request_id: Option<&str>,
    sent_request_id: &str,
    body: &[u8],
) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let retryable = is_retryable_status(status, &parsed.code);
    let (code, advice) = classify(op, status, &parsed);
    let details = ServiceDetails {
        status,
        code: parsed.code,
        message: parsed.message,
        opc_request_id: response_request_id.unwrap_or(sent_request_id).to_owned(),
    };
    Error::new(code, format!("{} failed: {advice}", op.what()))
        .retryable(retryable)
        .with_service(details)
}

fn classify(op: &Operation, status: u16, body: &ErrorBody) -> (ErrorCode, String) {
    match status {
        401 => (ErrorCode::NotAuthenticated, not_authenticated_advice(op, &body.message)),
        404 => {
            let subject = match op.principal_type() {
                PrincipalType::User | PrincipalType::Session => "group <group>",
                _ => "dynamic-group <dynamic-group>",
            };
            let advice = format!(
                "the key does not exist or {} is not allowed to {} it: check the key OCID and \
                 that the endpoint belongs to the key's vault, and that an IAM policy grants it, \
                 e.g. `allow {subject} to {} keys in compartment <compartment>` (cross-tenancy \
                 access also needs endorse/admit statements)",
                op.principal(),
                op.verb,
                op.verb
            );
            (ErrorCode::NotAuthorizedOrNotFound, advice)
        }
        409 => (
            ErrorCode::IncorrectState,
            "the key is not in a usable state (disabled, pending deletion, or being updated): \
             check its lifecycle state in the OCI console and enable it"
                .to_owned(),
        ),
        429 => (
            ErrorCode::Throttled,
            "OCI KMS throttled the requests (TooManyRequests): lower the request rate or ask \
             for a higher KMS limit"
                .to_owned(),
        ),
        500..=599 => (
            ErrorCode::ServiceUnavailable,
            "OCI KMS reported a server-side failure: try again later; if it persists, open a \
             service request quoting the opc-request-id"
                .to_owned(),
        ),
        _ => (
            ErrorCode::ServiceError,
            "OCI KMS refused the request: see the service's message".to_owned(),
        ),
    }
}

/// Advice for a 401, from OCI's message. An expired security token is checked first: its message
/// ("... expired at <time> ...") would otherwise read as a clock problem.
fn not_authenticated_advice(op: &Operation, message: &str) -> String {
    let text = message.to_ascii_lowercase();
    if text.contains("token") && text.contains("expired") {
        let source = match op.principal_type() {
            PrincipalType::Instance => {
                "check that the metadata service and the federation endpoint are reachable"
            }
            PrincipalType::Resource => "check that the resource principal token (RPST) is renewed",
            PrincipalType::Workload => "check the service account token and the proxymux endpoint",
            PrincipalType::Session => "run `oci session refresh` (security_token_file)",
            PrincipalType::User => "check which credentials the OCI config profile selects",
        };
        return format!(
            "the security token of {} expired: the provider refreshes (or re-reads) it and \
             retries once on its own, so the token source did not yield a valid one; {source}",
            op.principal()
        );
    }
    if ["date", "clock", "skew", "time"].iter().any(|w| text.contains(w)) {
        return "the request date was rejected: check that this host's clock is correct (NTP); \
                OCI allows 5 minutes of skew"
            .to_owned();
    }
    format!(
        "OCI did not accept the request signature of {}: check the key file, fingerprint, \
         tenancy and user OCIDs (or that the session token is valid)",
        op.principal()
    )
}

/// Maps a transport failure (DNS, connect, proxy, TLS, reset, malformed HTTP).
pub(crate) fn network_error(op: &Operation, err: &(dyn std::error::Error + 'static)) -> Error {
    let chain = crate::error::error_chain(err);
    if is_untrusted_certificate(err, &chain) {
        return Error::new(
            ErrorCode::Network,
            format!(
                "{} failed: the server's TLS certificate is not trusted ({chain}); if the endpoint \
                 uses a private CA, set ca_cert to a PEM bundle containing it",
                op.what()
            ),
        );
    }
    if is_proxy_refusal(err) {
        return Error::new(
            ErrorCode::Network,
            format!(
                "{} failed: the proxy refused the tunnel ({chain}); check the proxy credentials \
                 in HTTPS_PROXY and that the proxy allows the endpoint, or exclude the host with \
                 NO_PROXY",
                op.what()
            ),
        );
    }
    Error::new(
        ErrorCode::Network,
        format!(
            "{} failed: cannot reach the endpoint ({chain}); check the endpoint URL, DNS, \
             proxies and firewall rules",
            op.what()
        ),
    )
    .retryable(true)
}

/// Whether an HTTP proxy refused the tunnel with a 4xx (a retry cannot change that).
fn is_proxy_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        err.downcast_ref::<crate::http::TransportError>(),
        Some(crate::http::TransportError::Failed { stage: crate::http::Stage::Proxy, source })
            if source.kind() == std::io::ErrorKind::PermissionDenied
    )
}

/// Whether certificate verification failed (unknown issuer, bad name, expired...).
fn is_untrusted_certificate(err: &(dyn std::error::Error + 'static), chain: &str) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(rustls::Error::InvalidCertificate(_)) =
                inner.downcast_ref::<rustls::Error>()
            {
                return true;
            }
        }
        source = e.source();
    }
    chain.contains("invalid peer certificate")
}

/// A principal that only describes itself (it has no credentials): what error wording needs.
pub(crate) struct NamedPrincipal(pub &'static str, pub PrincipalType);

#[async_trait::async_trait]
impl CredentialProvider for NamedPrincipal {
    async fn credentials(&self) -> Result<Arc<Credentials>> {
        Err(Error::internal(format!("{} has no credentials", self.0)))
    }

    fn principal_type(&self) -> PrincipalType {
        self.1
    }

    fn describe(&self) -> String {
        self.0.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::NamedPrincipal as Principal;
    use super::*;
    const USER: Principal = Principal("user ocid1.user.oc1..u", PrincipalType::User);

    fn op() -> Operation<'static> {
        Operation {
            name: "encrypt",
            key_id: "ocid1.key.oc1..k",
            endpoint: "https://v-crypto.kms.r.oraclecloud.com",
            verb: "use",
            provider: &USER,
        }
    }

    fn map(status: u16, code: &str, message: &str) -> Error {
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        service_error(&op(), status, Some("rid-1"), "sent", body.as_bytes())
    }

    #[test]
    fn statuses_map_to_codes_and_retryability() {
        let cases = [
            (400, "InvalidParameter", ErrorCode::ServiceError, false),
            (401, "NotAuthenticated", ErrorCode::NotAuthenticated, false),
            (404, "NotAuthorizedOrNotFound", ErrorCode::NotAuthorizedOrNotFound, false),
            (409, "IncorrectState", ErrorCode::IncorrectState, true),
            (409, "Conflict", ErrorCode::IncorrectState, false),
            (429, "TooManyRequests", ErrorCode::Throttled, true),
            (500, "InternalServerError", ErrorCode::ServiceUnavailable, true),
            (501, "NotImplemented", ErrorCode::ServiceUnavailable, false),
            (503, "ServiceUnavailable", ErrorCode::ServiceUnavailable, true),
        ];
        for (status, code, expected, retryable) in cases {
            let err = map(status, code, "m");
            assert_eq!(err.code(), expected, "{status}");
            assert_eq!(err.is_retryable(), retryable, "{status} {code}");
            let s = err.service().unwrap();
            assert_eq!(
                (s.status, s.code.as_str(), s.opc_request_id.as_str()),
                (status, code, "rid-1")
            );
            assert!(err.message().contains("ocid1.key.oc1..k"));
        }
    }

    #[test]
    fn advice_names_policy_and_clock() {
        let e404 = map(404, "NotAuthorizedOrNotFound", "");
        assert!(e404.message().contains("allow group <group> to use keys"), "{e404}");
        assert!(e404.message().contains("user ocid1.user.oc1..u"));
        let skew = map(401, "NotAuthenticated", "Date header is outside the clock skew");
        assert!(skew.message().contains("clock"), "{skew}");
        let sig = map(401, "NotAuthenticated", "signature invalid");
        assert!(sig.message().contains("fingerprint"), "{sig}");
    }

    #[test]
    fn expired_token_is_not_taken_for_clock_skew() {
        let message = "token check failed: the security token expired at 1764470000 (Unix \
                       time); get a new one";
        let body = serde_json::json!({ "code": "NotAuthenticated", "message": message });
        let instance_principal =
            Principal("instance ocid1.instance.oc1..i", PrincipalType::Instance);
        let instance = Operation { provider: &instance_principal, ..op() };
        let expired = service_error(&instance, 401, None, "sent", body.to_string().as_bytes());
        let msg = expired.message();
        assert_eq!(expired.code(), ErrorCode::NotAuthenticated);
        assert!(msg.contains("security token of instance ocid1.instance.oc1..i expired"), "{msg}");
        assert!(msg.contains("refreshes") && msg.contains("metadata service"), "{msg}");
        assert!(!msg.contains("clock"), "{msg}");
        let skew = map(401, "NotAuthenticated", "The request time is outside the allowed skew");
        assert!(skew.message().contains("clock"), "{skew}");
        assert!(!skew.message().contains("expired"), "{skew}");
    }

    #[test]
    fn non_json_body_and_missing_request_id() {
        let err = service_error(&op(), 502, None, "sent-id", b"<html>bad gateway</html>");
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
        assert_eq!(err.service().unwrap().opc_request_id, "sent-id");
        assert_eq!(err.service().unwrap().code, "");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! OCI request-signature verification (draft-cavage HTTP Signatures, `version="1"`, rsa-sha256),
//! written independently of any client: parse the `Authorization` header, check the required
//! headers, the date, the body hash and length, rebuild the signing string and verify the RSA
//! PKCS#1 v1.5 SHA-256 signature with a caller-supplied public key.

use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use aws_lc_rs::signature::ParsedPublicKey;
use http::HeaderMap;

use crate::encoding::{b64, unb64};
use crate::errors::ApiError;

/// Largest accepted distance between the request's `date` and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// The parts of an HTTP request that the signature covers.
pub struct SignedRequest<'a> {
    /// Method as sent (`GET`, `POST`, ...).
    pub method: &'a str,
    /// Path and query exactly as sent on the request line.
    pub target: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

/// How strictly to check a request.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// The server time to compare `date` with; `None` skips the clock check (published vectors only).
    pub now: Option<SystemTime>,
    /// Whether `host` must be signed (every OCI API call; the federation call signs no host).
    pub require_host: bool,
}

/// A request whose signature structure passed every check; the signature itself is not yet verified.
#[derive(Debug)]
pub struct PendingSignature {
    /// The `keyId` parameter.
    pub key_id: String,
    signing_string: String,
    signature: Vec<u8>,
}

impl PendingSignature {
    /// Verifies the signature with the public key the caller resolved from `key_id`.
    pub fn verify_with(&self, key: &ParsedPublicKey) -> Result<(), ApiError> {
        key.verify_sig(self.signing_string.as_bytes(), &self.signature).map_err(|_| {
            ApiError::not_authenticated(format!(
                "signature check failed: the signature does not verify with the public key of keyId {:?} \
                 (wrong key, or a signed header, the request target or the body was changed)",
                redact_key_id(&self.key_id)
            ))
        })
    }

    /// The reconstructed signing string (for diagnostics and tests).
    pub fn signing_string(&self) -> &str {
        &self.signing_string
    }
}

/// The parameters of a `Signature` authorization header.
#[derive(Debug, Default, PartialEq, Eq)]
struct AuthParams {
    version: Option<String>,
    headers: Option<String>,
    key_id: Option<String>,
    algorithm: Option<String>,
    signature: Option<String>,
}

/// The SHA-256 of `body`, base64 — the `x-content-sha256` value.
pub fn body_sha256(body: &[u8]) -> String {
    b64(digest::digest(&digest::SHA256, body).as_ref())
}

/// A key id safe to echo in an error: session tokens are reduced to `ST$...`.
pub fn redact_key_id(key_id: &str) -> &str {
    if key_id.starts_with("ST$") {
        "ST$<token>"
    } else {
        key_id
    }
}

/// Runs every check that needs no key and returns the pending signature.
pub fn prepare(
    req: &SignedRequest<'_>,
    opts: &VerifyOptions,
) -> Result<PendingSignature, ApiError> {
    let auth = header(req.headers, "authorization").ok_or_else(|| {
        ApiError::not_authenticated("authorization check failed: no Authorization header")
    })?;
    let params = parse_authorization(auth)?;
    if let Some(v) = &params.version {
        if v != "1" {
            return Err(ApiError::not_authenticated(format!(
                "authorization check failed: unsupported signature version {v:?} (expected \"1\")"
            )));
        }
    }
    let algorithm = params.algorithm.as_deref().unwrap_or("");
    if !algorithm.eq_ignore_ascii_case("rsa-sha256") {
        return Err(ApiError::not_authenticated(format!(
            "authorization check failed: unsupported algorithm {algorithm:?} (expected rsa-sha256)"
        )));
    }
    let key_id = params.key_id.filter(|k| !k.is_empty()).ok_or_else(|| {
        ApiError::not_authenticated("authorization check failed: keyId parameter missing")
    })?;
    let signature_b64 = params.signature.ok_or_else(|| {
        ApiError::not_authenticated("authorization check failed: signature parameter missing")
    })?;
    let signature = unb64(&signature_b64).ok_or_else(|| {
        ApiError::not_authenticated("authorization check failed: signature is not valid base64")
    })?;
    let signed: Vec<String> = params
        .headers
        .as_deref()
        .unwrap_or("date")
        .split_ascii_whitespace()
        .map(|h| h.to_ascii_lowercase())
        .collect();

    check_required(req.method, &signed, opts.require_host)?;
    let mut lines = Vec::with_capacity(signed.len());
    for name in &signed {
        if name == "(request-target)" {
            lines.push(format!(
                "(request-target): {} {}",
                req.method.to_ascii_lowercase(),
                req.target
            ));
            continue;
        }
        let value = header(req.headers, name).ok_or_else(|| {
            ApiError::not_authenticated(format!(
                "header check failed: signed header {name:?} is missing from the request"
            ))
        })?;
        lines.push(format!("{name}: {value}"));
    }
    check_date(req.headers, opts.now)?;
    check_body(req, &signed)?;
    Ok(PendingSignature { key_id, signing_string: lines.join("\n"), signature })
}

/// The first value of a header, trimmed; `None` when absent or not UTF-8.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Parses `Signature k1="v1",k2="v2",...` with parameters in any order.
fn parse_authorization(value: &str) -> Result<AuthParams, ApiError> {
    let rest = value
        .strip_prefix("Signature ")
        .or_else(|| value.strip_prefix("signature "))
        .ok_or_else(|| {
            ApiError::not_authenticated("authorization check failed: scheme is not \"Signature\"")
        })?;
    let mut params = AuthParams::default();
    let mut s = rest.trim();
    while !s.is_empty() {
        let eq = s.find('=').ok_or_else(|| {
            ApiError::not_authenticated("authorization check failed: malformed parameter list")
        })?;
        let name = s[..eq].trim().to_ascii_lowercase();
        let after = s[eq + 1..].trim_start();
        let body = after.strip_prefix('"').ok_or_else(|| {
            ApiError::not_authenticated(format!(
                "authorization check failed: parameter {name:?} is not quoted"
            ))
        })?;
        let end = body.find('"').ok_or_else(|| {
            ApiError::not_authenticated(format!(
                "authorization check failed: parameter {name:?} is unterminated"
            ))
        })?;
        let val = body[..end].to_string();
        let slot = match name.as_str() {
            "version" => &mut params.version,
            "headers" => &mut params.headers,
            "keyid" => &mut params.key_id,
            "algorithm" => &mut params.algorithm,
            "signature" => &mut params.signature,
            _ => &mut None,
        };
        if slot.is_some() {
            return Err(ApiError::not_authenticated(format!(
                "authorization check failed: parameter {name:?} appears twice"
            )));
        }
        *slot = Some(val);
        s = body[end + 1..].trim_start();
        s = s.strip_prefix(',').unwrap_or(s).trim_start();
    }
    Ok(params)
}

/// OCI's required signed headers: `date (request-target) host`, plus the body headers for
/// POST/PUT/PATCH.
fn check_required(method: &str, signed: &[String], require_host: bool) -> Result<(), ApiError> {
    let has = |n: &str| signed.iter().any(|h| h == n);
    let mut required = vec!["(request-target)"];
    if require_host {
        required.push("host");
    }
    if matches!(method.to_ascii_uppercase().as_str(), "POST" | "PUT" | "PATCH") {
        required.extend(["content-length", "content-type", "x-content-sha256"]);
    }
    if !has("date") && !has("x-date") {
        return Err(ApiError::not_authenticated(
            "header check failed: neither date nor x-date is among the signed headers",
        ));
    }
    if let Some(missing) = required.iter().find(|r| !has(r)) {
        return Err(ApiError::not_authenticated(format!(
            "header check failed: required header {missing:?} is not among the signed headers for {method}"
        )));
    }
    Ok(())
}

/// The request date must parse and be within [`MAX_CLOCK_SKEW`] of `now` (when given).
fn check_date(headers: &HeaderMap, now: Option<SystemTime>) -> Result<(), ApiError> {
    let Some(now) = now else { return Ok(()) };
    let text = header(headers, "x-date")
        .or_else(|| header(headers, "date"))
        .ok_or_else(|| ApiError::not_authenticated("date check failed: no date header"))?;
    let date = httpdate::parse_http_date(text).map_err(|_| {
        ApiError::not_authenticated(format!("date check failed: {text:?} is not an RFC 7231 date"))
    })?;
    let skew = match now.duration_since(date) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(ApiError::not_authenticated(format!(
            "date check failed: request date {text:?} is {}s away from the server clock (limit 300s)",
            skew.as_secs()
        )));
    }
    Ok(())
}

/// When body headers are signed, `x-content-sha256` and `content-length` must match the body.
fn check_body(req: &SignedRequest<'_>, signed: &[String]) -> Result<(), ApiError> {
    if signed.iter().any(|h| h == "x-content-sha256") {
        let sent = header(req.headers, "x-content-sha256").unwrap_or("");
        if sent != body_sha256(req.body) {
            return Err(ApiError::not_authenticated(
                "body check failed: x-content-sha256 does not match the SHA-256 of the request body",
            ));
        }
    }
    if signed.iter().any(|h| h == "content-length") {
        let sent = header(req.headers, "content-length").unwrap_or("");
        if sent.parse::<usize>().ok() != Some(req.body.len()) {
            return Err(ApiError::not_authenticated(format!(
                "body check failed: content-length {sent:?} does not match the body length {}",
                req.body.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_in_any_order() {
        let a = parse_authorization(
            r#"Signature signature="c2ln",algorithm="rsa-sha256", keyId="t/u/f",headers="date host",version="1""#,
        )
        .unwrap();
        assert_eq!(a.key_id.as_deref(), Some("t/u/f"));
        assert_eq!(a.headers.as_deref(), Some("date host"));
        assert_eq!(a.signature.as_deref(), Some("c2ln"));
        assert!(parse_authorization("Bearer x").is_err());
        assert!(parse_authorization(r#"Signature keyId="a",keyId="b""#).is_err());
    }

    #[test]
    fn post_requires_body_headers() {
        let s: Vec<String> =
            ["date", "(request-target)", "host"].iter().map(|s| s.to_string()).collect();
        assert!(check_required("GET", &s, true).is_ok());
        let e = check_required("POST", &s, true).unwrap_err();
        assert!(e.message.contains("content-length"), "{}", e.message);
        let no_host: Vec<String> =
            ["date", "(request-target)"].iter().map(|s| s.to_string()).collect();
        assert!(check_required("GET", &no_host, true).is_err());
        assert!(check_required("GET", &no_host, false).is_ok());
    }

    #[test]
    fn empty_body_hash_matches_reference() {
        assert_eq!(body_sha256(b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! Session tokens as JWTs: the claims that matter client-side (`exp`, `iat`, the tenant, the
//! `jwk` that binds a token to its session key), read without checking the signature (the
//! service does).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::error::{Error, Result};

/// The claims of a session token that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtClaims {
    /// `exp`: when the token stops being accepted.
    pub expires_at: SystemTime,
    /// `iat`: when it was issued, if the token says.
    pub issued_at: Option<SystemTime>,
    /// `res_tenant`: the tenancy of a resource principal / workload, if present.
    pub tenant: Option<String>,
    /// The modulus (big-endian, no leading zeros) of the session public key the token is bound
    /// to, from its `jwk` claim (an object or a JSON string, as OCI issues it), if present.
    pub session_key_modulus: Option<Vec<u8>>,
}

/// Reads the claims of a JWT (`header.payload.signature`) without checking its signature (the
/// service does that). Errors never include the token itself.
pub fn parse_jwt_claims(token: &str) -> Result<JwtClaims> {
    let claims = jwt_payload(token)?;
    let time = |name: &str| -> Option<SystemTime> {
        let secs = claims.get(name)?.as_f64()?;
        (secs.is_finite() && (0.0..1e12).contains(&secs))
            .then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
    };
    let expires_at =
        time("exp").ok_or_else(|| invalid_jwt("the payload has no numeric `exp` claim"))?;
    Ok(JwtClaims {
        expires_at,
        issued_at: time("iat"),
        tenant: claims.get("res_tenant").and_then(|v| v.as_str()).map(str::to_string),
        session_key_modulus: claims.get("jwk").and_then(jwk_modulus),
    })
}

/// The JSON payload of a JWT (`header.payload.signature`), signature not checked. Errors never
/// include the token itself.
pub fn jwt_payload(token: &str) -> Result<serde_json::Value> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(invalid_jwt(&format!("expected 3 dot-separated parts, found {}", parts.len())));
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| invalid_jwt("the payload is not base64url"))?;
    serde_json::from_slice(&payload).map_err(|_| invalid_jwt("the payload is not a JSON object"))
}

/// The error for a token that is not a JWT, saying `what` is wrong with it.
fn invalid_jwt(what: &str) -> Error {
    Error::credentials(format!("the session token is not a valid JWT: {what}"))
}

/// The `n` of a `jwk` claim, given as an object or as a JSON string holding one.
fn jwk_modulus(jwk: &serde_json::Value) -> Option<Vec<u8>> {
    let parsed;
    let jwk = match jwk {
        serde_json::Value::String(text) => {
            parsed = serde_json::from_str::<serde_json::Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    let n = jwk.get("n")?.as_str()?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(n.trim_end_matches('=')).ok()?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    Some(bytes[first..].to_vec())
}

/// A JWT with the given payload and a dummy signature (tests).
#[cfg(test)]
pub(crate) fn test_jwt(payload: &serde_json::Value) -> String {
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!("{}.{}.c2ln", b64(br#"{"alg":"RS256"}"#), b64(payload.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn unix(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn jwt_claims_are_read_from_the_payload() {
        let token = test_jwt(
            &serde_json::json!({"exp": 2000000000, "iat": 1999999000, "res_tenant": "t1"}),
        );
        let claims = parse_jwt_claims(&token).unwrap();
        assert_eq!(unix(claims.expires_at), 2000000000);
        assert_eq!(claims.issued_at.map(unix), Some(1999999000));
        assert_eq!(claims.tenant.as_deref(), Some("t1"));
        // Float exp and padded base64 are accepted as the SDKs do.
        let padded = test_jwt(&serde_json::json!({"exp": 1.5e9})).replacen(".c2ln", "=.c2ln", 1);
        assert_eq!(unix(parse_jwt_claims(&padded).unwrap().expires_at), 1_500_000_000);
    }

    #[test]
    fn malformed_jwts_are_rejected_without_echoing_the_token() {
        for bad in ["secret-token", "a.!!!.c", &test_jwt(&serde_json::json!({"iat": 1}))] {
            let err = parse_jwt_claims(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::Credentials);
            assert!(!err.message().contains(bad), "{}", err.message());
        }
    }
}

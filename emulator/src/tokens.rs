// SPDX-License-Identifier: MPL-2.0
//! Session tokens (JWT, RS256) issued by the emulator's federation, workload-identity and
//! resource-principal endpoints, and their verification for `ST$<token>` key ids. The token
//! carries the session public key as a JWK (a JSON string in the `jwk` claim, as OCI does).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::ParsedPublicKey;
use serde_json::{json, Map, Value};

use crate::encoding::{b64url, hex, random_bytes, unb64url, unix_now};
use crate::errors::ApiError;
use crate::rsakeys::{self, RsaKey};

const CACHE_LIMIT: usize = 10_000;

/// A verified session token.
pub struct Session {
    /// All claims.
    pub claims: Map<String, Value>,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// The session public key requests must be signed with.
    pub key: ParsedPublicKey,
}

impl Session {
    /// A string claim.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// Issues and verifies tokens with the persisted token-signing key.
pub struct TokenIssuer {
    key: RsaKey,
    verifier: ParsedPublicKey,
    kid: String,
    lifetime_secs: AtomicU64,
    issued: AtomicU64,
    cache: Mutex<HashMap<String, Arc<Session>>>,
}

impl TokenIssuer {
    /// An issuer signing with `key`, tokens living `lifetime_secs`.
    pub fn new(key: RsaKey, lifetime_secs: u64) -> Result<Self, String> {
        let spki = key.spki_der()?;
        let verifier = rsakeys::verifier(&spki)?;
        let kid = hex(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki).as_ref()[..8]);
        Ok(TokenIssuer {
            key,
            verifier,
            kid,
            lifetime_secs: AtomicU64::new(lifetime_secs),
            issued: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Current token lifetime in seconds.
    pub fn lifetime(&self) -> u64 {
        self.lifetime_secs.load(Ordering::Relaxed)
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_lifetime(&self, secs: u64) {
        self.lifetime_secs.store(secs, Ordering::Relaxed)
    }

    /// Number of tokens issued since start.
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    /// Issues a token with `claims` plus `iat`, `exp`, `jti`, `iss`, `aud` and the session key's `jwk`.
    pub fn issue(
        &self,
        mut claims: Map<String, Value>,
        session_spki: &[u8],
    ) -> Result<String, String> {
        let (n, e) = rsakeys::components(session_spki)?;
        let now = unix_now();
        let jwk = json!({"kid": "session", "kty": "RSA", "alg": "RS256", "use": "sig", "n": b64url(&n), "e": b64url(&e)});
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + self.lifetime()).into());
        claims.insert("jti".into(), hex(&random_bytes(16)).into());
        claims.entry("iss").or_insert_with(|| "authService.oracle.com".into());
        claims.entry("aud").or_insert_with(|| "oci".into());
        claims.insert("jwk".into(), jwk.to_string().into());
        let token = self.sign(claims)?;
        self.issued.fetch_add(1, Ordering::Relaxed);
        Ok(token)
    }

    /// A Kubernetes-style service-account JWT (no session key) valid for `valid_secs`; the OKE
    /// workload-identity endpoint accepts it as the bearer token.
    pub fn service_account_token(&self, subject: &str, valid_secs: u64) -> Result<String, String> {
        let now = unix_now();
        let mut claims = Map::new();
        claims.insert("iss".into(), "kubernetes/serviceaccount".into());
        claims.insert("sub".into(), subject.into());
        claims.insert("aud".into(), "oci".into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + valid_secs).into());
        self.sign(claims)
    }

    fn sign(&self, claims: Map<String, Value>) -> Result<String, String> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(Value::Object(claims).to_string().as_bytes())
        );
        let sig = self.key.sign_sha256(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64url(&sig)))
    }

    /// Verifies a token's signature and expiry and returns its session.
    pub fn verify(&self, token: &str) -> Result<Arc<Session>, ApiError> {
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned();
        let session = match cached {
            Some(s) => s,
            None => {
                let s = Arc::new(self.parse(token)?);
                let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(token.to_string(), s.clone());
                s
            }
        };
        if session.exp <= unix_now() {
            return Err(ApiError::not_authenticated(format!(
                "token check failed: the security token expired at {} (Unix time); get a new one",
                session.exp
            )));
        }
        Ok(session)
    }

    fn parse(&self, token: &str) -> Result<Session, ApiError> {
        let bad = |what: &str| ApiError::not_authenticated(format!("token check failed: {what}"));
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(bad("the security token is not a JWT"));
        }
        let sig = unb64url(parts[2]).ok_or_else(|| bad("the token signature is not base64url"))?;
        self.verifier
            .verify_sig(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .map_err(|_| bad("the security token was not issued by this emulator (signature does not verify)"))?;
        let payload =
            unb64url(parts[1]).ok_or_else(|| bad("the token payload is not base64url"))?;
        let claims: Map<String, Value> =
            serde_json::from_slice(&payload).map_err(|_| bad("the token payload is not JSON"))?;
        let exp =
            claims.get("exp").and_then(Value::as_u64).ok_or_else(|| bad("the token has no exp"))?;
        let jwk: Value = claims
            .get("jwk")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("the token has no jwk claim"))?;
        let part = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(unb64url);
        let (n, e) = part("n").zip(part("e")).ok_or_else(|| bad("the token's jwk has no n/e"))?;
        let key = rsakeys::verifier_from_components(&n, &e).map_err(|e| bad(&e))?;
        Ok(Session { claims, exp, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_carry_the_session_key() {
        let issuer = TokenIssuer::new(RsaKey::generate().unwrap(), 60).unwrap();
        let session_key = RsaKey::generate().unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), "ocid1.instance.oc1..x".into());
        let t = issuer.issue(claims, &session_key.spki_der().unwrap()).unwrap();
        let s = issuer.verify(&t).unwrap();
        assert_eq!(s.claim("sub"), Some("ocid1.instance.oc1..x"));
        let sig = session_key.sign_sha256(b"m").unwrap();
        s.key.verify_sig(b"m", &sig).unwrap();
        assert_eq!(issuer.issued(), 1);
        // A token from another issuer, or a tampered one, is rejected.
        let other = TokenIssuer::new(RsaKey::generate().unwrap(), 60).unwrap();
        assert_eq!(other.verify(&t).err().unwrap().status, 401);
        let tampered = format!("{}x", t);
        assert!(issuer.verify(&tampered).is_err());
    }

    #[test]
    fn expired_tokens_are_rejected() {
        let issuer = TokenIssuer::new(RsaKey::generate().unwrap(), 0).unwrap();
        let k = RsaKey::generate().unwrap();
        let t = issuer.issue(Map::new(), &k.spki_der().unwrap()).unwrap();
        let e = issuer.verify(&t).err().unwrap();
        assert!(e.message.contains("expired"), "{}", e.message);
    }
}

// SPDX-License-Identifier: MPL-2.0
//! OCI HTTP request signing (draft-cavage HTTP Signatures, `version="1"`, `rsa-sha256`), as a pure
//! function of the request parts, the list of headers to sign, the key id and the RSA key.
//!
//! The caller chooses the signed headers: [`default_signed_headers`] gives OCI's per-method
//! defaults, [`FEDERATION_SIGNED_HEADERS`] the instance-principal federation request's list.
//! [`sign`] returns the headers to add to the request (`date`, `x-content-sha256`,
//! `content-length`, `authorization`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Headers OCI signs on requests without a body (GET, DELETE, HEAD).
pub const BODYLESS_SIGNED_HEADERS: &[&str] = &["date", "(request-target)", "host"];

/// Headers OCI signs on POST, PUT and PATCH (the body is always hashed, even when empty).
pub const BODY_SIGNED_HEADERS: &[&str] =
    &["date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"];

/// Headers the instance-principal federation request (`POST /v1/x509`) signs: no `host`.
pub const FEDERATION_SIGNED_HEADERS: &[&str] =
    &["date", "(request-target)", "content-length", "content-type", "x-content-sha256"];

/// OCI's default signed-header list for an HTTP method.
pub fn default_signed_headers(method: &str) -> &'static [&'static str] {
    if method_has_body(method) {
        BODY_SIGNED_HEADERS
    } else {
        BODYLESS_SIGNED_HEADERS
    }
}

/// Whether OCI treats `method` as carrying a (hashed) body.
fn method_has_body(method: &str) -> bool {
    ["POST", "PUT", "PATCH"].iter().any(|m| m.eq_ignore_ascii_case(method))
}

/// An RSA key that makes RSASSA-PKCS1-v1_5 SHA-256 signatures.
///
/// Implemented for [`aws_lc_rs::rsa::KeyPair`] (2048–8192-bit keys); a trait so that the signer
/// does not depend on where keys come from.
pub trait RsaSha256Signer {
    /// Signs `message` (hashing it with SHA-256 first) and returns the raw signature.
    fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>>;
}

impl RsaSha256Signer for aws_lc_rs::rsa::KeyPair {
    fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0u8; self.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, message, &mut signature).map_err(
            |_| {
                Error::credentials(
                    "signing the request failed: aws-lc rejected the RSA private key",
                )
            },
        )?;
        Ok(signature)
    }
}

/// The parts of an HTTP request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method (any case; lower-cased in `(request-target)`).
    pub method: &'a str,
    /// The escaped path plus `?query`, exactly as sent on the request line.
    pub path_and_query: &'a str,
    /// The `Host` header value, with `:port` when the URL has a non-default port.
    pub host: &'a str,
    /// The `date` header value in IMF-fixdate form (see [`http_date`]).
    pub date: &'a str,
    /// The `content-type` header, when the request sends one.
    pub content_type: Option<&'a str>,
    /// The request body; `None` is hashed as an empty body when `x-content-sha256` is signed.
    pub body: Option<&'a [u8]>,
}

/// The headers [`sign`] asks the caller to add to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `date`.
    pub date: String,
    /// `x-content-sha256` (base64 SHA-256 of the body), when signed.
    pub x_content_sha256: Option<String>,
    /// `content-length`, when signed.
    pub content_length: Option<String>,
    /// `authorization`: `Signature version="1",headers=...,keyId=...,algorithm=...,signature=...`.
    /// Contains a session token for token-based key ids: never log it. Zeroed on drop.
    pub authorization: Zeroizing<String>,
}

impl SignatureHeaders {
    /// The headers as `(lower-case name, value)` pairs, ready to set on a request.
    pub fn to_pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![("date", self.date.as_str())];
        if let Some(v) = &self.x_content_sha256 {
            pairs.push(("x-content-sha256", v));
        }
        if let Some(v) = &self.content_length {
            pairs.push(("content-length", v));
        }
        pairs.push(("authorization", self.authorization.as_str()));
        pairs
    }
}

/// The last second an IMF-fixdate can show (9999-12-31T23:59:59Z).
const LAST_HTTP_DATE: Duration = Duration::from_secs(253_402_300_799);

/// The current time as an IMF-fixdate (`Thu, 05 Jan 2014 21:31:40 GMT`), for the `date` header.
/// A clock before 1970 or after 9999 (which `httpdate` would panic on) is clamped to that range:
/// OCI then refuses the request's date as skewed, which the error message explains.
pub fn http_date(now: SystemTime) -> String {
    httpdate::fmt_http_date(now.clamp(UNIX_EPOCH, UNIX_EPOCH + LAST_HTTP_DATE))
}

/// Base64 (standard) of the SHA-256 of `body`: the `x-content-sha256` header value.
pub fn content_sha256(body: &[u8]) -> String {
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
}

/// The signing string: one `name: value` line per signed header, joined by `\n`.
///
/// Fails when `signed_headers` names a header the request parts cannot supply.
pub fn signing_string(parts: &RequestParts<'_>, signed_headers: &[&str]) -> Result<String> {
    write_signing_string(parts, signed_headers, &Derived::of(parts, signed_headers))
}

/// The header values computed from the body, when signed (each computed once per request).
struct Derived {
    content_sha256: Option<String>,
    content_length: Option<String>,
}

impl Derived {
    fn of(parts: &RequestParts<'_>, signed_headers: &[&str]) -> Derived {
        let body = parts.body.unwrap_or_default();
        let signs = |h: &str| signed_headers.contains(&h);
        Derived {
            content_sha256: signs("x-content-sha256").then(|| content_sha256(body)),
            content_length: signs("content-length").then(|| body.len().to_string()),
        }
    }
}

/// [`signing_string`] with the body-derived values already computed.
fn write_signing_string(
    parts: &RequestParts<'_>,
    signed_headers: &[&str],
    derived: &Derived,
) -> Result<String> {
    let mut out = String::with_capacity(256 + parts.path_and_query.len() + parts.host.len());
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(name);
        out.push_str(": ");
        match *name {
            "date" => out.push_str(parts.date),
            "(request-target)" => {
                out.extend(parts.method.chars().map(|c| c.to_ascii_lowercase()));
                out.push(' ');
                out.push_str(parts.path_and_query);
            }
            "host" => out.push_str(parts.host),
            "content-length" => out.push_str(derived.content_length.as_deref().unwrap_or("0")),
            "content-type" => out.push_str(parts.content_type.ok_or_else(|| {
                Error::internal("cannot sign header content-type: the request has no content type")
            })?),
            "x-content-sha256" => out.push_str(derived.content_sha256.as_deref().unwrap_or("")),
            other => {
                return Err(Error::internal(format!(
                    "cannot sign header {other:?}: the signer supports date, (request-target), \
                     host, content-length, content-type and x-content-sha256"
                )))
            }
        }
    }
    Ok(out)
}

/// The bytes of an `authorization` value besides the header names, key id and signature.
const AUTHORIZATION_FIXED_LEN: usize = "Signature version=\"1\",headers=\"".len()
    + "\",keyId=\"".len()
    + "\",algorithm=\"rsa-sha256\",signature=\"".len()
    + "\"".len();

/// Signs a request: returns the `date`, `x-content-sha256`/`content-length` (when signed) and
/// `authorization` headers to add.
///
/// `key_id` is `<tenancy>/<user>/<fingerprint>` (API key) or `ST$<token>` (session token).
pub fn sign(
    parts: &RequestParts<'_>,
    signed_headers: &[&str],
    key_id: &str,
    key: &dyn RsaSha256Signer,
) -> Result<SignatureHeaders> {
    let derived = Derived::of(parts, signed_headers);
    let string = write_signing_string(parts, signed_headers, &derived)?;
    let signature = key.sign_rsa_sha256(string.as_bytes())?;
    // Sized exactly up front: the value holds the session token of token-based key ids, and a
    // reallocation would leave a copy of it behind in freed memory.
    let names: usize = signed_headers.iter().map(|n| n.len()).sum::<usize>()
        + signed_headers.len().saturating_sub(1);
    let capacity = AUTHORIZATION_FIXED_LEN + names + key_id.len() + signature.len().div_ceil(3) * 4;
    let mut authorization = Zeroizing::new(String::with_capacity(capacity));
    authorization.push_str("Signature version=\"1\",headers=\"");
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            authorization.push(' ');
        }
        authorization.push_str(name);
    }
    authorization.push_str("\",keyId=\"");
    authorization.push_str(key_id);
    authorization.push_str("\",algorithm=\"rsa-sha256\",signature=\"");
    B64.encode_string(signature, &mut authorization);
    authorization.push('"');
    debug_assert_eq!(authorization.len(), capacity, "the authorization value was mis-sized");
    Ok(SignatureHeaders {
        date: parts.date.to_owned(),
        x_content_sha256: derived.content_sha256,
        content_length: derived.content_length,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use serde_json::Value;

    /// The 1024-bit key of the published vectors, signed with the `rsa` crate because aws-lc-rs
    /// refuses RSA keys below 2048 bits (`KeyRejected("TooSmall")`).
    struct LegacyKey(rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>);

    impl RsaSha256Signer for LegacyKey {
        fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>> {
            Ok(self.0.sign(message).to_vec())
        }
    }

    fn vectors() -> Value {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oci-request-signing-vectors.json");
        let text = std::fs::read_to_string(path).expect("read the signing vectors");
        serde_json::from_str(&text).expect("parse the signing vectors")
    }

    fn split_url(url: &str) -> (String, String) {
        let rest = url.strip_prefix("https://").expect("https URL");
        let slash = rest.find('/').expect("URL has a path");
        (rest[..slash].to_owned(), rest[slash..].to_owned())
    }

    #[test]
    fn reproduces_both_published_vectors_byte_for_byte() {
        let v = vectors();
        let pem = v["private_key_pem_pkcs1"].as_str().unwrap();
        let key = LegacyKey(rsa::pkcs1v15::SigningKey::new(
            rsa::RsaPrivateKey::from_pkcs1_pem(pem).expect("vector key"),
        ));
        let key_id = format!(
            "{}/{}/{}",
            v["tenancy"].as_str().unwrap(),
            v["user"].as_str().unwrap(),
            v["fingerprint_md5_of_spki_der"].as_str().unwrap()
        );
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for case in cases {
            let method = case["method"].as_str().unwrap();
            let (host, path_and_query) = split_url(case["url"].as_str().unwrap());
            let body = case["body"].as_str().map(str::as_bytes);
            let parts = RequestParts {
                method,
                path_and_query: &path_and_query,
                host: &host,
                date: v["date"].as_str().unwrap(),
                content_type: case["content_type"].as_str(),
                body,
            };
            let headers = default_signed_headers(method);
            assert_eq!(headers.join(" "), case["signed_headers"].as_str().unwrap());
            assert_eq!(
                signing_string(&parts, headers).unwrap(),
                case["signing_string"].as_str().unwrap(),
                "signing string of {}",
                case["name"]
            );
            let out = sign(&parts, headers, &key_id, &key).unwrap();
            let expected_auth = format!(
                "Signature version=\"1\",headers=\"{}\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",\
                 signature=\"{}\"",
                case["signed_headers"].as_str().unwrap(),
                case["signature"].as_str().unwrap()
            );
            assert_eq!(
                out.authorization.as_str(),
                expected_auth,
                "authorization of {}",
                case["name"]
            );
            assert_eq!(out.x_content_sha256.as_deref(), case["x_content_sha256"].as_str());
            assert_eq!(out.content_length, case["content_length"].as_u64().map(|n| n.to_string()));
        }
    }

    #[test]
    fn vector_signatures_verify_with_aws_lc() {
        // Independent of the `rsa` crate: the published signatures verify over our signing
        // strings with aws-lc's (verify-only) legacy 1024-bit algorithm.
        let v = vectors();
        let spki_pem = v["public_key_spki_pem"].as_str().unwrap();
        let b64: String = spki_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = B64.decode(b64).unwrap();
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            spki,
        );
        for case in v["cases"].as_array().unwrap() {
            let sig = B64.decode(case["signature"].as_str().unwrap()).unwrap();
            public
                .verify(case["signing_string"].as_str().unwrap().as_bytes(), &sig)
                .expect("vector signature verifies");
        }
    }

    #[test]
    fn aws_lc_key_signs_verifiably_and_empty_post_is_hashed() {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let parts = RequestParts {
            method: "POST",
            path_and_query: "/20180608/encrypt",
            host: "localhost:7000",
            date: "Thu, 05 Jan 2014 21:31:40 GMT",
            content_type: Some("application/json"),
            body: None,
        };
        let out = sign(&parts, BODY_SIGNED_HEADERS, "ST$token", &key).unwrap();
        assert_eq!(
            out.x_content_sha256.as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert_eq!(out.content_length.as_deref(), Some("0"));
        let string = signing_string(&parts, BODY_SIGNED_HEADERS).unwrap();
        assert!(string.contains("\nhost: localhost:7000\n"));
        let sig_b64 =
            out.authorization.rsplit("signature=\"").next().unwrap().trim_end_matches('"');
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            aws_lc_rs::signature::KeyPair::public_key(&key).as_ref().to_vec(),
        );
        public.verify(string.as_bytes(), &B64.decode(sig_b64).unwrap()).unwrap();
        assert!(out.authorization.contains("keyId=\"ST$token\""));
    }

    #[test]
    fn the_authorization_value_is_sized_exactly_so_no_copy_of_the_token_is_left_behind() {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let token = format!("ST${}", "t".repeat(1500));
        for (method, headers) in
            [("GET", default_signed_headers("GET")), ("POST", default_signed_headers("POST"))]
        {
            let parts = RequestParts {
                method,
                path_and_query: "/20180608/keys/k",
                host: "h",
                date: "Thu, 05 Jan 2014 21:31:40 GMT",
                content_type: (method == "POST").then_some("application/json"),
                body: (method == "POST").then_some(b"{}".as_slice()),
            };
            let out = sign(&parts, headers, &token, &key).unwrap();
            assert_eq!(out.authorization.len(), out.authorization.capacity(), "{method}");
        }
    }

    #[test]
    fn federation_list_omits_host_and_unknown_headers_are_refused() {
        let parts = RequestParts {
            method: "POST",
            path_and_query: "/v1/x509",
            host: "auth.us-phoenix-1.oraclecloud.com",
            date: "Thu, 05 Jan 2014 21:31:40 GMT",
            content_type: Some("application/json"),
            body: Some(b"{}"),
        };
        let s = signing_string(&parts, FEDERATION_SIGNED_HEADERS).unwrap();
        assert!(!s.contains("host:"));
        assert!(
            s.starts_with("date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): post /v1/x509\n")
        );
        assert!(s.contains("content-length: 2\n"));
        assert!(signing_string(&parts, &["x-unknown"]).is_err());
        let no_type = RequestParts { content_type: None, ..parts };
        assert!(signing_string(&no_type, BODY_SIGNED_HEADERS).is_err());
        assert_eq!(default_signed_headers("get"), BODYLESS_SIGNED_HEADERS);
        assert_eq!(http_date(SystemTime::UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn a_clock_out_of_the_http_date_range_is_clamped_not_a_panic() {
        let before_1970 = UNIX_EPOCH.checked_sub(Duration::from_secs(86_400)).unwrap();
        assert_eq!(http_date(before_1970), "Thu, 01 Jan 1970 00:00:00 GMT");
        let year_30000 = UNIX_EPOCH + Duration::from_secs(900_000_000_000);
        assert_eq!(http_date(year_30000), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The emulator's verifier against the published OCI request-signing vectors: each verifies
//! (clock check bypassed for these vectors only), and changing any one signed header, the body,
//! the keyId or one signature byte makes it fail.

use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue};
use oci_kms_emulator::errors::ApiError;
use oci_kms_emulator::rsakeys;
use oci_kms_emulator::verify::{self, SignedRequest, VerifyOptions};
use serde_json::Value;

/// The vectors file: `$OCIKMS_SIGNING_VECTORS`, else the labelled public copy committed in
/// `tests/data/` (the same file as `shared/testdata/` beside the repository).
fn vectors_text() -> String {
    let path = std::env::var("OCIKMS_SIGNING_VECTORS").unwrap_or_else(|_| {
        format!("{}/../tests/data/oci-request-signing-vectors.json", env!("CARGO_MANIFEST_DIR"))
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read signing vectors {path}: {e} (set OCIKMS_SIGNING_VECTORS)")
    })
}

struct Case {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    signed: String,
    key_id: String,
    signature: String,
}

fn vectors() -> (Value, Vec<Case>) {
    let v: Value = serde_json::from_str(&vectors_text()).unwrap();
    let key_id = format!(
        "{}/{}/{}",
        v["tenancy"].as_str().unwrap(),
        v["user"].as_str().unwrap(),
        v["fingerprint_md5_of_spki_der"].as_str().unwrap()
    );
    let cases = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let url = c["url"].as_str().unwrap();
            let rest = url.split_once("://").unwrap().1;
            let (host, target) = rest.split_at(rest.find('/').unwrap());
            let mut headers = vec![
                ("date".to_string(), v["date"].as_str().unwrap().to_string()),
                ("host".into(), host.into()),
            ];
            let body = c["body"].as_str().map(|b| b.as_bytes().to_vec()).unwrap_or_default();
            if c["method"] == "POST" {
                headers.push(("content-length".into(), c["content_length"].to_string()));
                headers.push(("content-type".into(), c["content_type"].as_str().unwrap().into()));
                headers.push((
                    "x-content-sha256".into(),
                    c["x_content_sha256"].as_str().unwrap().into(),
                ));
            }
            Case {
                method: c["method"].as_str().unwrap().into(),
                target: target.into(),
                headers,
                body,
                signed: c["signed_headers"].as_str().unwrap().into(),
                key_id: key_id.clone(),
                signature: c["signature"].as_str().unwrap().into(),
            }
        })
        .collect();
    (v, cases)
}

fn auth_header(c: &Case, reorder: bool) -> String {
    if reorder {
        format!(
            "Signature signature=\"{}\",keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{}\",version=\"1\"",
            c.signature, c.key_id, c.signed
        )
    } else {
        format!(
            "Signature version=\"1\",headers=\"{}\",keyId=\"{}\",algorithm=\"rsa-sha256\",signature=\"{}\"",
            c.signed, c.key_id, c.signature
        )
    }
}

/// Verifies like the server: structure, then the key registered under the keyId, then the signature.
fn check(v: &Value, c: &Case, auth: &str, now: Option<SystemTime>) -> Result<(), ApiError> {
    let mut map = HeaderMap::new();
    for (k, val) in &c.headers {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(val).unwrap(),
        );
    }
    map.insert("authorization", HeaderValue::from_str(auth).unwrap());
    let req = SignedRequest { method: &c.method, target: &c.target, headers: &map, body: &c.body };
    let pending = verify::prepare(&req, &VerifyOptions { now, require_host: true })?;
    let registered = format!(
        "{}/{}/{}",
        v["tenancy"].as_str().unwrap(),
        v["user"].as_str().unwrap(),
        v["fingerprint_md5_of_spki_der"].as_str().unwrap()
    );
    if pending.key_id != registered {
        return Err(ApiError::not_authenticated("keyId check failed: unknown key"));
    }
    let spki = rsakeys::public_pem_to_spki(v["public_key_spki_pem"].as_str().unwrap()).unwrap();
    assert_eq!(rsakeys::fingerprint(&spki), v["fingerprint_md5_of_spki_der"].as_str().unwrap());
    pending.verify_with(&rsakeys::verifier(&spki).unwrap())
}

#[test]
fn published_vectors_verify_in_any_parameter_order() {
    let (v, cases) = vectors();
    for c in &cases {
        check(&v, c, &auth_header(c, false), None)
            .unwrap_or_else(|e| panic!("{}: {}", c.target, e.message));
        check(&v, c, &auth_header(c, true), None).unwrap();
    }
}

#[test]
fn signing_string_matches_the_published_one() {
    let (v, cases) = vectors();
    for (c, raw) in cases.iter().zip(v["cases"].as_array().unwrap()) {
        let mut map = HeaderMap::new();
        for (k, val) in &c.headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(val).unwrap(),
            );
        }
        map.insert("authorization", HeaderValue::from_str(&auth_header(c, false)).unwrap());
        let req =
            SignedRequest { method: &c.method, target: &c.target, headers: &map, body: &c.body };
        let p = verify::prepare(&req, &VerifyOptions { now: None, require_host: true }).unwrap();
        assert_eq!(p.signing_string(), raw["signing_string"].as_str().unwrap());
    }
}

#[test]
fn clock_check_rejects_the_vectors_old_date() {
    let (v, cases) = vectors();
    let e =
        check(&v, &cases[0], &auth_header(&cases[0], false), Some(SystemTime::now())).unwrap_err();
    assert_eq!(e.status, 401);
    assert!(e.message.contains("date check failed"), "{}", e.message);
}

fn expect_401(r: Result<(), ApiError>, what: &str) {
    match r {
        Err(e) => {
            assert_eq!((e.status, e.code), (401, "NotAuthenticated"), "{what}: {}", e.message)
        }
        Ok(()) => panic!("{what}: a tampered request verified"),
    }
}

#[test]
fn any_single_change_is_rejected() {
    let (v, cases) = vectors();
    for c in &cases {
        // Each signed header changed.
        for i in 0..c.headers.len() {
            let mut t = Case { headers: c.headers.clone(), body: c.body.clone(), ..clone_case(c) };
            t.headers[i].1.push('x');
            expect_401(
                check(&v, &t, &auth_header(&t, false), None),
                &format!("header {}", t.headers[i].0),
            );
        }
        // (request-target): method and path.
        let t = Case { target: format!("{}x", c.target), ..clone_case(c) };
        expect_401(check(&v, &t, &auth_header(&t, false), None), "request target");
        let other = if c.method == "GET" { "DELETE" } else { "PUT" };
        let t = Case { method: other.into(), ..clone_case(c) };
        expect_401(check(&v, &t, &auth_header(&t, false), None), "method");
        // Body (only signed for POST, where it is hashed).
        if c.method == "POST" {
            let mut t = clone_case(c);
            t.body[10] ^= 1;
            expect_401(check(&v, &t, &auth_header(&t, false), None), "body");
        }
        // keyId.
        let t = Case { key_id: c.key_id.replace("ocid1.user", "ocid1.usex"), ..clone_case(c) };
        expect_401(check(&v, &t, &auth_header(&t, false), None), "keyId");
        // One signature byte.
        let mut sig = base64_decode(&c.signature);
        sig[5] ^= 0x01;
        let t = Case { signature: base64_encode(&sig), ..clone_case(c) };
        expect_401(check(&v, &t, &auth_header(&t, false), None), "signature byte");
        // A required header left out of the signed list.
        let t = Case { signed: c.signed.replace(" host", ""), ..clone_case(c) };
        expect_401(check(&v, &t, &auth_header(&t, false), None), "unsigned host");
    }
}

fn clone_case(c: &Case) -> Case {
    Case {
        method: c.method.clone(),
        target: c.target.clone(),
        headers: c.headers.clone(),
        body: c.body.clone(),
        signed: c.signed.clone(),
        key_id: c.key_id.clone(),
        signature: c.signature.clone(),
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

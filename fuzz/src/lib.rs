// SPDX-License-Identifier: MPL-2.0
//! The fuzz target bodies, shared by the `cargo fuzz` binaries (`fuzz_targets/`) and the stable
//! corpus replay in `make test` (`tests/reliability_fuzz_corpus.rs` includes this file).
//!
//! Each function must never panic, whatever the input; the properties it asserts are noted.
//! The two targets that drive whole code paths over loopback servers, `kms_client` and
//! `seal_init`, have modules of their own (with `loopback`, `sandbox` and `input`).

mod input;
mod kms_client;
mod loopback;
mod sandbox;
mod seal_init;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use ocikms::blob::{BlobInfo, StoredValue};
use ocikms::ErrorCode;

pub use kms_client::kms_client;
pub use seal_init::seal_init;

/// A fuzz target's body: takes any input, must not panic.
pub type Target = fn(&[u8]);

/// Every target, by name: `(name, function)` (the replay walks `fuzz/corpus/<name>/`).
pub const TARGETS: [(&str, Target); 8] = [
    ("blob_decode", blob_decode),
    ("config_parse", config_parse),
    ("http_response", http_response),
    ("key_parse", key_parse),
    ("kms_client", kms_client),
    ("oci_response", oci_response),
    ("seal_init", seal_init),
    ("signature_header", signature_header),
];

/// The KMS transport's reading of an HTTP/1.1 response (head, 1xx, Content-Length, chunked and
/// close-delimited bodies), delivered in reads of any size. Properties: no panic; a response it
/// accepts has a three-digit status and a body within the limit; a refusal is a receive error;
/// the same bytes read all at once give the same status and body bytes. (Only keep-alive may differ:
/// bytes a server sends beyond the body it declared are noticed only when they were read along
/// with it; the next request on that connection then fails to parse and the call retries.)
pub fn http_response(data: &[u8]) {
    use ocikms::kms::fuzzing::{http_response as read, MAX_RESPONSE_BODY};
    let result = read(data);
    match &result {
        Ok(summary) => {
            assert!((100..1000).contains(&summary.status), "{summary:?}");
            assert!(summary.body.len() <= MAX_RESPONSE_BODY, "{summary:?}");
        }
        Err(text) => assert!(text.starts_with("reading the response: "), "{text}"),
    }
    if let Some((first, rest)) = data.split_first() {
        let whole = [&[first % 2][..], rest].concat();
        let at_once = read(&whole);
        let outcome = |r: &Result<ocikms::kms::fuzzing::ResponseSummary, String>| {
            r.as_ref().ok().map(|s| (s.status, s.body.clone()))
        };
        assert_eq!(outcome(&result), outcome(&at_once), "split {first}");
        if let (Ok(split), Ok(whole)) = (&result, &at_once) {
            assert!(split.keep_alive || !whole.keep_alive, "split {first}: {split:?} {whole:?}");
        }
    }
}

/// Stored-value and `BlobInfo` decoding. Property: a decoded `BlobInfo` re-encodes to bytes that
/// decode to the same value; failures are `MalformedBlob`.
pub fn blob_decode(data: &[u8]) {
    match StoredValue::decode(data) {
        Ok(StoredValue::Single(blob)) => {
            let again = BlobInfo::decode_bytes(&blob.encode_bytes()).expect("re-encoded blob");
            assert_eq!(*blob, again, "BlobInfo round trip");
        }
        Ok(StoredValue::Multi(multi)) => {
            let stored = multi.encode_stored().expect("re-encoded multiwrapvalue");
            let again = StoredValue::decode(&stored).expect("re-encoded multiwrapvalue decodes");
            assert_eq!(StoredValue::Multi(multi.clone()), again, "MultiWrapValue round trip");
            let _ = again.candidates("ocid1.keyversion.oc1..x");
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::MalformedBlob, "{e}"),
    }
}

/// Seal config parsing: the JSON object form (as the C ABI passes it) and the OCI config file
/// form. Property: failures are `Config` errors.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) {
        let map: BTreeMap<String, serde_json::Value> = object.into_iter().collect();
        if let Err(e) = ocikms::config::SealConfig::from_sources(&map, None, true, &|_| None) {
            assert_eq!(e.code(), ErrorCode::Config, "{e}");
        }
    }
    let file = Path::new("/fuzz/oci/config");
    for profile in ["DEFAULT", "PKCS8"] {
        if let Ok(p) = ocikms::auth::config_file::OciProfile::parse(text, file, profile) {
            let _ = p.describe();
            let _ = p.require("key_file", "fuzzing");
        }
    }
}

/// PEM private key parsing (PKCS#1, PKCS#8, encrypted PKCS#8, legacy encrypted PEM).
/// Property: failures are `Credentials` errors.
pub fn key_parse(data: &[u8]) {
    for passphrase in [None, Some("fuzz")] {
        match ocikms::auth::pem::parse_key(data, passphrase, "fuzz.pem") {
            Ok(key) => {
                let _ = ocikms::auth::pem::fingerprint(&key);
            }
            Err(e) => assert_eq!(e.code(), ErrorCode::Credentials, "{e}"),
        }
    }
}

/// OCI response handling: the first two bytes pick the HTTP status, the rest is the body; also
/// `Retry-After` parsing. Property: an error response keeps its status and request id.
pub fn oci_response(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (400 + u16::from_be_bytes([*a, *b]) % 200, rest),
        _ => (500, data),
    };
    let err = ocikms::kms::fuzzing::error_response(status, Some("rid"), body);
    let service = err.service().expect("service details");
    assert_eq!((service.status, service.opc_request_id.as_str()), (status, "rid"));
    let _ = err.to_string();
    let _ = ocikms::kms::fuzzing::success_body(body);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = ocikms::kms::parse_retry_after(text, SystemTime::UNIX_EPOCH);
    }
}

/// The emulator's `Authorization: Signature ...` parsing and signing-string reconstruction.
/// Input: the header value, then optionally `\n` and the request body. Property: any failure is
/// a 401 `NotAuthenticated`.
pub fn signature_header(data: &[u8]) {
    use oci_kms_emulator::verify::{prepare, SignedRequest, VerifyOptions};
    let (auth, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(auth) = http::HeaderValue::from_bytes(auth) else { return };
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", auth);
    headers.insert("date", http::HeaderValue::from_static("Thu, 05 Jan 2014 21:31:40 GMT"));
    headers.insert("host", http::HeaderValue::from_static("kms.example.com"));
    headers.insert("content-type", http::HeaderValue::from_static("application/json"));
    headers.insert("content-length", http::HeaderValue::from(body.len()));
    let req =
        SignedRequest { method: "POST", target: "/20180608/encrypt", headers: &headers, body };
    let opts = VerifyOptions { now: None, require_host: true };
    if let Err(e) = prepare(&req, &opts) {
        assert_eq!((e.status, e.code), (401, "NotAuthenticated"), "{}", e.message);
    }
}

// SPDX-License-Identifier: MPL-2.0
//! The `seal_init` target: fuzzer-chosen config maps given to `ocikms_seal_init_opts`, the C ABI's
//! entry (config JSON → config map → seal config → credentials → client → the validating
//! encrypt), called as a C host calls it, inside the [sandbox](super::sandbox).
//!
//! Input: a mode byte. Odd: the rest is the config JSON text itself. Even: entries, each a key
//! byte (one of the keys the seal knows, their older spellings, Vault's own keys, or a key named
//! by the payload), a value-kind byte and a payload ended by
//! [`SEPARATOR`](super::input::SEPARATOR). Values are of every JSON type: null, booleans,
//! integers and floats from the payload bytes, the payload as text, Go-duration-like and other
//! templates, `file://`, `env://` and `string://` forms, sandbox paths, endpoint URLs, arrays and
//! objects.
//!
//! Properties: no panic (the C ABI's guard turns one into `OCIKMS_STATUS_PANIC`, which fails
//! here); init never succeeds (nothing it can reach says yes: the sandbox answers 404); it
//! returns within the call's timeout plus [`HANG_SLACK`]; a failure comes with an error whose
//! code is the status and whose message is not empty.

use std::ffi::{c_char, CStr, CString};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use ocikms::ErrorCode;
use serde_json::{json, Map, Value};

use super::input::Input;
use super::sandbox::{sandbox, KEY_ID_VAR, LOOPBACK_IP};

/// The timeout the target gives each init (`ocikms_call_opts.timeout_ms`).
const TIMEOUT: Duration = Duration::from_millis(500);
/// How long past its timeout an init may take before it counts as a hang.
const HANG_SLACK: Duration = Duration::from_secs(5);
/// The most entries read from one input.
const MAX_ENTRIES: usize = 24;

/// The keys entries choose from: every spelling the seal reads and Vault's own keys (the
/// library's table, so a new key is fuzzed as soon as it exists), and the C ABI's option.
static KEYS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| ocikms::config::key_names().chain(["disallow_env_vars"]).collect());

/// Text values worth trying for several keys.
const TEMPLATES: [&str; 28] = [
    "",
    " ",
    "true",
    "false",
    "True",
    "1",
    "0",
    "t",
    "30s",
    "1h2m3.5s",
    "24h",
    "24h0m1s",
    "-5s",
    "1e19",
    "300ms",
    "9223372036854775807ns",
    "api_key",
    "instance_principal",
    "resource_principal",
    "workload_identity",
    "security_token",
    "kerberos",
    "DEFAULT",
    "SESSION",
    "BROKEN",
    "ocid1.key.oc1..fuzz",
    "ocid1.key.oc1..a b",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
];

/// The C ABI's call options (`ocikms_call_opts` in `include/ocikms.h`, first version).
#[repr(C)]
struct CallOpts {
    struct_size: usize,
    aad: *const u8,
    aad_len: usize,
    without_envelope: u8,
    timeout_ms: u64,
    cancel: *const u8,
}

/// Opaque C ABI handles.
enum SealHandle {}
enum ErrorHandle {}

extern "C" {
    fn ocikms_seal_init_opts(
        config_json: *const c_char,
        opts: *const CallOpts,
        out_seal: *mut *mut SealHandle,
        out_err: *mut *mut ErrorHandle,
    ) -> i32;
    fn ocikms_seal_free(seal: *mut SealHandle);
    fn ocikms_error_code(err: *const ErrorHandle) -> i32;
    fn ocikms_error_message(err: *const ErrorHandle) -> *const c_char;
    fn ocikms_error_free(err: *mut ErrorHandle);
}

/// The fuzz target body (see the module docs).
pub fn seal_init(data: &[u8]) {
    let sandbox = sandbox();
    let mut input = Input::new(data);
    let config_json = if input.byte() % 2 == 1 {
        String::from_utf8_lossy(input.field()).into_owned()
    } else {
        Value::Object(config_map(&mut input, &sandbox.paths, &sandbox.refusing_url)).to_string()
    };
    // A C string ends at the first NUL: so does the config a C host can pass.
    let text = config_json.split('\0').next().unwrap_or_default();
    let config_json = CString::new(text).expect("no NUL left");
    let (status, error) = init(&config_json);
    assert_ne!(status, ErrorCode::Panic as i32, "seal init panicked: {error}\nconfig: {text}");
    assert_ne!(status, 0, "seal init succeeded inside the sandbox\nconfig: {text}");
    assert!(!error.is_empty(), "status {status} without an error message\nconfig: {text}");
}

/// Calls `ocikms_seal_init_opts` with [`TIMEOUT`]; returns the status and the error message
/// (checking that the error's code is the status and that the call did not hang).
fn init(config_json: &CStr) -> (i32, String) {
    let opts = CallOpts {
        struct_size: std::mem::size_of::<CallOpts>(),
        aad: std::ptr::null(),
        aad_len: 0,
        without_envelope: 0,
        timeout_ms: TIMEOUT.as_millis() as u64,
        cancel: std::ptr::null(),
    };
    let mut seal = std::ptr::null_mut();
    let mut err = std::ptr::null_mut();
    let started = Instant::now();
    // SAFETY: the pointers are valid for the call; the out-parameters are written by the
    // library only, and freed below with the library's functions.
    let status = unsafe { ocikms_seal_init_opts(config_json.as_ptr(), &opts, &mut seal, &mut err) };
    let took = started.elapsed();
    assert!(took <= TIMEOUT + HANG_SLACK, "seal init took {took:?} with a {TIMEOUT:?} timeout");
    let mut message = String::new();
    if !err.is_null() {
        // SAFETY: `err` is a live error from the library; its message is a NUL-terminated
        // string valid until the error is freed, which happens last.
        unsafe {
            assert_eq!(ocikms_error_code(err), status, "the error's code is the status");
            message = CStr::from_ptr(ocikms_error_message(err)).to_string_lossy().into_owned();
            ocikms_error_free(err);
        }
    }
    if !seal.is_null() {
        // SAFETY: a seal the library returned, freed once.
        unsafe { ocikms_seal_free(seal) };
    }
    (status, message)
}

/// A config map from the entries of `input`.
fn config_map(input: &mut Input<'_>, paths: &[String], refusing_url: &str) -> Map<String, Value> {
    let mut map = Map::new();
    while !input.is_empty() && map.len() < MAX_ENTRIES {
        let key = input.byte();
        let kind = input.byte();
        let payload = input.field();
        let text = String::from_utf8_lossy(payload).into_owned();
        let key = match KEYS.get(usize::from(key)) {
            Some(known) => (*known).to_owned(),
            None if key >= 0xf0 => text.clone(),
            None => KEYS[usize::from(key) % KEYS.len()].to_owned(),
        };
        map.insert(key, value(kind, payload, &text, paths, refusing_url));
    }
    map
}

/// A value of the kind `kind` chooses, built from `payload`.
fn value(kind: u8, payload: &[u8], text: &str, paths: &[String], refusing_url: &str) -> Value {
    let pick = |n: usize| usize::from(payload.first().copied().unwrap_or(0)) % n;
    let mut eight = [0u8; 8];
    let len = payload.len().min(8);
    eight[..len].copy_from_slice(&payload[..len]);
    match kind % 14 {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => Value::Bool(false),
        3 => json!(i64::from_le_bytes(eight)),
        4 => json!(f64::from_le_bytes(eight)),
        5 => json!(text),
        6 => json!(TEMPLATES[pick(TEMPLATES.len())]),
        7 => json!(format!("file://{}", paths[pick(paths.len())])),
        8 => json!(format!("env://{}", [KEY_ID_VAR, "OCIKMS_FUZZ_UNSET", "HOME", ""][pick(4)])),
        9 => json!(format!("string://{text}")),
        10 => json!(paths[pick(paths.len())]),
        11 => json!(endpoint(pick(6), refusing_url)),
        12 => json!([text]),
        _ => json!({ "value": text }),
    }
}

/// An endpoint URL: OCI-shaped (through the sandbox's proxy), the refusing server itself, a
/// closed loopback port, or malformed ones.
fn endpoint(choice: usize, refusing_url: &str) -> String {
    match choice {
        0 => "https://fuzz-crypto.kms.us-ashburn-1.oraclecloud.com".to_owned(),
        1 => "http://fuzz-management.kms.us-ashburn-1.oraclecloud.com/".to_owned(),
        2 => refusing_url.to_owned(),
        3 => format!("http://{LOOPBACK_IP}:1"),
        4 => "ftp://fuzz-crypto.kms.example".to_owned(),
        _ => "https://fuzz-crypto.kms.example?query=1".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Init's status and error message for `config`.
    fn init_json(config: Value) -> (i32, String) {
        init(&CString::new(config.to_string()).unwrap())
    }

    #[test]
    fn every_request_ends_at_the_sandbox() {
        let sandbox = sandbox();
        let config_file = sandbox.paths.iter().find(|p| p.ends_with("/config")).unwrap();
        let api_key = |endpoint: &str| {
            json!({"key_id": "ocid1.key.oc1..k", "crypto_endpoint": endpoint,
                   "auth_type": "api_key", "config_file": config_file})
        };
        // Plain http to a network host needs the opt-in; with it, the request goes through the
        // proxy and the refusing server's 404 is the KMS answer.
        let (status, message) = init_json(api_key("http://fuzz-crypto.kms.example"));
        assert_eq!(status, ErrorCode::Config as i32, "{message}");
        assert!(message.contains("allow_plaintext_http"), "{message}");
        let mut cleartext = api_key("http://fuzz-crypto.kms.example");
        cleartext["allow_plaintext_http"] = json!(true);
        let (status, message) = init_json(cleartext);
        assert_eq!(status, ErrorCode::NotAuthorizedOrNotFound as i32, "{message}");
        assert!(message.contains("fuzz sandbox"), "{message}");
        // https: the proxy refuses the tunnel.
        let (status, message) = init_json(api_key("https://fuzz-crypto.kms.example"));
        assert_eq!(status, ErrorCode::Network as i32, "{message}");
        assert!(message.contains("proxy refused"), "{message}");
        // Instance principal: the metadata service is the refusing server.
        let instance =
            json!({"key_id": "ocid1.key.oc1..k", "crypto_endpoint": "https://x.example"});
        let (status, message) = init_json(instance);
        assert_eq!(status, ErrorCode::Credentials as i32, "{message}");
        assert!(message.contains(&sandbox.refusing_url), "{message}");
    }
}

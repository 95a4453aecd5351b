// SPDX-License-Identifier: MPL-2.0
//! The `kms_client` target: the real KMS client — request signing, retries, the transport and
//! its connection pool — driven through the public Rust API as a host drives it (a seal built
//! from a config map with an API-key principal, then init, encrypt and decrypt), against a
//! loopback server that answers each request with the next step of a fuzzer-chosen script.
//!
//! Input: one options byte (bit 0: direct encryption, bit 1: with AAD, bit 2: three retries
//! instead of two), then steps separated by [`SEPARATOR`](super::input::SEPARATOR), one per
//! request the server receives: a control byte and a payload. Control bits 0–1 choose what is
//! written: the payload as raw bytes; `HTTP/1.1 ` + payload as status line and headers with the
//! right answer as body; a 200 head with the payload as body; or the right answer. Bit 2 writes
//! it a few bytes at a time. The server then closes the connection unless bits 3 and 4 are both
//! set (a response that is not complete then costs the call its deadline). Bits 5–7 make it
//! wait first: 0 to 4 not at all, 5: 2 ms, 6: 50 ms, 7: past the call deadline (waits are kept
//! rare: each costs real time). When the script runs out, requests get the right
//! answer on a connection kept open (an echo server: encrypt returns the plaintext as
//! ciphertext, decrypt the reverse).
//!
//! Properties: no panic; every call (init, encrypt, decrypt) returns within its deadline plus
//! [`HANG_SLACK`]; the server sees a bounded number of requests (no retry storm); an envelope
//! decrypt that succeeds returns the plaintext that was encrypted, whatever the server said.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ocikms::blob::{BlobInfo, KeyInfo, MECHANISM_ENVELOPE};
use ocikms::config::SealConfig;
use ocikms::kms::{KmsClient, RetryPolicy};
use ocikms::{CallOptions, Seal};
use serde_json::{json, Value};

use super::input::Input;
use super::loopback::{self, Connection, Request};
use super::sandbox::{sandbox, LOOPBACK_IP};

/// Every call's deadline (the seal's `request_timeout`).
const DEADLINE: Duration = Duration::from_millis(500);
/// How long past its deadline a call may take before it counts as a hang (machines are noisy).
const HANG_SLACK: Duration = Duration::from_secs(5);
/// The most script steps read from one input.
const MAX_STEPS: usize = 32;
/// The plaintext every input encrypts.
const PLAINTEXT: &[u8] = b"fuzz plaintext";
const KEY_ID: &str = "ocid1.key.oc1..fuzz";
const KEY_VERSION: &str = "ocid1.keyversion.oc1..fuzz";

/// What one step writes.
#[derive(Debug)]
enum Reply {
    /// These bytes, as they are.
    Raw(Vec<u8>),
    /// `HTTP/1.1 ` + this status line rest and headers, then the right answer as body.
    Head(Vec<u8>),
    /// A 200 head, then this body.
    Body(Vec<u8>),
    /// The right answer.
    Answer,
}

/// The server's reaction to one request.
#[derive(Debug)]
struct Step {
    reply: Reply,
    keep_open: bool,
    /// The most bytes written at once.
    piece: usize,
    delay: Duration,
}

impl Step {
    fn decode(control: u8, payload: &[u8]) -> Step {
        let payload = payload.to_vec();
        let reply = match control & 3 {
            0 => Reply::Raw(payload),
            1 => Reply::Head(payload),
            2 => Reply::Body(payload),
            _ => Reply::Answer,
        };
        let delay = match control >> 5 {
            0..=4 => Duration::ZERO,
            5 => Duration::from_millis(2),
            6 => Duration::from_millis(50),
            _ => DEADLINE + Duration::from_millis(200),
        };
        let piece = if control & 4 != 0 { 7 } else { usize::MAX };
        Step { reply, keep_open: control & 0x18 == 0x18, piece, delay }
    }

    /// The bytes answering `request`.
    fn render(&self, request: &Request) -> Vec<u8> {
        let (status, body) = answer(request);
        match &self.reply {
            Reply::Raw(bytes) => bytes.clone(),
            Reply::Head(head) => [b"HTTP/1.1 ", &head[..], &framed(&body)].concat(),
            Reply::Body(body) => [&b"HTTP/1.1 200 OK"[..], &framed(body)].concat(),
            Reply::Answer => [format!("HTTP/1.1 {status}").as_bytes(), &framed(&body)].concat(),
        }
    }
}

/// `\r\n` + a `Content-Length` header for `body`, the blank line, and `body`.
fn framed(body: &[u8]) -> Vec<u8> {
    let head = format!("\r\nopc-request-id: fuzz\r\ncontent-length: {}\r\n\r\n", body.len());
    [head.as_bytes(), body].concat()
}

/// The echo KMS's answer to `request`: status line rest and JSON body.
fn answer(request: &Request) -> (&'static str, Vec<u8>) {
    let fields: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let text = |name: &str| fields[name].as_str().unwrap_or_default().to_owned();
    let body = match (request.method.as_str(), request.path.rsplit('/').next()) {
        ("POST", Some("encrypt")) => {
            json!({"ciphertext": text("plaintext"), "keyId": KEY_ID, "keyVersionId": KEY_VERSION})
        }
        ("POST", Some("decrypt")) => json!({"plaintext": text("ciphertext")}),
        ("GET", Some(_)) if request.path.contains("/keys/") => {
            json!({"id": KEY_ID, "currentKeyVersion": KEY_VERSION})
        }
        _ => {
            let error = json!({"code": "NotAuthorizedOrNotFound", "message": "no such route"});
            return ("404 Not Found", error.to_string().into_bytes());
        }
    };
    ("200 OK", body.to_string().into_bytes())
}

/// The steps left, and how many requests arrived since the script was loaded.
#[derive(Default)]
struct Script {
    steps: VecDeque<Step>,
    requests: usize,
}

/// What the target keeps for the life of the process.
struct Harness {
    /// Held for the whole of a run: the server and its request count serve one script at a
    /// time (test threads replaying the corpus and the target's own tests share this harness).
    turn: Mutex<()>,
    script: Arc<Mutex<Script>>,
    endpoint: String,
    runtime: tokio::runtime::Runtime,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        sandbox();
        let script = Arc::new(Mutex::new(Script::default()));
        let served = Arc::clone(&script);
        let addr = loopback::serve(LOOPBACK_IP, move |conn| serve(conn, &served));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Harness { turn: Mutex::new(()), script, endpoint: format!("http://{addr}"), runtime }
    })
}

/// Answers the requests on one connection with the script's next steps.
fn serve(conn: &mut Connection, script: &Mutex<Script>) {
    while let Some(request) = conn.request() {
        let step = {
            let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
            script.requests += 1;
            script.steps.pop_front()
        };
        let step = step.unwrap_or(Step::decode(0x1b, b""));
        std::thread::sleep(step.delay);
        if !conn.write(&step.render(&request), step.piece) || !step.keep_open {
            return;
        }
    }
}

/// The fuzz target body (see the module docs).
pub fn kms_client(data: &[u8]) {
    run(data);
}

/// Runs the script of `data`; returns how many requests the server received.
fn run(data: &[u8]) -> usize {
    let harness = harness();
    let _turn = harness.turn.lock().unwrap_or_else(PoisonError::into_inner);
    let mut input = Input::new(data);
    let options = input.byte();
    let mut steps = VecDeque::new();
    while !input.is_empty() && steps.len() < MAX_STEPS {
        let field = input.field();
        let (control, payload) = field.split_first().map_or((0, &[][..]), |(c, p)| (*c, p));
        steps.push_back(Step::decode(control, payload));
    }
    *harness.script.lock().unwrap_or_else(PoisonError::into_inner) = Script { steps, requests: 0 };
    let max_retries = if options & 4 != 0 { 3 } else { 2 };
    let opts = CallOptions {
        aad: (options & 2 != 0).then(|| b"fuzz aad".to_vec()),
        without_envelope: options & 1 != 0,
        ..CallOptions::default()
    };
    harness.runtime.block_on(exercise(&harness.endpoint, max_retries, &opts));
    let requests = harness.script.lock().unwrap_or_else(PoisonError::into_inner).requests;
    // 3 calls; each may add GetKey's attempts, and each attempt one replay on a stale connection.
    let bound = 3 * 2 * 2 * (max_retries as usize + 1);
    assert!(requests <= bound, "{requests} requests for 3 calls with {max_retries} retries");
    requests
}

/// Builds the seal (its init encrypts), encrypts [`PLAINTEXT`] and decrypts the result.
async fn exercise(endpoint: &str, max_retries: u32, opts: &CallOptions) {
    let config =
        SealConfig::from_sources(&config_map(endpoint, max_retries), None, true, &|_| None)
            .expect("the target's own config is valid");
    let provider = ocikms::auth::provider_from_config(&config).expect("the generated API key");
    // The default backoff (hundreds of ms) would make each input slow; its shape is not fuzzed.
    let retry = RetryPolicy {
        max_attempts: config.max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    };
    let client = KmsClient::new(&config, provider).expect("client").with_retry_policy(retry);
    let init = timed("seal init", Seal::from_client(config, client, opts)).await;
    let Ok(seal) = init else { return };
    let blob = timed("encrypt", seal.encrypt(PLAINTEXT, opts)).await;
    let encrypted = blob.is_ok();
    let blob = blob.unwrap_or_else(|_| unrelated_blob());
    let decrypted = timed("decrypt", seal.decrypt(&blob, opts)).await;
    if let (true, false, Ok(plaintext)) = (encrypted, opts.without_envelope, decrypted) {
        assert_eq!(&plaintext[..], PLAINTEXT, "an envelope decrypt returned another plaintext");
    }
}

/// Runs a seal call, checking that it returns within its deadline (plus slack).
async fn timed<T>(what: &str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = call.await;
    let took = started.elapsed();
    assert!(
        took <= DEADLINE + HANG_SLACK,
        "{what} took {took:?} with a {DEADLINE:?} deadline: a hang"
    );
    result
}

/// An envelope blob this seal did not write (decrypting it still asks the server).
fn unrelated_blob() -> BlobInfo {
    BlobInfo {
        ciphertext: vec![1; 32],
        iv: vec![2; 12],
        key_info: Some(KeyInfo {
            mechanism: MECHANISM_ENVELOPE,
            key_id: KEY_VERSION.to_owned(),
            wrapped_key: b"d3JhcHBlZCBrZXk=".to_vec(),
            ..KeyInfo::default()
        }),
        ..BlobInfo::default()
    }
}

/// The host's config map: API-key credentials inline, the scripted server as both endpoints.
fn config_map(endpoint: &str, max_retries: u32) -> BTreeMap<String, Value> {
    let sandbox = sandbox();
    [
        ("key_id", KEY_ID),
        ("crypto_endpoint", endpoint),
        ("management_endpoint", endpoint),
        ("auth_type", "api_key"),
        ("tenancy_ocid", "ocid1.tenancy.oc1..fuzz"),
        ("user_ocid", "ocid1.user.oc1..fuzz"),
        ("fingerprint", &sandbox.fingerprint),
        ("private_key", &sandbox.key_pem),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Value::from(v)))
    .chain([
        ("request_timeout".to_owned(), Value::from(format!("{}ms", DEADLINE.as_millis()))),
        ("max_retries".to_owned(), Value::from(max_retries)),
    ])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_server_serves_init_encrypt_and_decrypt() {
        // One request per call: init's encrypt, encrypt, decrypt (all answered, all accepted).
        for options in [0, 1, 2] {
            assert_eq!(run(&[options]), 3, "options {options}");
        }
        // A 503 then the echo: init retries once.
        let retried = [&[0u8, 0][..], b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n"].concat();
        assert_eq!(run(&retried), 4);
    }
}

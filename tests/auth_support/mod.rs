// SPDX-License-Identifier: MPL-2.0
//! Support for the authentication tests (`tests/auth_*.rs`): seals whose credential provider reads
//! an explicit environment pointing at the emulator, and a concurrent encrypt/decrypt load.
//!
//! Used together with `tests/common` (`mod common; mod auth_support;` in each test crate).

#![allow(dead_code)] // each test crate uses a different part of this module

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocikms::auth::{provider_from_config_with_env, CredentialProvider};
use ocikms::kms::KmsClient;
use ocikms::{CallOptions, Seal};
use serde_json::Value;

use crate::common::{fast_retries, Emulator};

/// An environment for the provider under test (nothing from the process environment).
#[derive(Clone, Default)]
pub struct TestEnv(HashMap<String, String>);

impl TestEnv {
    /// Sets `name` to `value`.
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_string(), value.into());
        self
    }

    /// Removes `name`.
    pub fn unset(mut self, name: &str) -> Self {
        self.0.remove(name);
        self
    }

    /// The lookup function the library takes.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Instance principal through the SDK's overrides: metadata and federation at the emulator.
pub fn instance_env(emu: &Emulator) -> TestEnv {
    TestEnv::default()
        .set("OCI_METADATA_BASE_URL", emu.field("metadata_base_url"))
        .set("OCI_SDK_AUTH_CLIENT_REGION_URL", emu.field("auth_url"))
}

/// Resource principal v2.2 with the emulator's token and key files.
pub fn resource_env(emu: &Emulator) -> TestEnv {
    let rp = &emu.info["resource_principal"];
    TestEnv::default()
        .set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
        .set("OCI_RESOURCE_PRINCIPAL_RPST", rp["rpst"].as_str().expect("rpst path"))
        .set(
            "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
            rp["private_pem"].as_str().expect("private_pem path"),
        )
        .set("OCI_RESOURCE_PRINCIPAL_REGION", emu.field("region"))
}

/// OKE workload identity against the emulator's proxymux (start it with `--workload-listen`).
pub fn workload_env(emu: &Emulator) -> TestEnv {
    let wl = &emu.info["workload"];
    let endpoint = reqwest::Url::parse(wl["endpoint"].as_str().expect("workload endpoint"))
        .expect("endpoint URL");
    TestEnv::default()
        .set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
        .set("OCI_RESOURCE_PRINCIPAL_REGION", emu.field("region"))
        .set("KUBERNETES_SERVICE_HOST", endpoint.host_str().expect("host"))
        .set("OCIKMS_PROXYMUX_PORT", endpoint.port().expect("port").to_string())
        .set("OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", wl["ca_file"].as_str().expect("ca_file"))
        .set(
            "OCIKMS_SERVICE_ACCOUNT_TOKEN_PATH",
            wl["service_account_token_file"].as_str().expect("token file"),
        )
}

/// The emulator's seal config with `auth_type` set (and no OCI config file involved), trusting
/// the emulator's CA when it serves TLS.
pub fn config_for(emu: &Emulator, auth_type: &str) -> ocikms::config::SealConfig {
    let mut map = emu.config_map();
    map.insert("auth_type".into(), Value::String(auth_type.into()));
    map.remove("config_file");
    if let Some(ca) = emu.info["ca_cert"].as_str() {
        map.insert("ca_cert".into(), Value::String(ca.into()));
    }
    Emulator::config_from(&map)
}

/// The provider `auth_type` gets from `env`.
pub fn provider(
    emu: &Emulator,
    auth_type: &str,
    env: &TestEnv,
) -> ocikms::Result<Arc<dyn CredentialProvider>> {
    provider_from_config_with_env(&config_for(emu, auth_type), &|name| env.lookup(name))
}

/// A seal (validated with its init encrypt) over `provider`, with fast client retries.
pub async fn seal_with(
    emu: &Emulator,
    auth_type: &str,
    provider: Arc<dyn CredentialProvider>,
) -> ocikms::Result<Seal> {
    let config = config_for(emu, auth_type);
    let client =
        KmsClient::new(&config, provider)?.with_retry_policy(fast_retries(config.max_attempts));
    Seal::from_client(config, client, &CallOptions::default()).await
}

/// A seal for `auth_type` with credentials from `env`.
pub async fn seal_for(emu: &Emulator, auth_type: &str, env: &TestEnv) -> ocikms::Result<Seal> {
    seal_with(emu, auth_type, provider(emu, auth_type, env)?).await
}

/// Encrypts and decrypts once, checking the plaintext comes back.
pub async fn round_trip(seal: &Seal, plaintext: &[u8]) -> ocikms::Result<()> {
    let blob = seal.encrypt(plaintext, &CallOptions::default()).await?;
    let back = seal.decrypt(&blob, &CallOptions::default()).await?;
    assert_eq!(&back[..], plaintext, "round trip returned other bytes");
    Ok(())
}

/// What [`load_across_rotations`] observed.
pub struct LoadReport {
    /// Successful encrypt+decrypt round trips.
    pub round_trips: u64,
    /// Error messages of failed round trips.
    pub failures: Vec<String>,
    /// Distinct session tokens (key ids) the provider handed out during the run.
    pub tokens_seen: usize,
    /// The slowest round trip (two KMS calls).
    pub slowest: Duration,
}

/// Runs `loops` concurrent encrypt/decrypt tasks until the provider has handed out `min_tokens`
/// distinct tokens (or `limit` passes), watching the provider's key id.
pub async fn load_across_rotations(
    seal: Arc<Seal>,
    provider: Arc<dyn CredentialProvider>,
    loops: usize,
    min_tokens: usize,
    limit: Duration,
) -> LoadReport {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..loops)
        .map(|i| {
            let (seal, stop) = (seal.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut ok, mut failures, mut slowest) = (0u64, Vec::new(), Duration::ZERO);
                let plaintext = format!("loop {i} secret");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = Instant::now();
                    match round_trip(&seal, plaintext.as_bytes()).await {
                        Ok(()) => ok += 1,
                        Err(err) => failures.push(err.to_string()),
                    }
                    slowest = slowest.max(started.elapsed());
                }
                (ok, failures, slowest)
            })
        })
        .collect();
    let started = Instant::now();
    let mut tokens = BTreeSet::new();
    while tokens.len() < min_tokens && started.elapsed() < limit {
        if let Ok(credentials) = provider.credentials().await {
            tokens.insert(credentials.key_id.to_string());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut report = LoadReport {
        round_trips: 0,
        failures: Vec::new(),
        tokens_seen: tokens.len(),
        slowest: Duration::ZERO,
    };
    for worker in workers {
        let (ok, failures, slowest) = worker.await.expect("load loop panicked");
        report.round_trips += ok;
        report.failures.extend(failures);
        report.slowest = report.slowest.max(slowest);
    }
    report
}

/// Runs 32 round-trip loops over a seal for `auth_type` on `provider` until it has handed out 11
/// tokens (90 s at most) and checks the outcome: no failed call, over 100 round trips, one call
/// to `token_route` per token (plus at most one fetched as the load stopped), and at most one
/// retried 401 per loop and token. Returns the number of `token_route` calls.
pub async fn load_across_rotations_one_token_call_each(
    emu: &Emulator,
    auth_type: &str,
    provider: Arc<dyn CredentialProvider>,
    token_route: &str,
) -> u64 {
    let seal = Arc::new(seal_with(emu, auth_type, provider.clone()).await.expect("seal init"));
    let report = load_across_rotations(seal, provider, 32, 11, Duration::from_secs(90)).await;
    println!(
        "{} round trips over {} tokens, slowest {:?}",
        report.round_trips, report.tokens_seen, report.slowest
    );
    assert!(
        report.failures.is_empty(),
        "{} failed calls, first: {:?}",
        report.failures.len(),
        report.failures.first()
    );
    assert!(report.tokens_seen >= 11, "only {} tokens in 90 s", report.tokens_seen);
    assert!(report.round_trips > 100, "only {} round trips", report.round_trips);
    let calls = emu.total(token_route).await;
    assert!(
        calls == report.tokens_seen as u64 || calls == report.tokens_seen as u64 + 1,
        "{calls} {token_route} calls for {} tokens",
        report.tokens_seen
    );
    // A request signed just before its token's expiry can reach a loaded server just after it:
    // the 401 is answered by one retry with the newer token (no extra token request, see
    // above). At worst each loop is caught so once per rotation; a stale token kept in use
    // would fail far more often (and the calls would fail).
    let unauthorized = emu.count("encrypt", "401").await + emu.count("decrypt", "401").await;
    println!("{unauthorized} requests crossed a token expiry and were retried");
    let bound = 32 * report.tokens_seen as u64;
    assert!(unauthorized <= bound, "{unauthorized} 401s for {} tokens", report.tokens_seen);
    calls
}

/// Sets the fault plan to answer `status` on every request of `route`.
pub async fn fail_route(emu: &Emulator, route: &str, status: u16) {
    emu.set_faults(serde_json::json!({
        "rules": [{"route": route, "probability": 1.0, "fault": {"kind": "status", "status": status}}]
    }))
    .await;
}

/// A loopback TCP port with nothing listening.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A metadata service stand-in that relays each request to a switchable upstream metadata base
/// URL (one of the emulator's per-instance `/i/<ocid>/opc/v2` URLs): switching upstream is what a
/// rotated instance certificate looks like to the client (a new leaf and key are served).
pub struct MetadataRelay {
    /// The base URL to give the client (`http://127.0.0.1:<port>/opc/v2`).
    pub base_url: String,
    upstream: Arc<std::sync::Mutex<String>>,
}

impl MetadataRelay {
    /// Starts relaying to `upstream` (an `http://host:port/...` base URL).
    pub fn start(upstream: &str) -> MetadataRelay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let base_url = format!("http://{}/opc/v2", listener.local_addr().expect("relay address"));
        let shared = Arc::new(std::sync::Mutex::new(upstream.to_string()));
        let target = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let upstream = target.lock().unwrap().clone();
                std::thread::spawn(move || relay_one(stream, &upstream));
            }
        });
        MetadataRelay { base_url, upstream: shared }
    }

    /// Relays the following requests to `upstream`.
    pub fn switch_to(&self, upstream: &str) {
        *self.upstream.lock().unwrap() = upstream.to_string();
    }
}

/// Relays one HTTP/1.x GET: request path below `/opc/v2` and `Authorization` header go upstream.
fn relay_one(mut client: std::net::TcpStream, upstream: &str) {
    use std::io::{Read, Write};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").trim_start_matches("/opc/v2");
    let authorization = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("authorization: ").or_else(|| l.strip_prefix("Authorization: "))
        })
        .unwrap_or_default()
        .to_string();
    let url = reqwest::Url::parse(&format!("{upstream}{path}")).expect("upstream URL");
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut server = std::net::TcpStream::connect(address).expect("connect upstream");
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.host_str().unwrap()
    );
    server.write_all(request.as_bytes()).expect("send upstream");
    let mut response = Vec::new();
    server.read_to_end(&mut response).expect("read upstream");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("upstream response head");
    let status_line =
        String::from_utf8_lossy(&response[..split]).lines().next().unwrap_or("").to_string();
    let status = status_line.split_whitespace().nth(1).unwrap_or("502").to_string();
    let body = &response[split + 4..];
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = client.write_all(reply.as_bytes()).and_then(|()| client.write_all(body));
}

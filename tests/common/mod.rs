// SPDX-License-Identifier: MPL-2.0
//! Test support: runs `oci-kms-emulator` in a temporary state directory and builds seal
//! configurations pointing at it. The emulator is killed when the handle drops.
//!
//! The binary is `$OCIKMS_EMULATOR_BIN`, or `target/debug/oci-kms-emulator` (build it first with
//! `cargo build -p oci-kms-emulator`; `make test` does).

#![allow(dead_code)] // each test crate uses a different part of this module

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ocikms::blob::BlobInfo;
use ocikms::config::SealConfig;
use ocikms::kms::{KmsClient, RetryPolicy};
use ocikms::{CallOptions, Seal};
use serde_json::Value;

/// A running emulator.
pub struct Emulator {
    child: Child,
    /// The JSON line the emulator printed (`crypto_endpoint`, `key_id`, ...).
    pub info: Value,
    /// The state directory (removed on drop).
    pub state: tempfile::TempDir,
    http: reqwest::Client,
}

fn emulator_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("OCIKMS_EMULATOR_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let bin = target.join("debug").join("oci-kms-emulator");
    assert!(
        bin.exists(),
        "{} not found: run `cargo build -p oci-kms-emulator` first or set OCIKMS_EMULATOR_BIN",
        bin.display()
    );
    bin
}

impl Emulator {
    /// Starts the emulator with its default (permissive) world.
    pub fn start() -> Emulator {
        Emulator::start_with(&[], None)
    }

    /// Starts the emulator with extra arguments and, optionally, a `--config` file body (JSON).
    pub fn start_with(args: &[&str], world: Option<&Value>) -> Emulator {
        let state = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(emulator_bin());
        cmd.arg("--state-dir").arg(state.path()).args(args);
        if let Some(world) = world {
            let path = state.path().join("world-config.json");
            std::fs::write(&path, serde_json::to_vec_pretty(world).unwrap()).unwrap();
            cmd.arg("--config").arg(path);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start oci-kms-emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the emulator's endpoints line");
        let info: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                panic!("emulator printed {line:?} instead of its endpoints JSON: {e}");
            }
        };
        let ca = info["ca_cert"].as_str().map(PathBuf::from);
        Emulator { child, info, state, http: admin_client(ca.as_deref()) }
    }

    /// A string field of the endpoints JSON.
    pub fn field(&self, name: &str) -> String {
        self.info[name].as_str().unwrap_or_else(|| panic!("endpoints JSON lacks {name}")).to_owned()
    }

    /// The value of `key` in `profile` of the OCI config file the emulator wrote.
    pub fn profile_value(&self, profile: &str, key: &str) -> String {
        let text = std::fs::read_to_string(self.field("oci_config_file")).unwrap();
        let header = format!("[{profile}]");
        text.lines()
            .skip_while(|l| l.trim() != header)
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
            .unwrap_or_else(|| panic!("{profile}.{key} missing"))
    }

    /// The seal config map for the ready user and key (API key auth, no env).
    pub fn config_map(&self) -> BTreeMap<String, Value> {
        let mut map = BTreeMap::new();
        for (k, v) in [
            ("key_id", self.field("key_id")),
            ("crypto_endpoint", self.field("crypto_endpoint")),
            ("management_endpoint", self.field("management_endpoint")),
            ("auth_type", "api_key".to_owned()),
            ("config_file", self.field("oci_config_file")),
            ("request_timeout", "20s".to_owned()),
            ("max_retries", "4".to_owned()),
        ] {
            map.insert(k.to_owned(), Value::String(v));
        }
        map
    }

    /// A validated [`SealConfig`] from `map` (environment ignored).
    pub fn config_from(map: &BTreeMap<String, Value>) -> SealConfig {
        SealConfig::from_sources(map, None, true, &|_| None).expect("valid seal config")
    }

    /// The default seal config for the ready user and key.
    pub fn config(&self) -> SealConfig {
        Emulator::config_from(&self.config_map())
    }

    /// A seal with short retry delays (so retry tests run fast).
    pub async fn seal(&self) -> Seal {
        self.seal_for(self.config()).await.expect("seal init")
    }

    /// A seal for `config` with short retry delays.
    pub async fn seal_for(&self, config: SealConfig) -> ocikms::Result<Seal> {
        let provider = ocikms::auth::provider_from_config(&config)?;
        let client = KmsClient::new(&config, Arc::clone(&provider))?
            .with_retry_policy(fast_retries(config.max_attempts));
        Seal::from_client(config, client, &CallOptions::default()).await
    }

    /// A seal, the key's OCID and a blob the seal encrypted before it disabled the key.
    pub async fn seal_with_disabled_key(&self) -> (Seal, String, BlobInfo) {
        let seal = self.seal().await;
        let key_id = self.field("key_id");
        let blob = seal.encrypt(b"v", &CallOptions::default()).await.unwrap();
        let ctx = seal.context(&CallOptions::default());
        seal.client().disable_key(&ctx, &key_id).await.unwrap();
        (seal, key_id, blob)
    }

    /// `GET /_emulator/counters` on the crypto endpoint.
    pub async fn counters(&self) -> Value {
        let url = format!("{}/_emulator/counters", self.field("crypto_endpoint"));
        self.admin(self.http.get(url)).await
    }

    /// Count of requests on `route` that ended with `outcome` (`"200"`, `"503"`, `"reset"`).
    pub async fn count(&self, route: &str, outcome: &str) -> u64 {
        self.counters().await["routes"][route][outcome].as_u64().unwrap_or(0)
    }

    /// Total requests on `route`.
    pub async fn total(&self, route: &str) -> u64 {
        self.counters().await["totals"][route].as_u64().unwrap_or(0)
    }

    /// Replaces the fault plan (`{"rules": [...]}`).
    pub async fn set_faults(&self, plan: Value) {
        let url = format!("{}/_emulator/faults", self.field("crypto_endpoint"));
        let body = serde_json::to_vec(&plan).expect("fault plan JSON");
        self.admin(self.http.put(url).header("content-type", "application/json").body(body)).await;
    }

    /// Zeroes the counters.
    pub async fn reset_counters(&self) {
        let url = format!("{}/_emulator/counters/reset", self.field("crypto_endpoint"));
        self.admin(self.http.post(url)).await;
    }

    /// `POST /_emulator/<path>` with a JSON body (e.g. `resource-principal/refresh`).
    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/_emulator/{path}", self.field("crypto_endpoint"));
        let body = serde_json::to_vec(&body).expect("admin request JSON");
        self.admin(self.http.post(url).header("content-type", "application/json").body(body)).await
    }

    async fn admin(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = req.send().await.expect("emulator admin request");
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "emulator admin request failed: {status} {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client for the admin API, trusting the emulator's CA when it runs with `--tls`.
pub fn admin_client(ca: Option<&Path>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).expect("read the emulator CA");
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert.expect("emulator CA PEM")).expect("emulator CA certificate");
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder().use_preconfigured_tls(tls).build().expect("admin HTTP client")
}

/// A tenancy where the ready user's group may use keys only in another compartment.
pub fn policy_denied_world() -> Value {
    serde_json::json!({
        "region": "us-phoenix-1",
        "tenancies": [{
            "name": "denied",
            "id": "ocid1.tenancy.oc1..aaaaaaaadeniedtenancy",
            "policies": ["allow group Operators to use keys in compartment elsewhere"],
            "compartments": [
                {"name": "vaults", "id": "ocid1.compartment.oc1..aaaaaaaavaults"},
                {"name": "elsewhere", "id": "ocid1.compartment.oc1..aaaaaaaaelsewhere"}
            ],
            "users": [{"id": "ocid1.user.oc1..aaaaaaaaoperator", "groups": ["Operators"]}],
            "vaults": [{"id": "ocid1.vault.oc1.phx.aaaaaaaavault", "compartment": "vaults"}],
            "keys": [{
                "id": "ocid1.key.oc1.phx.aaaaaaaakey",
                "vault": "ocid1.vault.oc1.phx.aaaaaaaavault",
                "compartment": "vaults"
            }]
        }]
    })
}

/// The client retry policy used by tests: the seal's attempts, millisecond delays.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

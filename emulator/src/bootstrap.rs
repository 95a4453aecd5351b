// SPDX-License-Identifier: MPL-2.0
//! Start-up: prepares the state directory (world, API key and OCI config, CA, token key, keys,
//! resource-principal and workload files), builds the [`App`] and writes `endpoints.json`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::{json, Value};

use crate::app::App;
use crate::cli::Args;
use crate::counters::Counters;
use crate::encoding::{hex, parse_duration_secs, random_bytes};
use crate::faults::{FaultPlan, Faults};
use crate::fsutil::{private_dir, write_atomic};
use crate::identity::Identity;
use crate::keystore::Keystore;
use crate::pem;
use crate::pki::Pki;
use crate::rsakeys::{self, RsaKey};
use crate::session::{write_user_session, SessionFiles};
use crate::tokens::TokenIssuer;
use crate::workload;
use crate::world::{World, WorldConfig};

const DEFAULT_REGION: &str = "us-ashburn-1";
const DEFAULT_TOKEN_LIFETIME: u64 = 3600;
const SA_TOKEN_VALIDITY: u64 = 365 * 86_400;

/// Paths of the ready API-key files.
pub struct ApiKeyFiles {
    /// PKCS#1 PEM (profile DEFAULT).
    pub pkcs1: PathBuf,
    /// PKCS#8 PEM (profile PKCS8).
    pub pkcs8: PathBuf,
    /// Legacy encrypted PEM (profile ENCRYPTED).
    pub encrypted: PathBuf,
    /// Passphrase of the encrypted file.
    pub pass_phrase: String,
    /// Fingerprint.
    pub fingerprint: String,
}

fn load_or_create_key(path: &Path) -> Result<RsaKey, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => RsaKey::from_pem(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => {
            let k = RsaKey::generate()?;
            write_atomic(path, k.pkcs1_pem()?.as_bytes(), 0o600)?;
            Ok(k)
        }
    }
}

/// Loads (or creates) the ready user's API key and writes its three PEM forms.
fn api_key_files(oci_dir: &Path) -> Result<(ApiKeyFiles, Vec<u8>), String> {
    let pkcs1 = oci_dir.join("api_key.pem");
    let key = load_or_create_key(&pkcs1)?;
    let pkcs8 = oci_dir.join("api_key_pkcs8.pem");
    write_atomic(&pkcs8, key.pkcs8_pem().as_bytes(), 0o600)?;
    // The passphrase and encrypted file persist, so a restart does not invalidate a cached copy.
    let pass_path = oci_dir.join("pass_phrase");
    let encrypted = oci_dir.join("api_key_encrypted.pem");
    let pass_phrase = match std::fs::read_to_string(&pass_path) {
        Ok(p) if !p.trim().is_empty() && encrypted.exists() => p.trim().to_string(),
        _ => {
            let p = hex(&random_bytes(12));
            write_atomic(
                &encrypted,
                pem::encrypt_legacy_rsa(&key.pkcs1()?, &p)?.as_bytes(),
                0o600,
            )?;
            write_atomic(&pass_path, p.as_bytes(), 0o600)?;
            p
        }
    };
    let spki = key.spki_der()?;
    let fingerprint = rsakeys::fingerprint(&spki);
    Ok((ApiKeyFiles { pkcs1, pkcs8, encrypted, pass_phrase, fingerprint }, spki))
}

fn write_oci_config(
    path: &Path,
    world: &World,
    keys: &ApiKeyFiles,
    session: &SessionFiles,
) -> Result<(), String> {
    let common = format!(
        "user={}\nfingerprint={}\ntenancy={}\nregion={}\n",
        world.ready.user, keys.fingerprint, world.ready.tenancy, world.region
    );
    let text = format!(
        "[DEFAULT]\n{common}key_file={}\n\n[PKCS8]\n{common}key_file={}\n\n[ENCRYPTED]\n{common}key_file={}\npass_phrase={}\n\n\
         [SESSION]\nuser={}\nfingerprint={}\ntenancy={}\nregion={}\nkey_file={}\nsecurity_token_file={}\n",
        keys.pkcs1.display(),
        keys.pkcs8.display(),
        keys.encrypted.display(),
        keys.pass_phrase,
        world.ready.user,
        session.fingerprint,
        world.ready.tenancy,
        world.region,
        session.key.display(),
        session.token.display()
    );
    write_atomic(path, text.as_bytes(), 0o600)
}

fn world_config(args: &Args, dir: &Path) -> Result<WorldConfig, String> {
    if let Some(path) = &args.config {
        return WorldConfig::load(path);
    }
    let saved = dir.join("world.json");
    if saved.exists() {
        return WorldConfig::load(&saved);
    }
    let cfg = WorldConfig::permissive_default(args.region.as_deref().unwrap_or(DEFAULT_REGION));
    let text = serde_json::to_string_pretty(&cfg).map_err(|e| e.to_string())?;
    write_atomic(&saved, text.as_bytes(), 0o600)?;
    Ok(cfg)
}

fn fault_plan(args: &Args, cfg: &WorldConfig) -> Result<FaultPlan, String> {
    let plan = match &args.faults {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("fault plan {} is not valid: {e}", p.display()))?
        }
        None => cfg.faults.clone().unwrap_or_default(),
    };
    plan.validate()?;
    Ok(plan)
}

/// What `main` needs after bootstrap.
pub struct Prepared {
    /// The application.
    pub app: Arc<App>,
    /// Paths of the ready API key files.
    pub api_keys: ApiKeyFiles,
    /// `DIR/oci/config`.
    pub oci_config: PathBuf,
}

/// Prepares the state directory and builds the application.
pub fn prepare(args: &Args) -> Result<Prepared, String> {
    let dir = &args.state_dir;
    private_dir(dir)?;
    let cfg = world_config(args, dir)?;
    let (api_keys, spki) = api_key_files(&dir.join("oci"))?;
    let mut world = World::build(&cfg, DEFAULT_REGION, Some(&spki))?;
    if let Some(r) = &args.region {
        world.region = r.clone();
    }
    let pki = Pki::load_or_create(&dir.join("pki"))?;
    write_atomic(&dir.join("ca.pem"), pki.ca_pem.as_bytes(), 0o644)?;
    let identity = Identity::new(pki, &world, args.tls || args.workload_listen.is_some())?;

    let lifetime = match args.token_lifetime.as_deref().or(cfg.token_lifetime.as_deref()) {
        Some(t) => parse_duration_secs(t)?,
        None => DEFAULT_TOKEN_LIFETIME,
    };
    let tokens =
        TokenIssuer::new(load_or_create_key(&dir.join("pki").join("token-key.pem"))?, lifetime)?;
    let session = write_user_session(&tokens, &world, &dir.join("oci").join("session"))?;
    let oci_config = dir.join("oci").join("config");
    write_oci_config(&oci_config, &world, &api_keys, &session)?;

    let keys = Keystore::open(dir.join("state.json"))?;
    for k in &world.seed_keys {
        keys.create(Some(&k.id), &k.compartment, &k.vault, &k.display_name)
            .map_err(|e| e.message)?;
    }

    // A fresh service-account token each start (a JWT, as the OCI SDK parses it).
    let sa_token = tokens.service_account_token(
        "system:serviceaccount:default:oci-kms-emulator",
        SA_TOKEN_VALIDITY,
    )?;
    write_atomic(&dir.join("workload").join("token"), sa_token.as_bytes(), 0o600)?;
    write_atomic(&dir.join("workload").join("ca.crt"), identity.pki.ca_pem.as_bytes(), 0o644)?;

    let app = Arc::new(App {
        faults: Faults::new(fault_plan(args, &cfg)?),
        counters: Counters::default(),
        world,
        keys,
        tokens,
        identity,
        state_dir: dir.clone(),
        sa_token,
        log_requests: args.log_requests,
        endpoints: OnceLock::new(),
    });
    workload::write_resource_principal(&app, &dir.join("rp"))?;
    Ok(Prepared { app, api_keys, oci_config })
}

/// Builds the endpoints document for the bound addresses.
pub fn endpoints(
    p: &Prepared,
    args: &Args,
    addr: std::net::SocketAddr,
    workload_addr: Option<std::net::SocketAddr>,
) -> Value {
    let app = &p.app;
    let host =
        if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let scheme = if args.tls { "https" } else { "http" };
    let base = format!("{scheme}://{host}:{}", addr.port());
    let key = app.keys.get(&app.world.ready.key);
    let dir = &args.state_dir;
    let instances: serde_json::Map<String, Value> = app
        .world
        .principals_of_kind(crate::world::PrincipalKind::Instance)
        .into_iter()
        .map(|(id, _)| (id.clone(), Value::String(format!("{base}/i/{id}/opc/v2"))))
        .collect();
    let mut doc = json!({
        "crypto_endpoint": base,
        "management_endpoint": base,
        "metadata_base_url": format!("{base}/opc/v2"),
        "auth_url": base,
        "admin_url": format!("{base}/_emulator"),
        "key_id": app.world.ready.key,
        "compartment_id": key.as_ref().map(|k| k.compartment_id.clone()),
        "vault_id": key.as_ref().map(|k| k.vault_id.clone()),
        "tenancy": app.world.ready.tenancy,
        "user": app.world.ready.user,
        "fingerprint": p.api_keys.fingerprint,
        "region": app.world.region,
        "oci_config_file": p.oci_config,
        "instance_id": app.world.ready.instance,
        "instances": instances,
        "token_lifetime_secs": app.tokens.lifetime(),
        "state_dir": dir,
        "pid": std::process::id(),
        "resource_principal": app.world.ready.resource.as_ref().map(|id| json!({
            "id": id,
            "rpst": dir.join("rp").join("rpst"),
            "private_pem": dir.join("rp").join("private.pem"),
            "env_file": dir.join("rp").join("env"),
        })),
        "workload": app.world.ready.workload.as_ref().map(|id| json!({
            "id": id,
            "service_account_token_file": dir.join("workload").join("token"),
            "ca_file": dir.join("workload").join("ca.crt"),
            "endpoint": workload_addr.map(|a| format!("https://{}:{}/resourcePrincipalSessionTokens", a.ip(), a.port()))
                .unwrap_or_else(|| format!("{base}/resourcePrincipalSessionTokens")),
        })),
    });
    if args.tls {
        doc["ca_cert"] = dir.join("ca.pem").display().to_string().into();
    }
    doc
}

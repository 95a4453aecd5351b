// SPDX-License-Identifier: MPL-2.0
//! The process environment the client and seal-init targets run in, set up once per process:
//! no request can leave the machine and nothing of the host's OCI setup is read.
//!
//! - A "refusing" loopback server answers every request (and every proxy `CONNECT`) with 404:
//!   `HTTP(S)_PROXY`/`ALL_PROXY` point at it, so does `OCI_METADATA_BASE_URL`; only
//!   [`LOOPBACK_IP`] bypasses the proxy (the client target's scripted server lives there).
//!   A 404 is final, so a call that gets one fails at once, without retries or backoff.
//! - `HOME` is a fresh directory (no `~/.oci/config`), every `OCI*`, `VAULT_OCIKMS*`,
//!   `OCIKMS_WRAPPER*` and `KUBERNETES*` variable is removed.
//! - The directory holds the files config values may name ([`Sandbox::paths`]): an OCI config
//!   file whose profiles use an RSA key generated for this process (never committed), a key id
//!   file, a session token, a CA file that is not one, an empty file, a large file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::loopback;

/// The loopback address of the fuzz targets' own servers; the only host not sent to the proxy.
pub const LOOPBACK_IP: &str = "127.0.0.2";
/// The environment variable `env://` key ids may name.
pub const KEY_ID_VAR: &str = "OCIKMS_FUZZ_KEY_ID";
/// Its value.
pub const KEY_ID_FROM_ENV: &str = "ocid1.key.oc1..fromenv";

/// What a fuzz target may use of the sandbox.
pub struct Sandbox {
    /// Files and directories config values may name (plus `/dev/null` and `/dev/zero`).
    pub paths: Vec<String>,
    /// The PEM (PKCS#8) of this process's RSA key.
    pub key_pem: String,
    /// Its OCI fingerprint.
    pub fingerprint: String,
    /// `http://<refusing server>`.
    pub refusing_url: String,
}

/// The sandbox, set up on first use.
pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(set_up)
}

fn set_up() -> Sandbox {
    let dir = std::env::temp_dir().join(format!("ocikms-fuzz-{}", std::process::id()));
    remove_stale_sandboxes(&dir);
    std::fs::create_dir_all(&dir).expect("create the fuzz sandbox directory");
    let (key_pem, fingerprint) = generate_key();
    let refusing = refusing_server();
    let refusing_url = format!("http://{refusing}");
    isolate_env(&dir, &refusing_url);
    let path = |name: &str| dir.join(name).display().to_string();
    let files = [
        ("key.pem", key_pem.clone()),
        ("key_id", "ocid1.key.oc1..fromfile\n".to_owned()),
        ("token", "header.payload.signature".to_owned()),
        ("ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_owned()),
        ("empty", String::new()),
        ("large", "ocid1.key.oc1..".repeat(1000)),
        ("config", oci_config(&path("key.pem"), &fingerprint, &path("token"))),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).expect("write a fuzz sandbox file");
    }
    let mut paths: Vec<String> = files.iter().map(|(name, _)| path(name)).collect();
    paths.extend([path("missing"), dir.display().to_string()]);
    paths.extend(["/dev/null".to_owned(), "/dev/zero".to_owned()]);
    Sandbox { paths, key_pem, fingerprint, refusing_url }
}

/// Removes the sandboxes of fuzz processes that are gone (`ocikms-fuzz-<pid>`).
fn remove_stale_sandboxes(own: &Path) {
    let Some(parent) = own.parent() else { return };
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix("ocikms-fuzz-"));
        if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh RSA-2048 key: its PKCS#8 PEM and OCI fingerprint.
fn generate_key() -> (String, String) {
    let key = KeyPair::generate(KeySize::Rsa2048).expect("generate an RSA key");
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).expect("PKCS#8 DER");
    let body = B64.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    let pem =
        format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
    let parsed = ocikms::auth::pem::parse_key(pem.as_bytes(), None, "fuzz key").expect("own key");
    let fingerprint = ocikms::auth::pem::fingerprint(&parsed).expect("fingerprint");
    (pem, fingerprint)
}

/// An OCI config file: `DEFAULT` (API key), `SESSION` (session token), `BROKEN` (missing key).
fn oci_config(key_file: &str, fingerprint: &str, token_file: &str) -> String {
    format!(
        "[DEFAULT]\nuser=ocid1.user.oc1..fuzz\nfingerprint={fingerprint}\nkey_file={key_file}\n\
         tenancy=ocid1.tenancy.oc1..fuzz\nregion=us-ashburn-1\n\
         [SESSION]\nfingerprint={fingerprint}\nkey_file={key_file}\ntenancy=ocid1.tenancy.oc1..fuzz\n\
         region=us-ashburn-1\nsecurity_token_file={token_file}\n\
         [BROKEN]\nuser=ocid1.user.oc1..fuzz\nfingerprint=00:11\nkey_file={key_file}.missing\n\
         tenancy=ocid1.tenancy.oc1..fuzz\n"
    )
}

/// A server answering every request with 404 and closing the connection.
fn refusing_server() -> SocketAddr {
    loopback::serve(LOOPBACK_IP, |conn| {
        if conn.request().is_some() {
            let body = r#"{"code":"NotAuthorizedOrNotFound","message":"fuzz sandbox"}"#;
            let response = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write(response.as_bytes(), usize::MAX);
        }
    })
}

/// Points every outgoing request at the refusing server and hides the host's OCI setup.
fn isolate_env(home: &PathBuf, refusing_url: &str) {
    let hidden = ["OCI", "VAULT_OCIKMS", "OCIKMS_WRAPPER", "KUBERNETES", "REQUEST_METHOD"];
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if hidden.iter().any(|prefix| name.to_ascii_uppercase().starts_with(prefix)) {
            std::env::remove_var(&name);
        }
    }
    for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        std::env::set_var(proxy, refusing_url);
        std::env::set_var(proxy.to_ascii_lowercase(), refusing_url);
    }
    std::env::set_var("NO_PROXY", LOOPBACK_IP);
    std::env::set_var("no_proxy", LOOPBACK_IP);
    std::env::set_var("OCI_METADATA_BASE_URL", format!("{refusing_url}/opc/v2"));
    std::env::set_var("HOME", home);
    std::env::set_var(KEY_ID_VAR, KEY_ID_FROM_ENV);
}

// SPDX-License-Identifier: MPL-2.0
//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Local emulator of OCI KMS, IAM, instance metadata and federation.
#[derive(Parser, Debug, Clone)]
#[command(name = "oci-kms-emulator", version)]
pub struct Args {
    /// Directory for state, keys, certificates, endpoints.json and the OCI config.
    #[arg(long)]
    pub state_dir: PathBuf,
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// World config (TOML if the name ends in .toml, else JSON).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Serve HTTPS with a certificate from the emulator CA (written to DIR/ca.pem).
    #[arg(long)]
    pub tls: bool,
    /// Lifetime of issued session tokens, e.g. 30s, 5m, 1h (default: config or 1h).
    #[arg(long)]
    pub token_lifetime: Option<String>,
    /// JSON file with a fault plan active from start (replaces the config's `faults`).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Region name (default: config or us-ashburn-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Also serve the OKE workload-identity endpoint over TLS here (e.g. 127.0.0.1:12250).
    #[arg(long)]
    pub workload_listen: Option<SocketAddr>,
    /// Log every request (method, path, status, and the error message) to stderr; also enabled
    /// by `OCIKMS_EMULATOR_LOG=1`.
    #[arg(long, env = "OCIKMS_EMULATOR_LOG", value_parser = clap::builder::BoolishValueParser::new())]
    pub log_requests: bool,
}

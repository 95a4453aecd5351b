// SPDX-License-Identifier: MPL-2.0
//! The command line: commands, flags and the long help that teaches them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Check, use and troubleshoot the OCI KMS seal configuration of a Vault server";

const LONG_ABOUT: &str = "\
Check, use and troubleshoot the OCI KMS seal configuration of a Vault server.

ocikms reads the configuration exactly as Vault does: the `seal \"ocikms\" { ... }` block of a
Vault config file (--config vault.hcl), or the flags below, and the environment variables
OCIKMS_WRAPPER_KEY_ID / VAULT_OCIKMS_SEAL_KEY_ID, OCIKMS_WRAPPER_CRYPTO_ENDPOINT /
VAULT_OCIKMS_CRYPTO_ENDPOINT and OCIKMS_WRAPPER_MANAGEMENT_ENDPOINT /
VAULT_OCIKMS_MANAGEMENT_ENDPOINT, which win over the file and the flags (as in Vault).

Start with `ocikms check`: it walks through config, credentials, metadata/federation, GetKey
and an encrypt/decrypt round trip, and on failure prints the OCI error code, the opc-request-id
and the fix (for NotAuthorizedOrNotFound: the IAM policy statements to add, filled in).

Try it locally first: `ocikms emulator` starts an OCI KMS emulator and prints what to export.";

const AFTER_LONG_HELP: &str = "\
Examples:
  ocikms check --config /etc/vault.d/vault.hcl
  ocikms check --key-id ocid1.key.oc1.iad.xxx --crypto-endpoint https://xxx-crypto.kms.us-ashburn-1.oraclecloud.com --auth-type api_key
  echo -n secret | ocikms encrypt --config vault.hcl > secret.blob
  ocikms decrypt --config vault.hcl < secret.blob
  ocikms key-info --config vault.hcl
  ocikms rotate --config vault.hcl
  ocikms rewrap --config vault.hcl < old.blob > new.blob
  ocikms emulator --state-dir /tmp/ocikms-emulator

Exit codes: 0 success, 1 failure (the message says what failed and what to do), 2 usage error.";

/// `ocikms`: the command line.
#[derive(Parser, Debug)]
#[command(
    name = "ocikms",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = AFTER_LONG_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the seal configuration step by step and say how to fix what fails.
    #[command(long_about = CHECK_LONG, after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Encrypt stdin as Vault's OCI KMS seal does; write the BlobInfo to stdout.
    #[command(long_about = ENCRYPT_LONG, after_long_help = ENCRYPT_EXAMPLES)]
    Encrypt(EncryptArgs),
    /// Decrypt a BlobInfo (protobuf, multiwrapvalue:1 or JSON) from stdin to stdout.
    #[command(long_about = DECRYPT_LONG, after_long_help = DECRYPT_EXAMPLES)]
    Decrypt(DecryptArgs),
    /// Show the master key: state, current version and all versions.
    #[command(long_about = KEY_INFO_LONG, after_long_help = KEY_INFO_EXAMPLES)]
    KeyInfo(KeyInfoArgs),
    /// Rotate the master key: create a new key version, which becomes the current one.
    #[command(long_about = ROTATE_LONG, after_long_help = ROTATE_EXAMPLES)]
    Rotate(KeyInfoArgs),
    /// Re-encrypt a Vault storage value under the key's current version.
    #[command(long_about = REWRAP_LONG, after_long_help = REWRAP_EXAMPLES)]
    Rewrap(RewrapArgs),
    /// Start a local OCI KMS emulator to try things out, and print what to export.
    #[command(long_about = EMULATOR_LONG, after_long_help = EMULATOR_EXAMPLES)]
    Emulator(EmulatorArgs),
}

const CHECK_LONG: &str = "\
Check the seal configuration step by step, as Vault would use it at startup:

  1. config       the seal block / flags / environment, validated
  2. credentials  which principal signs the requests (user, instance, resource, workload) and its OCIDs
  3. metadata     instance principal: the instance metadata service (region, instance OCID, compartment)
  4. federation   instance/resource principal, workload identity: a session token is obtained
  5. GetKey       the key on the management endpoint: state, current version, compartment
  6. round trip   Vault's startup check (encrypt of an empty value), then encrypt + decrypt

Each step prints ✓ or ✗ and its timing. A failed step prints the error code, the OCI error
and opc-request-id (quote it to Oracle support), and what to do. For NotAuthorizedOrNotFound
(HTTP 404: the key does not exist, the endpoint is the wrong vault's, or no IAM policy allows
the principal) it prints the policy statements to add, filled in with the principal's OCIDs
and the key's compartment.";

const CHECK_EXAMPLES: &str = "\
Examples:
  # The seal block of the Vault server's own config file:
  ocikms check --config /etc/vault.d/vault.hcl

  # Without a config file; API key from ~/.oci/config, profile DEFAULT:
  ocikms check --auth-type api_key \\
      --key-id ocid1.key.oc1.iad.xxx \\
      --crypto-endpoint https://xxx-crypto.kms.us-ashburn-1.oraclecloud.com

  # For scripts (exit code 0 = pass, 1 = fail, 2 = usage):
  ocikms check --config vault.hcl --json | jq '.steps[] | select(.status == \"fail\")'";

const ENCRYPT_LONG: &str = "\
Encrypt stdin exactly as Vault's OCI KMS seal does and write the result to stdout.

By default the result is go-kms-wrapping's BlobInfo protobuf (the bytes Vault stores, e.g. in
core/hsm/barrier-unseal-keys): an AES-256-GCM envelope whose data key OCI KMS wraps. With
--without-envelope OCI KMS encrypts the data directly (at most 4 KiB). --format json writes a
JSON rendering of the BlobInfo with base64 byte fields instead.";

const ENCRYPT_EXAMPLES: &str = "\
Examples:
  echo -n 'my secret' | ocikms encrypt --config vault.hcl > secret.blob
  echo -n 'my secret' | ocikms encrypt --config vault.hcl --format json
  ocikms encrypt --config vault.hcl --aad tenant-42 < data.bin > data.blob";

const DECRYPT_LONG: &str = "\
Decrypt a value from stdin and write the plaintext to stdout.

The input may be a BlobInfo protobuf (what `ocikms encrypt` and Vault's seal write), a Vault
multi-seal value (multiwrapvalue:1: the slots this seal can read are tried), or the JSON form of
`ocikms encrypt --format json`; the form is detected. Give the same --aad as at encryption.";

const DECRYPT_EXAMPLES: &str = "\
Examples:
  ocikms decrypt --config vault.hcl < secret.blob
  ocikms encrypt --config vault.hcl --format json < in.txt | ocikms decrypt --config vault.hcl
  ocikms decrypt --config vault.hcl --json < secret.blob   # plaintext as base64 in JSON";

const KEY_INFO_LONG: &str = "\
Show the master key from the management endpoint: display name, lifecycle state, compartment,
vault, algorithm, protection mode, current version, and every version with its state.
Needs `read keys` permission on the key's compartment (`use keys` includes it).";

const KEY_INFO_EXAMPLES: &str = "\
Examples:
  ocikms key-info --config vault.hcl
  ocikms key-info --config vault.hcl --json | jq -r .current_key_version";

const ROTATE_LONG: &str = "\
Rotate the master key in OCI KMS: a new key version is created and becomes current (what the
console's Rotate Key does). Vault keeps working: values under older versions still decrypt, and
`ocikms rewrap` moves a value to the new version. Needs `manage keys` permission.";

const ROTATE_EXAMPLES: &str = "\
Examples:
  ocikms rotate --config vault.hcl
  ocikms rotate --config vault.hcl --json | jq -r .key_version";

const REWRAP_LONG: &str = "\
Re-encrypt a Vault storage value (BlobInfo protobuf or its JSON form) under the key's current
version, after a rotation in OCI. The current version is read from the management endpoint.
When the value is already under the current version nothing is re-encrypted: the value is
written back unchanged and stderr says so. The output has the input's form unless --format
says otherwise.";

const REWRAP_EXAMPLES: &str = "\
Examples:
  ocikms rewrap --config vault.hcl < old.blob > new.blob
  ocikms rewrap --config vault.hcl --json < old.blob   # reports whether anything changed";

const EMULATOR_LONG: &str = "\
Start the OCI KMS emulator (oci-kms-emulator, found next to this binary or on PATH) for trying
things out: KMS crypto and management API, IAM, instance metadata and federation on 127.0.0.1.
It prints the environment to export and writes a Vault seal block (DIR/vault-seal.hcl) for
`ocikms check --config`. State persists in --state-dir: keys and old ciphertexts survive a
restart. Stop it with Ctrl-C.";

const EMULATOR_EXAMPLES: &str = "\
Examples:
  ocikms emulator --state-dir /tmp/ocikms-emulator
  # in another shell:
  ocikms check --config /tmp/ocikms-emulator/vault-seal.hcl

  # any oci-kms-emulator option after --, e.g. short-lived tokens or a world with policies:
  ocikms emulator --state-dir /tmp/emu -- --token-lifetime 30s --config world.toml";

/// Where the seal configuration comes from (shared by every command that talks to OCI).
#[derive(Args, Debug, Clone, Default)]
pub struct SealArgs {
    /// Vault config file (HCL) whose `seal "ocikms" { ... }` block to use.
    #[arg(long, value_name = "VAULT_HCL")]
    pub config: Option<PathBuf>,
    /// With several `seal "ocikms"` blocks: the one whose `name` is this.
    #[arg(long, value_name = "NAME")]
    pub seal_name: Option<String>,
    /// The master key OCID (key_id; env OCIKMS_WRAPPER_KEY_ID wins).
    #[arg(long, value_name = "OCID")]
    pub key_id: Option<String>,
    /// The vault's crypto endpoint (crypto_endpoint).
    #[arg(long, value_name = "URL")]
    pub crypto_endpoint: Option<String>,
    /// The vault's management endpoint (management_endpoint; derived from the crypto one if absent).
    #[arg(long, value_name = "URL")]
    pub management_endpoint: Option<String>,
    /// Authentication method (auth_type; default instance_principal, as in Vault).
    #[arg(long, value_enum, value_name = "TYPE")]
    pub auth_type: Option<AuthTypeArg>,
    /// OCI config file (config_file; default ~/.oci/config, then $OCI_CONFIG_FILE).
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// OCI config file profile (config_profile; default DEFAULT).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Extra PEM CA bundle to trust for the endpoints (ca_cert).
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Deadline per call, retries included (request_timeout), e.g. 10s.
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
}

/// The `auth_type` values.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum AuthTypeArg {
    /// API key from the OCI config file (Vault's auth_type_api_key = true).
    ApiKey,
    /// The compute instance's identity (Vault's default).
    InstancePrincipal,
    /// Resource principal v2.2 (OCI_RESOURCE_PRINCIPAL_* environment).
    ResourcePrincipal,
    /// OKE workload identity.
    WorkloadIdentity,
    /// Session token from the OCI config file (`oci session authenticate`).
    SecurityToken,
}

impl AuthTypeArg {
    /// The `auth_type` config value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthTypeArg::ApiKey => "api_key",
            AuthTypeArg::InstancePrincipal => "instance_principal",
            AuthTypeArg::ResourcePrincipal => "resource_principal",
            AuthTypeArg::WorkloadIdentity => "workload_identity",
            AuthTypeArg::SecurityToken => "security_token",
        }
    }
}

/// `--json`: a machine-readable report on stdout instead of text.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct OutputArgs {
    /// Print a JSON report on stdout (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `ocikms check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub seal: SealArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The form a BlobInfo is written in.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobFormat {
    /// go-kms-wrapping BlobInfo protobuf bytes (what Vault stores).
    Proto,
    /// JSON with base64 byte fields.
    Json,
}

/// `ocikms encrypt`.
#[derive(Args, Debug)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub seal: SealArgs,
    /// Output form.
    #[arg(long, value_enum, default_value = "proto")]
    pub format: BlobFormat,
    /// Additional authenticated data bound to the envelope (give it again to decrypt).
    #[arg(long, value_name = "TEXT")]
    pub aad: Option<String>,
    /// Let OCI KMS encrypt the data itself (mechanism 1, at most 4 KiB, no AAD).
    #[arg(long, conflicts_with = "aad")]
    pub without_envelope: bool,
}

/// `ocikms decrypt`.
#[derive(Args, Debug)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub seal: SealArgs,
    /// The additional authenticated data given at encryption (the blob itself says whether it
    /// has an envelope).
    #[arg(long, value_name = "TEXT")]
    pub aad: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `ocikms key-info` and `ocikms rotate`.
#[derive(Args, Debug)]
pub struct KeyInfoArgs {
    #[command(flatten)]
    pub seal: SealArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `ocikms rewrap`.
#[derive(Args, Debug)]
pub struct RewrapArgs {
    #[command(flatten)]
    pub seal: SealArgs,
    /// Output form (default: the input's).
    #[arg(long, value_enum)]
    pub format: Option<BlobFormat>,
    /// The additional authenticated data the value was encrypted with.
    #[arg(long, value_name = "TEXT")]
    pub aad: Option<String>,
    /// Print a JSON report (with the value, base64) instead of the value.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `ocikms emulator`.
#[derive(Args, Debug)]
pub struct EmulatorArgs {
    /// Directory for the emulator's keys, certificates and OCI config (kept across runs).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,
    /// The oci-kms-emulator binary (default: next to ocikms, then PATH).
    #[arg(long, value_name = "PATH", env = "OCIKMS_EMULATOR_BIN")]
    pub emulator_bin: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Further oci-kms-emulator options (after --).
    #[arg(last = true, value_name = "EMULATOR_ARGS")]
    pub extra: Vec<String>,
}

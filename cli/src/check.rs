// SPDX-License-Identifier: MPL-2.0
//! `ocikms check`: config → credentials → metadata/federation → GetKey → round trip, each step
//! timed and reported, with the fix for what fails.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ocikms::auth::jwt::parse_jwt_claims;
use ocikms::auth::{CredentialProvider, PrincipalType};
use ocikms::config::{AuthType, SealConfig};
use ocikms::kms::{CallContext, Key, KmsClient};
use ocikms::{CallOptions, Error, ErrorCode, Seal};
use rand::RngCore;

use crate::advice::{self, Context};
use crate::args::CheckArgs;
use crate::principal::{self, Principal};
use crate::report::Report;
use crate::settings::{self, Loaded};
use crate::ui::Progress;
use crate::Exit;

/// Runs the check: [`Exit::Success`] when every step passed.
pub async fn run(args: &CheckArgs) -> Exit {
    let mut check = Check { report: Report::new(args.output.json), quiet: args.output.json };
    check.run(&args.seal).await;
    check.report.finish()
}

struct Check {
    report: Report,
    quiet: bool,
}

type Details = Vec<(String, String)>;

fn detail(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

impl Check {
    async fn run(&mut self, seal_args: &crate::args::SealArgs) {
        let Some(config) = self.config(seal_args) else { return };
        let Some((provider, mut principal)) = self.credentials(&config).await else { return };
        if config.auth_type == AuthType::InstancePrincipal {
            match self.metadata(&config).await {
                Some(found) => principal = found,
                None => return,
            }
        } else {
            self.report
                .skip("metadata", "only instance principals read the instance metadata service");
        }
        if matches!(provider.principal_type(), PrincipalType::User | PrincipalType::Session) {
            self.report.skip("federation", "API keys and session tokens sign requests directly");
        } else if !self.federation(&provider, &mut principal).await {
            return;
        }
        let client = match KmsClient::new(&config, Arc::clone(&provider)) {
            Ok(c) => c,
            Err(e) => {
                return self.fail("GetKey", Instant::now(), &e, &config, None, &principal, "read")
            }
        };
        let key = self.get_key(&config, &client, &principal).await;
        let compartment = key.as_ref().ok().and_then(|k| k.compartment_id.clone());
        let get_key_error = key.err().flatten();
        self.round_trip(config, client, &principal, compartment.as_deref(), get_key_error).await;
    }

    fn config(&mut self, args: &crate::args::SealArgs) -> Option<SealConfig> {
        let started = Instant::now();
        match settings::load(args) {
            Ok(Loaded { config, sources }) => {
                let mut details = Details::new();
                for (name, source) in sources {
                    let value = match name {
                        "key_id" => config.key_id.clone(),
                        "crypto_endpoint" => config.crypto_endpoint.clone(),
                        _ => match &config.management_endpoint {
                            Some(m) => m.clone(),
                            None => {
                                details.push(detail(
                                    name,
                                    "(none: not set, and not derivable from crypto_endpoint)",
                                ));
                                continue;
                            }
                        },
                    };
                    details.push(detail(name, format!("{value}  ({source})")));
                }
                details.push(detail("auth_type", config.auth_type.as_str()));
                if let Some(ca) = &config.ca_cert {
                    details.push(detail("ca_cert", ca.display().to_string()));
                }
                details.push(detail("request_timeout", format!("{:?}", config.request_timeout)));
                self.report.pass("config", started, details);
                Some(config)
            }
            Err(e) => {
                let fix = advice::fix(
                    &e,
                    &Context {
                        key_id: "<key-ocid>",
                        key_compartment: None,
                        principal: None,
                        verb: "use",
                    },
                );
                self.report.fail("config", started, vec![], &e, fix);
                None
            }
        }
    }

    /// Builds the provider; API keys and session tokens are loaded here.
    async fn credentials(
        &mut self,
        config: &SealConfig,
    ) -> Option<(Arc<dyn CredentialProvider>, Principal)> {
        let started = Instant::now();
        let provider = match ocikms::auth::provider_from_config(config) {
            Ok(p) => p,
            Err(e) => {
                let p = Principal::unknown(principal::kind_of(config.auth_type), String::new());
                self.fail("credentials", started, &e, config, None, &p, "use");
                return None;
            }
        };
        let kind = provider.principal_type();
        let principal = match kind {
            PrincipalType::User | PrincipalType::Session => {
                let loaded = async {
                    let mut principal = principal::from_profile(config, kind)?;
                    let creds = provider.credentials().await?;
                    principal::add_token_claims(&mut principal, &creds.key_id);
                    Ok::<_, Error>(principal)
                };
                match loaded.await {
                    Ok(p) => p,
                    Err(e) => {
                        let p = Principal::unknown(kind, provider.describe());
                        self.fail("credentials", started, &e, config, None, &p, "use");
                        return None;
                    }
                }
            }
            _ => Principal::unknown(kind, provider.describe()),
        };
        self.report.pass("credentials", started, principal.details());
        Some((provider, principal))
    }

    async fn metadata(&mut self, config: &SealConfig) -> Option<Principal> {
        let started = Instant::now();
        let progress = Progress::start("reading the instance metadata service", self.quiet);
        let result = principal::instance_metadata(config).await;
        drop(progress);
        match result {
            Ok(found) => {
                let mut details = vec![
                    detail("metadata", found.base_url.clone()),
                    detail("region", found.region.clone()),
                ];
                details.extend(found.principal.details().into_iter().filter(|(k, _)| k != "from"));
                self.report.pass("metadata", started, details);
                Some(found.principal)
            }
            Err(e) => {
                let fix = vec![
                    "instance principals work only on an OCI compute instance: the metadata service \
                     (169.254.169.254, or OCI_METADATA_BASE_URL) must answer"
                        .to_owned(),
                    "not on OCI? use auth_type = \"api_key\" (Vault: auth_type_api_key = \"true\") with an \
                     OCI config file"
                        .to_owned(),
                ];
                self.report.fail("metadata", started, vec![], &e, fix);
                None
            }
        }
    }

    /// Obtains a session token (instance/resource principal, workload identity).
    async fn federation(
        &mut self,
        provider: &Arc<dyn CredentialProvider>,
        principal: &mut Principal,
    ) -> bool {
        let started = Instant::now();
        let progress = Progress::start("obtaining a session token", self.quiet);
        let result = provider.credentials().await;
        drop(progress);
        match result {
            Ok(creds) => {
                principal::add_token_claims(principal, &creds.key_id);
                let mut details: Details = principal
                    .details()
                    .into_iter()
                    .filter(|(k, _)| k != "principal" && k != "from")
                    .collect();
                details.insert(0, detail("principal", provider.describe()));
                if let Some(token) = creds.key_id.strip_prefix("ST$") {
                    if let Ok(claims) = parse_jwt_claims(token) {
                        let left =
                            claims.expires_at.duration_since(SystemTime::now()).unwrap_or_default();
                        details.push(detail("token valid for", format!("{}s", left.as_secs())));
                    }
                }
                self.report.pass("federation", started, details);
                true
            }
            Err(e) => {
                let fix = match e.code() {
                    ErrorCode::NotAuthenticated | ErrorCode::NotAuthorizedOrNotFound => vec![
                        "the federation service refused the identity: check that the instance certificate \
                         is valid and that the federation endpoint is the instance's region/realm \
                         (OCI_SDK_AUTH_CLIENT_REGION_URL overrides it)"
                            .to_owned(),
                    ],
                    _ => advice::fix(&e, &Context { key_id: "", key_compartment: None, principal: Some(principal), verb: "use" }),
                };
                self.report.fail("federation", started, vec![], &e, fix);
                false
            }
        }
    }

    /// GetKey; `Err(Some(code))` when it failed, `Err(None)` when skipped.
    async fn get_key(
        &mut self,
        config: &SealConfig,
        client: &KmsClient,
        principal: &Principal,
    ) -> Result<Key, Option<ErrorCode>> {
        if config.management_endpoint.is_none() {
            self.report.skip(
                "GetKey",
                "no management_endpoint (and none derivable from crypto_endpoint); set it to see the \
                 key's state — Vault itself does not need it",
            );
            return Err(None);
        }
        let started = Instant::now();
        let progress = Progress::start("GetKey", self.quiet);
        let ctx = CallContext::new(config.request_timeout, None);
        let result = client.get_key(&ctx, &config.key_id).await;
        drop(progress);
        match result {
            Ok(key) => {
                self.report.pass("GetKey", started, key_details(&key));
                Ok(key)
            }
            Err(e) => {
                self.fail("GetKey", started, &e, config, None, principal, "read");
                Err(Some(e.code()))
            }
        }
    }

    /// The round trip; when it fails like GetKey did, the fix points to GetKey's.
    async fn round_trip(
        &mut self,
        config: SealConfig,
        client: KmsClient,
        principal: &Principal,
        compartment: Option<&str>,
        get_key_error: Option<ErrorCode>,
    ) {
        let started = Instant::now();
        let progress = Progress::start("encrypt/decrypt round trip", self.quiet);
        let result = round_trip(config.clone(), client).await;
        drop(progress);
        match result {
            Ok(details) => self.report.pass("round trip", started, details),
            Err(e) if Some(e.code()) == get_key_error => {
                let fix = vec!["the same cause as GetKey's failure: see its fix above".to_owned()];
                self.report.fail("round trip", started, vec![], &e, fix);
            }
            Err(e) => self.fail("round trip", started, &e, &config, compartment, principal, "use"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        step: &'static str,
        started: Instant,
        err: &Error,
        config: &SealConfig,
        compartment: Option<&str>,
        principal: &Principal,
        verb: &str,
    ) {
        let ctx = Context {
            key_id: &config.key_id,
            key_compartment: compartment,
            principal: Some(principal),
            verb,
        };
        let fix = advice::fix(err, &ctx);
        self.report.fail(step, started, vec![], err, fix);
    }
}

/// Vault's startup check (an empty-plaintext encrypt), then encrypt + decrypt of random bytes.
async fn round_trip(config: SealConfig, client: KmsClient) -> ocikms::Result<Details> {
    let t = Instant::now();
    let seal = Seal::from_client(config, client, &CallOptions::default()).await?;
    let init_ms = t.elapsed().as_millis();
    let mut probe = zeroize::Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(probe.as_mut());
    let opts = CallOptions { aad: Some(b"ocikms check".to_vec()), ..CallOptions::default() };
    let t = Instant::now();
    let blob = seal.encrypt(probe.as_ref(), &opts).await?;
    let encrypt_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let back = seal.decrypt(&blob, &opts).await?;
    let decrypt_ms = t.elapsed().as_millis();
    if back.as_slice() != probe.as_ref() {
        return Err(Error::new(
            ErrorCode::DecryptFailed,
            "the round trip returned different bytes than were encrypted: report this as a bug",
        ));
    }
    Ok(vec![
        detail("key version", seal.key_id()),
        detail(
            "principal_type",
            seal.metadata().get("principal_type").cloned().unwrap_or_default(),
        ),
        detail("startup check", format!("{init_ms} ms (empty-plaintext encrypt, as Vault does)")),
        detail("encrypt", format!("{encrypt_ms} ms")),
        detail("decrypt", format!("{decrypt_ms} ms")),
    ])
}

/// The key's details, as `check` and `key-info` show them.
pub fn key_details(key: &Key) -> Details {
    let mut out = vec![detail("key", key.id.clone())];
    let optional = [
        ("display name", key.display_name.clone()),
        ("state", key.lifecycle_state.clone()),
        ("compartment", key.compartment_id.clone()),
        ("vault", key.vault_id.clone()),
        ("protection", key.protection_mode.clone()),
        ("algorithm", key.key_shape.as_ref().map(|s| format!("{}-{}", s.algorithm, s.length * 8))),
    ];
    out.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| detail(k, v))));
    out.push(detail("current version", key.current_key_version.clone()));
    out
}

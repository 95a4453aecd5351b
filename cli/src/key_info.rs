// SPDX-License-Identifier: MPL-2.0
//! `ocikms key-info` (the master key and its versions) and `ocikms rotate` (a new key
//! version), on the management endpoint.

use ocikms::kms::{CallContext, Key, KeyVersion, KmsClient};
use ocikms::Result;
use serde_json::json;

use crate::advice;
use crate::args::KeyInfoArgs;
use crate::check::key_details;
use crate::settings;
use crate::ui::{print_failure, Progress};
use crate::Exit;

/// Runs `key-info`.
pub async fn run(args: &KeyInfoArgs) -> Exit {
    let json = args.output.json;
    match fetch(args, json).await {
        Ok((key, versions)) => {
            if json {
                println!("{:#}", render_json(&key, &versions));
            } else {
                print_text(&key, &versions);
            }
            Exit::Success
        }
        Err(e) => failed(args, &e, "read"),
    }
}

/// The management client, call context and key OCID the arguments describe.
fn client(args: &KeyInfoArgs) -> Result<(KmsClient, CallContext, String)> {
    let config = settings::load(&args.seal)?.config;
    let provider = ocikms::auth::provider_from_config(&config)?;
    let client = KmsClient::new(&config, provider)?;
    Ok((client, CallContext::new(config.request_timeout, None), config.key_id))
}

/// Prints a failure with its fix; `verb` is the IAM verb the call needed.
fn failed(args: &KeyInfoArgs, e: &ocikms::Error, verb: &str) -> Exit {
    print_failure(e, &advice::for_command(e, &args.seal, verb), args.output.json);
    Exit::Failure
}

/// Runs `rotate`.
pub async fn rotate(args: &KeyInfoArgs) -> Exit {
    let result = async {
        let (client, ctx, key_id) = client(args)?;
        let _progress = Progress::start("creating a key version", args.output.json);
        client.create_key_version(&ctx, &key_id).await
    };
    match result.await {
        Ok(version) => {
            if args.output.json {
                println!(
                    "{:#}",
                    json!({ "ok": true, "key_id": version.key_id, "key_version": version.id })
                );
            } else {
                println!("new current key version: {}", version.id);
                println!("values under older versions still decrypt; `ocikms rewrap` moves one to this version");
            }
            Exit::Success
        }
        Err(e) => failed(args, &e, "manage"),
    }
}

async fn fetch(args: &KeyInfoArgs, quiet: bool) -> Result<(Key, Vec<KeyVersion>)> {
    let (client, ctx, key_id) = client(args)?;
    let _progress = Progress::start("reading the key", quiet);
    let key = client.get_key(&ctx, &key_id).await?;
    let mut versions = client.list_key_versions(&ctx, &key_id).await?;
    versions.sort_by(|a, b| a.time_created.cmp(&b.time_created));
    Ok((key, versions))
}

fn render_json(key: &Key, versions: &[KeyVersion]) -> serde_json::Value {
    json!({
        "ok": true,
        "id": key.id,
        "display_name": key.display_name,
        "lifecycle_state": key.lifecycle_state,
        "compartment_id": key.compartment_id,
        "vault_id": key.vault_id,
        "protection_mode": key.protection_mode,
        "key_shape": key.key_shape,
        "current_key_version": key.current_key_version,
        "versions": versions.iter().map(|v| json!({
            "id": v.id,
            "lifecycle_state": v.lifecycle_state,
            "time_created": v.time_created,
            "current": v.id == key.current_key_version,
        })).collect::<Vec<_>>(),
    })
}

fn print_text(key: &Key, versions: &[KeyVersion]) {
    let details = key_details(key);
    let width = details.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (name, value) in &details {
        println!("{name:<width$}  {value}");
    }
    println!("versions ({}, oldest first):", versions.len());
    for v in versions {
        let current = if v.id == key.current_key_version { "  (current)" } else { "" };
        println!(
            "  {}  {}  {}{current}",
            v.id,
            v.lifecycle_state.as_deref().unwrap_or("-"),
            v.time_created.as_deref().unwrap_or("-")
        );
    }
}

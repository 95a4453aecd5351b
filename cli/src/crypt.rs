// SPDX-License-Identifier: MPL-2.0
//! `ocikms encrypt`, `decrypt` and `rewrap`: stdin → the seal → stdout.

use std::io::{IsTerminal, Read, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ocikms::blob::{BlobInfo, StoredValue};
use ocikms::{CallOptions, Error, ErrorCode, Result, Seal};
use zeroize::Zeroizing;

use crate::advice;
use crate::args::{BlobFormat, DecryptArgs, EncryptArgs, RewrapArgs, SealArgs};
use crate::blob_json;
use crate::settings;
use crate::ui::{print_failure, Progress};
use crate::Exit;

/// Opens the seal the arguments describe (Vault's startup check included).
async fn open_seal(args: &SealArgs, quiet: bool) -> Result<Seal> {
    let config = settings::load(args)?.config;
    let _progress = Progress::start("connecting to OCI KMS", quiet);
    Seal::new(config).await
}

/// Prints `err` with its fix and returns the failure exit code.
fn failed(err: &Error, args: &SealArgs, json: bool) -> Exit {
    print_failure(err, &advice::for_command(err, args, "use"), json);
    Exit::Failure
}

fn read_stdin() -> Result<Zeroizing<Vec<u8>>> {
    let mut input = Zeroizing::new(Vec::new());
    std::io::stdin().read_to_end(&mut input).map_err(|e| {
        Error::new(ErrorCode::InvalidArgument, format!("reading stdin failed: {e}"))
    })?;
    Ok(input)
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(ErrorCode::InvalidArgument, format!("writing stdout failed: {e}")))
}

/// Binary output to a terminal is refused (it would garble it): a usage error.
fn refuse_binary_on_tty(format: BlobFormat) -> Option<Exit> {
    if format == BlobFormat::Proto && std::io::stdout().is_terminal() {
        eprintln!(
            "refusing to write binary BlobInfo bytes to a terminal: redirect stdout to a file \
             (> value.blob) or use --format json"
        );
        return Some(Exit::Usage);
    }
    None
}

fn aad_option(aad: &Option<String>) -> Option<Vec<u8>> {
    aad.as_ref().map(|a| a.as_bytes().to_vec())
}

/// The blob in the requested form.
fn render(blob: &BlobInfo, format: BlobFormat) -> Vec<u8> {
    match format {
        BlobFormat::Proto => blob.encode_bytes(),
        BlobFormat::Json => format!("{:#}\n", blob_json::to_json(blob)).into_bytes(),
    }
}

/// `ocikms encrypt`.
pub async fn encrypt(args: &EncryptArgs) -> Exit {
    if let Some(exit) = refuse_binary_on_tty(args.format) {
        return exit;
    }
    let opts = CallOptions {
        aad: aad_option(&args.aad),
        without_envelope: args.without_envelope,
        ..CallOptions::default()
    };
    let result = async {
        let plaintext = read_stdin()?;
        let seal = open_seal(&args.seal, false).await?;
        let blob = seal.encrypt(&plaintext, &opts).await?;
        write_stdout(&render(&blob, args.format))
    };
    match result.await {
        Ok(()) => Exit::Success,
        Err(e) => failed(&e, &args.seal, false),
    }
}

/// A value read from stdin: the JSON form or Vault's stored bytes.
enum Input {
    Json(Box<BlobInfo>),
    Stored(Zeroizing<Vec<u8>>),
}

fn parse_input(bytes: Zeroizing<Vec<u8>>) -> Result<Input> {
    if bytes.is_empty() {
        return Err(Error::new(
            ErrorCode::MalformedBlob,
            "stdin is empty: pipe in a value written by `ocikms encrypt` or by Vault's OCI KMS seal",
        ));
    }
    if blob_json::looks_like_json(&bytes) {
        return blob_json::from_json(&bytes).map(|b| Input::Json(Box::new(b)));
    }
    Ok(Input::Stored(bytes))
}

/// `ocikms decrypt`.
pub async fn decrypt(args: &DecryptArgs) -> Exit {
    let json = args.output.json;
    let opts = CallOptions { aad: aad_option(&args.aad), ..CallOptions::default() };
    let result = async {
        let input = parse_input(read_stdin()?)?;
        let seal = open_seal(&args.seal, json).await?;
        let plaintext = match &input {
            Input::Json(blob) => seal.decrypt(blob, &opts).await?,
            Input::Stored(bytes) => seal.decrypt_stored(bytes, &opts).await?,
        };
        if json {
            let doc =
                serde_json::json!({ "ok": true, "plaintext": B64.encode(plaintext.as_slice()) });
            write_stdout(format!("{doc:#}\n").as_bytes())
        } else {
            write_stdout(&plaintext)
        }
    };
    match result.await {
        Ok(()) => Exit::Success,
        Err(e) => failed(&e, &args.seal, json),
    }
}

/// `ocikms rewrap`.
pub async fn rewrap(args: &RewrapArgs) -> Exit {
    let json = args.output.json;
    let result = async {
        let (blob, input_format) =
            match parse_input(read_stdin()?)? {
                Input::Json(blob) => (*blob, BlobFormat::Json),
                Input::Stored(bytes) => match StoredValue::decode(&bytes)? {
                    StoredValue::Single(blob) => (*blob, BlobFormat::Proto),
                    StoredValue::Multi(_) => return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        "rewrap takes a single-seal value (BlobInfo); a multiwrapvalue:1 value is \
                         re-wrapped by Vault itself (seal rewrap, sys/sealwrap/rewrap)",
                    )),
                },
            };
        let format = args.format.unwrap_or(input_format);
        if !json {
            if let Some(exit) = refuse_binary_on_tty(format) {
                return Ok(exit);
            }
        }
        let seal = open_seal(&args.seal, json).await?;
        let opts = CallOptions { aad: aad_option(&args.aad), ..CallOptions::default() };
        let from = blob.key_info.as_ref().map(|k| k.key_id.clone()).unwrap_or_default();
        let rewrapped = seal.rewrap(&blob, &opts).await?;
        let changed = rewrapped.is_some();
        let out = rewrapped.unwrap_or(blob);
        if json {
            let doc = serde_json::json!({
                "ok": true,
                "rewrapped": changed,
                "from_key_version": from,
                "key_version": seal.key_id(),
                "value": match format {
                    BlobFormat::Json => blob_json::to_json(&out),
                    BlobFormat::Proto => serde_json::Value::String(B64.encode(out.encode_bytes())),
                },
            });
            write_stdout(format!("{doc:#}\n").as_bytes())?;
        } else {
            if changed {
                eprintln!("rewrapped: key version {from} → {}", seal.key_id());
            } else {
                eprintln!(
                    "nothing to do: the value is already under the current key version {from}"
                );
            }
            write_stdout(&render(&out, format))?;
        }
        Ok(Exit::Success)
    };
    match result.await {
        Ok(exit) => exit,
        Err(e) => failed(&e, &args.seal, json),
    }
}

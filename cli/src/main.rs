// SPDX-License-Identifier: MPL-2.0
//! `ocikms`: check, use and troubleshoot an OCI KMS seal configuration from the command line,
//! over the same Rust core Vault's seal uses (`ocikms` crate).

mod advice;
mod args;
mod blob_json;
mod check;
mod crypt;
mod emulator;
mod hcl_seal;
mod key_info;
mod principal;
mod report;
mod settings;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what was asked (`check`: every step passed).
    Success,
    /// 1: it failed; the output says what and how to fix it.
    Failure,
    /// 2: the command line was wrong.
    Usage,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(match exit {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
        })
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let usage = e.use_stderr();
            let _ = e.print();
            return if usage { Exit::Usage.into() } else { Exit::Success.into() };
        }
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("cannot start the async runtime: {e}");
                return Exit::Failure.into();
            }
        };
    let exit = runtime.block_on(async {
        match &cli.command {
            Command::Check(a) => check::run(a).await,
            Command::Encrypt(a) => crypt::encrypt(a).await,
            Command::Decrypt(a) => crypt::decrypt(a).await,
            Command::KeyInfo(a) => key_info::run(a).await,
            Command::Rotate(a) => key_info::rotate(a).await,
            Command::Rewrap(a) => crypt::rewrap(a).await,
            Command::Emulator(a) => emulator::run(a).await,
        }
    });
    exit.into()
}

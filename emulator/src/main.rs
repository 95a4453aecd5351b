// SPDX-License-Identifier: MPL-2.0
//! `oci-kms-emulator --state-dir DIR [--listen 127.0.0.1:0] [--config FILE] [--tls]`

use std::process::ExitCode;

use clap::Parser;
use oci_kms_emulator::bootstrap;
use oci_kms_emulator::cli::Args;
use oci_kms_emulator::fsutil::write_atomic;
use oci_kms_emulator::server;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oci-kms-emulator: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oci-kms-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let prepared = bootstrap::prepare(&args)?;
    let app = prepared.app.clone();
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls = match (&app.identity.tls, args.tls) {
        (Some(m), true) => Some(server::tls_acceptor(&m.chain, &m.key_pkcs8)?),
        _ => None,
    };
    let workload = match args.workload_listen {
        Some(a) => {
            let l = TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen on {a} (workload identity): {e}"))?;
            let m = app
                .identity
                .tls
                .as_ref()
                .ok_or("TLS material missing for the workload listener")?;
            let local = l.local_addr().map_err(|e| e.to_string())?;
            Some((l, server::tls_acceptor(&m.chain, &m.key_pkcs8)?, local))
        }
        None => None,
    };
    let doc = bootstrap::endpoints(&prepared, &args, addr, workload.as_ref().map(|w| w.2));
    let line = doc.to_string();
    write_atomic(&args.state_dir.join("endpoints.json"), format!("{line}\n").as_bytes(), 0o644)?;
    let _ = app.endpoints.set(doc);

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut tasks = Vec::new();
    if let Some((l, acceptor, _)) = workload {
        tasks.push(tokio::spawn(server::serve(
            app.clone(),
            l,
            Some(acceptor),
            stopped(stop_rx.clone()),
        )));
    }
    tasks.push(tokio::spawn(server::serve(app.clone(), listener, tls, stopped(stop_rx.clone()))));
    // Handlers first: a client may send SIGTERM as soon as it has read the line.
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    println!("{line}");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    eprintln!("oci-kms-emulator: shut down");
    Ok(())
}

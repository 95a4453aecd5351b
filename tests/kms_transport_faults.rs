// SPDX-License-Identifier: MPL-2.0
//! The transport's connection handling under the emulator's connection faults (issue #14 §2),
//! through the Rust API: a pooled connection that went silent is abandoned after
//! `attempt_timeout` and the call retried on a fresh one; pooled connections the server closed
//! are pruned instead of piling up in CLOSE_WAIT; a late unsolicited answer left on a pooled
//! connection is never read as the answer to the next request.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Emulator;
use ocikms::{CallOptions, Seal};
use serde_json::{json, Value};

/// A seal on `emu` with these config keys added to the default ones.
async fn seal_with(emu: &Emulator, extra: &[(&str, &str)]) -> Seal {
    let mut map = emu.config_map();
    for (k, v) in extra {
        map.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    emu.seal_for(Emulator::config_from(&map)).await.expect("seal init")
}

/// The emulator's port (every endpoint shares one listener).
fn emulator_port(emu: &Emulator) -> u16 {
    let url = emu.field("crypto_endpoint");
    url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("crypto_endpoint has a port")
}

/// TCP state codes of /proc/net/tcp.
const ESTABLISHED: &str = "01";
const CLOSE_WAIT: &str = "08";

/// How many sockets this process holds to remote `port` in TCP `state` (/proc/self/net/tcp and
/// tcp6, restricted to the socket inodes among /proc/self/fd).
fn held_sockets(port: u16, state: &str) -> usize {
    let inodes: HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(target.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let remote_port =
        |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    let mut count = 0;
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        count += text
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|f| {
                f.len() > 9
                    && remote_port(f[2]) == Some(port)
                    && f[3] == state
                    && inodes.contains(f[9])
            })
            .count();
    }
    count
}

/// "ok" or the error's message, for assertion messages.
fn outcome<T>(result: &ocikms::Result<T>) -> String {
    match result {
        Ok(_) => "succeeded".to_owned(),
        Err(e) => format!("failed ({:?}: {e})", e.code()),
    }
}

#[tokio::test]
async fn a_silent_pooled_connection_is_abandoned_after_attempt_timeout() {
    let emu = Emulator::start();
    let seal = seal_with(&emu, &[("attempt_timeout", "500ms"), ("request_timeout", "20s")]).await;
    // The first encrypt is answered and leaves its connection pooled; the next request (on
    // that connection) is read and never answered, as over a half-open connection.
    emu.set_faults(json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "none"}, {"kind": "blackhole"}]}]}))
        .await;
    emu.reset_counters().await;
    seal.encrypt(b"first", &CallOptions::default()).await.expect("first encrypt");
    let started = Instant::now();
    let second = seal.encrypt(b"second", &CallOptions::default()).await;
    let took = started.elapsed();
    assert!(
        second.is_ok() && took < Duration::from_secs(5),
        "the second encrypt {} after {took:.1?} (attempt_timeout 500ms, request_timeout 20s): \
         the silent pooled connection was not abandoned after attempt_timeout",
        outcome(&second)
    );
    assert_eq!(emu.count("encrypt", "blackhole").await, 1, "the blackhole was hit");
    assert_eq!(emu.count("encrypt", "200").await, 2, "the retry went to a fresh connection");
}

#[tokio::test]
async fn pooled_connections_the_server_closed_are_pruned_not_left_in_close_wait() {
    let emu = Emulator::start();
    let seal = Arc::new(seal_with(&emu, &[("attempt_timeout", "500ms")]).await);
    let port = emulator_port(&emu);
    // Eight concurrent encrypts, each held 300 ms, so the pool ends up with several connections;
    // the emulator closes every connection idle for 300 ms.
    let held = json!({"kind": "delay", "ms": 300});
    emu.set_faults(json!({"close_idle_ms": 300,
        "rules": [{"route": "encrypt", "sequence": vec![held; 8]}]}))
        .await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8u8 {
        let seal = Arc::clone(&seal);
        calls.spawn(async move { seal.encrypt(&[i], &CallOptions::default()).await });
    }
    while let Some(done) = calls.join_next().await {
        done.expect("encrypt task").expect("concurrent encrypt");
    }
    let open = held_sockets(port, ESTABLISHED);
    assert!(open >= 4, "only {open} connections to the emulator after 8 concurrent calls");

    // Every pooled connection is closed by the emulator; new ones are kept from now on.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    emu.set_faults(json!({})).await;
    let after = seal.encrypt(b"after the idle close", &CallOptions::default()).await;
    assert!(after.is_ok(), "the encrypt after the idle close {}", outcome(&after));
    let dead = held_sockets(port, CLOSE_WAIT);
    assert_eq!(
        dead, 0,
        "after a call, this process still holds {dead} connections to the emulator in CLOSE_WAIT \
         (of the {open} pooled ones the emulator closed): dead idle connections were not pruned"
    );
}

#[tokio::test]
async fn a_late_answer_on_a_pooled_connection_is_not_read_as_the_next_answer() {
    let emu = Emulator::start();
    // One attempt per call: reading the stale 408 cannot be hidden by a retry.
    let seal = seal_with(
        &emu,
        &[("attempt_timeout", "500ms"), ("request_timeout", "20s"), ("max_retries", "0")],
    )
    .await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "late_answer", "ms": 100}]}]}))
        .await;
    emu.reset_counters().await;
    seal.encrypt(b"first", &CallOptions::default()).await.expect("first encrypt");
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.count("encrypt", "late_answer").await == 0 {
        assert!(Instant::now() < deadline, "the emulator never sent the late 408");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = seal.encrypt(b"second", &CallOptions::default()).await;
    assert!(
        second.is_ok(),
        "the encrypt after the late 408 {}: the stale 408 left on the pooled connection was \
         read as its answer",
        outcome(&second)
    );
    assert_eq!(emu.count("encrypt", "200").await, 2);
}

// SPDX-License-Identifier: MPL-2.0
//! Retries, deadlines and cancellation, observed through the emulator's fault injection and
//! request counters.

mod common;

use std::time::{Duration, Instant};

use common::Emulator;
use ocikms::{CallOptions, ErrorCode};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.reset_counters().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "status", "status": 503},
        {"kind": "status", "status": 429, "retry_after": 1},
        {"kind": "reset"},
        {"kind": "status", "status": 500}
    ]}]}))
    .await;
    let started = Instant::now();
    let blob =
        seal.encrypt(b"retry me", &CallOptions::default()).await.expect("retried to success");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(emu.count("encrypt", "503").await, 1);
    assert_eq!(emu.count("encrypt", "429").await, 1);
    assert_eq!(emu.count("encrypt", "reset").await, 1);
    assert_eq!(emu.count("encrypt", "500").await, 1);
    assert_eq!(emu.count("encrypt", "200").await, 1);
    assert_eq!(&*seal.decrypt(&blob, &CallOptions::default()).await.unwrap(), b"retry me");
}

#[tokio::test]
async fn attempts_are_bounded_and_the_last_error_is_reported() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let attempts = seal.config().max_attempts;
    emu.reset_counters().await;
    emu.set_faults(json!({"rules": [{"route": "decrypt", "probability": 1.0,
        "fault": {"kind": "status", "status": 503}}]}))
        .await;
    let blob = ocikms::blob::BlobInfo {
        ciphertext: b"Y2lwaGVydGV4dA==".to_vec(),
        key_info: Some(ocikms::blob::KeyInfo { mechanism: 1, ..Default::default() }),
        ..Default::default()
    };
    let err = seal.decrypt(&blob, &CallOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceUnavailable, "{err}");
    assert!(err.is_retryable());
    assert!(err.message().contains(&format!("gave up after {attempts} attempts")), "{err}");
    assert_eq!(err.service().unwrap().status, 503);
    assert_eq!(emu.count("decrypt", "503").await, u64::from(attempts));
}

#[tokio::test]
async fn not_implemented_and_client_errors_are_not_retried() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.reset_counters().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "status", "status": 501}
    ]}]}))
    .await;
    let err = seal.encrypt(b"x", &CallOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
    assert!(!err.is_retryable());
    assert_eq!(emu.total("encrypt").await, 1);
}

#[tokio::test]
async fn deadline_bounds_the_whole_call() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "probability": 1.0,
        "fault": {"kind": "delay", "ms": 3000}}]}))
        .await;
    let opts = CallOptions { timeout: Some(Duration::from_millis(300)), ..CallOptions::default() };
    let started = Instant::now();
    let err = seal.encrypt(b"x", &opts).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.message().contains("request_timeout"));
}

#[tokio::test]
async fn cancellation_stops_retries() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "probability": 1.0,
        "fault": {"kind": "status", "status": 429, "retry_after": 5}}]}))
        .await;
    let cancel = CancellationToken::new();
    let opts = CallOptions { cancel: Some(cancel.clone()), ..CallOptions::default() };
    let trigger = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let err = seal.encrypt(b"x", &opts).await.unwrap_err();
    trigger.await.unwrap();
    assert_eq!(err.code(), ErrorCode::Cancelled, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.message().contains("429") || err.message().contains("TooManyRequests"), "{err}");
}

#[tokio::test]
async fn throttling_reports_throttled_after_the_deadline_forbids_waiting() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "probability": 1.0,
        "fault": {"kind": "status", "status": 429, "retry_after": 60}}]}))
        .await;
    let opts = CallOptions { timeout: Some(Duration::from_secs(2)), ..CallOptions::default() };
    let err = seal.encrypt(b"x", &opts).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Throttled, "{err}");
    assert!(err.message().contains("no time left"), "{err}");
    assert_eq!(emu.total("encrypt").await, 2, "init + one throttled attempt");
}

/// A `Retry-After` too large to add to a clock (the emulator sends 9999999999999999999 seconds)
/// ends the call at once with the server's 429, as any wait beyond the deadline does: it used to
/// overflow `Instant + Duration`, a panic.
#[tokio::test]
async fn a_huge_retry_after_ends_the_call_with_the_429_instead_of_panicking() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    emu.set_faults(json!({"rules": [{"route": "encrypt", "probability": 1.0,
        "fault": {"kind": "status", "status": 429, "retry_after": 9_999_999_999_999_999_999u64}}]}))
        .await;
    let started = Instant::now();
    let err = seal.encrypt(b"x", &CallOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Throttled, "{err}");
    assert!(err.message().contains("no time left"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// A call timeout too large to add to a clock (`Duration::MAX`) is shortened instead of
/// overflowing the deadline: the call simply succeeds.
#[tokio::test]
async fn a_huge_call_timeout_does_not_overflow_the_deadline() {
    let emu = Emulator::start();
    let seal = emu.seal().await;
    let opts = CallOptions { timeout: Some(Duration::MAX), ..CallOptions::default() };
    let blob = seal.encrypt(b"forever", &opts).await.expect("encrypt with Duration::MAX");
    assert_eq!(&*seal.decrypt(&blob, &opts).await.unwrap(), b"forever");
}

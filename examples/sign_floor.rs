// SPDX-License-Identifier: MPL-2.0
//! Benchmark floor: the CPU cost of one RSA-2048 PKCS#1 v1.5 SHA-256 signature through the
//! library's own signer (aws-lc), the one unavoidable client cost per OCI request.
//!
//! `cargo run --release -p ocikms --example sign_floor -- <PEM key file> [iterations]` prints
//! `{"rsa2048_sign_us": <best batch mean>, "iterations": n, "signer": "aws-lc-rs ..."}`, where the
//! time is the signing thread's CPU time (Linux `/proc/thread-self/schedstat`), which other
//! processes on the machine do not inflate. Used by `scripts/bench.sh` (see BENCHMARKS.md).

use std::path::PathBuf;

use ocikms::signing::RsaSha256Signer;

/// Batches timed; the best batch mean is reported (least disturbed by other processes).
const BATCHES: u32 = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let key_path =
        PathBuf::from(args.next().ok_or("usage: sign_floor <PEM key file> [iterations]")?);
    let iterations: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(400);
    let key = ocikms::auth::pem::load_key_file(&key_path, None)?;
    if key.public_modulus_len() != 256 {
        return Err(format!("{} is not an RSA-2048 key", key_path.display()).into());
    }
    // A signing string of the size the library signs for an encrypt request.
    let message = "date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): post /20180608/encrypt\n\
                   host: 127.0.0.1:7000\ncontent-length: 120\ncontent-type: application/json\n\
                   x-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    key.sign_rsa_sha256(message.as_bytes())?; // warm-up
    let per_batch = iterations.div_ceil(BATCHES).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..BATCHES {
        let start = thread_cpu_ns()?;
        for _ in 0..per_batch {
            key.sign_rsa_sha256(message.as_bytes())?;
        }
        let spent_us = (thread_cpu_ns()? - start) as f64 / 1e3;
        best = best.min(spent_us / f64::from(per_batch));
    }
    println!(
        "{{\"rsa2048_sign_us\": {best:.2}, \"iterations\": {}, \"signer\": \"aws-lc-rs (ocikms::signing)\"}}",
        per_batch * BATCHES
    );
    Ok(())
}

/// This thread's time on CPU so far, in nanoseconds (first field of its schedstat). The kernel
/// brings that figure up to date when the thread is descheduled, so yield first to make it exact.
fn thread_cpu_ns() -> Result<u64, Box<dyn std::error::Error>> {
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let first = text.split_whitespace().next().ok_or("/proc/thread-self/schedstat is empty")?;
    Ok(first.parse()?)
}

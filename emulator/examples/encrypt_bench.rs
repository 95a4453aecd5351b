// SPDX-License-Identifier: MPL-2.0
//! Measures the emulator's encrypt throughput: N keep-alive connections each send the same
//! signed `POST /20180608/encrypt` back to back (the request is signed once: the server still
//! verifies the signature, parses, authorizes and encrypts every time, while the client stays
//! cheap enough not to be the bottleneck).
//!
//! Usage: `cargo run --release -p oci-kms-emulator --example encrypt_bench -- DIR [CONCURRENCY] [SECONDS]`
//! where DIR is the `--state-dir` of a running emulator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use oci_kms_emulator::rsakeys::RsaKey;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn signed_request(dir: &str) -> Result<(String, Vec<u8>), String> {
    let ep: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/endpoints.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let s = |k: &str| ep[k].as_str().unwrap_or_default().to_string();
    let addr = s("crypto_endpoint").trim_start_matches("http://").to_string();
    let key = RsaKey::from_pem(
        &std::fs::read_to_string(format!("{dir}/oci/api_key.pem")).map_err(|e| e.to_string())?,
    )?;
    let body = serde_json::json!({"keyId": s("key_id"), "plaintext": STANDARD.encode([7u8; 32])})
        .to_string();
    let date = httpdate::fmt_http_date(SystemTime::now());
    let sha = STANDARD.encode(digest::digest(&digest::SHA256, body.as_bytes()).as_ref());
    let signing = format!(
        "date: {date}\n(request-target): post /20180608/encrypt\nhost: {addr}\ncontent-length: {}\ncontent-type: application/json\nx-content-sha256: {sha}",
        body.len()
    );
    let sig = STANDARD.encode(key.sign_sha256(signing.as_bytes())?);
    let key_id = format!("{}/{}/{}", s("tenancy"), s("user"), s("fingerprint"));
    let req = format!(
        "POST /20180608/encrypt HTTP/1.1\r\nhost: {addr}\r\ndate: {date}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-content-sha256: {sha}\r\nauthorization: Signature version=\"1\",headers=\"date (request-target) host content-length content-type x-content-sha256\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",signature=\"{sig}\"\r\n\r\n{body}",
        body.len()
    );
    Ok((addr, req.into_bytes()))
}

/// Reads one response; returns its status.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let status = head.split(' ').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.drain(..end + 4 + len);
                return Ok(status);
            }
        }
        let mut chunk = [0u8; 8192];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: encrypt_bench DIR [CONCURRENCY] [SECONDS]")?;
    let conc: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(32);
    let secs: u64 = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(10);
    let (addr, req) = signed_request(dir)?;
    let req = Arc::new(req);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (addr, req, ok, failed) = (addr.clone(), req.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            while Instant::now() < deadline {
                s.write_all(&req).await.map_err(|e| e.to_string())?;
                match read_response(&mut s, &mut buf).await.map_err(|e| e.to_string())? {
                    200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
            Ok::<(), String>(())
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    println!(
        "{{\"concurrency\":{conc},\"seconds\":{elapsed:.2},\"ok\":{n},\"failed\":{},\"encrypt_per_sec\":{:.0}}}",
        failed.load(Ordering::Relaxed),
        n as f64 / elapsed
    );
    Ok(())
}

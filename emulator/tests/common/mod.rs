// SPDX-License-Identifier: MPL-2.0
//! Test harness: runs the emulator binary on a state dir and talks to it with a minimal
//! HTTP/1.1 client that signs requests the OCI way.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use oci_kms_emulator::rsakeys::RsaKey;
use serde_json::Value;

/// A running emulator.
pub struct Emu {
    child: Child,
    /// The endpoints document it printed.
    pub ep: Value,
    /// Its state dir.
    pub dir: PathBuf,
}

impl Emu {
    /// Starts the emulator on `dir` with extra arguments and waits for its endpoints line.
    pub fn start(dir: &Path, args: &[&str]) -> Emu {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oci-kms-emulator"))
            .arg("--state-dir")
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("endpoints line");
        let ep: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("bad endpoints line {line:?}: {e}"));
        Emu { child, ep, dir: dir.to_path_buf() }
    }

    /// A string field of endpoints.json.
    pub fn field(&self, name: &str) -> String {
        self.ep[name].as_str().unwrap_or_else(|| panic!("endpoints.json has no {name}")).to_string()
    }

    /// host:port of the main listener.
    pub fn addr(&self) -> String {
        self.field("crypto_endpoint").trim_start_matches("http://").to_string()
    }

    /// The ready user's API-key signer.
    pub fn user_signer(&self) -> Signer {
        let pem = std::fs::read_to_string(self.dir.join("oci/api_key.pem")).unwrap();
        Signer {
            key_id: format!(
                "{}/{}/{}",
                self.field("tenancy"),
                self.field("user"),
                self.field("fingerprint")
            ),
            key: RsaKey::from_pem(&pem).unwrap(),
        }
    }

    /// Stops it with SIGTERM and checks it exits successfully.
    pub fn stop(mut self) {
        let status =
            Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "emulator exit status {exit}");
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs requests with a key id and RSA key.
pub struct Signer {
    /// keyId parameter.
    pub key_id: String,
    /// Private key.
    pub key: RsaKey,
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Lower-case header names and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Resp {
    /// JSON body.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends one request (Connection: close). Signs it when `signer` is given. Errors are I/O
/// failures (resets, truncation).
pub fn call(
    addr: &str,
    method: &str,
    target: &str,
    body: Option<&Value>,
    signer: Option<&Signer>,
) -> std::io::Result<Resp> {
    let (headers, body_bytes) = request_headers(addr, method, target, body, signer);
    raw(addr, method, target, &headers, &body_bytes)
}

/// The headers (signed when `signer` is given) and body bytes of a request to `addr`.
pub fn request_headers(
    addr: &str,
    method: &str,
    target: &str,
    body: Option<&Value>,
    signer: Option<&Signer>,
) -> (Vec<(String, String)>, Vec<u8>) {
    let body_bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let date = httpdate::fmt_http_date(SystemTime::now());
    let mut headers: Vec<(String, String)> =
        vec![("date".into(), date), ("host".into(), addr.to_string())];
    let has_body = matches!(method, "POST" | "PUT");
    if has_body {
        let sha = STANDARD.encode(digest::digest(&digest::SHA256, &body_bytes).as_ref());
        headers.push(("content-length".into(), body_bytes.len().to_string()));
        headers.push(("content-type".into(), "application/json".into()));
        headers.push(("x-content-sha256".into(), sha));
    }
    if let Some(s) = signer {
        let mut names = vec!["date", "(request-target)", "host"];
        if has_body {
            names.extend(["content-length", "content-type", "x-content-sha256"]);
        }
        let signing: Vec<String> = names
            .iter()
            .map(|n| match *n {
                "(request-target)" => {
                    format!("(request-target): {} {target}", method.to_lowercase())
                }
                n => format!("{n}: {}", headers.iter().find(|(k, _)| k == n).unwrap().1),
            })
            .collect();
        let sig = STANDARD.encode(s.key.sign_sha256(signing.join("\n").as_bytes()).unwrap());
        headers.push((
            "authorization".into(),
            format!(
                "Signature version=\"1\",headers=\"{}\",keyId=\"{}\",algorithm=\"rsa-sha256\",signature=\"{sig}\"",
                names.join(" "),
                s.key_id
            ),
        ));
    }
    (headers, body_bytes)
}

/// Sends a request with exactly these headers (plus Connection: close).
pub fn raw(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k == "content-length") && !body.is_empty() {
        req.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    req.push_str("connection: close\r\n\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse(&buf)
}

/// Parses one complete response (status line, headers, `content-length` body).
pub fn parse(buf: &[u8]) -> std::io::Result<Resp> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, m.to_string());
    let split =
        buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let body = buf[split + 4..].to_vec();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(body.len());
    if body.len() < len {
        return Err(bad("truncated body"));
    }
    Ok(Resp { status, headers, body })
}

/// Admin call helper.
pub fn admin(emu: &Emu, method: &str, path: &str, body: Option<&Value>) -> Value {
    let target = format!("/_emulator{path}");
    let r = call(&emu.addr(), method, &target, body, None).expect("admin call");
    assert_eq!(r.status, 200, "admin {method} {path}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Encrypts `plaintext` with the ready key as `signer`.
pub fn encrypt(emu: &Emu, signer: &Signer, plaintext: &[u8]) -> std::io::Result<Resp> {
    let body =
        serde_json::json!({"keyId": emu.field("key_id"), "plaintext": STANDARD.encode(plaintext)});
    call(&emu.addr(), "POST", "/20180608/encrypt", Some(&body), Some(signer))
}

/// Decrypts `ciphertext` with the ready key as `signer`.
pub fn decrypt(emu: &Emu, signer: &Signer, ciphertext: &str) -> std::io::Result<Resp> {
    let body = serde_json::json!({"keyId": emu.field("key_id"), "ciphertext": ciphertext});
    call(&emu.addr(), "POST", "/20180608/decrypt", Some(&body), Some(signer))
}

// SPDX-License-Identifier: MPL-2.0
//! The connection-level faults, observed on kept-alive connections: `blackhole` (a request never
//! answered), the plan's `close_idle_ms` (idle connections closed without a word) and
//! `late_answer` (an unsolicited 408 on the idle connection after a normal answer).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{admin, request_headers, Emu, Resp};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::json;

/// One kept-alive client connection (plain or TLS) speaking HTTP/1.1 request by request.
struct KeepAlive<S> {
    stream: S,
    received: Vec<u8>,
}

impl<S: Read + Write> KeepAlive<S> {
    /// Sends an encrypt request signed by the ready user, without `Connection: close`.
    fn send_encrypt(&mut self, emu: &Emu) {
        let body = json!({"keyId": emu.field("key_id"), "plaintext": STANDARD.encode(b"x")});
        let target = "/20180608/encrypt";
        let (headers, body) =
            request_headers(&emu.addr(), "POST", target, Some(&body), Some(&emu.user_signer()));
        let mut request = format!("POST {target} HTTP/1.1\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        self.stream.write_all(request.as_bytes()).expect("write the request");
        self.stream.write_all(&body).expect("write the body");
        self.stream.flush().expect("flush");
    }

    /// The next complete response; `Ok(None)` when the server closed the connection between
    /// responses; a `WouldBlock`/`TimedOut` error when nothing came within the read timeout.
    fn next_response(&mut self) -> std::io::Result<Option<Resp>> {
        loop {
            if let Some(len) = complete_response_len(&self.received) {
                let rest = self.received.split_off(len);
                let resp = common::parse(&std::mem::replace(&mut self.received, rest))?;
                return Ok(Some(resp));
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk)? {
                0 if self.received.is_empty() => return Ok(None),
                0 => return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "half a response")),
                n => self.received.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// The length of the first complete response in `buf`, if it holds one.
fn complete_response_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let body_len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + body_len).then_some(head_end + body_len)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// A plain TCP connection to the emulator, reads timing out after `timeout`.
fn tcp(emu: &Emu, timeout: Duration) -> TcpStream {
    let addr = emu.field("crypto_endpoint");
    let addr = addr.trim_start_matches("http://").trim_start_matches("https://");
    let socket = TcpStream::connect(addr).expect("connect to the emulator");
    socket.set_read_timeout(Some(timeout)).unwrap();
    socket
}

fn plain(emu: &Emu, timeout: Duration) -> KeepAlive<TcpStream> {
    KeepAlive { stream: tcp(emu, timeout), received: Vec::new() }
}

/// A TLS connection to an emulator started with `--tls`, trusting its CA.
fn tls(emu: &Emu, timeout: Duration) -> KeepAlive<StreamOwned<ClientConnection, TcpStream>> {
    let ca = std::fs::read_to_string(emu.field("ca_cert")).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(oci_kms_emulator::pem::decode(&ca).unwrap().1)).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let session = ClientConnection::new(Arc::new(config), name).unwrap();
    KeepAlive { stream: StreamOwned::new(session, tcp(emu, timeout)), received: Vec::new() }
}

/// The port of a `host:port` endpoint URL.
fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("endpoint port")
}

/// Sockets on this host from `local_port` to `remote_port` in CLOSE_WAIT (the peer closed, this
/// side has not), from /proc/net/tcp and tcp6.
fn close_wait_sockets(local_port: u16, remote_port: u16) -> usize {
    let port = |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    let mut count = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        count += text
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|f| {
                f.len() > 3
                    && port(f[1]) == Some(local_port)
                    && port(f[2]) == Some(remote_port)
                    && f[3] == "08"
            })
            .count();
    }
    count
}

/// An emulator whose next encrypt request is blackholed (read, never answered).
fn emulator_blackholing_the_next_encrypt(dir: &std::path::Path) -> Emu {
    let emu = Emu::start(dir, &[]);
    let plan = json!({"rules": [{"route": "encrypt", "sequence": [{"kind": "blackhole"}]}]});
    admin(&emu, "PUT", "/faults", Some(&plan));
    emu
}

#[test]
fn a_blackholed_request_is_never_answered_and_released_when_the_client_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator_blackholing_the_next_encrypt(dir.path());
    let mut client = plain(&emu, Duration::from_millis(1_500));
    client.send_encrypt(&emu);
    match client.next_response() {
        Err(e) if is_timeout(&e) => {}
        other => panic!("a blackholed request got {other:?} instead of silence"),
    }
    assert_eq!(admin(&emu, "GET", "/counters", None)["routes"]["encrypt"]["blackhole"], 1);

    let server_port = port_of(&emu.field("crypto_endpoint"));
    let client_port = client.stream.local_addr().unwrap().port();
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    while close_wait_sockets(server_port, client_port) > 0 {
        assert!(
            Instant::now() < deadline,
            "10 s after the client closed, the emulator still holds the blackholed connection \
             (CLOSE_WAIT)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next request on a new connection is answered (the sequence is spent).
    let mut client = plain(&emu, Duration::from_secs(30));
    client.send_encrypt(&emu);
    assert_eq!(client.next_response().unwrap().expect("an answer").status, 200);
    emu.stop();
}

#[test]
fn stopping_the_emulator_ends_a_blackholed_request() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator_blackholing_the_next_encrypt(dir.path());
    let mut client = plain(&emu, Duration::from_secs(30));
    client.send_encrypt(&emu);
    // Wait until the emulator holds the request.
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin(&emu, "GET", "/counters", None)["routes"]["encrypt"]["blackhole"] != 1 {
        assert!(Instant::now() < deadline, "the request was never blackholed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    emu.stop();
    let took = started.elapsed();
    // The graceful shutdown waits 5 s at most for requests in progress: a blackholed one must
    // not be among them.
    assert!(took < Duration::from_secs(4), "the emulator took {took:?} to stop");
    assert!(matches!(client.next_response(), Ok(None)), "the client sees the connection close");
}

/// The late-answer plan: the first encrypt gets a 408 200 ms after its answer.
fn late_answer_plan() -> serde_json::Value {
    json!({"rules": [{"route": "encrypt", "sequence": [{"kind": "late_answer", "ms": 200}]}]})
}

/// Sends an encrypt on `client` (plain or TLS) under [`late_answer_plan`]: a normal kept-alive
/// answer, then the unsolicited 408, then the connection closes.
fn answer_then_late_408<S: Read + Write>(emu: &Emu, client: &mut KeepAlive<S>) {
    client.send_encrypt(emu);
    let answer = client.next_response().unwrap().expect("the normal answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("connection"), None, "the normal answer keeps the connection alive");

    let late = client.next_response().unwrap().expect("the late answer");
    assert_eq!(late.status, 408, "{}", String::from_utf8_lossy(&late.body));
    assert_eq!(late.header("connection"), Some("close"));
    assert_eq!(late.json()["code"], "RequestTimeout");
    assert!(matches!(client.next_response(), Ok(None)), "the connection closes after it");
}

#[test]
fn a_late_answer_arrives_on_the_idle_connection_then_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    admin(&emu, "PUT", "/faults", Some(&late_answer_plan()));
    answer_then_late_408(&emu, &mut plain(&emu, Duration::from_secs(30)));
    let counts = &admin(&emu, "GET", "/counters", None)["routes"]["encrypt"];
    assert_eq!((counts["200"].as_u64(), counts["late_answer"].as_u64()), (Some(1), Some(1)));
    emu.stop();
}

#[test]
fn a_late_answer_over_tls_is_a_well_formed_tls_record() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("faults.json");
    std::fs::write(&plan, late_answer_plan().to_string()).unwrap();
    let emu = Emu::start(&dir.path().join("s"), &["--tls", "--faults", plan.to_str().unwrap()]);
    answer_then_late_408(&emu, &mut tls(&emu, Duration::from_secs(30)));
    emu.stop();
}

#[test]
fn a_new_request_before_the_late_answer_is_due_cancels_it() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    admin(
        &emu,
        "PUT",
        "/faults",
        Some(&json!({"rules": [{"route": "encrypt", "sequence": [
        {"kind": "late_answer", "ms": 1000}]}]})),
    );
    let mut client = plain(&emu, Duration::from_secs(2));
    client.send_encrypt(&emu);
    assert_eq!(client.next_response().unwrap().expect("first answer").status, 200);
    client.send_encrypt(&emu);
    assert_eq!(client.next_response().unwrap().expect("second answer").status, 200);
    match client.next_response() {
        Err(e) if is_timeout(&e) => {}
        other => panic!("after a second request, the connection got {other:?} instead of silence"),
    }
    let counts = &admin(&emu, "GET", "/counters", None)["routes"]["encrypt"];
    assert_eq!((counts["200"].as_u64(), counts["late_answer"].as_u64()), (Some(2), None));
    emu.stop();
}

#[test]
fn idle_connections_are_closed_without_a_word_and_busy_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emu::start(dir.path(), &[]);
    // Opened before the plan: a plan change applies to connections already open.
    let mut client = plain(&emu, Duration::from_secs(10));
    admin(
        &emu,
        "PUT",
        "/faults",
        Some(&json!({"close_idle_ms": 300,
        "rules": [{"route": "encrypt", "sequence": [{"kind": "delay", "ms": 800}]}]})),
    );
    client.send_encrypt(&emu);
    let answer =
        client.next_response().unwrap().expect("a request held longer than the idle limit");
    assert_eq!(answer.status, 200);
    let answered = Instant::now();
    match client.next_response() {
        Ok(None) => {}
        other => panic!("an idle connection got {other:?} instead of being closed"),
    }
    let idle = answered.elapsed();
    assert!(idle >= Duration::from_millis(250), "closed after {idle:?} idle, limit 300 ms");

    admin(&emu, "DELETE", "/faults", None);
    let mut client = plain(&emu, Duration::from_secs(1));
    client.send_encrypt(&emu);
    assert_eq!(client.next_response().unwrap().expect("an answer").status, 200);
    match client.next_response() {
        Err(e) if is_timeout(&e) => {}
        other => panic!("without close_idle_ms the idle connection got {other:?}"),
    }
    emu.stop();
}

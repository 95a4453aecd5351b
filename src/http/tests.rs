// SPDX-License-Identifier: MPL-2.0
//! The transport against scripted servers: a `std::net::TcpListener` on 127.0.0.1 whose every
//! connection runs a script (on its own thread) that reads requests and writes raw bytes, so
//! that framing, pooling, interruption and proxy handling are checked byte for byte.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hyper_util::client::proxy::matcher::Matcher;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::tls::tls_config;
use super::wire::MAX_BODY;
use super::{HttpClient, HttpRequest, HttpResponse, Interrupt, Origin, Stage, TransportError};
use crate::error::ErrorCode;

/// How long a script waits for the client before giving up (keeps a broken test from hanging).
const PEER_TIMEOUT: Duration = Duration::from_secs(5);

/// A scripted server; it stops accepting when dropped.
struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    /// Every request received (head and body, as text), in order.
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Accepts connections, running `script(connection index, peer)` for each on its own thread;
    /// the connection closes when the script returns.
    fn start(script: impl Fn(usize, &mut Peer) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (count, log, stopped) =
            (Arc::clone(&accepts), Arc::clone(&requests), Arc::clone(&stop));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let index = count.fetch_add(1, Ordering::SeqCst);
                let (script, requests) = (Arc::clone(&script), Arc::clone(&log));
                thread::spawn(move || {
                    stream.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
                    stream.set_nodelay(true).unwrap();
                    script(index, &mut Peer { stream, buf: Vec::new(), requests });
                });
            }
        });
        Server { addr, accepts, requests, stop }
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:<port>/`.
    fn url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

/// The server's side of one connection.
struct Peer {
    stream: TcpStream,
    /// Bytes received and not yet consumed as a request.
    buf: Vec<u8>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Peer {
    /// Reads one request (head, and the body its `Content-Length` announces) and records it;
    /// `None` once the client closed the connection (or went quiet for [`PEER_TIMEOUT`]).
    fn request(&mut self) -> Option<String> {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let body_len = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while self.buf.len() < head_end + body_len {
            self.fill()?;
        }
        let request: Vec<u8> = self.buf.drain(..head_end + body_len).collect();
        let request = String::from_utf8_lossy(&request).into_owned();
        self.requests.lock().unwrap().push(request.clone());
        Some(request)
    }

    fn fill(&mut self) -> Option<()> {
        let mut chunk = [0; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }

    /// Writes `parts` one at a time, pausing between them (so the client reads them
    /// separately).
    fn send(&mut self, parts: &[&[u8]]) {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                thread::sleep(Duration::from_millis(20));
            }
            if self.stream.write_all(part).is_err() {
                return;
            }
        }
    }

    /// Waits until the client closes the connection (or [`PEER_TIMEOUT`]).
    fn hold(&mut self) {
        while self.fill().is_some() {}
    }
}

/// A response with `body` framed by `Content-Length`.
fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// A client with no proxy (whatever the environment says), or with the rules of `proxies`.
fn client_with(proxies: Matcher) -> HttpClient {
    HttpClient::with_proxies(tls_config(None).unwrap(), proxies)
}

fn client() -> HttpClient {
    client_with(Matcher::builder().build())
}

fn origin(client: &HttpClient, url: &Url) -> Arc<Origin> {
    client.origin(url).unwrap()
}

/// How many idle connections `origin` keeps for reuse.
fn pooled(origin: &Origin) -> usize {
    origin.idle_count()
}

fn get(origin: &Origin, path: &str) -> HttpRequest {
    origin.request("GET", path, vec![("host", origin.host_header())], b"").unwrap()
}

/// An interrupt `timeout` from now that is never cancelled.
fn within(timeout: Duration) -> Interrupt {
    Interrupt::new(Instant::now() + timeout, CancellationToken::new())
}

/// Sends `GET path`, giving the exchange 5 s.
fn send_get(
    client: &HttpClient,
    origin: &Origin,
    path: &str,
) -> Result<HttpResponse, TransportError> {
    client.send(origin, &get(origin, path), &within(Duration::from_secs(5)))
}

/// The stage and error of a failed exchange (panics on any other outcome).
fn failure(result: Result<HttpResponse, TransportError>) -> (Stage, io::Error) {
    match result {
        Err(TransportError::Failed { stage, source }) => (stage, source),
        Err(other) => panic!("expected a failure, got {other:?}"),
        Ok(resp) => panic!("expected a failure, got HTTP {}", resp.status),
    }
}

#[test]
fn content_length_body_arrives_in_small_pieces() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"ngth: 26\r\nX-Pi",
            b"eces: 6\r\n",
            b"\r\nabcdefghij",
            b"klmnopqrstu",
            b"vwxyz",
        ]);
        peer.hold();
    });
    let client = client();
    let origin = origin(&client, &server.url());
    let req = origin
        .request(
            "POST",
            "/encrypt",
            vec![("host", origin.host_header()), ("content-length", "5")],
            b"hello",
        )
        .unwrap();
    let resp = client.send(&origin, &req, &within(Duration::from_secs(5))).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-pieces"), Some("6"));
    assert_eq!(&resp.body[..], b"abcdefghijklmnopqrstuvwxyz");
    let sent = &server.requests()[0];
    assert!(sent.starts_with("POST /encrypt HTTP/1.1\r\n"), "{sent}");
    assert!(sent.ends_with("\r\n\r\nhello"), "{sent}");
}

#[test]
fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n1;name=value\r\n,\r\n",
            b"7\r\n wo",
            b"rld!\r\n0\r\nX-Trailer: t\r\nX-Other",
            b": o\r\n\r\n",
        ]);
        // The same connection serves the next request: the trailers were consumed exactly.
        peer.request();
        peer.send(&[&ok("next")]);
        peer.hold();
    });
    let client = client();
    let origin = origin(&client, &server.url());
    let resp = send_get(&client, &origin, "/a").unwrap();
    assert_eq!(&resp.body[..], b"hello, world!");
    let next = send_get(&client, &origin, "/b").unwrap();
    assert_eq!(&next.body[..], b"next");
    assert_eq!(server.accepts(), 1);
}

#[test]
fn malformed_chunk_size_fails_while_receiving() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ]);
        peer.hold();
    });
    let client = client();
    let (stage, source) = failure(send_get(&client, &origin(&client, &server.url()), "/"));
    assert_eq!(stage, Stage::Receive);
    assert_eq!(source.kind(), io::ErrorKind::InvalidData, "{source}");
    assert!(source.to_string().contains("chunk size"), "{source}");
}

#[test]
fn chunk_sizes_adding_up_past_the_limit_are_refused() {
    // The second size would overflow the running total: refused, not a panic.
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"]);
        peer.send(&[format!("{:x}\r\nworld\r\n0\r\n\r\n", usize::MAX - 2).as_bytes()]);
        peer.hold();
    });
    let client = client();
    let (stage, source) = failure(send_get(&client, &origin(&client, &server.url()), "/"));
    assert_eq!(stage, Stage::Receive);
    assert!(source.to_string().contains("larger than"), "{source}");
}

#[test]
fn interim_responses_are_skipped() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2",
            b"\r\n\r\nok",
        ]);
        peer.hold();
    });
    let client = client();
    let resp = send_get(&client, &origin(&client, &server.url()), "/").unwrap();
    assert_eq!(resp.status, 201);
    assert_eq!(resp.header("link"), None, "headers of an interim response leaked");
    assert_eq!(&resp.body[..], b"ok");
}

#[test]
fn body_delimited_by_close_is_read_to_the_end_and_not_pooled() {
    let server = Server::start(|index, peer| {
        peer.request();
        let tail = format!("part two of {index}");
        peer.send(&[b"HTTP/1.1 200 OK\r\nX-Framing: none\r\n\r\n", b"part one, ", tail.as_bytes()]);
    });
    let client = client();
    let origin = origin(&client, &server.url());
    for index in 0..2 {
        let resp = send_get(&client, &origin, "/").unwrap();
        assert_eq!(resp.body[..], *format!("part one, part two of {index}").as_bytes());
        assert_eq!(pooled(&origin), 0);
    }
    assert_eq!(server.accepts(), 2);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = Server::start(|_, peer| {
        let mut n = 0;
        while peer.request().is_some() {
            peer.send(&[&ok(&n.to_string())]);
            n += 1;
        }
    });
    let client = client();
    let origin = origin(&client, &server.url());
    for n in 0..3 {
        assert_eq!(send_get(&client, &origin, "/").unwrap().body[..], *n.to_string().as_bytes());
        assert_eq!(pooled(&origin), 1);
    }
    assert_eq!(server.accepts(), 1);
}

#[test]
fn connection_close_response_is_not_reused() {
    // The server would go on serving the connection: only the client's choice is tested.
    let server = Server::start(|_, peer| {
        while peer.request().is_some() {
            peer.send(&[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"]);
        }
    });
    let client = client();
    let origin = origin(&client, &server.url());
    send_get(&client, &origin, "/").unwrap();
    assert_eq!(pooled(&origin), 0);
    send_get(&client, &origin, "/").unwrap();
    assert_eq!(server.accepts(), 2);
}

/// The server answers one request per connection and then closes it (with a reset when
/// `reset`), though its response says nothing of it.
fn stale_connection_is_replaced(reset: bool) {
    let server = Server::start(move |index, peer| {
        peer.request();
        peer.send(&[&ok(&index.to_string())]);
        if reset {
            socket2::SockRef::from(&peer.stream).set_linger(Some(Duration::ZERO)).unwrap();
        }
    });
    let client = client();
    let origin = origin(&client, &server.url());
    assert_eq!(&send_get(&client, &origin, "/").unwrap().body[..], b"0");
    thread::sleep(Duration::from_millis(50)); // the close reaches the client
    assert_eq!(&send_get(&client, &origin, "/").unwrap().body[..], b"1");
    assert_eq!(server.accepts(), 2);
    assert_eq!(pooled(&origin), 1, "the replacement connection is kept");
}

#[test]
fn stale_pooled_connection_is_replaced_transparently() {
    stale_connection_is_replaced(false);
}

#[test]
fn reset_pooled_connection_is_replaced_transparently() {
    stale_connection_is_replaced(true);
}

#[test]
fn reused_connection_closed_mid_response_is_not_retried() {
    let server = Server::start(|index, peer| {
        peer.request();
        peer.send(&[&ok("first")]);
        if index == 0 && peer.request().is_some() {
            peer.send(&[b"HTTP/1.1 200 OK\r\nContent-Le"]); // and close
        }
    });
    let client = client();
    let origin = origin(&client, &server.url());
    assert_eq!(&send_get(&client, &origin, "/").unwrap().body[..], b"first");
    let (stage, source) = failure(send_get(&client, &origin, "/"));
    assert_eq!(stage, Stage::Receive);
    assert_eq!(source.kind(), io::ErrorKind::UnexpectedEof, "{source}");
    assert_eq!(server.accepts(), 1, "the request was sent again");
}

#[test]
fn deadline_stops_a_call_the_server_never_answers() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.hold();
    });
    let client = client();
    let origin = origin(&client, &server.url());
    let deadline = Duration::from_millis(300);
    let started = Instant::now();
    let result = client.send(&origin, &get(&origin, "/"), &within(deadline));
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(TransportError::DeadlineExceeded)), "{:?}", result.err());
    // About not hanging, not timing precision: the server holds the request for PEER_TIMEOUT, so
    // DeadlineExceeded (not a closed connection) already shows that the deadline ended the wait.
    assert!(elapsed >= deadline && elapsed < PEER_TIMEOUT, "{elapsed:?}");
}

#[test]
fn cancellation_stops_a_call_the_server_never_answers() {
    let server = Server::start(|_, peer| {
        peer.request();
        peer.hold();
    });
    let client = client();
    let origin = origin(&client, &server.url());
    let token = CancellationToken::new();
    let stop = Interrupt::new(Instant::now() + Duration::from_secs(30), token.clone());
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let started = Instant::now();
    let result = client.send(&origin, &get(&origin, "/"), &stop);
    let elapsed = started.elapsed();
    canceller.join().unwrap();
    assert!(matches!(result, Err(TransportError::Cancelled)), "{:?}", result.err());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn refused_connection_fails_while_connecting() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = client();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let (stage, source) = failure(send_get(&client, &origin(&client, &url), "/"));
    assert_eq!(stage, Stage::Connect);
    assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused, "{source}");
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let server = Server::start(|index, peer| {
        peer.request();
        let head = match index {
            0 => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1),
            _ => format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                MAX_BODY + 1
            ),
        };
        peer.send(&[head.as_bytes(), b"only the start of the body"]);
        peer.hold();
    });
    let client = client();
    let origin = origin(&client, &server.url());
    for framing in ["Content-Length", "chunked"] {
        let (stage, source) = failure(send_get(&client, &origin, "/"));
        assert_eq!(stage, Stage::Receive, "{framing}");
        assert_eq!(source.kind(), io::ErrorKind::InvalidData, "{framing}: {source}");
        assert!(source.to_string().contains(&MAX_BODY.to_string()), "{framing}: {source}");
    }
}

#[test]
fn http_target_through_a_proxy_uses_the_absolute_url_and_credentials() {
    let proxy = Server::start(|_, peer| {
        while peer.request().is_some() {
            peer.send(&[&ok("proxied")]);
        }
    });
    let proxies = Matcher::builder()
        .http(format!("http://user:pass@{}", proxy.addr))
        .https(format!("http://other:creds@{}", proxy.addr))
        .no("localhost")
        .build();
    let client = client_with(proxies);
    // The host does not resolve: the client must connect to the proxy only.
    let origin = origin(&client, &Url::parse("http://kms.invalid:8080/").unwrap());
    let resp = send_get(&client, &origin, "/20180608/keys?limit=1").unwrap();
    assert_eq!(&resp.body[..], b"proxied");
    let sent = &proxy.requests()[0];
    assert!(
        sent.starts_with("GET http://kms.invalid:8080/20180608/keys?limit=1 HTTP/1.1\r\n"),
        "{sent}"
    );
    assert!(sent.contains("\r\nhost: kms.invalid:8080\r\n"), "{sent}");
    assert!(sent.contains("\r\nproxy-authorization: Basic dXNlcjpwYXNz\r\n"), "{sent}");
    // The connection to the proxy is kept for the next request.
    send_get(&client, &origin, "/").unwrap();
    assert_eq!(proxy.accepts(), 1);
}

#[test]
fn refused_connect_names_the_proxy_but_not_its_password() {
    let proxy = Server::start(|_, peer| {
        peer.request();
        peer.send(&[b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"]);
        peer.hold();
    });
    let password = "Pr0xy-s3cret";
    let proxies =
        Matcher::builder().https(format!("http://user:{password}@{}", proxy.addr)).build();
    let client = client_with(proxies);
    let origin = origin(&client, &Url::parse("https://kms.invalid/").unwrap());
    let result = send_get(&client, &origin, "/");
    let error = result.as_ref().err().map(|e| format!("{e} {e:?}")).unwrap_or_default();
    let (stage, _) = failure(result);
    assert_eq!(stage, Stage::Proxy);
    assert!(error.contains(&proxy.addr.to_string()), "{error}");
    assert!(error.contains("407"), "{error}");
    assert!(error.contains("kms.invalid:443"), "{error}");
    assert!(!error.contains(password), "{error}");
    assert!(!error.contains("dXNlcjpQcjB4eS1zM2NyZXQ"), "{error}"); // base64 of user:password
    let sent = &proxy.requests()[0];
    assert!(sent.starts_with("CONNECT kms.invalid:443 HTTP/1.1\r\n"), "{sent}");
    assert!(sent.contains("\r\nproxy-authorization: Basic dXNlcjpQcjB4eS1zM2NyZXQ=\r\n"), "{sent}");
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let unused = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server::start(|_, peer| {
        peer.request();
        peer.send(&[&ok("direct")]);
        peer.hold();
    });
    let proxies = Matcher::builder()
        .http(format!("http://user:pass@{unused}"))
        .https(format!("http://user:pass@{unused}"))
        .no("example.com, 127.0.0.1")
        .build();
    let client = client_with(proxies);
    let resp = send_get(&client, &origin(&client, &server.url()), "/direct").unwrap();
    assert_eq!(&resp.body[..], b"direct");
    let sent = &server.requests()[0];
    assert!(sent.starts_with("GET /direct HTTP/1.1\r\n"), "{sent}");
    assert!(!sent.contains("proxy-authorization"), "{sent}");
}

#[test]
fn https_proxy_urls_are_refused_with_the_fix() {
    let proxies = Matcher::builder().https("https://user:Pr0xy-s3cret@127.0.0.1:9").build();
    let client = client_with(proxies);
    let error = match client.origin(&Url::parse("https://kms.invalid/").unwrap()) {
        Ok(_) => panic!("an https:// proxy must be refused"),
        Err(error) => error,
    };
    assert_eq!(error.code(), ErrorCode::Config);
    let message = error.message();
    assert!(message.contains("https://127.0.0.1:9"), "{message}");
    assert!(message.contains("use an http:// proxy URL"), "{message}");
    assert!(message.contains("NO_PROXY"), "{message}");
    assert!(!message.contains("Pr0xy-s3cret"), "{message}");
}

#[test]
fn only_loopback_hosts_count_as_safe_for_plain_http() {
    let cleartext = |url: &str| super::is_cleartext_to_network(&Url::parse(url).unwrap());
    for safe in [
        "http://127.0.0.1:7000",
        "http://127.8.9.1",
        "http://[::1]:80",
        "http://LocalHost:1",
        "https://10.0.0.1",
    ] {
        assert!(!cleartext(safe), "{safe}");
    }
    for unsafe_url in
        ["http://10.0.0.1", "http://kms.example.com", "http://169.254.169.254", "http://[fd00::1]"]
    {
        assert!(cleartext(unsafe_url), "{unsafe_url}");
    }
}

#[test]
fn the_client_names_itself_not_oracle() {
    for value in [super::CLIENT_INFO, super::USER_AGENT.as_str()] {
        assert!(value.starts_with(concat!("ocikms/", env!("CARGO_PKG_VERSION"))), "{value}");
        assert!(!value.to_ascii_lowercase().contains("oracle"), "{value}");
    }
}

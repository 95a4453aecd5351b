// SPDX-License-Identifier: MPL-2.0
//! The KMS client through an authenticating HTTP proxy taken from the environment: the emulator
//! over TLS behind a minimal `CONNECT` proxy, with `HTTPS_PROXY` carrying credentials, for both
//! the blocking and the async seal. One test function: it sets process environment variables,
//! which no other test of this binary may race.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use common::Emulator;
use ocikms::{BlockingSeal, CallOptions, Seal};
use serde_json::json;

/// The environment variables the test sets, and their values before it, restored on drop.
struct EnvGuard(Vec<(&'static str, Option<std::ffi::OsString>)>);

impl EnvGuard {
    fn set(vars: &[(&'static str, &str)]) -> EnvGuard {
        let saved = vars.iter().map(|(name, _)| (*name, std::env::var_os(name))).collect();
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
        EnvGuard(saved)
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (name, value) in &self.0 {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    }
}

/// A `CONNECT`-only proxy that requires `Proxy-Authorization: <authorization>` and records the
/// target of every tunnel it opened.
struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start(authorization: String) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&tunnels);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (log, authorization) = (Arc::clone(&log), authorization.clone());
                thread::spawn(move || {
                    let _ = tunnel(client, &authorization, &log);
                });
            }
        });
        ConnectProxy { addr, tunnels }
    }

    fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

/// Serves one proxy connection: reads the `CONNECT` head, checks the credentials, connects to
/// the target and copies bytes both ways until either side closes.
fn tunnel(mut client: TcpStream, authorization: &str, log: &Mutex<Vec<String>>) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(20)))?;
    // Byte by byte, so that nothing past the head is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let target = match lines.next().unwrap_or_default().split(' ').collect::<Vec<_>>()[..] {
        ["CONNECT", target, "HTTP/1.1"] => target.to_owned(),
        _ => return client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n"),
    };
    let authorized = lines.filter_map(|l| l.split_once(':')).any(|(name, value)| {
        name.eq_ignore_ascii_case("proxy-authorization") && value.trim() == authorization
    });
    if !authorized {
        return client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
        );
    }
    let upstream = TcpStream::connect(&target)?;
    log.lock().unwrap().push(target);
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.set_read_timeout(None)?;
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(Shutdown::Write);
    });
    let (mut upstream_in, mut client_out) = (upstream, client);
    let _ = io::copy(&mut upstream_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

#[test]
fn seal_calls_go_through_an_authenticating_connect_proxy_from_the_environment() {
    let emu = Emulator::start_with(&["--tls"], None);
    let endpoint = url::Url::parse(&emu.field("crypto_endpoint")).unwrap();
    assert_eq!(endpoint.scheme(), "https");
    let emulator_authority =
        format!("{}:{}", endpoint.host_str().unwrap(), endpoint.port().unwrap());
    let mut map = emu.config_map();
    map.insert("ca_cert".into(), json!(emu.field("ca_cert")));
    let config = Emulator::config_from(&map);

    let basic = base64::engine::general_purpose::STANDARD.encode("user:secret");
    let proxy = ConnectProxy::start(format!("Basic {basic}"));
    let proxy_url = format!("http://user:secret@{}", proxy.addr);
    let (https_proxy_before, no_proxy_before) =
        (std::env::var_os("HTTPS_PROXY"), std::env::var_os("NO_PROXY"));
    let env = EnvGuard::set(&[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "")]);
    let opts = CallOptions::default();

    // The blocking seal (the C ABI's): each call runs on this thread.
    let seal = BlockingSeal::new(config.clone(), &opts).expect("blocking init through the proxy");
    let blob = seal.encrypt(b"through the proxy", &opts).unwrap();
    assert_eq!(&*seal.decrypt(&blob, &opts).unwrap(), b"through the proxy");
    let tunnels = proxy.tunnels();
    assert!(!tunnels.is_empty(), "the proxy saw no CONNECT");
    assert!(tunnels.iter().all(|t| *t == emulator_authority), "{tunnels:?}");
    let after_blocking = tunnels.len();

    // The async seal, its KMS calls on tokio's blocking pool.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let seal = Seal::init(config, None, &opts).await.expect("async init through the proxy");
        let blob = seal.encrypt(b"async, proxied", &opts).await.unwrap();
        assert_eq!(&*seal.decrypt(&blob, &opts).await.unwrap(), b"async, proxied");
    });
    let tunnels = proxy.tunnels();
    assert!(tunnels.len() > after_blocking, "the async seal did not use the proxy: {tunnels:?}");
    assert!(tunnels.iter().all(|t| *t == emulator_authority), "{tunnels:?}");

    // Refused credentials: not retried (a retry cannot fix them); the error names the proxy, its
    // answer and the fix, never the password.
    std::env::set_var("HTTPS_PROXY", format!("http://user:Wr0ng-pa55@{}", proxy.addr));
    let refused = match BlockingSeal::new(Emulator::config_from(&map), &opts) {
        Ok(_) => panic!("the proxy must refuse wrong credentials"),
        Err(err) => err,
    };
    assert!(!refused.is_retryable(), "{refused}");
    assert!(!refused.message().contains("attempts"), "a 407 was retried: {refused}");
    let err = format!("{refused} {refused:?}");
    assert!(err.contains("407") && err.contains(&proxy.addr.to_string()), "{err}");
    assert!(err.contains("check the proxy credentials"), "{err}");
    let wrong_basic = base64::engine::general_purpose::STANDARD.encode("user:Wr0ng-pa55");
    assert!(!err.contains("Wr0ng-pa55") && !err.contains(&wrong_basic), "{err}");

    drop(env);
    assert_eq!(std::env::var_os("HTTPS_PROXY"), https_proxy_before);
    assert_eq!(std::env::var_os("NO_PROXY"), no_proxy_before);
}

// SPDX-License-Identifier: MPL-2.0
//! [`HttpClient`]: TLS settings and proxy rules, the origins of URLs, and sending a request on a
//! pooled or new connection (on the calling thread, or tokio's blocking pool for async callers).

use std::io;
use std::sync::{Arc, LazyLock};

use hyper_util::client::proxy::matcher::Matcher;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use url::Url;
use zeroize::Zeroizing;

use super::conn::Conn;
use super::error::{Stage, TransportError};
use super::interrupt::Interrupt;
use super::message::{read_response, HttpRequest, HttpResponse};
use super::origin::{Origin, Origins};
use super::route::{Proxy, Route};
use crate::error::{Error, Result};

/// The `opc-client-info` header value of KMS calls: this project's name and version. OCI's own
/// SDKs send `Oracle-<Language>SDK/<version>`; this client is not one of Oracle's, so it does not
/// say so.
pub const CLIENT_INFO: &str = concat!("ocikms/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` sent on every request.
pub static USER_AGENT: LazyLock<String> = LazyLock::new(|| {
    format!("{CLIENT_INFO} ({}/{})", std::env::consts::OS, std::env::consts::ARCH)
});

/// An HTTP client: TLS settings, the proxy rules, and the origins [`HttpClient::fetch`] used.
pub struct HttpClient {
    tls: Arc<ClientConfig>,
    proxies: Matcher,
    pub(super) origins: Origins,
}

impl HttpClient {
    /// A client verifying servers with `tls`, with the proxies of the environment.
    pub fn new(tls: Arc<ClientConfig>) -> HttpClient {
        HttpClient::with_proxies(tls, Matcher::from_env())
    }

    /// A client verifying servers with `tls` and following the proxy rules of `proxies` instead
    /// of the environment's.
    pub(crate) fn with_proxies(tls: Arc<ClientConfig>, proxies: Matcher) -> HttpClient {
        HttpClient { tls, proxies, origins: Origins::default() }
    }

    /// The origin of `url` (an http or https URL with a host), routed through the proxy the
    /// environment names for it.
    pub fn origin(&self, url: &Url) -> Result<Arc<Origin>> {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(Error::config(format!("{url} has no host"))),
        };
        let tls = url.scheme() == "https";
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        let host_str = url.host_str().unwrap_or_default();
        let host_header = match url.port() {
            Some(port) => format!("{host_str}:{port}"),
            None => host_str.to_owned(),
        };
        let server_name = if tls {
            let name = ServerName::try_from(host.clone())
                .map_err(|e| Error::config(format!("{url}: not a valid TLS server name: {e}")))?;
            Some(name)
        } else {
            None
        };
        Ok(Arc::new(Origin::new(Route {
            proxy: self.proxy_for(url, host_str, port)?,
            authority: format!("{host_str}:{port}"),
            host,
            port,
            host_header,
            server_name,
        })))
    }

    fn proxy_for(&self, url: &Url, host: &str, port: u16) -> Result<Option<Proxy>> {
        let uri: http::Uri = format!("{}://{host}:{port}/", url.scheme())
            .parse()
            .map_err(|e| Error::config(format!("{url}: {e}")))?;
        let Some(intercept) = self.proxies.intercept(&uri) else {
            return Ok(None);
        };
        let proxy = intercept.uri();
        let (proxy_host, proxy_port) =
            (proxy.host().unwrap_or_default(), proxy.port_u16().unwrap_or(80));
        let display = format!("{proxy_host}:{proxy_port}");
        if proxy.scheme_str() != Some("http") {
            return Err(Error::config(format!(
                "the proxy {}://{display} set in the environment for {url} is not supported: use \
                 an http:// proxy URL (https is tunnelled through it with CONNECT), or exclude \
                 the host with NO_PROXY",
                proxy.scheme_str().unwrap_or_default()
            )));
        }
        let authorization = intercept
            .basic_auth()
            .and_then(|v| v.to_str().ok())
            .map(|v| Zeroizing::new(v.to_owned()));
        Ok(Some(Proxy {
            host: proxy_host.trim_matches(['[', ']']).to_owned(),
            port: proxy_port,
            authorization,
            display,
        }))
    }

    /// Sends `req` to `origin` and reads the answer, on this thread. A pooled connection that
    /// turns out to be closed by the server (before answering) is replaced once by a new one; one
    /// that stays silent past the attempt's bound (see [`Interrupt::for_attempt`]) fails the
    /// attempt and empties the origin's pool, so that a retry opens a new connection.
    pub fn send(
        &self,
        origin: &Origin,
        req: &HttpRequest,
        stop: &Interrupt,
    ) -> std::result::Result<HttpResponse, TransportError> {
        let mut pooled = origin.checkout();
        loop {
            let reused = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(conn) => conn,
                None => Conn::open(&origin.route, &self.tls, stop)?,
            };
            match exchange(&mut conn, req, stop) {
                Ok((resp, keep_alive)) => {
                    if keep_alive {
                        origin.checkin(conn);
                    }
                    return Ok(resp);
                }
                Err((error, received_any))
                    if reused && !received_any && error.is_closed_connection() =>
                {
                    continue
                }
                Err((error, _)) => {
                    if reused && error.is_timeout() {
                        origin.drop_idle();
                    }
                    return Err(error);
                }
            }
        }
    }

    /// [`HttpClient::send`] for async code: on the calling thread when it is a blocking caller's
    /// ([`crate::blocking`]), else on tokio's blocking pool.
    pub async fn send_async(
        self: &Arc<Self>,
        origin: &Arc<Origin>,
        req: HttpRequest,
        stop: Interrupt,
    ) -> std::result::Result<HttpResponse, TransportError> {
        if crate::blocking::is_blocking_caller() {
            return self.send(origin, &req, &stop);
        }
        let (client, origin) = (Arc::clone(self), Arc::clone(origin));
        tokio::task::spawn_blocking(move || client.send(&origin, &req, &stop)).await.unwrap_or_else(
            |e| Err(TransportError::failed(Stage::Send, io::Error::other(e.to_string()))),
        )
    }
}

/// One request and response on `conn`; on failure, also whether any response byte arrived.
fn exchange(
    conn: &mut Conn,
    req: &HttpRequest,
    stop: &Interrupt,
) -> std::result::Result<(HttpResponse, bool), (TransportError, bool)> {
    conn.write_all(&req.message, stop, Stage::Send).map_err(|e| (e, false))?;
    read_response(conn, req.method, stop)
}

// SPDX-License-Identifier: MPL-2.0
//! Where requests go: the [`Route`] to an origin (host, port, TLS name, proxy), the request line
//! and headers serialised for it, and the rule for plain `http://`.

use rustls::pki_types::ServerName;
use url::Url;
use zeroize::Zeroizing;

use super::message::HttpRequest;
use super::wire::encode_request;
use crate::error::{Error, Result};

/// Whether `url` is plain `http://` to a host that is not a loopback address (`localhost`,
/// `127.0.0.0/8`, `::1`): such a request crosses a network unencrypted.
pub fn is_cleartext_to_network(url: &Url) -> bool {
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        None => true,
    }
}

/// The rule for plain `http://`: to a host that is not a loopback address it is a config error
/// unless `allow` (the `allow_plaintext_http` setting), and then a warning at every use. `source`
/// names the setting or variable that gave `url`; `exposed` says what would cross the network
/// unencrypted. A typo must not send secrets in clear text.
pub fn check_cleartext(url: &Url, source: &str, exposed: &str, allow: bool) -> Result<()> {
    if !is_cleartext_to_network(url) {
        return Ok(());
    }
    let origin = url.origin().ascii_serialization();
    if !allow {
        return Err(Error::config(format!(
            "{source} {origin} is plain http:// to a host that is not a loopback address: \
             {exposed} would cross the network unencrypted. Use https://, or set \
             allow_plaintext_http = true if the clear text is intended (e.g. a TLS-terminating \
             sidecar on a private link)"
        )));
    }
    tracing::warn!(
        endpoint = origin.as_str(),
        "{source} is plain http:// to a non-loopback host (allow_plaintext_http = true): \
         {exposed} cross the network UNENCRYPTED"
    );
    Ok(())
}

/// An HTTP proxy to go through.
pub(super) struct Proxy {
    pub(super) host: String,
    pub(super) port: u16,
    /// `Proxy-Authorization` value, when the proxy URL has credentials.
    pub(super) authorization: Option<Zeroizing<String>>,
    /// `host:port`, without credentials, for messages.
    pub(super) display: String,
}

/// How to reach one origin (scheme, host, port) and address it: what a connection needs.
pub(super) struct Route {
    /// Host name or IP address (without IPv6 brackets), to resolve and connect to.
    pub(super) host: String,
    pub(super) port: u16,
    /// `host[:port]` as sent in `Host` (the port only when not the scheme's default).
    pub(super) host_header: String,
    /// `host:port`, the `CONNECT` target.
    pub(super) authority: String,
    /// The name the TLS certificate must match; `None` for plain http.
    pub(super) server_name: Option<ServerName<'static>>,
    pub(super) proxy: Option<Proxy>,
}

impl Route {
    /// The `Host` header value for requests on this route.
    pub fn host_header(&self) -> &str {
        &self.host_header
    }

    /// Serialises a request to `path_and_query` on this route (the absolute URL as the target
    /// when it goes through a proxy in the clear).
    pub fn request<'a>(
        &'a self,
        method: &'static str,
        path_and_query: &str,
        mut headers: Vec<(&'a str, &'a str)>,
        body: &[u8],
    ) -> Result<HttpRequest> {
        let absolute;
        let target = match (&self.proxy, &self.server_name) {
            (Some(proxy), None) => {
                absolute = format!("http://{}{path_and_query}", self.host_header);
                if let Some(auth) = &proxy.authorization {
                    headers.push(("proxy-authorization", auth.as_str()));
                }
                absolute.as_str()
            }
            _ => path_and_query,
        };
        let message = encode_request(method, target, &headers, body).map_err(Error::internal)?;
        Ok(HttpRequest { method, message })
    }
}

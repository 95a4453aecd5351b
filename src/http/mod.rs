// SPDX-License-Identifier: MPL-2.0
//! The library's one HTTP/1.1 client, for every outbound call (KMS, instance metadata,
//! federation, workload identity): blocking I/O on the calling thread, with keep-alive
//! connections pooled per origin, one TLS configuration ([`tls::tls_config`]), one proxy rule and
//! one deadline model ([`Interrupt`]).
//!
//! A blocking caller (the C ABI, Go through cgo) gets its request written and its answer read
//! on its own thread — no hand-off to an async runtime's worker and back, which cost more CPU than
//! everything but the request signature. Async callers run the same exchange on tokio's blocking
//! pool. Deadlines and cancellation are checked between socket waits of at most
//! [`interrupt::SLICE`]. Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`
//! (as curl and reqwest read them; `http://` proxies, tunnelled with `CONNECT` for https).

mod client;
mod conn;
mod error;
mod fetch;
mod interrupt;
mod message;
mod origin;
mod route;
#[cfg(test)]
mod tests;
pub mod tls;
mod wire;

pub use client::{HttpClient, CLIENT_INFO, USER_AGENT};
pub use error::{Stage, TransportError};
pub use interrupt::Interrupt;
pub(crate) use message::read_response;
pub use message::{HttpRequest, HttpResponse};
pub use origin::Origin;
pub use route::{check_cleartext, is_cleartext_to_network};
pub use tls::tls_config;
pub(crate) use wire::{ByteSource, MAX_BODY};

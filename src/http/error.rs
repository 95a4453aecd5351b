// SPDX-License-Identifier: MPL-2.0
//! Why an HTTP exchange did not produce a response, and at which stage.

use std::fmt;
use std::io;

/// Where an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Looking up the host name.
    Resolve,
    /// Opening the TCP connection.
    Connect,
    /// Opening the tunnel through the HTTP proxy.
    Proxy,
    /// The TLS handshake.
    Tls,
    /// Writing the request.
    Send,
    /// Reading the response.
    Receive,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Resolve => "resolving the host name",
            Stage::Connect => "connecting",
            Stage::Proxy => "opening the proxy tunnel",
            Stage::Tls => "the TLS handshake",
            Stage::Send => "sending the request",
            Stage::Receive => "reading the response",
        })
    }
}

/// Why an exchange did not produce a response.
#[derive(Debug)]
pub enum TransportError {
    /// The call's cancellation token fired.
    Cancelled,
    /// The call's deadline passed.
    DeadlineExceeded,
    /// The network or the server failed during `stage`.
    Failed {
        /// What was being done.
        stage: Stage,
        /// The underlying error (a TLS error is an `io::Error` wrapping a `rustls::Error`).
        source: io::Error,
    },
}

impl TransportError {
    /// A failure during `stage`.
    pub fn failed(stage: Stage, source: io::Error) -> TransportError {
        TransportError::Failed { stage, source }
    }

    /// Whether the attempt got no answer in time (its own bound, not the call's deadline).
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Failed { source, .. } if source.kind() == io::ErrorKind::TimedOut)
    }

    /// Whether the server closed or reset the connection (what a stale pooled one does).
    pub(super) fn is_closed_connection(&self) -> bool {
        matches!(self, TransportError::Failed { source, .. } if matches!(
            source.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::WriteZero
        ))
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Cancelled => f.write_str("cancelled"),
            TransportError::DeadlineExceeded => f.write_str("deadline exceeded"),
            TransportError::Failed { stage, source } => write!(f, "{stage}: {source}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Failed { source, .. } => Some(source),
            _ => None,
        }
    }
}

// SPDX-License-Identifier: MPL-2.0
//! Endpoint URLs: checked and normalised, and the management endpoint derived from an
//! OCI-shaped crypto endpoint.

use crate::error::{Error, Result};

/// Checks that an endpoint is an absolute http(s) URL with a host; strips trailing slashes.
/// (Whether plain `http://` may be used is the KMS client's rule: loopback hosts, or
/// `allow_plaintext_http`.)
pub(super) fn normalize(value: &str, source: &str) -> Result<String> {
    let value = value.trim();
    let bad = |problem: &str| {
        Error::config(format!(
            "{source} = {value:?} {problem}: give the endpoint URL, e.g. \
             https://<vault>-crypto.kms.<region>.oraclecloud.com"
        ))
    };
    let url = url::Url::parse(value).map_err(|e| bad(&format!("is not a valid URL ({e})")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("does not start with https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `https://x-crypto.kms.r.oraclecloud.com` → `https://x-management.kms.r.oraclecloud.com`;
/// `None` when the host is not shaped like that.
pub(super) fn derive_management(crypto_endpoint: &str) -> Option<String> {
    let url = url::Url::parse(crypto_endpoint).ok()?;
    let host = url.host_str()?;
    if !host.contains("-crypto.") {
        return None;
    }
    let mut derived = url.clone();
    derived.set_host(Some(&host.replacen("-crypto.", "-management.", 1))).ok()?;
    Some(derived.as_str().trim_end_matches('/').to_string())
}

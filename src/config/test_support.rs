// SPDX-License-Identifier: MPL-2.0
//! Helpers of the config unit tests: a [`SealConfig`] built from key/value pairs and a fake
//! environment, and the message of the config error expected instead.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::SealConfig;
use crate::error::{ErrorCode, Result};

/// A key OCID for the tests.
pub(super) const OCID: &str = "ocid1.key.oc1.iad.map";
/// An OCI-shaped crypto endpoint (its management endpoint can be derived).
pub(super) const CRYPTO: &str = "https://abc-crypto.kms.us-ashburn-1.oraclecloud.com";

/// [`SealConfig::from_sources`] over `pairs`, with `vars` as the whole environment.
pub(super) fn build(
    pairs: &[(&str, Value)],
    option: Option<&str>,
    disallow: bool,
    vars: &[(&str, &str)],
) -> Result<SealConfig> {
    let map: BTreeMap<String, Value> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let vars: HashMap<String, String> =
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let env = move |name: &str| vars.get(name).cloned();
    SealConfig::from_sources(&map, option, disallow, &env)
}

/// The smallest valid map: `key_id` and `crypto_endpoint`.
pub(super) fn base() -> Vec<(&'static str, Value)> {
    vec![("key_id", json!(OCID)), ("crypto_endpoint", json!(CRYPTO))]
}

/// The message of the [`ErrorCode::Config`] error `result` must be.
pub(super) fn config_error(result: Result<SealConfig>) -> String {
    let err = result.expect_err("expected a config error");
    assert_eq!(err.code(), ErrorCode::Config, "{err}");
    err.message().to_string()
}

// SPDX-License-Identifier: MPL-2.0
//! How calls reach OCI: the deadline of a call and of one attempt, how many attempts, and whether
//! clear-text `http://` endpoints off the loopback are allowed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::duration::parse_duration;
use super::keys::{
    flag, text, Key, ALLOW_PLAINTEXT_HTTP, ATTEMPT_TIMEOUT, MAX_RETRIES, REQUEST_TIMEOUT,
};
use crate::error::{Error, Result};

/// Default per-call deadline, retries included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time one HTTP attempt may wait for an answer before it is abandoned and retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of retries after the first attempt (5 attempts in all, as the Go wrapper).
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Upper bound accepted for `max_retries`.
pub const MAX_MAX_RETRIES: u32 = 20;

/// The longest `request_timeout` (and `attempt_timeout`) accepted: a call that may last longer
/// than a day is a configuration mistake (and `1e19` seconds cannot be added to a clock).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// `request_timeout`: the deadline of one seal call, retries included.
pub(super) fn request_timeout(map: &BTreeMap<String, Value>) -> Result<Duration> {
    timeout(map, &REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)
}

/// `attempt_timeout`: how long one HTTP attempt may wait for an answer.
pub(super) fn attempt_timeout(map: &BTreeMap<String, Value>) -> Result<Duration> {
    timeout(map, &ATTEMPT_TIMEOUT, DEFAULT_ATTEMPT_TIMEOUT)
}

/// A positive duration of at most [`MAX_REQUEST_TIMEOUT`] under `key`; `default` when absent.
fn timeout(map: &BTreeMap<String, Value>, key: &Key, default: Duration) -> Result<Duration> {
    let Some(raw) = text(map, key)? else {
        return Ok(default);
    };
    let name = key.name;
    match parse_duration(&raw) {
        Some(d) if d > MAX_REQUEST_TIMEOUT => Err(Error::config(format!(
            "{name} = {raw:?} is longer than the maximum of 24h: use a duration such as \
             \"{}s\" (the default) up to \"24h\"",
            default.as_secs()
        ))),
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(Error::config(format!(
            "{name} = {raw:?} is not a positive duration: use a Go duration such as \
             \"30s\", \"1m30s\", \"500ms\", or a number of seconds"
        ))),
    }
}

/// `max_retries`: retries after the first attempt, `0` to [`MAX_MAX_RETRIES`].
pub(super) fn max_retries(map: &BTreeMap<String, Value>) -> Result<u32> {
    let Some(raw) = text(map, &MAX_RETRIES)? else {
        return Ok(DEFAULT_MAX_RETRIES);
    };
    match raw.trim().parse::<u32>() {
        Ok(n) if n <= MAX_MAX_RETRIES => Ok(n),
        _ => Err(Error::config(format!(
            "max_retries = {raw:?} is not a whole number from 0 to {MAX_MAX_RETRIES}: set the \
             number of retries after the first attempt (default {DEFAULT_MAX_RETRIES})"
        ))),
    }
}

/// `allow_plaintext_http`: a boolean, false when absent.
pub(super) fn allow_plaintext_http(map: &BTreeMap<String, Value>) -> Result<bool> {
    Ok(flag(map, &ALLOW_PLAINTEXT_HTTP)?.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{json, Value};

    use super::{DEFAULT_ATTEMPT_TIMEOUT, MAX_MAX_RETRIES};
    use crate::config::test_support::{base, build, config_error};

    /// `base()` plus `key = value`.
    fn with(key: &'static str, value: Value) -> Vec<(&'static str, Value)> {
        let mut pairs = base();
        pairs.push((key, value));
        pairs
    }

    #[test]
    fn attempt_timeout_is_a_duration_capped_at_24h() {
        assert_eq!(
            build(&base(), None, false, &[]).unwrap().attempt_timeout,
            DEFAULT_ATTEMPT_TIMEOUT
        );
        for (value, expected) in [
            (json!("2s"), Duration::from_secs(2)),
            (json!("1m30s"), Duration::from_secs(90)),
            (json!("250ms"), Duration::from_millis(250)),
            (json!(5), Duration::from_secs(5)),
            (json!("7"), Duration::from_secs(7)),
            (json!(0.5), Duration::from_millis(500)),
            (json!("24h"), Duration::from_secs(86_400)),
        ] {
            let cfg = build(&with("attempt_timeout", value.clone()), None, false, &[]).unwrap();
            assert_eq!(cfg.attempt_timeout, expected, "{value}");
        }
        for too_long in ["24h0m1s", "86401", "1e19"] {
            let msg =
                config_error(build(&with("attempt_timeout", json!(too_long)), None, false, &[]));
            assert!(
                msg.starts_with("attempt_timeout = ") && msg.contains("maximum of 24h"),
                "{too_long}: {msg}"
            );
            assert!(msg.contains("\"10s\" (the default)"), "{msg}");
        }
    }

    #[test]
    fn allow_plaintext_http_is_a_go_boolean() {
        assert!(!build(&base(), None, false, &[]).unwrap().allow_plaintext_http);
        for (value, expected) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("1"), true),
            (json!("T"), true),
            (json!(false), false),
            (json!("False"), false),
            (json!(0), false),
            (Value::Null, false),
        ] {
            let cfg =
                build(&with("allow_plaintext_http", value.clone()), None, false, &[]).unwrap();
            assert_eq!(cfg.allow_plaintext_http, expected, "{value}");
        }
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (key, value) in [
            ("request_timeout", json!("soon")),
            ("request_timeout", json!("-5s")),
            ("request_timeout", json!(0)),
            ("request_timeout", json!("")),
            ("attempt_timeout", json!("soon")),
            ("attempt_timeout", json!("-1s")),
            ("attempt_timeout", json!(0)),
            ("attempt_timeout", json!("0s")),
            ("attempt_timeout", json!("")),
            ("max_retries", json!(-1)),
            ("max_retries", json!("2.5")),
            ("max_retries", json!(MAX_MAX_RETRIES + 1)),
            ("allow_plaintext_http", json!("")),
            ("allow_plaintext_http", json!("yes")),
            ("allow_plaintext_http", json!(2)),
            ("allow_plaintext_http", json!(["true"])),
        ] {
            let msg = config_error(build(&with(key, value.clone()), None, false, &[]));
            assert!(msg.starts_with(key), "{key}={value}: {msg}");
        }
    }
}

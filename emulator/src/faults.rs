// SPDX-License-Identifier: MPL-2.0
//! Fault injection and per-key rate limits: per-route random or scripted faults (429 with
//! `Retry-After`, 5xx, connection reset, delay, truncated body, a request never answered, a late
//! unsolicited answer) and a server-wide idle-connection timeout, set at start (config /
//! `--faults`) and replaced at run time through the admin API.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// The complete fault configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Rules, checked in order; the first that fires decides the request's fault.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// Per-key request-rate limits (exceeding one answers 429 `TooManyRequests`).
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Seed for the probability draws (default: fixed, so runs are reproducible).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Close a kept-alive connection (FIN, nothing sent) once it has been idle this many
    /// milliseconds, as a load balancer or NAT that drops idle flows does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_idle_ms: Option<u64>,
}

/// One rule: either `probability` + `fault`, or a scripted `sequence`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Route name (`encrypt`, `decrypt`, `getKey`, ... see the docs) or `*`.
    #[serde(default = "any_route")]
    pub route: String,
    /// Chance in [0, 1] that `fault` applies to a matching request.
    #[serde(default)]
    pub probability: Option<f64>,
    /// The fault used with `probability`.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Faults applied to successive matching requests, one each; the rule is spent afterwards.
    #[serde(default)]
    pub sequence: Vec<Fault>,
    /// With `probability`: stop after this many injected faults.
    #[serde(default)]
    pub times: Option<u64>,
}

fn any_route() -> String {
    "*".to_string()
}

/// A single injected fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// No fault (a pass-through step in a sequence).
    None,
    /// Answer with this status and an OCI error body (`retry_after` adds `Retry-After`).
    Status {
        /// HTTP status, e.g. 429, 500, 503.
        status: u16,
        /// Seconds for `Retry-After`.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Drop the connection with a TCP reset instead of answering.
    Reset,
    /// Wait this long, then handle the request normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Handle the request, then send only half the response body and close the connection.
    Truncate,
    /// Read the request and never answer; the connection stays open until the client closes it
    /// (or the emulator stops), as a half-open connection behind a dropped NAT entry looks.
    Blackhole,
    /// Answer normally, then, if the client sends nothing else within `ms`, write a second,
    /// unsolicited response (`408 Request Timeout`, `Connection: close`) and close.
    LateAnswer {
        /// Milliseconds after the answer.
        ms: u64,
    },
}

/// A token-bucket limit on requests naming a key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Key OCID, or `*` for each key separately.
    pub key_id: String,
    /// Sustained requests per second.
    pub per_second: f64,
    /// Bucket size (default: `per_second`, at least 1).
    #[serde(default)]
    pub burst: Option<f64>,
}

struct RuleState {
    rule: FaultRule,
    next: usize,
    fired: u64,
}

struct Runtime {
    plan: FaultPlan,
    rules: Vec<RuleState>,
    rng: u64,
    buckets: HashMap<String, (f64, Instant)>,
}

/// The live fault injector.
pub struct Faults {
    inner: Mutex<Runtime>,
    /// The plan's `close_idle_ms`, watched by every open connection.
    close_idle: watch::Sender<Option<Duration>>,
}

impl FaultPlan {
    /// Checks values that serde cannot (probabilities, limits).
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.rules {
            match (r.probability, &r.fault, r.sequence.is_empty()) {
                (Some(p), Some(_), true) if (0.0..=1.0).contains(&p) => {}
                (None, None, false) => {}
                _ => {
                    return Err(format!(
                        "fault rule for route {:?}: give either probability (0..1) with fault, or a non-empty sequence",
                        r.route
                    ))
                }
            }
        }
        for l in &self.rate_limits {
            if l.per_second.is_nan() || l.per_second <= 0.0 {
                return Err(format!("rate limit for {:?}: per_second must be > 0", l.key_id));
            }
        }
        if self.close_idle_ms == Some(0) {
            return Err("close_idle_ms must be > 0 (leave it out to keep idle connections)".into());
        }
        Ok(())
    }

    fn close_idle(&self) -> Option<Duration> {
        self.close_idle_ms.map(Duration::from_millis)
    }
}

impl Faults {
    /// A fault injector running `plan`.
    pub fn new(plan: FaultPlan) -> Self {
        let (close_idle, _) = watch::channel(plan.close_idle());
        Faults { inner: Mutex::new(Runtime::from_plan(plan)), close_idle }
    }

    /// Replaces the plan (resetting sequences, counts and buckets).
    pub fn replace(&self, plan: FaultPlan) {
        self.close_idle.send_replace(plan.close_idle());
        *self.lock() = Runtime::from_plan(plan);
    }

    /// The idle timeout of kept-alive connections (`close_idle_ms`), following plan changes.
    pub fn watch_close_idle(&self) -> watch::Receiver<Option<Duration>> {
        self.close_idle.subscribe()
    }

    /// The current plan.
    pub fn plan(&self) -> FaultPlan {
        self.lock().plan.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Runtime> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fault for this request on `route`, if a rule fires.
    pub fn decide(&self, route: &str) -> Option<Fault> {
        let mut rt = self.lock();
        let Runtime { rules, rng, .. } = &mut *rt;
        for st in rules.iter_mut() {
            if st.rule.route != "*" && !st.rule.route.eq_ignore_ascii_case(route) {
                continue;
            }
            if !st.rule.sequence.is_empty() {
                if st.next < st.rule.sequence.len() {
                    st.next += 1;
                    return Some(st.rule.sequence[st.next - 1].clone());
                }
                continue;
            }
            if st.rule.times.is_some_and(|t| st.fired >= t) {
                continue;
            }
            let p = st.rule.probability.unwrap_or(0.0);
            if next_unit(rng) < p {
                st.fired += 1;
                return st.rule.fault.clone();
            }
        }
        None
    }

    /// Takes one token for `key_id`; `Err(retry_after_secs)` when the limit is exceeded.
    pub fn rate_check(&self, key_id: &str) -> Result<(), u64> {
        let mut rt = self.lock();
        let Some(limit) =
            rt.plan.rate_limits.iter().find(|l| l.key_id == key_id || l.key_id == "*").cloned()
        else {
            return Ok(());
        };
        let burst = limit.burst.unwrap_or(limit.per_second).max(1.0);
        let now = Instant::now();
        let (tokens, last) = rt.buckets.entry(key_id.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * limit.per_second).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - *tokens) / limit.per_second).ceil() as u64).max(1))
        }
    }
}

impl Runtime {
    fn from_plan(plan: FaultPlan) -> Self {
        let rules =
            plan.rules.iter().map(|r| RuleState { rule: r.clone(), next: 0, fired: 0 }).collect();
        let rng = plan.seed.unwrap_or(0x9E37_79B9_7F4A_7C15) | 1;
        Runtime { plan, rules, rng, buckets: HashMap::new() }
    }
}

/// xorshift64* draw in [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> Fault {
        Fault::Status { status: s, retry_after: None }
    }

    #[test]
    fn sequences_are_consumed_in_order_per_route() {
        let f = Faults::new(FaultPlan {
            rules: vec![FaultRule {
                route: "encrypt".into(),
                probability: None,
                fault: None,
                sequence: vec![status(503), Fault::None, Fault::Reset],
                times: None,
            }],
            ..Default::default()
        });
        assert_eq!(f.decide("decrypt"), None);
        assert_eq!(f.decide("encrypt"), Some(status(503)));
        assert_eq!(f.decide("encrypt"), Some(Fault::None));
        assert_eq!(f.decide("encrypt"), Some(Fault::Reset));
        assert_eq!(f.decide("encrypt"), None);
    }

    #[test]
    fn probability_rules_fire_at_about_their_rate_and_respect_times() {
        let rule = |p, times| FaultRule {
            route: "*".into(),
            probability: Some(p),
            fault: Some(status(500)),
            sequence: vec![],
            times,
        };
        let f = Faults::new(FaultPlan { rules: vec![rule(0.3, None)], ..Default::default() });
        let hits = (0..10_000).filter(|_| f.decide("getKey").is_some()).count();
        assert!((2_500..3_500).contains(&hits), "{hits}");
        let f = Faults::new(FaultPlan { rules: vec![rule(1.0, Some(2))], ..Default::default() });
        assert_eq!((0..10).filter(|_| f.decide("x").is_some()).count(), 2);
    }

    #[test]
    fn rate_limit_allows_burst_then_429() {
        let f = Faults::new(FaultPlan {
            rate_limits: vec![RateLimit { key_id: "k".into(), per_second: 1.0, burst: Some(3.0) }],
            ..Default::default()
        });
        assert!((0..3).all(|_| f.rate_check("k").is_ok()));
        assert_eq!(f.rate_check("k"), Err(1));
        assert!(f.rate_check("other").is_ok());
    }

    #[test]
    fn validation_rejects_mixed_rules() {
        let bad = FaultPlan {
            rules: vec![FaultRule {
                route: "*".into(),
                probability: Some(2.0),
                fault: Some(Fault::Reset),
                sequence: vec![],
                times: None,
            }],
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let json = r#"{"rules":[{"route":"encrypt","sequence":[{"kind":"status","status":429,"retry_after":2},{"kind":"truncate"}]}]}"#;
        let plan: FaultPlan = serde_json::from_str(json).unwrap();
        assert!(plan.validate().is_ok());
    }

    #[test]
    fn connection_faults_parse_and_close_idle_follows_the_plan() {
        let json = r#"{"close_idle_ms":300,"rules":[{"route":"*","probability":0.002,"fault":{"kind":"blackhole"}},
            {"route":"encrypt","sequence":[{"kind":"late_answer","ms":150}]}]}"#;
        let plan: FaultPlan = serde_json::from_str(json).unwrap();
        assert!(plan.validate().is_ok());
        assert_eq!(plan.rules[0].fault, Some(Fault::Blackhole));
        assert_eq!(plan.rules[1].sequence, vec![Fault::LateAnswer { ms: 150 }]);
        let faults = Faults::new(plan);
        let close_idle = faults.watch_close_idle();
        assert_eq!(*close_idle.borrow(), Some(Duration::from_millis(300)));
        faults.replace(FaultPlan::default());
        assert_eq!(
            *close_idle.borrow(),
            None,
            "a new plan without close_idle_ms keeps connections"
        );
        let zero = FaultPlan { close_idle_ms: Some(0), ..Default::default() };
        assert!(zero.validate().unwrap_err().contains("close_idle_ms"));
    }
}

// SPDX-License-Identifier: MPL-2.0
//! Request counters by route and response status, plus federation/token-issue counts, for
//! tests to assert on through `GET /_emulator/counters`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Thread-safe counters.
#[derive(Default)]
pub struct Counters {
    inner: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
}

impl Counters {
    /// Counts one request on `route` that ended with `outcome` (a status code or `reset`/`truncated`).
    pub fn record(&self, route: &str, outcome: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(route.to_string()).or_default().entry(outcome.to_string()).or_default() += 1;
    }

    /// Zeroes everything.
    pub fn reset(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// JSON snapshot: `{"routes": {route: {status: n}}, "totals": {route: n}, "total": n}`.
    pub fn snapshot(&self) -> serde_json::Value {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let totals: BTreeMap<&String, u64> = m.iter().map(|(r, s)| (r, s.values().sum())).collect();
        let total: u64 = totals.values().sum();
        serde_json::json!({"routes": m, "totals": totals, "total": total})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_resets() {
        let c = Counters::default();
        c.record("encrypt", "200");
        c.record("encrypt", "200");
        c.record("encrypt", "429");
        c.record("federation", "200");
        let s = c.snapshot();
        assert_eq!(s["routes"]["encrypt"]["200"], 2);
        assert_eq!(s["totals"]["encrypt"], 3);
        assert_eq!(s["total"], 4);
        c.reset();
        assert_eq!(c.snapshot()["total"], 0);
    }
}

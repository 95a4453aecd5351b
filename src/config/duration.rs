// SPDX-License-Identifier: MPL-2.0
//! Durations as Vault's config takes them: a number of seconds or a Go duration string.

use std::time::Duration;

/// A duration as Vault accepts it: a number of seconds (`30`, `1.5`) or a Go duration
/// (`"300ms"`, `"1m30s"`, `"2h"`, `"1.5s"`). Negative values are rejected.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    parse_go_duration(value)
}

/// Go's `time.ParseDuration` for non-negative values.
fn parse_go_duration(value: &str) -> Option<Duration> {
    let mut rest = value.strip_prefix('+').unwrap_or(value);
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let int: u128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
        let mut nanos = int.checked_mul(unit_nanos)?;
        let mut scale = unit_nanos;
        for digit in frac_part.bytes().take(18) {
            scale /= 10;
            nanos = nanos.checked_add(u128::from(digit - b'0') * scale)?;
        }
        total_nanos = total_nanos.checked_add(nanos)?;
        rest = after;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn go_durations() {
        let ok = [
            ("30s", 30_000_000_000u128),
            ("1m30s", 90_000_000_000),
            ("500ms", 500_000_000),
            ("1.5h", 5_400_000_000_000),
            ("2h45m", 9_900_000_000_000),
            ("100us", 100_000),
            ("7µs", 7_000),
            ("3ns", 3),
            (".5s", 500_000_000),
            ("+1s", 1_000_000_000),
            ("30", 30_000_000_000),
        ];
        for (text, nanos) in ok {
            assert_eq!(parse_duration(text).map(|d| d.as_nanos()), Some(nanos), "{text}");
        }
        for bad in ["", "s", "1x", "-1s", "-1", "1s-", "1.s.", "h1", "."] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}

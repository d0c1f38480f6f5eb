//! Small pure helpers shared by the benchmarks: statistics, JSON text, host load, time.
//!
//! Each benchmark builds its JSON with `serde_json::json!`; [`to_json`] gives the files one
//! layout.

use std::time::{SystemTime, UNIX_EPOCH};

/// Median (mean of the middle two for an even count); NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Smallest value; +inf for no values.
pub fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Largest value; -inf for no values.
pub fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `a[i] / b[i]` for each pair.
pub fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The 1-minute load average (NaN when `/proc/loadavg` is unreadable).
pub fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// A benchmark's JSON file text: `value` pretty-printed by `serde_json` (numbers that
/// are NaN or infinite, e.g. an unreadable load average, are `null`), ending in a newline.
pub fn to_json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"{e}\""));
    text.push('\n');
    text
}

/// A ratio with three significant digits and no exponent: 1 → `1.00`, 0.005755 →
/// `0.00576`, 174.2 → `174`.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return if x == 0.0 { "0".into() } else { "—".into() };
    }
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// `1234567` → `1,234,567`, for instruction counts and byte sizes in reports.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a unix time (civil-from-days, proleptic Gregorian).
pub fn utc_string(unix: f64) -> String {
    let secs = unix as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(min(&[3.0, 1.5, 2.0]), 1.5);
        assert_eq!(max(&[3.0, 1.5, 2.0]), 3.0);
        assert_eq!(ratios(&[2.0, 9.0], &[4.0, 3.0]), vec![0.5, 3.0]);
    }

    #[test]
    fn text() {
        assert_eq!(utc_string(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_string(1_709_251_199.0), "2024-02-29 23:59:59 UTC");
        assert_eq!(ratio(1.0), "1.00");
        assert_eq!(ratio(9_036_238.0 / 1_570_081_527.0), "0.00576");
        assert_eq!(ratio(174.2), "174");
        assert_eq!(ratio(f64::NAN), "—");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_691_989_420), "1,691,989,420");
        let json = to_json(&serde_json::json!({"a\"b": [1.5, f64::NAN], "n": 3}));
        assert_eq!(json, "{\n  \"a\\\"b\": [\n    1.5,\n    null\n  ],\n  \"n\": 3\n}\n");
    }
}

//! `sessions.jsonl`: a line when `infogan train` starts or resumes a run and a line when it stops,
//! so that a run records what trained it: the command, the build (version and commit), the
//! adapter and the host, the steps covered and the wall time. Unlike the other logs it is never
//! rewound on resume; a process killed outright leaves a start line with no end line.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::gpu::Gpu;

/// One `infogan train` process on one run.
pub struct Session {
    started: Instant,
    first: u64,
}

impl Session {
    /// Starts the clock; the line to log says where the session starts and with what.
    pub fn start(gpu: &Gpu, first: u64, target: u64, command: &str) -> (Session, Value) {
        let line = json!({
            "event": "start",
            "time": utc(SystemTime::now()),
            "step": first,
            "target": target,
            "command": command,
            "build": crate::BUILD,
            "adapter": gpu.adapter_name(),
            "variant": gpu.variant.name(),
            "host": host(),
        });
        (Session { started: Instant::now(), first }, line)
    }

    /// The line that closes the session at `step`: `finished`, `interrupted`, or `failed: ...`.
    pub fn end(&self, step: u64, outcome: &str) -> Value {
        json!({
            "event": "end",
            "time": utc(SystemTime::now()),
            "step": step,
            "steps": step.saturating_sub(self.first),
            "wall_s": (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "outcome": outcome,
        })
    }
}

/// The CPU model and how many threads the process may use (what a software adapter runs on).
fn host() -> String {
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{cpu}, {threads} threads")
}

/// `time` as ISO 8601 in UTC, to the second.
pub fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The Gregorian date of a day count from 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One sentence per session for report.html, oldest first: when, which steps, how it ended and
/// how long it took, with what build on what adapter, and the command.
pub fn describe(lines: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, start) in lines.iter().enumerate().filter(|(_, l)| l["event"] == "start") {
        let when = start["time"].as_str().unwrap_or("?").replace('T', " ").replace('Z', " UTC");
        let from = start["step"].as_u64().unwrap_or(0);
        let end = lines.get(i + 1).filter(|l| l["event"] == "end");
        let ended = match end {
            Some(e) => format!(
                "steps {from} to {}, {} after {}",
                e["step"].as_u64().unwrap_or(0),
                e["outcome"].as_str().unwrap_or("?"),
                duration(e["wall_s"].as_f64().unwrap_or(0.0))
            ),
            None => format!("from step {from}; no end recorded (still running, or killed)"),
        };
        out.push(format!(
            "{when}: {ended}; build {}, {} (variant {}) on {}; `{}`",
            start["build"].as_str().unwrap_or("?"),
            start["adapter"].as_str().unwrap_or("?"),
            start["variant"].as_str().unwrap_or("?"),
            start["host"].as_str().unwrap_or("?"),
            start["command"].as_str().unwrap_or("?"),
        ));
    }
    out
}

/// Seconds as a person reads them: `41.5 s`, `12.3 min`, `1.92 h`.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.2} h", s / 3600.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_names_the_calendar_day() {
        let at = |secs: u64| utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day of a century leap year) 12:34:56.
        assert_eq!(at(951_827_696), "2000-02-29T12:34:56Z");
        // 2026-12-05 01:52:10, and the last second of 2100 (not a leap year).
        assert_eq!(at(1_796_435_530), "2026-12-05T01:52:10Z");
        assert_eq!(at(4_133_980_799), "2100-12-31T23:59:59Z");
    }

    #[test]
    fn describe_pairs_starts_with_their_ends() {
        let start = |step: u64| {
            json!({"event": "start", "time": "2026-12-05T01:52:10Z", "step": step, "build": "0.1.0 (abc1234)",
                   "adapter": "llvmpipe", "variant": "subgroup-tile", "host": "Xeon, 2 threads",
                   "command": "infogan train --seed 1"})
        };
        let end = json!({"event": "end", "time": "2026-12-05T02:52:10Z", "step": 250, "steps": 250,
                         "wall_s": 5400.0, "outcome": "interrupted"});
        let lines = describe(&[start(0), end, start(250)]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("2026-12-05 01:52:10 UTC: steps 0 to 250, interrupted after 1.50 h; build 0.1.0 (abc1234)"), "{}", lines[0]);
        assert!(lines[0].ends_with("`infogan train --seed 1`"), "{}", lines[0]);
        assert!(lines[1].contains("from step 250; no end recorded"), "{}", lines[1]);
        assert_eq!(
            [duration(41.54), duration(738.0), duration(6912.0)],
            ["41.5 s", "12.3 min", "1.92 h"]
        );
    }
}

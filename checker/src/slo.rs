//! Service-level objectives: the course's definition of availability in practice (2.4
//! "Fault tolerance": "an SLO: 99.9% of requests in a day get a response within 200 ms").
//!
//! An objective `P%@Lms/Ws` (`--slo 99%@500ms`, the window 5 s unless given) says: in every
//! window of W seconds of the run, for every client, at least P% of the requests the client
//! made get an answer within L. A request *gets an answer* when it completes `ok`, or `fail`
//! with a definite error that is an answer (a read of a missing key is one); an `info` (a
//! timeout, an indefinite error) or error 11 (temporarily-unavailable: the node refused to
//! serve) is not. Final reads, made after every fault is healed, are left out.
//!
//! A client is named by the node it talks to: a client whose request timed out continues
//! under a new process id, so the history names its requests by their node, and the clients
//! of one node are judged together (one client per node by default). Windows start at the
//! first request's invocation; a request belongs to the window of its invocation, and a
//! (client, window) with no request is not judged. The objective is missed when one judged
//! window falls short; the result names the worst one and the faults in force during it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

use crate::faults::{nemesis_events, seconds};
use crate::history::Event;
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// Error 11, temporarily-unavailable: the node declined to serve.
const TEMPORARILY_UNAVAILABLE: u32 = 11;

/// The window when an objective names none.
pub const DEFAULT_WINDOW_MS: u64 = 5_000;

/// An objective: `percent`% of each client's requests in every window answered within
/// `latency_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Objective {
    pub percent: f64,
    pub latency_ms: u64,
    pub window_ms: u64,
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}%@{}ms/{}",
            self.percent,
            self.latency_ms,
            duration(self.window_ms)
        )
    }
}

/// `5s`, `1500ms`.
fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// An objective that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "--slo {given:?}: {why}; write PERCENT%@LATENCY[/WINDOW], e.g. 99%@500ms or 99.9%@200ms/10s \
     (latency and window in ms or s)"
)]
pub struct BadObjective {
    pub given: String,
    pub why: String,
}

impl FromStr for Objective {
    type Err = BadObjective;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| BadObjective {
            given: s.to_owned(),
            why: why.to_owned(),
        };
        let (percent, rest) = s.trim().split_once('@').ok_or_else(|| bad("no '@'"))?;
        let percent: f64 = percent
            .trim()
            .strip_suffix('%')
            .ok_or_else(|| bad("the share needs a '%'"))?
            .trim()
            .parse()
            .map_err(|_| bad("the share is not a number"))?;
        if !(percent > 0.0 && percent <= 100.0) {
            return Err(bad("the share must be above 0% and at most 100%"));
        }
        let (latency, window) = match rest.split_once('/') {
            Some((l, w)) => (l, Some(w)),
            None => (rest, None),
        };
        let latency_ms =
            millis(latency).ok_or_else(|| bad("the latency is not like 500ms or 1s"))?;
        let window_ms = match window {
            Some(w) => millis(w).ok_or_else(|| bad("the window is not like 5s or 500ms"))?,
            None => DEFAULT_WINDOW_MS,
        };
        if latency_ms == 0 || window_ms == 0 {
            return Err(bad("the latency and the window must be positive"));
        }
        Ok(Objective {
            percent,
            latency_ms,
            window_ms,
        })
    }
}

/// `500ms`, `1.5s`, `2s` in milliseconds.
fn millis(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| (value * scale).round() as u64)
}

/// One client's requests in one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// The node the client talks to.
    pub client: String,
    /// Its start and end, ms since the run started (windows begin at the first request).
    pub start_ms: u64,
    pub end_ms: u64,
    pub requests: usize,
    /// Those answered within the latency.
    pub answered: usize,
    /// `answered / requests`.
    pub share: f64,
    pub met: bool,
}

/// The verdict on an objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloResult {
    pub valid: Validity,
    /// The objective as given (`99%@500ms/5s`).
    pub objective: String,
    /// Requests judged, and those answered within the latency.
    pub requests: usize,
    pub answered: usize,
    /// Windows judged (per client), and those that fell short.
    pub windows: usize,
    pub missed: usize,
    /// The window with the smallest share, and the faults in force during it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Window>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults_in_worst: Vec<String>,
    /// Every judged window, per client in node order, in time order (for the report's chart).
    pub per_window: Vec<Window>,
}

/// Judge `objective` over `events`.
pub fn check_slo(
    events: &[Event],
    objective: &Objective,
) -> Result<SloResult, crate::HistoryError> {
    let ops = client_ops(events)?;
    let judged: Vec<_> = ops
        .iter()
        .filter(|op| !op.invoke.is_final && op.node().is_some())
        .collect();
    let origin = judged.iter().map(|op| op.invoke.time).min().unwrap_or(0);
    let window_ns = objective.window_ms * 1_000_000;
    let latency_ns = objective.latency_ms * 1_000_000;
    // (client's node, window number) -> (requests, answered)
    let mut counts: BTreeMap<(String, u64), (usize, usize)> = BTreeMap::new();
    for op in &judged {
        let window = (op.invoke.time - origin) / window_ns;
        let answered = match (op.outcome(), op.completion) {
            (Outcome::Info, _) | (_, None) => false,
            (outcome, Some(done)) => {
                let refused = outcome == Outcome::Fail
                    && done
                        .error
                        .as_ref()
                        .is_some_and(|e| e.code == TEMPORARILY_UNAVAILABLE);
                !refused && done.time.saturating_sub(op.invoke.time) <= latency_ns
            }
        };
        let entry = counts
            .entry((op.node().unwrap_or_default().to_owned(), window))
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(answered);
    }
    let mut per_window: Vec<Window> = counts
        .into_iter()
        .map(|((client, w), (requests, answered))| {
            let share = answered as f64 / requests as f64;
            let start = origin + w * window_ns;
            Window {
                client,
                start_ms: start / 1_000_000,
                end_ms: (start + window_ns) / 1_000_000,
                requests,
                answered,
                share,
                met: share * 100.0 >= objective.percent - 1e-9,
            }
        })
        .collect();
    per_window.sort_by(|a, b| {
        crate::faults::node_order(&a.client)
            .cmp(&crate::faults::node_order(&b.client))
            .then(a.start_ms.cmp(&b.start_ms))
    });
    let worst = per_window
        .iter()
        .min_by(|a, b| {
            a.share
                .total_cmp(&b.share)
                .then(a.start_ms.cmp(&b.start_ms))
        })
        .cloned();
    let missed = per_window.iter().filter(|w| !w.met).count();
    let faults_in_worst = worst
        .as_ref()
        .filter(|w| !w.met)
        .map(|w| faults_during(events, w.start_ms * 1_000_000, w.end_ms * 1_000_000))
        .unwrap_or_default();
    Ok(SloResult {
        valid: if missed == 0 {
            Validity::Valid
        } else {
            Validity::Invalid
        },
        objective: objective.to_string(),
        requests: judged.len(),
        answered: per_window.iter().map(|w| w.answered).sum(),
        windows: per_window.len(),
        missed,
        worst,
        faults_in_worst,
        per_window,
    })
}

/// The faults started before `to` and not stopped before `from`, in words (`the kill of n1
/// at 3.10 s`).
fn faults_during(events: &[Event], from: u64, to: u64) -> Vec<String> {
    // A fault's start, by the kind its stop names, kept until the stop.
    let mut open: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let mut during = Vec::new();
    for e in nemesis_events(events) {
        if e.time >= to {
            break;
        }
        match stop_kind(e.f) {
            Some(kind) => {
                let started = open.remove(kind).unwrap_or_default();
                if e.time >= from {
                    during.extend(started.into_iter().map(|(_, d)| d));
                }
            }
            None => {
                let words = match e.f.strip_prefix("start-") {
                    Some(kind) => format!("the {kind} from {}", seconds(e.time)),
                    None => e.describe(),
                };
                open.entry(start_kind(e.f).to_owned())
                    .or_default()
                    .push((e.time, words));
            }
        }
    }
    during.extend(open.into_values().flatten().map(|(_, d)| d));
    during.sort();
    during.dedup();
    during
}

/// The kind of fault a stop event ends, or None for a start.
fn stop_kind(f: &str) -> Option<&str> {
    match f {
        "restart" => Some("kill"),
        "resume" => Some("pause"),
        "clock-reset" => Some("clock"),
        _ => f.strip_prefix("stop-"),
    }
}

/// The kind of fault a start event begins.
fn start_kind(f: &str) -> &str {
    match f {
        "kill" | "wipe" => "kill",
        "pause" => "pause",
        _ if f.starts_with("clock-") => "clock",
        _ => f.strip_prefix("start-").unwrap_or(f),
    }
}

impl fmt::Display for SloResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.missed == 0 { "met" } else { "missed" };
        write!(
            f,
            "SLO {}: {verdict} ({} of {} requests answered in time; {} of {} client windows short)",
            self.objective, self.answered, self.requests, self.missed, self.windows
        )?;
        if let Some(w) = self.worst.as_ref().filter(|w| !w.met) {
            write!(
                f,
                "; worst: the client of {} from {} to {}: {} of {} in time ({:.0}%)",
                w.client,
                seconds(w.start_ms * 1_000_000),
                seconds(w.end_ms * 1_000_000),
                w.answered,
                w.requests,
                w.share * 100.0
            )?;
            if !self.faults_in_worst.is_empty() {
                write!(f, ", during {}", self.faults_in_worst.join(", "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(s: &str) -> Objective {
        s.parse().unwrap()
    }

    #[test]
    fn objectives_parse_with_a_default_window_and_bad_ones_say_how_to_write_them() {
        assert_eq!(
            objective("99%@500ms"),
            Objective {
                percent: 99.0,
                latency_ms: 500,
                window_ms: 5_000
            }
        );
        assert_eq!(objective("99.9%@0.2s/10s").latency_ms, 200);
        assert_eq!(objective("99.9%@200ms/10s").to_string(), "99.9%@200ms/10s");
        for bad in [
            "99@500ms",
            "99%",
            "99%@fast",
            "0%@1s",
            "101%@1s",
            "99%@0ms",
            "99%@1s/0s",
        ] {
            let err = bad.parse::<Objective>().unwrap_err().to_string();
            assert!(err.contains("e.g. 99%@500ms"), "{err}");
        }
    }

    fn history(lines: &[&str]) -> Vec<Event> {
        crate::parse_history("h", lines.join("\n").as_bytes()).unwrap()
    }

    const MS: u64 = 1_000_000;

    fn op(p: u64, node: &str, at_ms: u64, took_ms: u64, outcome: &str) -> [String; 2] {
        let error = if outcome == "ok" {
            String::new()
        } else if outcome == "info" {
            r#","error":{"code":0,"name":"timeout","text":""}"#.to_owned()
        } else {
            r#","error":{"code":11,"name":"temporarily-unavailable","text":""}"#.to_owned()
        };
        [
            format!(
                r#"{{"time":{},"process":{p},"node":"{node}","type":"invoke","f":"read","value":null}}"#,
                at_ms * MS
            ),
            format!(
                r#"{{"time":{},"process":{p},"node":"{node}","type":"{outcome}","f":"read","value":null{error}}}"#,
                (at_ms + took_ms) * MS
            ),
        ]
    }

    #[test]
    fn a_window_with_a_slow_or_refused_request_falls_short_and_names_the_fault() {
        let mut lines: Vec<String> = Vec::new();
        // n0's client: always fast. n1's client: fast in the first window, then one slow,
        // one refused and one timed out in the second, during a kill of n1.
        for i in 0..10 {
            lines.extend(op(0, "n0", i * 1000, 5, "ok"));
        }
        for i in 0..5 {
            lines.extend(op(1, "n1", i * 1000, 5, "ok"));
        }
        lines.push(
            r#"{"time":5500000000,"process":"nemesis","type":"info","f":"kill","value":["n1"]}"#
                .into(),
        );
        lines.extend(op(1, "n1", 6000, 900, "ok"));
        lines.extend(op(1, "n1", 7000, 5, "fail"));
        lines.extend(op(1, "n1", 8000, 5, "ok"));
        lines.extend(op(1, "n1", 9000, 5, "info"));
        lines.extend(op(2, "n1", 9500, 5, "ok"));
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let events = history(&refs);
        let r = check_slo(&events, &objective("99%@500ms")).unwrap();
        assert_eq!((r.windows, r.missed, r.requests), (4, 1, 20));
        assert_eq!(r.valid, Validity::Invalid);
        let worst = r.worst.clone().unwrap();
        assert_eq!(
            (
                worst.client.as_str(),
                worst.start_ms,
                worst.requests,
                worst.answered
            ),
            ("n1", 5000, 5, 2)
        );
        assert_eq!(
            r.faults_in_worst,
            vec!["the kill of n1 at 5.50 s".to_owned()]
        );
        let text = r.to_string();
        assert!(
            text.contains("missed") && text.contains("2 of 5 in time (40%)"),
            "{text}"
        );
        let lenient = check_slo(&events, &objective("40%@1s")).unwrap();
        assert_eq!((lenient.missed, lenient.valid), (0, Validity::Valid));
    }
}

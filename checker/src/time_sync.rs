//! time-sync: did every node that said its clock was synchronised read the true time, within
//! a target skew? The course's 3.2 "Clock synchronisation": a node corrects its physical clock
//! (3.1) from a time server's, NTP's way, and can be judged only against the truth, which the
//! harness knows and the node does not.
//!
//! **True time.** The history's time (ns since the run started) plus the time of day the run
//! started at: the harness writes the true time of day (`true_time_us`, microseconds since the
//! Unix epoch) into the value of the clock events it records as the workload starts (the
//! initial offsets of the nodes' clocks), so the start's time of day is that minus the event's
//! `time`. Each node's clock offset at any instant comes from [`ClockTimeline`].
//!
//! **Skew.** A `read_time` op returns `{time, state}`: the node's synchronised time in
//! microseconds since the Unix epoch, and what the node says of it (`synchronised`, `slewing`,
//! `unsynchronised`, `panicked`). Its skew is the distance from `time` to the true time
//! interval of the op, [invoke, complete]: 0 inside, positive when the node read ahead of
//! the interval, negative when behind.
//!
//! **Verdict.** A read is *judged* when its node said `synchronised` and it completed at least
//! the convergence allowance ([`TimeSyncOptions::convergence`]) after the last change of that
//! node's clock (its initial offset, or a clock fault): a node may claim synchronisation a
//! moment before it notices that its clock moved, and not longer. A judged read beyond the
//! target skew ([`TimeSyncOptions::target_skew`]) makes the run invalid, explained with the
//! clock's history. A node that says `panicked` (it refused to correct an offset beyond its
//! panic threshold) is reported by name with its offset, and is not a failure. A node that
//! was read after the allowance but never said either then is listed
//! (`never_synchronised`: still slewing, or just restarted); when no read at all could be
//! judged the verdict is unknown (unknown is never a pass).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::clocks::{ClockTimeline, signed_offset};
use crate::faults::{nemesis_events, seconds};
use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// The key of a clock event's value that gives the true time of day at that event.
pub const TRUE_TIME_KEY: &str = "true_time_us";

/// At most this many failures are listed.
const LISTED: usize = 10;

/// What the check allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSyncOptions {
    /// How far a synchronised clock may be from the true time.
    pub target_skew: Duration,
    /// How long after a change of its clock a node's claim of synchronisation is not judged.
    pub convergence: Duration,
}

impl Default for TimeSyncOptions {
    fn default() -> Self {
        TimeSyncOptions {
            target_skew: Duration::from_millis(25),
            convergence: Duration::from_secs(3),
        }
    }
}

/// One read of a node's clock, as the report draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct SkewPoint {
    /// When the read completed (ns since the start).
    pub time: u64,
    /// The skew (ns): positive ahead of the true time, negative behind.
    pub skew_ns: i64,
    pub state: String,
}

/// One node's synchronisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSync {
    /// What the node said at its last read.
    pub state: String,
    pub reads: usize,
    /// Reads judged (synchronised, after the convergence allowance).
    pub judged: usize,
    /// Quantiles of the absolute skew of its judged reads, in ms (keys 0, 0.5, 0.95, 0.99, 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_ms: Option<BTreeMap<&'static str, f64>>,
    /// The largest absolute skew of a judged read, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_after_convergence_ms: Option<f64>,
    /// Its clock's offset from the true time when the workload started (s).
    pub initial_offset_s: f64,
    /// Every read: the report's chart.
    #[serde(skip)]
    pub points: Vec<SkewPoint>,
}

/// A node that refused to correct its clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unfixed {
    pub node: String,
    /// Its clock's offset at its last `panicked` read (s).
    pub offset_s: f64,
    pub why: String,
}

/// A judged read beyond the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkewError {
    pub node: String,
    /// `index` of the read's completion.
    pub index: u64,
    pub skew_ms: f64,
    pub why: String,
}

/// The result of the time-sync check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeSyncResult {
    pub valid: Validity,
    pub target_skew_ms: f64,
    pub convergence_s: f64,
    pub read_count: usize,
    pub judged_count: usize,
    pub nodes: BTreeMap<String, NodeSync>,
    /// The nodes that panicked, by name, with their offsets.
    pub unfixed: Vec<Unfixed>,
    /// The nodes that were read after the convergence allowance but never said synchronised
    /// (or panicked) then.
    pub never_synchronised: Vec<String>,
    pub error_count: usize,
    pub errors: Vec<SkewError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// The time of day (ns since the Unix epoch) at which the history's time 0 was, from the
/// first clock event that records it.
pub fn start_time_of_day(events: &[Event]) -> Option<i128> {
    nemesis_events(events).into_iter().find_map(|e| {
        let us = e.value.get(TRUE_TIME_KEY)?.as_u64()?;
        Some(i128::from(us) * 1_000 - i128::from(e.time))
    })
}

/// The skew (ns) of a clock that read `read` against the true interval `[from, to]`.
pub fn skew(read: i128, from: i128, to: i128) -> i64 {
    let d = if read < from {
        read - from
    } else if read > to {
        read - to
    } else {
        0
    };
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `1.834 s ahead of` / `12.0 ms behind`.
fn ahead_or_behind(skew: i64) -> String {
    let abs = skew.unsigned_abs() as f64;
    let size = if abs >= 1e9 {
        format!("{:.3} s", abs / 1e9)
    } else {
        format!("{:.1} ms", abs / 1e6)
    };
    format!("{size} {}", if skew >= 0 { "ahead of" } else { "behind" })
}

fn ms(ns: i64) -> f64 {
    (ns as f64 / 1e3).round() / 1e3
}

/// Check the `read_time` ops of a time-sync history.
pub fn check_time_sync(
    events: &[Event],
    options: &TimeSyncOptions,
) -> Result<TimeSyncResult, HistoryError> {
    let ops = client_ops(events)?;
    let timeline = ClockTimeline::of(events);
    let start = start_time_of_day(events);
    let convergence = options.convergence.as_nanos() as u64;
    let target = options.target_skew.as_nanos() as i64;
    let mut result = TimeSyncResult {
        valid: Validity::Valid,
        target_skew_ms: options.target_skew.as_secs_f64() * 1e3,
        convergence_s: options.convergence.as_secs_f64(),
        read_count: 0,
        judged_count: 0,
        nodes: BTreeMap::new(),
        unfixed: Vec::new(),
        never_synchronised: Vec::new(),
        error_count: 0,
        errors: Vec::new(),
        unknown_reason: None,
    };
    let Some(start) = start else {
        result.valid = Validity::Unknown;
        result.unknown_reason = Some(
            "the history does not say the true time of day (no clock event with true_time_us)"
                .to_owned(),
        );
        return Ok(result);
    };
    // Per node: the last panicked read (time), and whether any read came after the allowance.
    let mut panicked_at: BTreeMap<String, u64> = BTreeMap::new();
    let mut late_reads: BTreeMap<String, bool> = BTreeMap::new();
    let mut judged_skews: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for op in &ops {
        if op.f() != "read_time" || op.outcome() != Outcome::Ok {
            continue;
        }
        let (Some(node), Some(done)) = (op.node(), op.completion) else {
            continue;
        };
        let value = op.value();
        let Some(time_us) = value.get("time").and_then(Value::as_u64) else {
            continue;
        };
        let state = value
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("unsynchronised")
            .to_owned();
        result.read_count += 1;
        let (from, to) = (op.invoke.time, done.time);
        let s = skew(
            i128::from(time_us) * 1_000,
            start + i128::from(from),
            start + i128::from(to),
        );
        let entry = result
            .nodes
            .entry(node.to_owned())
            .or_insert_with(|| NodeSync {
                state: String::new(),
                reads: 0,
                judged: 0,
                skew_ms: None,
                max_after_convergence_ms: None,
                initial_offset_s: timeline
                    .changes(node)
                    .first()
                    .map_or(0.0, |c| c.clock.offset_at(c.time) as f64 / 1e9),
                points: Vec::new(),
            });
        entry.reads += 1;
        entry.state = state.clone();
        entry.points.push(SkewPoint {
            time: to,
            skew_ns: s,
            state: state.clone(),
        });
        let changed = timeline.clock_at(node, to).map_or(0, |c| c.time);
        let settled = to >= changed.saturating_add(convergence);
        if !settled {
            continue;
        }
        *late_reads.entry(node.to_owned()).or_default() = true;
        match state.as_str() {
            "panicked" => {
                // The first read that said so, once past the convergence allowance.
                panicked_at.entry(node.to_owned()).or_insert(to);
            }
            "synchronised" => {
                entry.judged += 1;
                result.judged_count += 1;
                judged_skews.entry(node.to_owned()).or_default().push(s);
                if s.abs() > target {
                    result.error_count += 1;
                    if result.errors.len() < LISTED {
                        let mut why = format!(
                            "{node} said it was synchronised at {} but read {} true time",
                            seconds(to),
                            ahead_or_behind(s)
                        );
                        match (timeline.describe(node, to), timeline.clock_at(node, to)) {
                            (Some(clock), _) => why.push_str(&format!("; {clock}")),
                            (None, Some(reset)) => why.push_str(&format!(
                                "; {node}'s clock was set right at {}, and the node did not \
                                 notice",
                                seconds(reset.time)
                            )),
                            (None, None) => {}
                        }
                        result.errors.push(SkewError {
                            node: node.to_owned(),
                            index: done.index,
                            skew_ms: ms(s),
                            why,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    for (node, skews) in &judged_skews {
        let Some(entry) = result.nodes.get_mut(node) else {
            continue;
        };
        let mut abs: Vec<i64> = skews.iter().map(|s| s.abs()).collect();
        abs.sort_unstable();
        let n = abs.len();
        let at = |q: f64| ms(abs[((n as f64 * q).floor() as usize).min(n - 1)]);
        entry.skew_ms = Some(
            [
                ("0", 0.0),
                ("0.5", 0.5),
                ("0.95", 0.95),
                ("0.99", 0.99),
                ("1", 1.0),
            ]
            .into_iter()
            .map(|(k, q)| (k, at(q)))
            .collect(),
        );
        entry.max_after_convergence_ms = abs.last().map(|&m| ms(m));
    }
    for (node, &at) in &panicked_at {
        let offset = timeline.offset_at(node, at);
        let mut why = format!(
            "{node} could not synchronise: it said it had panicked (refused to correct its clock) at {}, its clock {} off",
            seconds(at),
            signed_offset(offset)
        );
        if let Some(change) = timeline.clock_at(node, at)
            && let Some(fault) = change.fault
        {
            why.push_str(&format!(" ({fault} at {})", seconds(change.time)));
        }
        result.unfixed.push(Unfixed {
            node: node.clone(),
            offset_s: offset as f64 / 1e9,
            why,
        });
    }
    if result.error_count > 0 {
        result.valid = Validity::Invalid;
    } else {
        let silent: Vec<&str> = late_reads
            .keys()
            .filter(|n| !judged_skews.contains_key(*n) && !panicked_at.contains_key(*n))
            .map(String::as_str)
            .collect();
        result.never_synchronised = silent.iter().map(|n| (*n).to_owned()).collect();
        if result.read_count == 0 || late_reads.is_empty() {
            result.valid = Validity::Unknown;
            result.unknown_reason = Some(format!(
                "no read of a node's clock completed {} s after its last change",
                options.convergence.as_secs_f64()
            ));
        } else if result.judged_count == 0 && !silent.is_empty() {
            result.valid = Validity::Unknown;
            result.unknown_reason = Some(format!(
                "no node said synchronised after the convergence allowance ({} never did)",
                silent.join(", ")
            ));
        }
    }
    Ok(result)
}

impl TimeSyncResult {
    /// The failure told in words: the reads beyond the target, and the nodes that panicked.
    pub fn story(&self) -> crate::story::Story {
        let mut story = crate::story::Story::default();
        let told = crate::story::TOLD;
        story.failures = self
            .errors
            .iter()
            .take(told)
            .map(|e| e.why.clone())
            .collect();
        if self.error_count > told {
            story.failures.push(format!(
                "and {} more reads beyond the target skew",
                self.error_count - told
            ));
        }
        story
            .failures
            .extend(self.unfixed.iter().map(|u| u.why.clone()));
        story.headline = match (self.valid, self.errors.first()) {
            (Validity::Unknown, _) => self.unknown_reason.clone(),
            (Validity::Invalid, Some(e)) => Some(format!(
                "{} read{} of a synchronised clock beyond the target skew of {} ms: {}",
                self.error_count,
                if self.error_count == 1 { "" } else { "s" },
                self.target_skew_ms,
                e.why
            )),
            _ => None,
        };
        story
    }
}

impl fmt::Display for TimeSyncResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "time-sync: {} reads, {} judged (synchronised, {} s after a clock change), target \
             skew {} ms",
            self.read_count, self.judged_count, self.convergence_s, self.target_skew_ms
        )?;
        for (node, sync) in &self.nodes {
            match sync.max_after_convergence_ms {
                Some(max) => writeln!(
                    f,
                    "  {node}: {}, initial offset {}, max skew {max:.3} ms, median {:.3} ms",
                    sync.state,
                    signed_offset((sync.initial_offset_s * 1e9) as i64),
                    sync.skew_ms
                        .as_ref()
                        .and_then(|q| q.get("0.5"))
                        .copied()
                        .unwrap_or(0.0)
                )?,
                None => writeln!(
                    f,
                    "  {node}: {}, initial offset {}, no judged read",
                    sync.state,
                    signed_offset((sync.initial_offset_s * 1e9) as i64)
                )?,
            }
        }
        for u in &self.unfixed {
            writeln!(f, "  not fixed: {}", u.why)?;
        }
        if !self.never_synchronised.is_empty() {
            writeln!(
                f,
                "  never said synchronised after the allowance: {}",
                self.never_synchronised.join(", ")
            )?;
        }
        for e in &self.errors {
            writeln!(f, "  {}", e.why)?;
        }
        if self.error_count > self.errors.len() {
            writeln!(f, "  and {} more", self.error_count - self.errors.len())?;
        }
        if let Some(why) = &self.unknown_reason {
            writeln!(f, "  unknown: {why}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    /// The true time of day at the history's time 0, in µs.
    const DAY0_US: u64 = 1_767_225_600_000_000;

    fn history(lines: &[String]) -> Vec<Event> {
        crate::parse_history("h", lines.join("\n").as_bytes()).unwrap()
    }

    fn step(index: u64, time: u64, node: &str, delta_ms: i64) -> String {
        format!(
            r#"{{"index":{index},"time":{time},"process":"nemesis","type":"info","f":"clock-step","value":{{"nodes":["{node}"],"delta_ms":{delta_ms},"true_time_us":{}}}}}"#,
            DAY0_US + time / 1_000
        )
    }

    /// A read by client `p` of `node`, from `at` to `at` + 1 ms, answering `true + off_ms`.
    fn read(index: u64, p: u64, node: &str, at: u64, off_ms: i64, state: &str) -> [String; 2] {
        let done = at + 1_000_000;
        let time = (DAY0_US + at / 1_000) as i64 + off_ms * 1_000;
        [
            format!(
                r#"{{"index":{index},"time":{at},"process":{p},"node":"{node}","type":"invoke","f":"read_time","value":null}}"#
            ),
            format!(
                r#"{{"index":{},"time":{done},"process":{p},"node":"{node}","type":"ok","f":"read_time","value":{{"time":{time},"state":"{state}"}}}}"#,
                index + 1
            ),
        ]
    }

    #[test]
    fn a_node_that_claims_synchronised_but_is_off_makes_the_run_invalid_with_the_reason() {
        let mut lines = vec![step(0, 0, "n1", 30), step(1, 0, "n2", 500)];
        lines.push(step(2, 4_100_000_000, "n2", 2_000));
        lines.extend(read(3, 0, "n1", 5 * S, 0, "synchronised"));
        lines.extend(read(5, 1, "n2", 3 * S + S / 2, 0, "synchronised"));
        // n2's clock was stepped at 4.1 s and it still says synchronised, 1.834 s ahead.
        lines.extend(read(
            7,
            1,
            "n2",
            6_200_000_000 - 1_000_000,
            1_835,
            "synchronised",
        ));
        let result = check_time_sync(
            &history(&lines),
            &TimeSyncOptions {
                target_skew: Duration::from_millis(25),
                convergence: Duration::from_secs(1),
            },
        )
        .unwrap();
        assert_eq!(result.valid, Validity::Invalid, "{result}");
        assert_eq!(result.error_count, 1);
        assert_eq!(
            result.errors[0].why,
            "n2 said it was synchronised at 6.20 s but read 1.834 s ahead of true time; n2's \
             clock was +2.500 s off at 6.20 s (stepped +2.000 s at 4.10 s)"
        );
        assert_eq!(result.nodes["n1"].max_after_convergence_ms, Some(0.0));
    }

    #[test]
    fn a_panicked_node_is_named_with_its_offset_and_is_not_a_failure() {
        let mut lines = vec![step(0, 0, "n0", 5), step(1, 0, "n1", 1_500_000)];
        lines.extend(read(2, 0, "n0", 4 * S, 0, "synchronised"));
        lines.extend(read(4, 1, "n1", 4 * S, 1_500_000, "panicked"));
        // Read before the allowance: not judged, though off.
        lines.extend(read(6, 0, "n0", S / 2, 5, "synchronised"));
        let result = check_time_sync(&history(&lines), &TimeSyncOptions::default()).unwrap();
        assert_eq!(result.valid, Validity::Valid, "{result}");
        assert_eq!(result.unfixed.len(), 1);
        assert_eq!(result.unfixed[0].node, "n1");
        assert_eq!(result.unfixed[0].offset_s, 1500.0);
        assert!(
            result.unfixed[0].why.contains("+1500.000 s off"),
            "{}",
            result.unfixed[0].why
        );
        assert_eq!(result.judged_count, 1);
    }

    #[test]
    fn skew_is_zero_inside_the_true_interval_and_the_distance_outside() {
        assert_eq!(skew(15, 10, 20), 0);
        assert_eq!(skew(25, 10, 20), 5);
        assert_eq!(skew(4, 10, 20), -6);
    }
}

//! failure-detector: how fast the nodes' failure detector suspects a crashed node, whether it
//! ever misses one, and how often it suspects a node that is up (the course's failure
//! detectors; the eventually perfect detector ◇P of partial synchrony).
//!
//! The history alone is read: the clients' `suspect` reads (ok value: the list of node ids the
//! node suspected when it answered) and the nemesis events (`kill`/`wipe` until `restart`,
//! `pause` until `resume`, `start-partition` until `stop-partition`).
//!
//! - **Detection time.** For each kill episode of a node X (from its `kill` or `wipe` to its
//!   `restart`, or to the end) and each other node O that answered reads meanwhile (an
//!   *observer*): the completion time of O's first read invoked after the kill that names X,
//!   minus the time of the kill. Reads *sample* the detector, so this is an upper bound, as
//!   precise as the interval between O's reads (about node count / `--rate`). Quantiles of all
//!   of them are in `detection_time_ms`. A node already suspected when it is killed (cut off
//!   by a partition just before) is detected at O's next read; an observer paused meanwhile
//!   detects it only once it runs again.
//! - **Missed detection (completeness).** A detector must suspect a crashed node within the
//!   *detection bound* (`--detection-bound-ms`; [`DETECTION_BOUND`], 5 s, by default, well
//!   above the reference node's largest timeout, 2 s) and keep suspecting it: a read by O invoked at least that long after the kill (or after O itself
//!   last came back from a pause or a restart, as a node cannot watch while it is not running)
//!   and completed before X's restart must name X. One that does not is a missed detection,
//!   and the run is invalid.
//! - **False suspicion.** A read that names a node that was up (not killed or wiped) during the
//!   whole read. No detector is perfect in a partially synchronous system, so these are
//!   counted, not judged: per observer and suspect, consecutive such reads make one false
//!   suspicion, whose `observed_ms` runs from the first read's invocation to the last read's
//!   completion (what the samples show; a suspicion shorter than the read interval may go
//!   unseen). Each is put down to the first of these that was in force within
//!   [`CAUSE_LOOKBACK`] before or during its first read: the suspect had just restarted
//!   (`after_restart`: the observer had not heard from it again yet), the suspect was paused
//!   (`during_pause`), the observer was paused (`observer_paused`), a partition cut the
//!   observer off from the suspect (`during_partition`); else `other` (slow links or a slow
//!   machine, or a detector too quick to suspect).
//! - **Eventual accuracy.** The final reads come after every fault has healed and the
//!   recovery wait: a final read that names a node that was up then is a suspicion that never
//!   ended, and the run is invalid.
//!
//! The verdict is unknown when no final read completed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::faults::{PartitionSpan, nemesis_events, node_order, partitions, seconds};
use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::set_full::{Quantiles, quantiles};
use crate::validity::Validity;

/// How long after a kill (ns) every correct observer's reads must name the killed node, unless
/// the run says otherwise.
pub const DETECTION_BOUND: u64 = 5_000_000_000;

/// How long before a false suspicion (ns) a fault may have ended and still explain it.
pub const CAUSE_LOOKBACK: u64 = 1_000_000_000;

/// At most this many false suspicions are listed one by one.
const LISTED: usize = 64;

const MS: u64 = 1_000_000;

/// The result of the failure-detector check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectorResult {
    pub valid: Validity,
    /// The detection bound in ms ([`DETECTION_BOUND`] unless the run set another).
    pub detection_bound_ms: u64,
    /// Kill (and wipe) episodes.
    pub kill_count: usize,
    /// (kill, observer) pairs where the observer's reads named the killed node.
    pub detection_count: usize,
    /// (kill, observer) pairs where a read past the bound did not name it.
    pub missed_count: usize,
    /// Quantiles of the detection times, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_time_ms: Option<Quantiles>,
    /// Each kill episode, with each observer's detection.
    pub kills: Vec<KillEpisode>,
    pub false_suspicions: FalseSuspicions,
    /// Final reads that completed.
    pub final_read_count: usize,
    /// Suspicions of nodes that were up, in the final reads.
    pub final_suspicion_count: usize,
    /// What broke the guarantees, one sentence each (missed detections, then final
    /// suspicions).
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// One kill (or wipe) of one node, until its restart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KillEpisode {
    pub node: String,
    /// `kill` or `wipe`.
    pub fault: String,
    pub killed_at_ms: u64,
    /// `None`: not restarted before the history ends.
    pub restarted_at_ms: Option<u64>,
    pub lasted_ms: u64,
    pub observers: Vec<Detection>,
}

/// What one observer's reads showed of one kill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub observer: String,
    /// How many of its reads were invoked during the episode.
    pub reads: usize,
    /// Completion of its first read naming the killed node, minus the kill's time.
    pub detected_after_ms: Option<u64>,
    /// `index` of that read's completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_by: Option<u64>,
    /// `index` of the invocation of a read past the bound that did not name the killed node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_by: Option<u64>,
}

/// The false suspicions of a run, counted by cause.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FalseSuspicions {
    /// False suspicions (runs of consecutive reads by one observer naming one node that was
    /// up).
    pub count: usize,
    /// Reads that named a node that was up (a read naming two counts twice).
    pub reads: usize,
    pub after_restart: usize,
    pub during_pause: usize,
    pub observer_paused: usize,
    pub during_partition: usize,
    pub other: usize,
    /// The longest `observed_ms`, and their sum.
    pub longest_ms: u64,
    pub total_ms: u64,
    /// The first few, in time order.
    pub list: Vec<FalseSuspicion>,
}

/// One false suspicion: consecutive reads by `observer` that named `suspect` while it was up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalseSuspicion {
    pub observer: String,
    pub suspect: String,
    /// The first read's invocation and the last read's completion.
    pub from_ms: u64,
    pub to_ms: u64,
    pub observed_ms: u64,
    pub reads: usize,
    /// `after_restart`, `during_pause`, `observer_paused`, `during_partition` or `other`.
    pub cause: &'static str,
}

/// An ok `suspect` read.
#[derive(Debug)]
struct Read<'a> {
    observer: &'a str,
    invoked: u64,
    completed: u64,
    invoke_index: u64,
    complete_index: u64,
    suspects: Vec<&'a str>,
    is_final: bool,
}

/// A span of time, `end` `None` when it lasts to the end of the history.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: Option<u64>,
}

impl Span {
    fn at(&self, t: u64) -> bool {
        self.start <= t && self.end.is_none_or(|e| t < e)
    }

    fn during(&self, from: u64, to: u64) -> bool {
        self.start <= to && self.end.is_none_or(|e| from < e)
    }
}

/// Each node's spans of one kind of fault, from the nemesis events that start and stop it.
fn spans(events: &[Event], starts: &[&str], stop: &str) -> BTreeMap<String, Vec<(Span, String)>> {
    let mut out: BTreeMap<String, Vec<(Span, String)>> = BTreeMap::new();
    for e in nemesis_events(events) {
        for node in &e.nodes {
            let list = out.entry((*node).to_owned()).or_default();
            let open = list.last_mut().filter(|(s, _)| s.end.is_none());
            if starts.contains(&e.f) {
                if open.is_none() {
                    list.push((
                        Span {
                            start: e.time,
                            end: None,
                        },
                        e.f.to_owned(),
                    ));
                }
            } else if e.f == stop
                && let Some((span, _)) = open
            {
                span.end = Some(e.time);
            }
        }
    }
    out
}

/// The ok `suspect` reads of a history.
fn reads(events: &[Event]) -> Result<Vec<Read<'_>>, HistoryError> {
    let mut out = Vec::new();
    for op in client_ops(events)? {
        if op.f() != "suspect" || op.outcome() != Outcome::Ok {
            continue;
        }
        let Some(completion) = op.completion else {
            continue;
        };
        let bad = |why: String| HistoryError::Malformed {
            index: completion.index,
            reason: why,
        };
        let Some(observer) = op.node() else {
            return Err(bad("a suspect read names no node".to_owned()));
        };
        let Value::Array(list) = op.value() else {
            return Err(bad(format!(
                "a suspect read's value must be a list of node ids, found {}",
                op.value()
            )));
        };
        let suspects = list
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    bad(format!(
                        "a suspect read's value must be a list of node ids, found {v} in it"
                    ))
                })
            })
            .collect::<Result<Vec<&str>, _>>()?;
        out.push(Read {
            observer,
            invoked: op.invoke.time,
            completed: completion.time,
            invoke_index: op.invoke.index,
            complete_index: completion.index,
            suspects,
            is_final: op.is_final(),
        });
    }
    out.sort_by_key(|r| (r.invoked, r.invoke_index));
    Ok(out)
}

/// What the check reads from the history besides the reads.
struct Faults {
    down: BTreeMap<String, Vec<(Span, String)>>,
    paused: BTreeMap<String, Vec<(Span, String)>>,
    partitions: Vec<PartitionSpan>,
}

impl Faults {
    fn down_during(&self, node: &str, from: u64, to: u64) -> bool {
        self.down
            .get(node)
            .is_some_and(|l| l.iter().any(|(s, _)| s.during(from, to)))
    }

    fn paused_during(&self, node: &str, from: u64, to: u64) -> bool {
        self.paused
            .get(node)
            .is_some_and(|l| l.iter().any(|(s, _)| s.during(from, to)))
    }

    /// The last time `node` came back (restart or resume) in `(after, before)`.
    fn came_back(&self, node: &str, after: u64, before: u64) -> Option<u64> {
        self.down
            .get(node)
            .into_iter()
            .chain(self.paused.get(node))
            .flatten()
            .filter_map(|(s, _)| s.end)
            .filter(|&t| after < t && t < before)
            .max()
    }

    /// Why `observer` suspected `suspect`, which was up, in a read during `[from, to]`.
    fn cause(&self, observer: &str, suspect: &str, from: u64, to: u64) -> &'static str {
        let window = from.saturating_sub(CAUSE_LOOKBACK);
        let restarted = self.down.get(suspect).is_some_and(|l| {
            l.iter()
                .any(|(s, _)| s.end.is_some_and(|e| window <= e && e <= to))
        });
        if restarted {
            "after_restart"
        } else if self.paused_during(suspect, window, to) {
            "during_pause"
        } else if self.paused_during(observer, window, to) {
            "observer_paused"
        } else if self.partitions.iter().any(|p| {
            p.during(window, to)
                && p.grudge
                    .get(observer)
                    .is_some_and(|deaf| deaf.iter().any(|n| n == suspect))
        }) {
            "during_partition"
        } else {
            "other"
        }
    }
}

/// The past participle of a crash fault: `killed`, `wiped`.
fn crashed(fault: &str) -> &'static str {
    if fault == "wipe" { "wiped" } else { "killed" }
}

/// Check a failure-detector history, with a detection bound of `bound` ([`DETECTION_BOUND`]
/// when `None`).
pub fn check_failure_detector(
    events: &[Event],
    bound: Option<Duration>,
) -> Result<DetectorResult, HistoryError> {
    let bound = bound.map_or(DETECTION_BOUND, |b| {
        u64::try_from(b.as_nanos()).unwrap_or(u64::MAX)
    });
    let reads = reads(events)?;
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    for r in &reads {
        nodes.insert(r.observer);
        nodes.extend(r.suspects.iter().copied());
    }
    for e in nemesis_events(events) {
        nodes.extend(e.nodes.iter().copied());
    }
    let mut node_ids: Vec<String> = nodes.iter().map(|n| (*n).to_owned()).collect();
    node_ids.sort_by(|a, b| node_order(a).cmp(&node_order(b)));
    let faults = Faults {
        down: spans(events, &["kill", "wipe"], "restart"),
        paused: spans(events, &["pause"], "resume"),
        partitions: partitions(events, &node_ids),
    };
    let end = events.iter().map(|e| e.time).max().unwrap_or(0);
    let mut errors = Vec::new();

    // Completeness: every kill episode, every observer.
    let mut kills = Vec::new();
    let mut detection_times = Vec::new();
    let mut missed_count = 0;
    let mut episodes: Vec<(&String, &Span, &String)> = faults
        .down
        .iter()
        .flat_map(|(node, list)| list.iter().map(move |(s, f)| (node, s, f)))
        .collect();
    episodes.sort_by_key(|(node, s, _)| (s.start, node_order(node)));
    for (node, span, fault) in episodes {
        let stop = span.end.unwrap_or(end);
        let mut observers = Vec::new();
        for observer in node_ids.iter().filter(|o| *o != node) {
            let mine: Vec<&Read<'_>> = reads
                .iter()
                .filter(|r| r.observer == observer && span.at(r.invoked) && r.invoked < stop)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let first = mine.iter().find(|r| r.suspects.contains(&node.as_str()));
            let detected_after_ms = first.map(|r| r.completed.saturating_sub(span.start) / MS);
            detection_times.extend(detected_after_ms);
            let back = faults.came_back(observer, span.start, stop);
            let deadline = back.unwrap_or(span.start).saturating_add(bound);
            let miss = mine.iter().find(|r| {
                r.invoked >= deadline && r.completed < stop && !r.suspects.contains(&node.as_str())
            });
            if let Some(r) = miss {
                missed_count += 1;
                let since = match back {
                    Some(t) => format!(
                        " (it ran again from {}, after a fault of its own)",
                        seconds(t)
                    ),
                    None => String::new(),
                };
                let named = if r.suspects.is_empty() {
                    "no node".to_owned()
                } else {
                    r.suspects.join(", ")
                };
                let bound_s = bound as f64 / 1e9;
                errors.push(format!(
                    "{node} was {} at {} and {observer} still did not suspect it at {}, {} \
                     later{since}: its read (event {}) named {named}, and a failure detector \
                     must suspect a crashed node within {bound_s} s and keep suspecting it",
                    crashed(fault),
                    seconds(span.start),
                    seconds(r.invoked),
                    seconds(r.invoked - span.start),
                    r.invoke_index,
                ));
            }
            observers.push(Detection {
                observer: observer.clone(),
                reads: mine.len(),
                detected_after_ms,
                detected_by: first.map(|r| r.complete_index),
                missed_by: miss.map(|r| r.invoke_index),
            });
        }
        kills.push(KillEpisode {
            node: node.clone(),
            fault: fault.clone(),
            killed_at_ms: span.start / MS,
            restarted_at_ms: span.end.map(|e| e / MS),
            lasted_ms: stop.saturating_sub(span.start) / MS,
            observers,
        });
    }
    let detection_count = detection_times.len();

    // False suspicions, outside the final reads: runs per (observer, suspect).
    let mut open: BTreeMap<(&str, &str), FalseSuspicion> = BTreeMap::new();
    let mut done: Vec<FalseSuspicion> = Vec::new();
    let mut suspicion_reads = 0;
    for r in reads.iter().filter(|r| !r.is_final) {
        let falsely: BTreeSet<&str> = r
            .suspects
            .iter()
            .copied()
            .filter(|s| *s != r.observer && !faults.down_during(s, r.invoked, r.completed))
            .collect();
        suspicion_reads += falsely.len();
        // A read of this observer that does not name a suspect falsely ends that suspicion.
        let ended: Vec<(&str, &str)> = open
            .keys()
            .filter(|(o, s)| *o == r.observer && !falsely.contains(s))
            .copied()
            .collect();
        for key in ended {
            done.extend(open.remove(&key));
        }
        for s in falsely {
            let entry = open
                .entry((r.observer, s))
                .or_insert_with(|| FalseSuspicion {
                    observer: r.observer.to_owned(),
                    suspect: s.to_owned(),
                    from_ms: r.invoked / MS,
                    to_ms: r.completed / MS,
                    observed_ms: 0,
                    reads: 0,
                    cause: faults.cause(r.observer, s, r.invoked, r.completed),
                });
            entry.to_ms = entry.to_ms.max(r.completed / MS);
            entry.observed_ms = entry.to_ms - entry.from_ms;
            entry.reads += 1;
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| {
        let key = |s: &FalseSuspicion| {
            (
                s.from_ms,
                node_order(&s.observer).1,
                node_order(&s.suspect).1,
            )
        };
        key(a).cmp(&key(b))
    });
    let mut false_suspicions = FalseSuspicions {
        count: done.len(),
        reads: suspicion_reads,
        longest_ms: done.iter().map(|s| s.observed_ms).max().unwrap_or(0),
        total_ms: done.iter().map(|s| s.observed_ms).sum(),
        ..FalseSuspicions::default()
    };
    for s in &done {
        *match s.cause {
            "after_restart" => &mut false_suspicions.after_restart,
            "during_pause" => &mut false_suspicions.during_pause,
            "observer_paused" => &mut false_suspicions.observer_paused,
            "during_partition" => &mut false_suspicions.during_partition,
            _ => &mut false_suspicions.other,
        } += 1;
    }
    false_suspicions.list = done.into_iter().take(LISTED).collect();

    // Eventual accuracy: the final reads.
    let finals: Vec<&Read<'_>> = reads.iter().filter(|r| r.is_final).collect();
    let mut final_suspicion_count = 0;
    for r in &finals {
        for s in r
            .suspects
            .iter()
            .filter(|s| **s != r.observer && !faults.down_during(s, r.invoked, r.completed))
        {
            final_suspicion_count += 1;
            let last_back = faults.came_back(s, 0, r.invoked);
            let since = match last_back {
                Some(t) => format!(", running again since {}", seconds(t)),
                None => ", never killed".to_owned(),
            };
            errors.push(format!(
                "{} still suspected {s} in its final read at {} though {s} was up{since}: once \
                 every fault has healed, a failure detector must stop suspecting correct nodes",
                r.observer,
                seconds(r.invoked)
            ));
        }
    }

    let (valid, unknown_reason) = if !errors.is_empty() {
        (Validity::Invalid, None)
    } else if finals.is_empty() {
        (
            Validity::Unknown,
            Some(
                "no final read completed, so whether the suspicions ended is not known".to_owned(),
            ),
        )
    } else {
        (Validity::Valid, None)
    };
    Ok(DetectorResult {
        valid,
        detection_bound_ms: bound / MS,
        kill_count: kills.len(),
        detection_count,
        missed_count,
        detection_time_ms: quantiles(&mut detection_times),
        kills,
        false_suspicions,
        final_read_count: finals.len(),
        final_suspicion_count,
        errors,
        unknown_reason,
    })
}

/// `1.2 s` or `640 ms`.
fn duration(ms: u64) -> String {
    if ms >= 1000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

impl DetectorResult {
    /// What went wrong, for people: a headline and a sentence per missed detection and per
    /// suspicion left in the final reads (a handful, then how many more).
    pub fn story(&self) -> crate::story::Story {
        let mut story = crate::story::Story::default();
        let told = crate::story::TOLD;
        story.failures = self.errors.iter().take(told).cloned().collect();
        if self.errors.len() > told {
            story.failures.push(format!(
                "and {} more missed detections or final suspicions",
                self.errors.len() - told
            ));
        }
        story.headline = match self.valid {
            Validity::Invalid => {
                let what = match (self.missed_count, self.final_suspicion_count) {
                    (0, f) => format!("{f} suspicion{} left in the final reads", plural(f)),
                    (m, 0) => format!("{m} missed detection{}", plural(m)),
                    (m, f) => format!(
                        "{m} missed detection{} and {f} suspicion{} left in the final reads",
                        plural(m),
                        plural(f)
                    ),
                };
                Some(format!(
                    "{what}: {}",
                    self.errors.first().map_or("", String::as_str)
                ))
            }
            Validity::Unknown => Some(format!(
                "the failure-detector check cannot decide: {}",
                self.unknown_reason.as_deref().unwrap_or("no reason given")
            )),
            Validity::Valid => None,
        };
        story
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for DetectorResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let times = match &self.detection_time_ms {
            Some(q) => format!(
                "detection time min {}, median {}, p95 {}, max {}",
                duration(q["0"]),
                duration(q["0.5"]),
                duration(q["0.95"]),
                duration(q["1"])
            ),
            None => "no detection time".to_owned(),
        };
        writeln!(
            f,
            "failure-detector: {}: {} kill{}, {} detection{} ({times}), {} missed (bound {})",
            self.valid,
            self.kill_count,
            plural(self.kill_count),
            self.detection_count,
            plural(self.detection_count),
            self.missed_count,
            duration(self.detection_bound_ms)
        )?;
        let s = &self.false_suspicions;
        writeln!(
            f,
            "  false suspicions: {} ({} after a restart, {} during a pause, {} of a paused \
             observer, {} during a partition, {} other), longest {}; {} names of a node that \
             was up in reads",
            s.count,
            s.after_restart,
            s.during_pause,
            s.observer_paused,
            s.during_partition,
            s.other,
            duration(s.longest_ms),
            s.reads
        )?;
        writeln!(
            f,
            "  final reads: {}, {} suspicion{} of a node that was up",
            self.final_read_count,
            self.final_suspicion_count,
            plural(self.final_suspicion_count)
        )?;
        for e in &self.errors {
            writeln!(f, "  {e}")?;
        }
        if let Some(why) = &self.unknown_reason {
            writeln!(f, "  unknown: {why}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::history::parse_history;

    /// A history from lines `(time in ms, process, node, type, f, value)`; process `-1` is the
    /// nemesis; a trailing `F` on the type marks a final read.
    fn history(rows: &[(u64, i64, &str, &str, &str, Value)]) -> Vec<Event> {
        let text: String = rows
            .iter()
            .enumerate()
            .map(|(i, (t, p, node, kind, f, value))| {
                let mut line = json!({
                    "index": i, "time": t * MS, "type": kind.trim_end_matches('F'), "f": f,
                    "value": value, "final": kind.ends_with('F'),
                });
                if *p < 0 {
                    line["process"] = json!("nemesis");
                } else {
                    line["process"] = json!(p);
                    line["node"] = json!(node);
                }
                format!("{line}\n")
            })
            .collect();
        parse_history("h", text.as_bytes()).unwrap()
    }

    /// Reads by n0 (process 0) and n1 (process 1) every 500 ms from `from` to `to` ms, each
    /// taking 2 ms, answered by `answer(node, time)`.
    fn reads_every_500_ms(
        from: u64,
        to: u64,
        answer: impl Fn(&str, u64) -> Value,
    ) -> Vec<(u64, i64, &'static str, &'static str, &'static str, Value)> {
        let mut rows = Vec::new();
        let mut t = from;
        while t < to {
            for (p, node) in [(0, "n0"), (1, "n1")] {
                rows.push((t, p, node, "invoke", "suspect", Value::Null));
                rows.push((t + 2, p, node, "ok", "suspect", answer(node, t)));
            }
            t += 500;
        }
        rows
    }

    fn with_finals(
        mut rows: Vec<(u64, i64, &'static str, &'static str, &'static str, Value)>,
        at: u64,
        answer: Value,
    ) -> Vec<(u64, i64, &'static str, &'static str, &'static str, Value)> {
        for (p, node) in [(10, "n0"), (11, "n1"), (12, "n2")] {
            rows.push((at, p, node, "invokeF", "suspect", Value::Null));
            rows.push((at + 2, p, node, "okF", "suspect", answer.clone()));
        }
        rows.sort_by_key(|r| r.0);
        rows
    }

    /// n2 killed at 1 s, restarted at 9 s; the detectors of n0 and n1 answer `answer`.
    fn kill_n2(answer: impl Fn(&str, u64) -> Value) -> Vec<Event> {
        let mut rows = reads_every_500_ms(100, 10_000, answer);
        rows.push((1000, -1, "", "info", "kill", json!(["n2"])));
        rows.push((9000, -1, "", "info", "restart", json!(["n2"])));
        history(&with_finals(rows, 12_000, json!([])))
    }

    #[test]
    fn a_kill_named_by_every_observer_gives_detection_times_from_the_kill() {
        // n0 suspects n2 from 1.6 s on, n1 from 2.1 s on, until n2's restart.
        let h = kill_n2(|node, t| {
            let from = if node == "n0" { 1600 } else { 2100 };
            if (from..9000).contains(&t) {
                json!(["n2"])
            } else {
                json!([])
            }
        });
        let r = check_failure_detector(&h, None).unwrap();
        assert_eq!(r.valid, Validity::Valid, "{r}");
        assert_eq!((r.kill_count, r.detection_count, r.missed_count), (1, 2, 0));
        let q = r.detection_time_ms.as_ref().unwrap();
        // Reads at 1.6 s (n0) and 2.1 s (n1) complete 2 ms later: 602 and 1102 ms after.
        assert_eq!((q["0"], q["1"]), (602, 1102), "{r}");
        assert_eq!(r.kills[0].observers[0].detected_after_ms, Some(602));
        assert_eq!(r.false_suspicions.count, 0, "{r}");
        assert!(r.to_string().starts_with(
            "failure-detector: valid: 1 kill, 2 detections (detection time min 602 ms, median \
             1.1 s, p95 1.1 s, max 1.1 s), 0 missed (bound 5.0 s)"
        ));
    }

    #[test]
    fn an_observer_that_never_suspects_a_killed_node_is_a_missed_detection_told_in_words() {
        // n1 suspects n2 at 2.1 s; n0 never does.
        let h = kill_n2(|node, t| {
            if node == "n1" && (2100..9000).contains(&t) {
                json!(["n2"])
            } else {
                json!([])
            }
        });
        let r = check_failure_detector(&h, None).unwrap();
        assert_eq!(r.valid, Validity::Invalid, "{r}");
        assert_eq!(r.missed_count, 1);
        assert_eq!(
            r.errors[0],
            "n2 was killed at 1.00 s and n0 still did not suspect it at 6.10 s, 5.10 s later: its \
             read (event 49) named no node, and a failure detector must suspect a crashed node \
             within 5 s and keep suspecting it"
        );
        let story = r.story();
        assert!(
            story
                .headline
                .as_deref()
                .unwrap()
                .starts_with("1 missed detection: n2 was killed at 1.00 s"),
            "{story:?}"
        );
        // A kill shorter than the bound cannot be missed: n0's reads had no time to.
        let mut rows = reads_every_500_ms(100, 5000, |_, _| json!([]));
        rows.push((1000, -1, "", "info", "kill", json!(["n2"])));
        rows.push((4000, -1, "", "info", "restart", json!(["n2"])));
        let r =
            check_failure_detector(&history(&with_finals(rows, 6000, json!([]))), None).unwrap();
        assert_eq!((r.valid, r.missed_count), (Validity::Valid, 0), "{r}");
        assert_eq!(r.kills[0].observers[0].detected_after_ms, None);
        // With a bound of 8 s, no read of n0 past the bound came before n2's restart at 9 s.
        let h = kill_n2(|_, _| json!([]));
        let r = check_failure_detector(&h, Some(Duration::from_secs(8))).unwrap();
        assert_eq!(
            (r.valid, r.detection_bound_ms),
            (Validity::Valid, 8000),
            "{r}"
        );
        let r = check_failure_detector(&h, Some(Duration::from_secs(7))).unwrap();
        assert_eq!(r.missed_count, 2, "{r}");
        assert!(r.errors[0].contains("within 7 s"), "{}", r.errors[0]);
    }

    #[test]
    fn suspicions_of_a_paused_node_are_false_counted_with_their_cause_and_do_not_invalidate() {
        let mut rows = reads_every_500_ms(100, 8000, |node, t| {
            if node == "n0" && (2100..4600).contains(&t) {
                json!(["n2"])
            } else if node == "n1" && t == 6100 {
                json!(["n0"])
            } else {
                json!([])
            }
        });
        rows.push((1500, -1, "", "info", "pause", json!(["n2"])));
        rows.push((4000, -1, "", "info", "resume", json!(["n2"])));
        let r =
            check_failure_detector(&history(&with_finals(rows, 9000, json!([]))), None).unwrap();
        assert_eq!(r.valid, Validity::Valid, "{r}");
        let s = &r.false_suspicions;
        assert_eq!(
            (s.count, s.reads, s.during_pause, s.other),
            (2, 6, 1, 1),
            "{r}"
        );
        assert_eq!(
            (s.list[0].from_ms, s.list[0].to_ms, s.list[0].reads),
            (2100, 4102, 5)
        );
        assert_eq!(s.longest_ms, 2002);
    }

    #[test]
    fn a_suspicion_left_in_the_final_reads_is_invalid_and_said() {
        let rows = reads_every_500_ms(100, 3000, |_, _| json!([]));
        let r = check_failure_detector(&history(&with_finals(rows, 5000, json!(["n2"]))), None)
            .unwrap();
        assert_eq!(
            (r.valid, r.final_suspicion_count),
            (Validity::Invalid, 2),
            "{r}"
        );
        assert_eq!(
            r.errors[0],
            "n0 still suspected n2 in its final read at 5.00 s though n2 was up, never killed: \
             once every fault has healed, a failure detector must stop suspecting correct nodes"
        );
        // No final read: unknown.
        let rows = reads_every_500_ms(100, 3000, |_, _| json!([]));
        let r = check_failure_detector(&history(&rows), None).unwrap();
        assert_eq!(r.valid, Validity::Unknown, "{r}");
    }
}

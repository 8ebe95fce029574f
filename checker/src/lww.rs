//! lww-register: eventually consistent last-writer-wins registers that keep causality (the
//! course's 5.1 "reconciling replicas" with the Lamport clocks of 3.3): conflicting writes may
//! be resolved either way, but a write that *causally follows* another must never lose to it.
//! Wall-clock timestamps break this when clocks are skewed (3.1): a node whose clock is behind
//! stamps a later write with a smaller time, and last-writer-wins silently keeps the earlier
//! write. This checker finds such lost writes in a history and names the skew.
//!
//! Ops (`read` and `write`, values as lin-kv records them: `[key, value]`): every value is
//! written once, and each client talks to one node. Write `w2` *causally follows* write `w1`
//! when the client of `w2` had, before it invoked `w2`, written `w1` or read `w1`'s value
//! (at its node), or done an op that causally follows `w1`: the transitive closure of each
//! client's order of completed ops and of reads-from. A write that ended `info` is part of the
//! order only through the reads that returned its value.
//!
//! For each key:
//!
//! - **no lost write**: after the final reads (every fault healed, the replicas given time to
//!   converge), its value was written by a write that no *acknowledged* write of the same key
//!   causally follows (a key found absent at the end lost every acknowledged write);
//! - **no causally stale read**: no read at a node returns a write older (causally) than one
//!   that node had already shown, by acknowledging it or returning it to a read completed
//!   before this read was invoked: the later write was lost there, even if later writes hide
//!   it by the end. (A read at another node may still lag: only the node's own past counts.)
//! - **converged**: every final read returns the same value;
//! - every value read was written by some write.
//!
//! Each lost write is told with the chain of ops that makes it causally later, the nodes and
//! times of both writes, and, from [`crate::clocks`], what the clock nemesis had done to their
//! clocks then. The check is sound for any last-writer-wins store whose stamps extend causality
//! (Lamport clocks) and that keeps what it acknowledged: such a store's node never replaces a
//! value by one with a smaller stamp, and its replicas converge on the highest. A wipe (a node
//! that loses its disk) can lose writes of any store.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::clocks::{ClockTimeline, signed_offset};
use crate::faults::seconds;
use crate::history::{Event, HistoryError, Process};
use crate::op::{Op, Outcome, client_ops};
use crate::story::{Story, TOLD};
use crate::validity::Validity;

/// An acknowledged write lost to a write it causally follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostWrite {
    pub key: Value,
    /// The value every final read returned (null: the key was found absent).
    pub kept: Value,
    /// The node and time (ns) of the write of `kept`, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_time: Option<u64>,
    /// The acknowledged write that causally follows it, and was lost.
    pub lost: Value,
    pub lost_node: Option<String>,
    pub lost_time: u64,
    /// History indexes of the invocations on the causal chain from the kept write to the lost
    /// one.
    pub chain: Vec<u64>,
    /// What the clock nemesis had done to the two writers' clocks, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew: Option<String>,
    /// The whole story in a sentence.
    pub why: String,
}

/// A read that returned a write after its node had shown one that causally follows it: the
/// later write was lost at that node (a last-writer-wins store never takes a value back).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleRead {
    pub key: Value,
    pub node: Option<String>,
    /// The value read, and the history index of the read's invocation.
    pub read: Value,
    pub read_index: u64,
    /// The value the node had shown before (an acknowledged write there, or a read of it),
    /// whose write causally follows the write of `read`.
    pub shown: Value,
    /// History indexes of the invocations on the causal chain from the write of `read` to the
    /// write of `shown`.
    pub chain: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew: Option<String>,
    pub why: String,
}

/// A key whose final reads disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    pub key: Value,
    /// Each final read's node and value.
    pub reads: Vec<(Option<String>, Value)>,
    pub why: String,
}

/// The result of the lww-register check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LwwResult {
    pub valid: Validity,
    /// Keys with at least one final read, which are the keys checked.
    pub key_count: usize,
    pub write_count: usize,
    pub acknowledged_write_count: usize,
    pub final_read_count: usize,
    pub lost_write_count: usize,
    /// Per key whose final value lost a causally later write: the first such write found.
    pub lost_writes: Vec<LostWrite>,
    /// Reads (during the run or at the end) of a write causally older than one their node
    /// had already shown.
    pub causally_stale_read_count: usize,
    /// The first such read of each key.
    pub causally_stale_reads: Vec<StaleRead>,
    pub diverged_count: usize,
    pub diverged: Vec<Divergence>,
    /// Reads of a value no write wrote, in sentences.
    pub unexplained_reads: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// The `[key, value]` of an op.
fn pair<'a>(op: &Op<'a>) -> Option<(&'a Value, &'a Value)> {
    match op.value().as_array().map(Vec::as_slice) {
        Some([key, value]) => Some((key, value)),
        _ => None,
    }
}

/// `process 2 at n1`.
fn who(op: &Op<'_>) -> String {
    format!(
        "process {} at {}",
        match op.process() {
            Process::Client(p) => p.to_string(),
            other => other.to_string(),
        },
        op.node().unwrap_or("?")
    )
}

/// What one op on a chain did, in words: `process 2 at n1 read 12 (4.10 s)`.
fn step(op: &Op<'_>) -> String {
    let (key, value) = pair(op).unwrap_or((&Value::Null, &Value::Null));
    let did = match op.f() {
        "write" => format!("wrote {value} to key {key}"),
        _ => format!("read {value} from key {key}"),
    };
    format!("{} {did} ({})", who(op), seconds(op.invoke.time))
}

/// Check the `read` and `write` ops of an lww-register history.
pub fn check_lww(events: &[Event]) -> Result<LwwResult, HistoryError> {
    let ops = client_ops(events)?;
    let clocks = ClockTimeline::of(events);
    // The write of each value (the first, should a value be written twice).
    let mut writer: BTreeMap<String, usize> = BTreeMap::new();
    let mut write_count = 0;
    let mut acknowledged = 0;
    for (i, op) in ops.iter().enumerate() {
        if op.f() == "write" && op.outcome() != Outcome::Fail && !op.is_final() {
            let Some((_, value)) = pair(op) else {
                continue;
            };
            write_count += 1;
            acknowledged += usize::from(op.outcome() == Outcome::Ok);
            writer.entry(value.to_string()).or_insert(i);
        }
    }
    // Causal edges: each process's next op after one it completed, and reads-from.
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    let mut last_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let process = op.process().to_string();
        if let Some(&prev) = last_of.get(&process)
            && ops[prev].completion.is_some()
            && ops[prev].outcome() != Outcome::Info
        {
            next[prev].push(i);
        }
        last_of.insert(process, i);
        if op.f() == "read"
            && op.outcome() == Outcome::Ok
            && let Some((key, value)) = pair(op)
            && !value.is_null()
        {
            match writer.get(&value.to_string()) {
                Some(&w) => next[w].push(i),
                None => unexplained.push(format!(
                    "{} read {value} from key {key} ({}), a value no write wrote",
                    who(op),
                    seconds(op.invoke.time)
                )),
            }
        }
    }
    // The final reads of each key: (op, value; null when absent).
    let mut finals: BTreeMap<String, (Value, Vec<(usize, Value)>)> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if op.f() != "read" || !op.is_final() {
            continue;
        }
        let value = match op.outcome() {
            Outcome::Ok => pair(op).map_or(Value::Null, |(_, v)| v.clone()),
            _ if op.observed_absent() => Value::Null,
            _ => continue,
        };
        let Some((key, _)) = pair(op) else { continue };
        finals
            .entry(key.to_string())
            .or_insert_with(|| (key.clone(), Vec::new()))
            .1
            .push((i, value));
    }
    let final_read_count = finals.values().map(|(_, r)| r.len()).sum();
    // The last invocation of a write of each key: no causal search for its writes goes past.
    let mut bounds: BTreeMap<String, u64> = BTreeMap::new();
    for &w in writer.values() {
        if let Some((key, _)) = pair(&ops[w]) {
            let bound = bounds.entry(key.to_string()).or_default();
            *bound = (*bound).max(ops[w].invoke.time);
        }
    }
    let (causally_stale_reads, causally_stale_read_count) =
        stale_reads(&ops, &next, &writer, &bounds, &clocks);
    let mut lost_writes = Vec::new();
    let mut diverged = Vec::new();
    for (key, reads) in finals.values() {
        let first = &reads[0].1;
        if reads.iter().any(|(_, v)| v != first) {
            let list: Vec<String> = reads
                .iter()
                .map(|(i, v)| format!("{} {v}", ops[*i].node().unwrap_or("?")))
                .collect();
            diverged.push(Divergence {
                key: key.clone(),
                reads: reads
                    .iter()
                    .map(|(i, v)| (ops[*i].node().map(str::to_owned), v.clone()))
                    .collect(),
                why: format!(
                    "the final reads of key {key} disagree ({}): the replicas never converged",
                    list.join(", ")
                ),
            });
            continue;
        }
        let bound = bounds.get(&key.to_string()).copied().unwrap_or(0);
        if let Some(lost) = lost_write(&ops, &next, &writer, bound, &clocks, key, first) {
            lost_writes.push(lost);
        }
    }
    let (valid, unknown_reason) = if finals.is_empty() {
        (
            Validity::Unknown,
            Some("no final read completed".to_owned()),
        )
    } else if lost_writes.is_empty()
        && causally_stale_reads.is_empty()
        && diverged.is_empty()
        && unexplained.is_empty()
    {
        (Validity::Valid, None)
    } else {
        (Validity::Invalid, None)
    };
    Ok(LwwResult {
        valid,
        key_count: finals.len(),
        write_count,
        acknowledged_write_count: acknowledged,
        final_read_count,
        lost_write_count: lost_writes.len(),
        lost_writes,
        causally_stale_read_count,
        causally_stale_reads,
        diverged_count: diverged.len(),
        diverged,
        unexplained_reads: unexplained,
        unknown_reason,
    })
}

/// The acknowledged write of `key` that the write of `kept` (every final read's value; null
/// for absent) lost, if any: the nearest one causally after it, or, for an absent key, its
/// last acknowledged write.
#[allow(clippy::too_many_arguments)]
fn lost_write(
    ops: &[Op<'_>],
    next: &[Vec<usize>],
    writer: &BTreeMap<String, usize>,
    bound: u64,
    clocks: &ClockTimeline,
    key: &Value,
    kept: &Value,
) -> Option<LostWrite> {
    let writes_key = |i: usize| {
        ops[i].f() == "write"
            && ops[i].outcome() == Outcome::Ok
            && !ops[i].is_final()
            && pair(&ops[i]).is_some_and(|(k, _)| k == key)
    };
    if kept.is_null() {
        let last = (0..ops.len()).rev().find(|&i| writes_key(i))?;
        let (_, lost) = pair(&ops[last])?;
        let why = format!(
            "key {key}: every final read finds it absent, yet writes of it were acknowledged, \
             the last of {lost} by {} ({})",
            who(&ops[last]),
            seconds(ops[last].invoke.time)
        );
        return Some(LostWrite {
            key: key.clone(),
            kept: Value::Null,
            kept_node: None,
            kept_time: None,
            lost: lost.clone(),
            lost_node: ops[last].node().map(str::to_owned),
            lost_time: ops[last].invoke.time,
            chain: vec![ops[last].invoke.index],
            skew: None,
            why,
        });
    }
    // A value no write wrote is told among the unexplained reads.
    let &start = writer.get(&kept.to_string())?;
    // The nearest acknowledged write of the key after the kept one.
    let path = causal_path(ops, next, start, bound, |i| i != start && writes_key(i))?;
    let lost_at = *path.last()?;
    let (kept_op, lost_op) = (&ops[start], &ops[lost_at]);
    let (_, lost) = pair(lost_op)?;
    let skew = skew(clocks, kept_op, lost_op);
    let why = format!(
        "key {key}: the acknowledged write of {lost} by {} ({}) came after {}, yet every \
         final read returns {kept}: last-writer-wins kept the write with the higher stamp{}",
        who(lost_op),
        seconds(lost_op.invoke.time),
        chain(ops, &path),
        skew.as_deref()
            .map_or_else(String::new, |s| format!("; {s}"))
    );
    Some(LostWrite {
        key: key.clone(),
        kept: kept.clone(),
        kept_node: kept_op.node().map(str::to_owned),
        kept_time: Some(kept_op.invoke.time),
        lost: lost.clone(),
        lost_node: lost_op.node().map(str::to_owned),
        lost_time: lost_op.invoke.time,
        chain: path.iter().map(|&i| ops[i].invoke.index).collect(),
        skew,
        why,
    })
}

/// The shortest causal chain from op `start` to an op `target` accepts, breadth first, or None.
/// Ops invoked after `bound` are not followed: every op reached through one is invoked later
/// still (each edge leads to an op invoked after the first was invoked), so a search for the
/// writes of a key stops at the key's last write.
fn causal_path(
    ops: &[Op<'_>],
    next: &[Vec<usize>],
    start: usize,
    bound: u64,
    target: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut found = None;
    while let Some(i) = queue.pop_front() {
        if target(i) {
            found = Some(i);
            break;
        }
        if ops[i].invoke.time > bound {
            continue;
        }
        for &j in &next[i] {
            if j != start && !parent.contains_key(&j) {
                parent.insert(j, i);
                queue.push_back(j);
            }
        }
    }
    let mut path = vec![found?];
    while let Some(&p) = parent.get(path.last()?) {
        path.push(p);
    }
    path.reverse();
    Some(path)
}

/// The reads that returned a write causally older than one their node had already shown (by
/// an acknowledged write there, or a read that returned it, completed before the read was
/// invoked): per key, the first such read, and how many there were in all.
fn stale_reads(
    ops: &[Op<'_>],
    next: &[Vec<usize>],
    writer: &BTreeMap<String, usize>,
    bounds: &BTreeMap<String, u64>,
    clocks: &ClockTimeline,
) -> (Vec<StaleRead>, usize) {
    // Invocations and ok completions, in history order: (position, completed, op).
    let mut events: Vec<(usize, bool, usize)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        events.push((op.invoke_pos, false, i));
        if let (Outcome::Ok, Some(pos)) = (op.outcome(), op.complete_pos) {
            events.push((pos, true, i));
        }
    }
    events.sort_unstable();
    // Per node and key: each op that showed a write there (the op, the write), in order.
    let mut shown: BTreeMap<(String, String), Vec<(usize, usize)>> = BTreeMap::new();
    let mut reach: BTreeMap<(usize, usize), Option<Vec<usize>>> = BTreeMap::new();
    let mut told: BTreeMap<String, StaleRead> = BTreeMap::new();
    let mut count = 0;
    for (_, completed, i) in events {
        let op = &ops[i];
        let (Some(node), Some((key, value))) = (op.node(), pair(op)) else {
            continue;
        };
        let Some(&w) = writer.get(&value.to_string()) else {
            continue;
        };
        let slot = (node.to_owned(), key.to_string());
        if completed {
            shown.entry(slot).or_default().push((i, w));
            continue;
        }
        if op.f() != "read" || op.outcome() != Outcome::Ok {
            continue;
        }
        let bound = bounds.get(&key.to_string()).copied().unwrap_or(0);
        let Some(earlier) = shown.get(&slot) else {
            continue;
        };
        let stale = earlier.iter().find_map(|&(by, later)| {
            if later == w {
                return None;
            }
            let path = reach
                .entry((w, later))
                .or_insert_with(|| causal_path(ops, next, w, bound, |j| j == later));
            path.clone().map(|path| (by, later, path))
        });
        let Some((by, later, path)) = stale else {
            continue;
        };
        count += 1;
        if told.contains_key(&key.to_string()) {
            continue;
        }
        let (_, shown_value) = pair(&ops[later]).unwrap_or((&Value::Null, &Value::Null));
        let skew = skew(clocks, &ops[w], &ops[later]);
        let how = if by == later {
            format!(
                "acknowledged the write of {shown_value} by {}",
                who(&ops[by])
            )
        } else {
            format!("shown {shown_value} to {}", who(&ops[by]))
        };
        let why = format!(
            "key {key}: {} although {node} had already {how} ({}), a write that came after {}: \
             last-writer-wins kept the earlier write{}",
            step(op),
            seconds(ops[by].invoke.time),
            chain(ops, &path),
            skew.as_deref()
                .map_or_else(String::new, |s| format!("; {s}"))
        );
        told.insert(
            key.to_string(),
            StaleRead {
                key: key.clone(),
                node: Some(node.to_owned()),
                read: value.clone(),
                read_index: op.invoke.index,
                shown: shown_value.clone(),
                chain: path.iter().map(|&j| ops[j].invoke.index).collect(),
                skew,
                why,
            },
        );
    }
    (told.into_values().collect(), count)
}

/// The causal chain before the lost write (the last element of `path`), in words: the kept
/// write, then each op where the chain enters another process, and the last op of the lost
/// write's process before it.
fn chain(ops: &[Op<'_>], path: &[usize]) -> String {
    let Some((&lost, before)) = path.split_last() else {
        return String::new();
    };
    let mut told: Vec<usize> = Vec::new();
    for (n, &i) in before.iter().enumerate() {
        let enters = n == 0 || ops[before[n - 1]].process() != ops[i].process();
        let leaves = before
            .get(n + 1)
            .map_or(ops[lost].process() != ops[i].process(), |&j| {
                ops[j].process() != ops[i].process()
            });
        if enters || leaves {
            told.push(i);
        }
    }
    // Keep the kept write and the ops nearest the lost one: a long chain is cut in the middle.
    let words: Vec<String> = told.iter().map(|&i| step(&ops[i])).collect();
    let words = if words.len() > 6 {
        let mut short = vec![words[0].clone(), format!("{} more ops", words.len() - 5)];
        short.extend(words[words.len() - 4..].iter().cloned());
        short
    } else {
        words
    };
    words.join(", then ")
}

/// What the clock nemesis had done to the writers' clocks when they wrote, and what the
/// clocks said: `by their clocks 12 was written at 6.71 s and 17 at 4.21 s; n0's clock was
/// +2.814 s off at 3.90 s (stepped +2.814 s at 3.10 s)`. None when no clock was bent.
fn skew(clocks: &ClockTimeline, kept: &Op<'_>, lost: &Op<'_>) -> Option<String> {
    let (kept_node, lost_node) = (kept.node()?, lost.node()?);
    let (kt, lt) = (kept.invoke.time, lost.invoke.time);
    let mut parts: Vec<String> = [
        clocks.describe(kept_node, kt),
        if (lost_node, lt) == (kept_node, kt) {
            None
        } else {
            clocks.describe(lost_node, lt)
        },
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    let read = |node: &str, t: u64| t as i128 + i128::from(clocks.offset_at(node, t));
    let (k, l) = (read(kept_node, kt), read(lost_node, lt));
    let by_clock = |ns: i128| {
        if ns < 0 {
            format!(
                "{} before the start",
                signed_offset(-ns as i64).trim_start_matches('+')
            )
        } else {
            seconds(ns as u64)
        }
    };
    let (_, kv) = pair(kept).unwrap_or((&Value::Null, &Value::Null));
    let (_, lv) = pair(lost).unwrap_or((&Value::Null, &Value::Null));
    parts.insert(
        0,
        format!(
            "by their nodes' clocks {kv} was written at {} and {lv} at {}",
            by_clock(k),
            by_clock(l)
        ),
    );
    Some(parts.join("; "))
}

impl LwwResult {
    /// What went wrong, for people: a headline and a sentence per lost write, divergence and
    /// unexplained read (a handful of each, then how many more).
    pub fn story(&self) -> Story {
        let mut story = Story::default();
        let mut tell = |whys: Vec<&str>, many: &str| {
            story
                .failures
                .extend(whys.iter().take(TOLD).map(|w| (*w).to_owned()));
            if whys.len() > TOLD {
                story
                    .failures
                    .push(format!("and {} more {many}", whys.len() - TOLD));
            }
        };
        tell(
            self.lost_writes.iter().map(|l| l.why.as_str()).collect(),
            "keys with a lost write",
        );
        tell(
            self.causally_stale_reads
                .iter()
                .map(|r| r.why.as_str())
                .collect(),
            "keys read behind their nodes",
        );
        tell(
            self.diverged.iter().map(|d| d.why.as_str()).collect(),
            "keys whose replicas disagree",
        );
        tell(
            self.unexplained_reads.iter().map(String::as_str).collect(),
            "reads of values never written",
        );
        story.headline = match self.valid {
            Validity::Invalid => {
                let mut counts = Vec::new();
                if self.lost_write_count > 0 {
                    counts.push(format!(
                        "{} key{} lost an acknowledged write to a causally earlier one",
                        self.lost_write_count,
                        if self.lost_write_count == 1 { "" } else { "s" }
                    ));
                }
                if self.causally_stale_read_count > 0 {
                    counts.push(format!(
                        "{} read{} of a write older than one the node had shown",
                        self.causally_stale_read_count,
                        if self.causally_stale_read_count == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ));
                }
                if self.diverged_count > 0 {
                    counts.push(format!(
                        "{} key{} never converged",
                        self.diverged_count,
                        if self.diverged_count == 1 { "" } else { "s" }
                    ));
                }
                if !self.unexplained_reads.is_empty() {
                    counts.push(format!(
                        "{} read{} of values never written",
                        self.unexplained_reads.len(),
                        if self.unexplained_reads.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ));
                }
                let first = story.failures.first().cloned().unwrap_or_default();
                Some(format!("{}: {first}", counts.join(", ")))
            }
            Validity::Unknown => Some(format!(
                "the lww-register check cannot decide: {}",
                self.unknown_reason.as_deref().unwrap_or("no reason given")
            )),
            Validity::Valid => None,
        };
        story
    }
}

impl fmt::Display for LwwResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "lww-register: {}: {} keys, {} writes ({} acknowledged), {} final reads; {} keys \
             lost a causally later write, {} reads were causally stale, {} keys never converged",
            self.valid,
            self.key_count,
            self.write_count,
            self.acknowledged_write_count,
            self.final_read_count,
            self.lost_write_count,
            self.causally_stale_read_count,
            self.diverged_count
        )?;
        for l in &self.lost_writes {
            writeln!(f, "  {}", l.why)?;
        }
        for r in &self.causally_stale_reads {
            writeln!(f, "  {}", r.why)?;
        }
        for d in &self.diverged {
            writeln!(f, "  {}", d.why)?;
        }
        for r in &self.unexplained_reads {
            writeln!(f, "  {r}")?;
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

    /// `(ms, process, node, type, f, value)`: one event of a hand-written history.
    type Row = (
        u64,
        Option<u64>,
        &'static str,
        &'static str,
        &'static str,
        Value,
    );

    /// A history from `(ms, process, node, type, f, value)` rows; type `invokeF` / `okF` marks
    /// a final read, process `None` the nemesis.
    fn history(rows: &[Row]) -> Vec<Event> {
        let lines: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, (ms, p, node, kind, f, value))| {
                let mut e = json!({
                    "index": i, "time": ms * 1_000_000, "node": node,
                    "type": kind.trim_end_matches('F'), "f": f, "value": value,
                    "process": p.map_or(json!("nemesis"), |p| json!(p)),
                });
                if kind.ends_with('F') {
                    e["final"] = json!(true);
                }
                if p.is_none() {
                    e.as_object_mut().unwrap().remove("node");
                }
                e.to_string()
            })
            .collect();
        crate::parse_history("h", lines.join("\n").as_bytes()).unwrap()
    }

    /// Final reads of `key` at n0 and n1 returning `v0` and `v1`, by processes of their own.
    fn finals(key: u64, v0: Value, v1: Value) -> Vec<Row> {
        vec![
            (
                9000,
                Some(90 + 2 * key),
                "n0",
                "invokeF",
                "read",
                json!([key, null]),
            ),
            (
                9001,
                Some(90 + 2 * key),
                "n0",
                "okF",
                "read",
                json!([key, v0]),
            ),
            (
                9000,
                Some(91 + 2 * key),
                "n1",
                "invokeF",
                "read",
                json!([key, null]),
            ),
            (
                9001,
                Some(91 + 2 * key),
                "n1",
                "okF",
                "read",
                json!([key, v1]),
            ),
        ]
    }

    fn check(mut rows: Vec<Row>) -> LwwResult {
        rows.sort_by_key(|r| r.0);
        check_lww(&history(&rows)).unwrap()
    }

    #[test]
    fn a_write_made_after_reading_another_that_loses_to_it_is_lost_and_told_with_the_skew() {
        let mut rows = vec![
            (
                3100,
                None,
                "",
                "info",
                "clock-step",
                json!({"nodes": ["n0"], "delta_ms": 2814}),
            ),
            (3900, Some(0), "n0", "invoke", "write", json!([1, 12])),
            (3901, Some(0), "n0", "ok", "write", json!([1, 12])),
            (4100, Some(2), "n1", "invoke", "read", json!([1, null])),
            (4101, Some(2), "n1", "ok", "read", json!([1, 12])),
            (4210, Some(2), "n1", "invoke", "write", json!([1, 17])),
            (4211, Some(2), "n1", "ok", "write", json!([1, 17])),
        ];
        rows.extend(finals(1, json!(12), json!(12)));
        let r = check(rows);
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!((r.key_count, r.lost_write_count), (1, 1));
        let lost = &r.lost_writes[0];
        assert_eq!((&lost.kept, &lost.lost), (&json!(12), &json!(17)));
        assert_eq!(lost.lost_node.as_deref(), Some("n1"));
        assert_eq!(
            lost.why,
            "key 1: the acknowledged write of 17 by process 2 at n1 (4.21 s) came after \
             process 0 at n0 wrote 12 to key 1 (3.90 s), then process 2 at n1 read 12 from key \
             1 (4.10 s), yet every final read returns 12: last-writer-wins kept the write with \
             the higher stamp; by their nodes' clocks 12 was written at 6.71 s and 17 at 4.21 \
             s; n0's clock was +2.814 s off at 3.90 s (stepped +2.814 s at 3.10 s)"
        );
        // n1's final read of 12 came after n1 had acknowledged 17: stale too.
        assert_eq!(r.causally_stale_read_count, 1);
        let story = r.story();
        assert!(
            story.headline.as_deref().is_some_and(|h| h.starts_with(
                "1 key lost an acknowledged write to a causally earlier one, 1 read of a write \
                 older than one the node had shown: key 1: the acknowledged write of 17"
            )),
            "{story:?}"
        );
    }

    #[test]
    fn concurrent_writes_may_be_resolved_either_way() {
        for winner in [json!(1), json!(2)] {
            let mut rows = vec![
                (100, Some(0), "n0", "invoke", "write", json!([0, 1])),
                (101, Some(0), "n0", "ok", "write", json!([0, 1])),
                (100, Some(1), "n1", "invoke", "write", json!([0, 2])),
                (101, Some(1), "n1", "ok", "write", json!([0, 2])),
                // Each reads its own write: still no write follows the other.
                (200, Some(0), "n0", "invoke", "read", json!([0, null])),
                (201, Some(0), "n0", "ok", "read", json!([0, 1])),
            ];
            rows.extend(finals(0, winner.clone(), winner));
            let r = check(rows);
            assert_eq!(r.valid, Validity::Valid, "{r}");
        }
    }

    #[test]
    fn a_clients_own_later_write_and_a_chain_through_another_key_both_count() {
        // Process 0 writes 1 then 2 to key 0: 2 follows 1.
        let mut rows = vec![
            (100, Some(0), "n0", "invoke", "write", json!([0, 1])),
            (101, Some(0), "n0", "ok", "write", json!([0, 1])),
            (200, Some(0), "n0", "invoke", "write", json!([0, 2])),
            (201, Some(0), "n0", "ok", "write", json!([0, 2])),
        ];
        rows.extend(finals(0, json!(1), json!(1)));
        let r = check(rows);
        assert_eq!(r.lost_writes[0].lost, json!(2), "{r}");
        assert_eq!(r.lost_writes[0].skew, None);
        // Process 0 writes 1 to key 0, then 5 to key 7; process 1 reads 5, then writes 3 to
        // key 0: 3 follows 1 through key 7.
        let mut rows = vec![
            (100, Some(0), "n0", "invoke", "write", json!([0, 1])),
            (101, Some(0), "n0", "ok", "write", json!([0, 1])),
            (200, Some(0), "n0", "invoke", "write", json!([7, 5])),
            (201, Some(0), "n0", "ok", "write", json!([7, 5])),
            (300, Some(1), "n1", "invoke", "read", json!([7, null])),
            (301, Some(1), "n1", "ok", "read", json!([7, 5])),
            (400, Some(1), "n1", "invoke", "write", json!([0, 3])),
            (401, Some(1), "n1", "ok", "write", json!([0, 3])),
        ];
        rows.extend(finals(0, json!(1), json!(1)));
        rows.extend(finals(7, json!(5), json!(5)));
        let r = check(rows);
        assert_eq!(r.lost_write_count, 1, "{r}");
        assert_eq!(r.lost_writes[0].chain, vec![0, 2, 4, 6]);
        assert!(
            r.lost_writes[0]
                .why
                .contains("wrote 1 to key 0 (0.10 s), then process 0 at n0 wrote 5 to key 7"),
            "{}",
            r.lost_writes[0].why
        );
    }

    #[test]
    fn a_write_whose_outcome_is_unknown_orders_nothing_after_it_but_reads_of_it_do() {
        // Process 0's write of 1 timed out: its next op (as process 3) does not follow it.
        let mut rows = vec![
            (100, Some(0), "n0", "invoke", "write", json!([0, 1])),
            (5100, Some(0), "n0", "info", "write", json!([0, 1])),
            (5200, Some(3), "n0", "invoke", "write", json!([0, 2])),
            (5201, Some(3), "n0", "ok", "write", json!([0, 2])),
        ];
        rows.extend(finals(0, json!(1), json!(1)));
        assert_eq!(check(rows.clone()).valid, Validity::Valid);
        // Once process 3 has read 1, its write of 2 follows it.
        rows.extend([
            (5150, Some(3), "n0", "invoke", "read", json!([0, null])),
            (5151, Some(3), "n0", "ok", "read", json!([0, 1])),
        ]);
        assert_eq!(check(rows).lost_write_count, 1);
    }

    #[test]
    fn final_reads_that_disagree_find_absent_or_read_an_unwritten_value_are_errors() {
        let write = |v: u64| {
            vec![
                (100, Some(0), "n0", "invoke", "write", json!([0, v])),
                (101, Some(0), "n0", "ok", "write", json!([0, v])),
            ]
        };
        let mut rows = write(1);
        rows.extend(finals(0, json!(1), json!(4)));
        let r = check(rows);
        assert_eq!(r.diverged_count, 1, "{r}");
        assert!(r.diverged[0].why.contains("(n0 1, n1 4)"), "{r}");
        assert_eq!(r.unexplained_reads.len(), 1, "{r}");
        assert!(r.unexplained_reads[0].contains("read 4 from key 0"), "{r}");
        let mut rows = write(1);
        rows.extend(finals(0, Value::Null, Value::Null));
        let r = check(rows);
        assert_eq!(r.lost_writes[0].kept, Value::Null, "{r}");
        assert!(
            r.lost_writes[0]
                .why
                .contains("every final read finds it absent"),
            "{r}"
        );
        let r = check(write(1));
        assert_eq!(r.valid, Validity::Unknown);
        assert!(
            r.story()
                .headline
                .unwrap()
                .contains("no final read completed")
        );
    }

    #[test]
    fn a_node_that_shows_an_older_write_after_a_causally_later_one_is_caught_before_the_end() {
        // n1 acknowledges 17, written after process 2 read 12 there; then shows 12 again. A
        // later write (20) hides the loss from the final reads.
        let mut rows = vec![
            (100, Some(0), "n0", "invoke", "write", json!([1, 12])),
            (101, Some(0), "n0", "ok", "write", json!([1, 12])),
            (300, Some(2), "n1", "invoke", "read", json!([1, null])),
            (301, Some(2), "n1", "ok", "read", json!([1, 12])),
            (400, Some(2), "n1", "invoke", "write", json!([1, 17])),
            (401, Some(2), "n1", "ok", "write", json!([1, 17])),
            (500, Some(4), "n1", "invoke", "read", json!([1, null])),
            (501, Some(4), "n1", "ok", "read", json!([1, 12])),
            (600, Some(0), "n0", "invoke", "write", json!([1, 20])),
            (601, Some(0), "n0", "ok", "write", json!([1, 20])),
        ];
        rows.extend(finals(1, json!(20), json!(20)));
        let r = check(rows.clone());
        assert_eq!(r.valid, Validity::Invalid, "{r}");
        assert_eq!((r.lost_write_count, r.causally_stale_read_count), (0, 1));
        let stale = &r.causally_stale_reads[0];
        assert_eq!((&stale.read, &stale.shown), (&json!(12), &json!(17)));
        assert_eq!(
            stale.why,
            "key 1: process 4 at n1 read 12 from key 1 (0.50 s) although n1 had already \
             acknowledged the write of 17 by process 2 at n1 (0.40 s), a write that came after \
             process 0 at n0 wrote 12 to key 1 (0.10 s), then process 2 at n1 read 12 from key \
             1 (0.30 s): last-writer-wins kept the earlier write"
        );
        // The same read at another node, which never showed 17, is only behind: allowed.
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|mut row| {
                if row.1 == Some(4) {
                    row.2 = "n2";
                }
                row
            })
            .collect();
        assert_eq!(check(rows).valid, Validity::Valid);
    }
}

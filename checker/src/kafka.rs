//! kafka: append-only logs per key, checked as Jepsen's kafka checker checks them (without
//! transactions), every anomaly with the ops that show it.
//!
//! The idea (the course's replicated log, 6.2): each key has one log, a sequence of offsets
//! each holding one message. A `send` is acknowledged with the offset its message got; a `poll`
//! returns `[offset, message]` pairs. Everything any client saw, acknowledged sends and polled
//! pairs alike, must fit one log per key. From the history the checker rebuilds, for each key,
//! which messages were seen at which offset, and then looks for these anomalies (result keys in
//! parentheses, Jepsen's names with underscores):
//!
//! - **inconsistent offsets** (`inconsistent_offsets`): two different messages at one offset of
//!   one key. Two readers disagree about the log.
//! - **duplicate** (`duplicate`): one message at two offsets of one key: it was appended twice.
//! - **lost write** (`lost_write`): a send was acknowledged with offset `o`, and polls returned
//!   offsets of that key beyond `o`, yet no poll ever returned the message: the log moved on
//!   without it. The witness is a poll that asked from `o` or before and returned a later
//!   offset (it passed over `o`), or else the poll that read furthest.
//! - **unseen** (`unseen`): an acknowledged message no poll ever returned, not even the final
//!   polls, which read every key from offset 0 (without a successful final poll such messages
//!   cannot be judged, and the verdict is unknown).
//! - **offsets not increasing within a poll** (`int_nonmonotonic_poll`): a poll's pairs for one
//!   key must have increasing offsets.
//! - **skip within a poll** (`int_poll_skip`): a poll returned offsets `a` then `b` of a key
//!   while a message is known at an offset between them.
//! - **polls going backwards** (`nonmonotonic_poll`): a client's poll of a key began at or
//!   before the last offset its previous poll of that key returned, with no reassignment (an
//!   ok `list_committed_offsets`, which is how a client assigns itself keys) that dropped the
//!   key in between.
//! - **skip between polls** (`poll_skip`): a client's poll of a key began past an offset where
//!   a message is known, between where its previous poll of the key ended (or, for its first
//!   poll of the key, the offset it asked from) and where this one began.
//! - **sends going backwards** (`nonmonotonic_send`): a client's later send to a key got an
//!   offset no greater than its earlier one.
//! - **unexpected message** (`unexpected`): a poll returned a message that no client ever sent
//!   to that key, or whose every send failed.
//! - **committed offsets going backwards** (`committed_backwards`): a `list_committed_offsets`
//!   returned a key's committed offset lower than one that completed before it began, and no
//!   commit of that lower offset could have taken effect in between.
//!
//! "Known" offsets are those of acknowledged sends and of polled pairs, at any time in the run,
//! as in Jepsen: the log's order is its offsets'. Any anomaly makes the run invalid; a run in
//! which no poll succeeded is unknown. Each anomaly is kept with its witnesses (the ops, by
//! history index, process and node) and a sentence; at most [`KEPT`] of each kind are listed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, HistoryError};
use crate::op::{Op, Outcome, client_ops};
use crate::validity::Validity;

/// At most this many cases of each anomaly are listed (all are counted).
pub const KEPT: usize = 32;

/// The anomalies, in the order they are told: result key, one case, several.
pub const KINDS: [(&str, &str, &str); 11] = [
    ("lost_write", "lost write", "lost writes"),
    ("unseen", "unseen message", "unseen messages"),
    (
        "inconsistent_offsets",
        "offset with two messages",
        "offsets with two messages",
    ),
    (
        "duplicate",
        "message at two offsets",
        "messages at two offsets",
    ),
    ("unexpected", "unexpected message", "unexpected messages"),
    (
        "int_nonmonotonic_poll",
        "poll with offsets out of order",
        "polls with offsets out of order",
    ),
    (
        "int_poll_skip",
        "poll that skipped offsets",
        "polls that skipped offsets",
    ),
    (
        "nonmonotonic_poll",
        "poll going backwards",
        "polls going backwards",
    ),
    ("poll_skip", "skip between polls", "skips between polls"),
    (
        "nonmonotonic_send",
        "send going backwards",
        "sends going backwards",
    ),
    (
        "committed_backwards",
        "committed offset going backwards",
        "committed offsets going backwards",
    ),
];

/// `1 lost write`, `3 lost writes`.
fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// One op that shows an anomaly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Witness {
    /// History index of its completion (of its invocation when it never completed).
    pub index: u64,
    /// Nanoseconds since the start, of that event.
    pub time: u64,
    pub process: String,
    pub node: Option<String>,
    pub f: String,
    /// `ok`, `fail` or `info`.
    #[serde(rename = "type")]
    pub outcome: &'static str,
    /// The completion's value when ok, else the invocation's.
    pub value: Value,
}

impl Witness {
    fn of(op: &Op<'_>) -> Self {
        let event = op.completion.unwrap_or(op.invoke);
        Witness {
            index: event.index,
            time: event.time,
            process: op.process().to_string(),
            node: op.node().map(str::to_owned),
            f: op.f().to_owned(),
            outcome: op.outcome().name(),
            value: op.value().clone(),
        }
    }

    /// `the poll at event 12 (process 3, n1)`.
    fn said(&self) -> String {
        format!(
            "the {} at event {} (process {}, {})",
            self.f,
            self.index,
            self.process,
            self.node.as_deref().unwrap_or("?")
        )
    }
}

/// One anomaly: where, what, the ops that show it, and a sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub key: String,
    /// The offsets involved.
    pub offsets: Vec<u64>,
    /// The messages involved.
    pub msgs: Vec<Value>,
    pub ops: Vec<Witness>,
    pub why: String,
}

/// The cases of one kind of anomaly.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cases {
    pub count: usize,
    /// The first [`KEPT`] cases.
    pub errs: Vec<Anomaly>,
}

impl Cases {
    fn push(&mut self, anomaly: Anomaly) {
        self.count += 1;
        if self.errs.len() < KEPT {
            self.errs.push(anomaly);
        }
    }
}

/// The result of the kafka check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KafkaResult {
    pub valid: Validity,
    /// Sends invoked, acknowledged (ok), and ok polls.
    pub send_count: usize,
    pub acknowledged_count: usize,
    pub poll_count: usize,
    /// Keys that any op sent to or polled.
    pub key_count: usize,
    /// The kinds of anomaly found (each one makes the run invalid).
    pub error_types: Vec<&'static str>,
    /// Every kind's cases, by the names of [`KINDS`] (kinds with none left out).
    #[serde(flatten)]
    pub anomalies: BTreeMap<&'static str, Cases>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
}

/// Where a `[key, offset, msg]` was seen: by an acknowledged send or an ok poll.
#[derive(Debug, Clone, Copy)]
struct Seen {
    op: usize,
}

/// What the history says of one key.
#[derive(Debug, Default)]
struct KeyLog {
    /// Offset -> message (as JSON text, for comparing) -> the message and who saw it there.
    at: BTreeMap<u64, BTreeMap<String, (Value, Vec<Seen>)>>,
    /// The ok polls, as (op, pairs returned).
    polls: Vec<usize>,
    /// Highest offset any ok poll returned, with that poll.
    max_polled: Option<(u64, usize)>,
    /// Messages any poll returned (as JSON text).
    polled: BTreeSet<String>,
}

impl KeyLog {
    fn see(&mut self, offset: u64, msg: &Value, op: usize) {
        self.at
            .entry(offset)
            .or_default()
            .entry(msg.to_string())
            .or_insert_with(|| (msg.clone(), Vec::new()))
            .1
            .push(Seen { op });
    }

    /// Known offsets strictly between `lo` and `hi` (each with one of its messages).
    fn between(&self, lo: u64, hi: u64) -> Vec<(u64, Value)> {
        if hi <= lo.saturating_add(1) {
            return Vec::new();
        }
        self.at
            .range(lo + 1..hi)
            .filter_map(|(o, msgs)| msgs.values().next().map(|(m, _)| (*o, m.clone())))
            .collect()
    }
}

/// The pairs a poll returned for each key: `[offset, msg]` lists, in the order returned;
/// malformed pairs are skipped.
fn poll_pairs(value: &Value) -> BTreeMap<String, Vec<(u64, Value)>> {
    let mut out = BTreeMap::new();
    for (key, pairs) in value["msgs"].as_object().into_iter().flatten() {
        let list: Vec<(u64, Value)> = pairs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_u64()?, p.get(1)?.clone())))
            .collect();
        out.insert(key.clone(), list);
    }
    out
}

/// `offsets 5, 6 (messages 8, 9)`.
fn offsets_and_msgs(list: &[(u64, Value)]) -> String {
    let shown = 6;
    let offsets: Vec<String> = list
        .iter()
        .take(shown)
        .map(|(o, _)| o.to_string())
        .collect();
    let msgs: Vec<String> = list
        .iter()
        .take(shown)
        .map(|(_, m)| m.to_string())
        .collect();
    let more = if list.len() > shown {
        format!(" and {} more", list.len() - shown)
    } else {
        String::new()
    };
    format!(
        "offset{} {}{more} (message{} {})",
        if list.len() == 1 { "" } else { "s" },
        offsets.join(", "),
        if list.len() == 1 { "" } else { "s" },
        msgs.join(", ")
    )
}

/// Check a kafka history.
pub fn check_kafka(events: &[Event]) -> Result<KafkaResult, HistoryError> {
    let ops = client_ops(events)?;
    let mut cases: BTreeMap<&'static str, Cases> = BTreeMap::new();
    let mut add = |kind: &'static str, a: Anomaly| cases.entry(kind).or_default().push(a);
    let w = |i: usize| Witness::of(&ops[i]);

    let mut logs: BTreeMap<String, KeyLog> = BTreeMap::new();
    // (key, msg text) -> sends of it: (op, outcome).
    let mut sends: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let (mut send_count, mut acknowledged, mut poll_count) = (0, 0, 0);
    for (i, op) in ops.iter().enumerate() {
        match op.f() {
            "send" => {
                send_count += 1;
                let Some(key) = op.invoke.value["key"].as_str() else {
                    continue;
                };
                let msg = op.invoke.value.get("msg").cloned().unwrap_or(Value::Null);
                sends
                    .entry((key.to_owned(), msg.to_string()))
                    .or_default()
                    .push(i);
                let log = logs.entry(key.to_owned()).or_default();
                if op.outcome() == Outcome::Ok {
                    acknowledged += 1;
                    if let Some(offset) = op.value()["offset"].as_u64() {
                        log.see(offset, &msg, i);
                    }
                }
            }
            "poll" if op.outcome() == Outcome::Ok => {
                poll_count += 1;
                for (key, pairs) in poll_pairs(op.value()) {
                    let log = logs.entry(key).or_default();
                    log.polls.push(i);
                    for (offset, msg) in &pairs {
                        log.see(*offset, msg, i);
                        log.polled.insert(msg.to_string());
                        if log.max_polled.is_none_or(|(m, _)| *offset > m) {
                            log.max_polled = Some((*offset, i));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // One log per key: one message per offset, one offset per message, every message sent.
    for (key, log) in &logs {
        let mut offsets_of: BTreeMap<&str, Vec<(u64, usize)>> = BTreeMap::new();
        for (offset, msgs) in &log.at {
            if msgs.len() > 1 {
                let list: Vec<(&Value, usize)> = msgs.values().map(|(m, s)| (m, s[0].op)).collect();
                let said: Vec<String> = list
                    .iter()
                    .map(|(m, op)| format!("{m} ({})", w(*op).said()))
                    .collect();
                add(
                    "inconsistent_offsets",
                    Anomaly {
                        key: key.clone(),
                        offsets: vec![*offset],
                        msgs: list.iter().map(|(m, _)| (*m).clone()).collect(),
                        ops: list.iter().map(|(_, op)| w(*op)).collect(),
                        why: format!(
                            "key {key}: offset {offset} holds {} different messages: {}",
                            list.len(),
                            said.join(" and ")
                        ),
                    },
                );
            }
            for (text, (_, seen)) in msgs {
                offsets_of
                    .entry(text.as_str())
                    .or_default()
                    .push((*offset, seen[0].op));
            }
        }
        for (text, at) in offsets_of.iter().filter(|(_, at)| at.len() > 1) {
            let said: Vec<String> = at
                .iter()
                .map(|(o, op)| format!("{o} ({})", w(*op).said()))
                .collect();
            add(
                "duplicate",
                Anomaly {
                    key: key.clone(),
                    offsets: at.iter().map(|(o, _)| *o).collect(),
                    msgs: vec![serde_json::from_str(text).unwrap_or(Value::Null)],
                    ops: at.iter().map(|(_, op)| w(*op)).collect(),
                    why: format!(
                        "key {key}: message {text} is at {} offsets: {}",
                        at.len(),
                        said.join(" and ")
                    ),
                },
            );
        }
        for (offset, msgs) in &log.at {
            for (text, (msg, seen)) in msgs {
                let Some(poll) = seen.iter().map(|s| s.op).find(|&i| ops[i].f() == "poll") else {
                    continue;
                };
                let senders = sends
                    .get(&(key.clone(), text.clone()))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let failed: Vec<usize> = senders
                    .iter()
                    .copied()
                    .filter(|&i| ops[i].outcome() == Outcome::Fail)
                    .collect();
                if !senders.is_empty() && failed.len() < senders.len() {
                    continue;
                }
                let mut witnesses = vec![w(poll)];
                let why = match failed.first() {
                    None => format!(
                        "key {key}: {} returned message {msg} at offset {offset}, which no client ever sent to key {key}",
                        w(poll).said()
                    ),
                    Some(&send) => {
                        witnesses.push(w(send));
                        format!(
                            "key {key}: {} returned message {msg} at offset {offset}, but its send failed ({}): a failed send must not take effect",
                            w(poll).said(),
                            w(send).said()
                        )
                    }
                };
                add(
                    "unexpected",
                    Anomaly {
                        key: key.clone(),
                        offsets: vec![*offset],
                        msgs: vec![msg.clone()],
                        ops: witnesses,
                        why,
                    },
                );
            }
        }
    }

    // Lost and unseen: acknowledged sends that no poll returned. Unseen needs the final polls,
    // which read every key from 0: without one, messages at the end of a log go unjudged.
    let any_final = ops
        .iter()
        .any(|op| op.f() == "poll" && op.is_final() && op.outcome() == Outcome::Ok);
    let mut unjudged = 0usize;
    for ((key, text), senders) in &sends {
        let Some(log) = logs.get(key) else { continue };
        if log.polled.contains(text) {
            continue;
        }
        for &send in senders.iter().filter(|&&i| ops[i].outcome() == Outcome::Ok) {
            let Some(offset) = ops[send].value()["offset"].as_u64() else {
                continue;
            };
            let msg = ops[send].invoke.value["msg"].clone();
            match log.max_polled {
                Some((top, top_poll)) if top > offset => {
                    // A poll that asked from this offset or before and returned a later one
                    // passed over it; else the poll that read furthest shows the log went on.
                    let passer = log.polls.iter().copied().find(|&p| {
                        let asked = ops[p].value()["offsets"][key.as_str()].as_u64();
                        let pairs = poll_pairs(ops[p].value());
                        asked.is_some_and(|a| a <= offset)
                            && pairs
                                .get(key)
                                .is_some_and(|l| l.iter().any(|(o, _)| *o > offset))
                    });
                    let (witness, how) = match passer {
                        Some(p) => {
                            let asked = ops[p].value()["offsets"][key.as_str()]
                                .as_u64()
                                .unwrap_or(0);
                            let returned: Vec<String> = poll_pairs(ops[p].value())
                                .get(key)
                                .map(|l| l.iter().take(8).map(|(o, _)| o.to_string()).collect())
                                .unwrap_or_default();
                            (
                                p,
                                format!(
                                    "{} asked for key {key} from offset {asked} and returned offsets {} without it",
                                    w(p).said(),
                                    returned.join(", ")
                                ),
                            )
                        }
                        None => (
                            top_poll,
                            format!("{} returned offset {top} of key {key}", w(top_poll).said()),
                        ),
                    };
                    add(
                        "lost_write",
                        Anomaly {
                            key: key.clone(),
                            offsets: vec![offset],
                            msgs: vec![msg.clone()],
                            ops: vec![w(send), w(witness)],
                            why: format!(
                                "key {key}: message {msg} was acknowledged at offset {offset} ({}), but no poll ever returned it, while {how}",
                                w(send).said()
                            ),
                        },
                    );
                }
                _ if !any_final => unjudged += 1,
                _ => {
                    let finals: Vec<usize> = log
                        .polls
                        .iter()
                        .copied()
                        .filter(|&p| ops[p].is_final())
                        .collect();
                    let mut witnesses = vec![w(send)];
                    witnesses.extend(finals.iter().take(3).map(|&p| w(p)));
                    add(
                        "unseen",
                        Anomaly {
                            key: key.clone(),
                            offsets: vec![offset],
                            msgs: vec![msg.clone()],
                            ops: witnesses,
                            why: format!(
                                "key {key}: message {msg} was acknowledged at offset {offset} ({}), but no poll ever returned it, not even the final polls, which read every key from offset 0",
                                w(send).said()
                            ),
                        },
                    );
                }
            }
        }
    }

    // Order within each poll, and from poll to poll and send to send of each client.
    let mut last_read: BTreeMap<String, BTreeMap<String, (u64, usize)>> = BTreeMap::new();
    let mut last_sent: BTreeMap<String, BTreeMap<String, (u64, usize)>> = BTreeMap::new();
    let mut lists: Vec<usize> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.outcome() != Outcome::Ok {
            continue;
        }
        let process = op.process().to_string();
        match op.f() {
            "list_committed_offsets" => {
                lists.push(i);
                let keys: BTreeSet<&str> = op.value()["keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if let Some(reads) = last_read.get_mut(&process) {
                    reads.retain(|k, _| keys.contains(k.as_str()));
                }
            }
            "send" => {
                let (Some(key), Some(offset)) =
                    (op.value()["key"].as_str(), op.value()["offset"].as_u64())
                else {
                    continue;
                };
                let mine = last_sent.entry(process).or_default();
                if let Some(&(before, prev)) = mine.get(key)
                    && offset <= before
                {
                    add(
                        "nonmonotonic_send",
                        Anomaly {
                            key: key.to_owned(),
                            offsets: vec![before, offset],
                            msgs: vec![ops[prev].value()["msg"].clone(), op.value()["msg"].clone()],
                            ops: vec![w(prev), w(i)],
                            why: format!(
                                "key {key}: {} got offset {offset}, not past offset {before} that the same client's earlier send got ({})",
                                w(i).said(),
                                w(prev).said()
                            ),
                        },
                    );
                }
                mine.insert(key.to_owned(), (offset, i));
            }
            "poll" => {
                let reads = last_read.entry(process).or_default();
                for (key, pairs) in poll_pairs(op.value()) {
                    let Some(log) = logs.get(&key) else { continue };
                    for pair in pairs.windows(2) {
                        let ((a, ma), (b, mb)) = (&pair[0], &pair[1]);
                        if b <= a {
                            add(
                                "int_nonmonotonic_poll",
                                Anomaly {
                                    key: key.clone(),
                                    offsets: vec![*a, *b],
                                    msgs: vec![ma.clone(), mb.clone()],
                                    ops: vec![w(i)],
                                    why: format!(
                                        "key {key}: {} returned offset {b} after offset {a}: the offsets of one poll must increase",
                                        w(i).said()
                                    ),
                                },
                            );
                        } else {
                            let skipped = log.between(*a, *b);
                            if !skipped.is_empty() {
                                add(
                                    "int_poll_skip",
                                    Anomaly {
                                        key: key.clone(),
                                        offsets: skipped.iter().map(|(o, _)| *o).collect(),
                                        msgs: skipped.iter().map(|(_, m)| m.clone()).collect(),
                                        ops: vec![w(i)],
                                        why: format!(
                                            "key {key}: {} returned offset {a} then offset {b}, skipping {}, which exist",
                                            w(i).said(),
                                            offsets_and_msgs(&skipped)
                                        ),
                                    },
                                );
                            }
                        }
                    }
                    let (Some((first, _)), Some((last, _))) = (pairs.first(), pairs.last()) else {
                        continue;
                    };
                    let asked = op.value()["offsets"][key.as_str()].as_u64();
                    match reads.get(&key) {
                        Some(&(before, prev)) if *first <= before => add(
                            "nonmonotonic_poll",
                            Anomaly {
                                key: key.clone(),
                                offsets: vec![before, *first],
                                msgs: Vec::new(),
                                ops: vec![w(prev), w(i)],
                                why: format!(
                                    "key {key}: {} began at offset {first}, but the same client's previous poll of the key ({}) had already returned offset {before}, and no assign came between: the client went back",
                                    w(i).said(),
                                    w(prev).said()
                                ),
                            },
                        ),
                        previous => {
                            let from = previous.map(|&(b, _)| b + 1).or(asked);
                            if let Some(from) = from {
                                let skipped = log.between(from.saturating_sub(1), *first);
                                // Offsets this poll returned later on were not skipped.
                                let skipped: Vec<(u64, Value)> = skipped
                                    .into_iter()
                                    .filter(|(o, _)| {
                                        *o >= from && !pairs.iter().any(|(p, _)| p == o)
                                    })
                                    .collect();
                                if !skipped.is_empty() {
                                    let since = match previous {
                                        Some(&(b, prev)) => format!(
                                            "the same client's previous poll of the key ({}) ended at offset {b}",
                                            w(prev).said()
                                        ),
                                        None => format!("it asked from offset {from}"),
                                    };
                                    let mut witnesses = vec![w(i)];
                                    witnesses.extend(previous.map(|&(_, p)| w(p)));
                                    add(
                                        "poll_skip",
                                        Anomaly {
                                            key: key.clone(),
                                            offsets: skipped.iter().map(|(o, _)| *o).collect(),
                                            msgs: skipped.iter().map(|(_, m)| m.clone()).collect(),
                                            ops: witnesses,
                                            why: format!(
                                                "key {key}: {} began at offset {first}, but {since}: it skipped {}, which exist",
                                                w(i).said(),
                                                offsets_and_msgs(&skipped)
                                            ),
                                        },
                                    );
                                }
                            }
                        }
                    }
                    reads.insert(key.clone(), (*last.max(first), i));
                }
            }
            _ => {}
        }
    }

    // Committed offsets never go back, unless a commit of the lower offset came in between.
    let commits: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.f() == "commit_offsets" && op.outcome() != Outcome::Fail)
        .map(|(i, _)| i)
        .collect();
    let returned = |i: usize| -> BTreeMap<String, u64> {
        serde_json::from_value(ops[i].value()["offsets"].clone()).unwrap_or_default()
    };
    for &b in &lists {
        let b_offsets = returned(b);
        for (key, &low) in &b_offsets {
            // The highest offset a list that completed before b began returned for key.
            let earlier = lists
                .iter()
                .copied()
                .filter(|&a| ops[a].complete_pos.is_some_and(|c| c < ops[b].invoke_pos))
                .filter_map(|a| returned(a).get(key).map(|&o| (o, a)))
                .max_by_key(|&(o, a)| (o, std::cmp::Reverse(a)));
            let Some((high, a)) = earlier else { continue };
            if low >= high {
                continue;
            }
            let explained = commits.iter().any(|&c| {
                ops[c].invoke.value[key.as_str()].as_u64() == Some(low)
                    && ops[c].invoke_pos < ops[b].complete_pos.unwrap_or(usize::MAX)
                    && ops[c].complete_pos.is_none_or(|p| p > ops[a].invoke_pos)
            });
            if explained {
                continue;
            }
            add(
                "committed_backwards",
                Anomaly {
                    key: key.clone(),
                    offsets: vec![high, low],
                    msgs: Vec::new(),
                    ops: vec![w(a), w(b)],
                    why: format!(
                        "key {key}: {} returned committed offset {low}, but {}, which completed before it began, had returned {high}, and no commit of offset {low} could have come in between",
                        w(b).said(),
                        w(a).said()
                    ),
                },
            );
        }
    }

    let error_types: Vec<&'static str> = KINDS
        .iter()
        .map(|(k, _, _)| *k)
        .filter(|k| cases.contains_key(k))
        .collect();
    let (valid, unknown_reason) = if !error_types.is_empty() {
        (Validity::Invalid, None)
    } else if poll_count == 0 {
        (Validity::Unknown, Some("no poll succeeded".to_owned()))
    } else if unjudged > 0 {
        (
            Validity::Unknown,
            Some(format!(
                "no final poll succeeded, and {unjudged} acknowledged messages were never polled"
            )),
        )
    } else {
        (Validity::Valid, None)
    };
    Ok(KafkaResult {
        valid,
        send_count,
        acknowledged_count: acknowledged,
        poll_count,
        key_count: logs.len(),
        error_types,
        anomalies: cases,
        unknown_reason,
    })
}

impl KafkaResult {
    /// The cases of each kind found, in the order of [`KINDS`], with how many there are in
    /// words (`2 lost writes`) and the plural.
    fn found(&self) -> impl Iterator<Item = (String, &'static str, &Cases)> {
        KINDS.iter().filter_map(|(k, one, many)| {
            self.anomalies
                .get(k)
                .map(|c| (counted(c.count, one, many), *many, c))
        })
    }

    /// What went wrong, for people: a headline naming the anomalies and the first one, and a
    /// sentence per anomaly (a handful of each kind, then how many more).
    pub fn story(&self) -> crate::story::Story {
        let told = crate::story::TOLD;
        let mut story = crate::story::Story::default();
        let mut counts = Vec::new();
        for (words, many, cases) in self.found() {
            story
                .failures
                .extend(cases.errs.iter().take(told).map(|a| a.why.clone()));
            if cases.count > told {
                story
                    .failures
                    .push(format!("and {} more {many}", cases.count - told));
            }
            counts.push(words);
        }
        story.headline = match self.valid {
            Validity::Invalid => {
                let first = self
                    .found()
                    .next()
                    .and_then(|(_, _, c)| c.errs.first())
                    .map_or(String::new(), |a| format!(": {}", a.why));
                Some(format!("{}{first}", counts.join(", ")))
            }
            Validity::Unknown => Some(format!(
                "the kafka check cannot decide: {}",
                self.unknown_reason.as_deref().unwrap_or("no reason given")
            )),
            Validity::Valid => None,
        };
        story
    }
}

impl fmt::Display for KafkaResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "kafka: {}: {} sends ({} acknowledged), {} ok polls, {} keys",
            self.valid, self.send_count, self.acknowledged_count, self.poll_count, self.key_count
        )?;
        // The cases themselves are the story's ([`KafkaResult::story`]): here, how many.
        for (words, _, _) in self.found() {
            writeln!(f, "  {words}")?;
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
    use crate::history::{EventType, Process};

    /// A history from `(process, type, f, value, final)` rows; each row is one event, times
    /// 1 ms apart.
    fn history(rows: &[(u64, &str, &str, Value)]) -> Vec<Event> {
        rows.iter()
            .enumerate()
            .map(|(i, (p, kind, f, value))| Event {
                index: i as u64,
                time: i as u64 * 1_000_000,
                process: Process::Client(*p),
                node: Some(format!("n{}", p % 2)),
                kind: match kind.trim_end_matches('F') {
                    "invoke" => EventType::Invoke,
                    "ok" => EventType::Ok,
                    "fail" => EventType::Fail,
                    _ => EventType::Info,
                },
                f: (*f).to_owned(),
                value: value.clone(),
                error: None,
                is_final: kind.ends_with('F'),
            })
            .collect()
    }

    fn send(
        p: u64,
        key: &str,
        msg: u64,
        offset: u64,
    ) -> [(u64, &'static str, &'static str, Value); 2] {
        [
            (p, "invoke", "send", json!({"key": key, "msg": msg})),
            (
                p,
                "ok",
                "send",
                json!({"key": key, "msg": msg, "offset": offset}),
            ),
        ]
    }

    fn poll(p: u64, from: Value, msgs: Value) -> [(u64, &'static str, &'static str, Value); 2] {
        [
            (p, "invoke", "poll", json!({"offsets": from})),
            (p, "ok", "poll", json!({"offsets": from, "msgs": msgs})),
        ]
    }

    fn final_poll(
        p: u64,
        from: Value,
        msgs: Value,
    ) -> [(u64, &'static str, &'static str, Value); 2] {
        [
            (p, "invokeF", "poll", json!({"offsets": from})),
            (p, "okF", "poll", json!({"offsets": from, "msgs": msgs})),
        ]
    }

    fn check(rows: &[[(u64, &'static str, &'static str, Value); 2]]) -> KafkaResult {
        let flat: Vec<_> = rows.iter().flat_map(|r| r.iter().cloned()).collect();
        check_kafka(&history(&flat)).unwrap()
    }

    fn only(r: &KafkaResult, kind: &str) -> Vec<Anomaly> {
        assert_eq!(r.valid, Validity::Invalid, "{r}");
        assert_eq!(r.error_types, vec![kind], "{r}");
        r.anomalies[kind].errs.clone()
    }

    #[test]
    fn a_log_every_poll_agrees_on_is_valid() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(1, "a", 2, 1),
            poll(2, json!({"a": 0}), json!({"a": [[0, 1]]})),
            poll(2, json!({"a": 1}), json!({"a": [[1, 2]]})),
            final_poll(3, json!({"a": 0}), json!({"a": [[0, 1], [1, 2]]})),
        ]);
        assert_eq!(r.valid, Validity::Valid, "{r}");
        assert_eq!(
            (r.send_count, r.acknowledged_count, r.poll_count),
            (2, 2, 3)
        );
        assert!(r.story().headline.is_none());
    }

    #[test]
    fn an_acknowledged_send_that_polls_pass_over_is_a_lost_write() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            send(0, "a", 3, 2),
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1], [2, 3]]})),
        ]);
        // The poll that passed over it also skipped a known offset.
        assert_eq!(r.error_types, vec!["lost_write", "int_poll_skip"], "{r}");
        let lost = r.anomalies["lost_write"].errs.clone();
        assert_eq!(lost.len(), 1);
        assert_eq!(
            (lost[0].offsets.clone(), lost[0].msgs.clone()),
            (vec![1], vec![json!(2)])
        );
        assert_eq!(lost[0].ops[0].index, 3, "the send's ok");
        assert_eq!(lost[0].ops[1].index, 7, "the poll that passed over it");
        assert_eq!(
            lost[0].why,
            "key a: message 2 was acknowledged at offset 1 (the send at event 3 (process 0, n0)), \
             but no poll ever returned it, while the poll at event 7 (process 1, n1) asked for \
             key a from offset 0 and returned offsets 0, 2 without it"
        );
        let story = r.story();
        assert!(
            story
                .headline
                .as_deref()
                .unwrap()
                .starts_with("1 lost write, 1 poll that skipped offsets: key a: message 2"),
            "{story:?}"
        );
        assert_eq!(story.failures[0], lost[0].why);
        assert_eq!(story.failures.len(), 2, "{story:?}");
    }

    #[test]
    fn an_acknowledged_send_no_poll_reaches_is_unseen() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1]]})),
        ]);
        let unseen = only(&r, "unseen");
        assert_eq!(unseen[0].msgs, vec![json!(2)]);
        assert_eq!(unseen[0].ops.len(), 2, "the send and the final poll");
        assert!(
            unseen[0].why.contains("not even the final polls"),
            "{}",
            unseen[0].why
        );
    }

    #[test]
    fn one_message_at_two_offsets_is_a_duplicate() {
        let r = check(&[
            send(0, "a", 1, 0),
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1], [1, 1]]})),
        ]);
        let dup = only(&r, "duplicate");
        assert_eq!(
            (dup[0].offsets.clone(), dup[0].msgs.clone()),
            (vec![0, 1], vec![json!(1)])
        );
        assert_eq!(
            dup[0].why,
            "key a: message 1 is at 2 offsets: 0 (the send at event 1 (process 0, n0)) and 1 \
             (the poll at event 3 (process 1, n1))"
        );
    }

    #[test]
    fn two_messages_at_one_offset_are_inconsistent_offsets() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(1, "a", 2, 0),
            final_poll(2, json!({"a": 0}), json!({"a": [[0, 1]]})),
        ]);
        // Message 2 is also never polled although the log went on... it did not: offset 0 is
        // the top, so it is unseen rather than lost.
        assert_eq!(r.error_types, vec!["unseen", "inconsistent_offsets"], "{r}");
        let bad = &r.anomalies["inconsistent_offsets"].errs[0];
        assert_eq!(bad.offsets, vec![0]);
        assert_eq!(bad.msgs, vec![json!(1), json!(2)]);
        assert_eq!(bad.ops.len(), 2);
        assert!(
            bad.why
                .starts_with("key a: offset 0 holds 2 different messages: 1 (the send at event 1"),
            "{}",
            bad.why
        );
    }

    #[test]
    fn offsets_out_of_order_within_a_poll_are_caught() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            final_poll(1, json!({"a": 0}), json!({"a": [[1, 2], [0, 1]]})),
        ]);
        let bad = only(&r, "int_nonmonotonic_poll");
        assert_eq!(bad[0].offsets, vec![1, 0]);
        assert!(
            bad[0].why.contains("returned offset 0 after offset 1"),
            "{}",
            bad[0].why
        );
    }

    #[test]
    fn a_poll_that_jumps_over_a_known_offset_skips_it() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            send(0, "a", 3, 2),
            poll(1, json!({"a": 0}), json!({"a": [[0, 1], [2, 3]]})),
            final_poll(2, json!({"a": 0}), json!({"a": [[0, 1], [1, 2], [2, 3]]})),
        ]);
        let bad = only(&r, "int_poll_skip");
        assert_eq!(
            (bad[0].offsets.clone(), bad[0].msgs.clone()),
            (vec![1], vec![json!(2)])
        );
        assert!(
            bad[0]
                .why
                .contains("skipping offset 1 (message 2), which exist"),
            "{}",
            bad[0].why
        );
    }

    #[test]
    fn a_client_whose_polls_go_back_without_an_assign_is_nonmonotonic() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            poll(1, json!({"a": 0}), json!({"a": [[0, 1], [1, 2]]})),
            poll(1, json!({"a": 2}), json!({"a": [[1, 2]]})),
        ]);
        let bad = only(&r, "nonmonotonic_poll");
        assert_eq!(bad[0].offsets, vec![1, 1]);
        assert_eq!(
            bad[0].ops.iter().map(|o| o.index).collect::<Vec<_>>(),
            vec![5, 7]
        );
        // After an assign that drops the key, starting over is fine.
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            poll(1, json!({"a": 0}), json!({"a": [[0, 1], [1, 2]]})),
            [
                (
                    1,
                    "invoke",
                    "list_committed_offsets",
                    json!({"keys": ["b"]}),
                ),
                (
                    1,
                    "ok",
                    "list_committed_offsets",
                    json!({"keys": ["b"], "offsets": {}}),
                ),
            ],
            poll(1, json!({"a": 0}), json!({"a": [[0, 1], [1, 2]]})),
        ]);
        assert_eq!(r.valid, Validity::Valid, "{r}");
    }

    #[test]
    fn a_client_whose_next_poll_starts_past_a_known_offset_skips_it() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            send(0, "a", 3, 2),
            poll(1, json!({"a": 0}), json!({"a": [[0, 1]]})),
            poll(1, json!({"a": 1}), json!({"a": [[2, 3]]})),
            final_poll(2, json!({"a": 0}), json!({"a": [[0, 1], [1, 2], [2, 3]]})),
        ]);
        let bad = only(&r, "poll_skip");
        assert_eq!(bad[0].offsets, vec![1]);
        assert!(
            bad[0].why.contains("previous poll of the key (the poll at event 7 (process 1, n1)) ended at offset 0: it skipped offset 1 (message 2)"),
            "{}",
            bad[0].why
        );
    }

    #[test]
    fn a_clients_sends_must_get_increasing_offsets() {
        let r = check(&[
            send(0, "a", 1, 1),
            send(0, "a", 2, 0),
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 2], [1, 1]]})),
        ]);
        let bad = only(&r, "nonmonotonic_send");
        assert_eq!(bad[0].offsets, vec![1, 0]);
        assert_eq!(bad[0].msgs, vec![json!(1), json!(2)]);
    }

    #[test]
    fn a_polled_message_no_one_sent_or_whose_send_failed_is_unexpected() {
        let r = check(&[
            send(0, "a", 1, 0),
            [
                (0, "invoke", "send", json!({"key": "a", "msg": 2})),
                (0, "fail", "send", json!({"key": "a", "msg": 2})),
            ],
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1], [1, 2], [2, 77]]})),
        ]);
        let bad = only(&r, "unexpected");
        assert_eq!(bad.len(), 2);
        assert!(bad[0].why.contains("but its send failed"), "{}", bad[0].why);
        assert!(
            bad[1]
                .why
                .contains("message 77 at offset 2, which no client ever sent"),
            "{}",
            bad[1].why
        );
        // An indefinite send may have happened: its message is expected.
        let r = check(&[
            [
                (0, "invoke", "send", json!({"key": "a", "msg": 1})),
                (0, "info", "send", json!({"key": "a", "msg": 1})),
            ],
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1]]})),
        ]);
        assert_eq!(r.valid, Validity::Valid, "{r}");
    }

    #[test]
    fn committed_offsets_that_go_back_with_no_commit_to_explain_it_are_caught() {
        let list = |p: u64, offsets: Value| {
            [
                (
                    p,
                    "invoke",
                    "list_committed_offsets",
                    json!({"keys": ["a"]}),
                ),
                (
                    p,
                    "ok",
                    "list_committed_offsets",
                    json!({"keys": ["a"], "offsets": offsets}),
                ),
            ]
        };
        let commit = |p: u64, offset: u64| {
            [
                (p, "invoke", "commit_offsets", json!({"a": offset})),
                (p, "ok", "commit_offsets", json!({"a": offset})),
            ]
        };
        let base = [
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            poll(0, json!({"a": 0}), json!({"a": [[0, 1], [1, 2]]})),
        ];
        let mut rows = base.to_vec();
        rows.extend([
            commit(0, 1),
            list(1, json!({"a": 1})),
            list(2, json!({"a": 0})),
        ]);
        let r = check(&rows);
        let bad = only(&r, "committed_backwards");
        assert_eq!(bad[0].offsets, vec![1, 0]);
        assert!(
            bad[0]
                .why
                .contains("returned committed offset 0, but the list_committed_offsets at event 9"),
            "{}",
            bad[0].why
        );
        // A commit of the lower offset after the first list explains it (another client's
        // commit may overwrite).
        let mut rows = base.to_vec();
        rows.extend([
            commit(0, 1),
            list(1, json!({"a": 1})),
            commit(3, 0),
            list(2, json!({"a": 0})),
        ]);
        assert_eq!(check(&rows).valid, Validity::Valid);
    }

    #[test]
    fn no_successful_poll_is_unknown() {
        let r = check(&[send(0, "a", 1, 0)]);
        assert_eq!(r.valid, Validity::Unknown);
        assert_eq!(
            r.story().headline.as_deref(),
            Some("the kafka check cannot decide: no poll succeeded")
        );
    }

    #[test]
    fn results_name_each_anomaly_with_its_count_and_cases() {
        let r = check(&[
            send(0, "a", 1, 0),
            send(0, "a", 2, 1),
            send(0, "a", 3, 2),
            final_poll(1, json!({"a": 0}), json!({"a": [[0, 1], [2, 3]]})),
        ]);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["valid"], json!(false));
        assert_eq!(json["error_types"], json!(["lost_write", "int_poll_skip"]));
        assert_eq!(json["lost_write"]["count"], json!(1));
        assert_eq!(json["lost_write"]["errs"][0]["ops"][1]["f"], json!("poll"));
        assert!(json.get("duplicate").is_none());
    }
}

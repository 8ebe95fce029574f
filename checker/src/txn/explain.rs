//! Anomalies in words a student can check by hand against the history: each instance names
//! its transactions T1, T2, ... (process, events, micro-ops) and says, edge by edge, what
//! each one observed or overwrote, as Elle's explainers do.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::TxnKind;
use super::anomaly::Anomaly;
use super::graph::{Arc, EdgeKind};
use super::history::{NIL, TxnHistory};

/// At most this many instances of one anomaly are kept (all are counted).
pub const KEPT: usize = 8;

/// A transaction as an anomaly names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TxnInfo {
    /// `T1`, `T2`, ... within one instance.
    pub name: String,
    /// The `index` of its invocation and completion events.
    pub invoke_index: u64,
    pub complete_index: Option<u64>,
    pub process: u64,
    pub node: Option<String>,
    /// `ok`, `info` or `fail`.
    pub outcome: &'static str,
    /// Its micro-ops (the completion's when ok).
    pub mops: Value,
}

/// One edge of a cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The version of `key` the source wrote or read (`null`: the initial state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The version of `key` the target wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_value: Option<Value>,
    pub explanation: String,
}

/// One instance of an anomaly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyCase {
    pub txns: Vec<TxnInfo>,
    /// A cycle's edges, in order (empty for the other anomalies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The micro-op that shows the anomaly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mop: Option<Value>,
    /// What a read should have returned (internal), or the values involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
    pub explanation: String,
}

/// What the inference passes found, by anomaly: up to [`KEPT`] instances, and a count.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    pub cases: BTreeMap<Anomaly, Vec<AnomalyCase>>,
    pub counts: BTreeMap<Anomaly, usize>,
}

impl Findings {
    /// Count one instance of `a`; true when it should be kept (so worth describing).
    pub fn note(&mut self, a: Anomaly) -> bool {
        let c = self.counts.entry(a).or_insert(0);
        *c += 1;
        *c <= KEPT
    }

    /// Keep an instance (after [`Findings::note`] said so), unless one kept already says the
    /// same (two reads of one key in one transaction that saw the same value are counted
    /// twice, and told once).
    pub fn keep(&mut self, a: Anomaly, case: AnomalyCase) {
        let cases = self.cases.entry(a).or_default();
        if !cases.iter().any(|c| c.explanation == case.explanation) {
            cases.push(case);
        }
    }

    /// Count and keep, building the instance only when it is kept.
    pub fn add(&mut self, a: Anomaly, case: impl FnOnce() -> AnomalyCase) {
        if self.note(a) {
            let c = case();
            self.keep(a, c);
        }
    }

    /// Note an anomaly with no instance (empty-transaction-graph).
    pub fn flag(&mut self, a: Anomaly) {
        self.counts.entry(a).or_insert(1);
        self.cases.entry(a).or_default();
    }
}

/// Names the transactions of one instance T1, T2, ... in the order they are mentioned.
pub struct Namer<'a> {
    h: &'a TxnHistory,
    named: Vec<u32>,
}

impl<'a> Namer<'a> {
    pub fn new(h: &'a TxnHistory) -> Self {
        Namer {
            h,
            named: Vec::new(),
        }
    }

    /// The name of transaction `t`.
    pub fn name(&mut self, t: u32) -> String {
        let i = match self.named.iter().position(|&x| x == t) {
            Some(i) => i,
            None => {
                self.named.push(t);
                self.named.len() - 1
            }
        };
        format!("T{}", i + 1)
    }

    /// The transactions named so far, described.
    pub fn txns(&self) -> Vec<TxnInfo> {
        self.named
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let txn = &self.h.txns[t as usize];
                TxnInfo {
                    name: format!("T{}", i + 1),
                    invoke_index: txn.invoke_index,
                    complete_index: (txn.complete_index != u64::MAX).then_some(txn.complete_index),
                    process: txn.process,
                    node: self.h.node(t).map(str::to_owned),
                    outcome: txn.outcome.name(),
                    mops: self.h.mops_json(t),
                }
            })
            .collect()
    }

    /// "T1 (process 3, events 10..12: [[...]])" for each transaction named so far.
    pub fn legend(&self) -> String {
        self.txns()
            .iter()
            .map(|t| {
                let events = match t.complete_index {
                    Some(c) => format!("events {}..{}", t.invoke_index, c),
                    None => format!("event {}, never completed", t.invoke_index),
                };
                let outcome = if t.outcome == "ok" {
                    String::new()
                } else {
                    format!(", {}", t.outcome)
                };
                format!(
                    "{} (process {}, {events}{outcome}: {})",
                    t.name,
                    t.process,
                    compact(&t.mops)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// JSON with a space after commas, for sentences.
pub fn compact(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// The state a list read shows after version `v` of a key: "[..., v]" or "empty".
fn list_state(h: &TxnHistory, v: u32) -> String {
    if v == NIL {
        "empty".to_owned()
    } else {
        format!("ending in {}", h.values.value(v))
    }
}

/// How transaction `t` read list `key` ending in `last` ([`NIL`]: empty), as "= [1, 4]".
fn list_read(h: &TxnHistory, t: u32, key: u32, last: u32) -> String {
    let read = h.mops(t).iter().find(|m| {
        m.kind == super::history::MopKind::Read
            && m.key == key
            && h.read_elements(m).last().copied().unwrap_or(NIL) == last
    });
    match read {
        Some(m) if m.value != NIL && m.len > 0 => format!("= {}", compact(&h.mop_value(m))),
        _ if last == NIL => "empty".to_owned(),
        _ => list_state(h, last),
    }
}

/// One edge in words: what the source did, what the target did, and why that orders them.
pub fn step_sentence(h: &TxnHistory, a: &str, b: &str, arc: &Arc, a_t: u32, b_t: u32) -> String {
    let key = h.keys.value(arc.key);
    let v1 = h.values.value(arc.v1);
    let v2 = h.values.value(arc.v2);
    let ta = &h.txns[a_t as usize];
    let tb = &h.txns[b_t as usize];
    match (arc.kind, h.kind) {
        (EdgeKind::Ww, TxnKind::ListAppend) if arc.unread => format!(
            "{b} appended {v2} to key {key}, which no read shows, so after the last element read, {a}'s {v1} (ww)"
        ),
        (EdgeKind::Ww, TxnKind::ListAppend) => format!(
            "{b} appended {v2} to key {key} after {a}'s append of {v1} (the order the longest read of key {key} shows) (ww)"
        ),
        (EdgeKind::Wr, TxnKind::ListAppend) => format!(
            "{b} read key {key} {}, whose last element {v1} {a} appended (wr)",
            list_read(h, b_t, arc.key, arc.v1)
        ),
        (EdgeKind::Rw, TxnKind::ListAppend) if arc.v1 == NIL && arc.unread => format!(
            "{a} read key {key} empty, and {b} appended {v2} to it, which no read shows, so after the empty state (rw)"
        ),
        (EdgeKind::Rw, TxnKind::ListAppend) if arc.v1 == NIL => {
            format!("{a} read key {key} empty, and {b} appended its first element {v2} (rw)")
        }
        (EdgeKind::Rw, TxnKind::ListAppend) if arc.unread => format!(
            "{a} read key {key} {} and did not see {b}'s append of {v2}, which no read shows, so after every element read (rw)",
            list_read(h, a_t, arc.key, arc.v1)
        ),
        (EdgeKind::Rw, TxnKind::ListAppend) => format!(
            "{a} read key {key} {} and did not see {b}'s append of {v2}, the next element (rw)",
            list_read(h, a_t, arc.key, arc.v1)
        ),
        (EdgeKind::Ww, TxnKind::RwRegister) => format!(
            "{a} wrote key {key} = {v1} and {b} wrote it = {v2}, which came later in the version order (ww)"
        ),
        (EdgeKind::Wr, TxnKind::RwRegister) => {
            format!("{b} read key {key} = {v1}, which {a} wrote (wr)")
        }
        (EdgeKind::Rw, TxnKind::RwRegister) => format!(
            "{a} read key {key} = {v1}, and {b} wrote it = {v2}, which came later in the version order (rw)"
        ),
        (EdgeKind::Process, _) => format!(
            "process {} ran {b} (invoked at event {}) after {a} (completed at event {}) (process)",
            ta.process, tb.invoke_index, ta.complete_index
        ),
        (EdgeKind::Realtime, _) => format!(
            "{b} was invoked (event {}) after {a} completed (event {}) (realtime)",
            tb.invoke_index, ta.complete_index
        ),
    }
}

/// What makes a cycle of this anomaly, in words.
pub fn cycle_kind_words(a: Anomaly) -> &'static str {
    use Anomaly::*;
    match a {
        G0 | G0Process | G0Realtime => "a cycle of write-write edges only",
        G1c | G1cProcess | G1cRealtime => {
            "a cycle of write-write and write-read edges, at least one write-read"
        }
        GSingleItem | GSingleItemProcess | GSingleItemRealtime => {
            "a cycle with exactly one read-write edge"
        }
        GNonadjacentItem | GNonadjacentItemProcess | GNonadjacentItemRealtime => {
            "a cycle with several read-write edges, no two adjacent"
        }
        _ => "a cycle with two or more read-write edges",
    }
}

/// Describe a cycle `txns[0] -> txns[1] -> ... -> txns[0]` through `arcs`.
pub fn cycle_case(h: &TxnHistory, anomaly: Anomaly, txns: &[u32], arcs: &[Arc]) -> AnomalyCase {
    let mut namer = Namer::new(h);
    let names: Vec<String> = txns.iter().map(|&t| namer.name(t)).collect();
    let mut steps = Vec::new();
    for (i, arc) in arcs.iter().enumerate() {
        let (a, b) = (i, (i + 1) % txns.len());
        let data = matches!(arc.kind, EdgeKind::Ww | EdgeKind::Wr | EdgeKind::Rw);
        steps.push(Step {
            from: names[a].clone(),
            to: names[b].clone(),
            kind: arc.kind,
            key: data.then(|| h.keys.value(arc.key)),
            value: data.then(|| h.values.value(arc.v1)),
            next_value: (data && arc.kind != EdgeKind::Wr).then(|| h.values.value(arc.v2)),
            explanation: step_sentence(h, &names[a], &names[b], arc, txns[a], txns[b]),
        });
    }
    let mut chain = names.clone();
    chain.push(names[0].clone());
    let explanation = format!(
        "{}. {}; so {}: {}, {}.",
        namer.legend(),
        steps
            .iter()
            .map(|s| s.explanation.clone())
            .collect::<Vec<_>>()
            .join("; "),
        chain.join(" < "),
        cycle_kind_words(anomaly),
        anomaly
    );
    AnomalyCase {
        txns: namer.txns(),
        steps,
        key: None,
        mop: None,
        expected: None,
        values: Vec::new(),
        explanation,
    }
}

/// A non-cycle instance about the transactions `txns` (named T1, T2, ... in that order).
pub fn plain_case(
    h: &TxnHistory,
    txns: &[u32],
    explain: impl FnOnce(&[String]) -> String,
) -> AnomalyCase {
    let mut namer = Namer::new(h);
    let names: Vec<String> = txns.iter().map(|&t| namer.name(t)).collect();
    let words = explain(&names);
    AnomalyCase {
        txns: namer.txns(),
        steps: Vec::new(),
        key: None,
        mop: None,
        expected: None,
        values: Vec::new(),
        explanation: format!("{}. {words}", namer.legend()),
    }
}

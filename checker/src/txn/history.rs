//! A transactional history in compact form: every transaction once, its micro-ops in one flat
//! vector, keys and values interned into integers, so the inference passes touch no JSON.
//!
//! [`TxnHistoryBuilder`] takes events one at a time (it pairs each invocation with its
//! completion itself), so a history can be checked without first holding every
//! [`Event`]; [`TxnHistory::from_events`] does the same over a slice.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::TxnKind;
use crate::history::{Event, EventType, HistoryError, Process};
use crate::op::Outcome;

/// No value: a read of `null` (absent key, empty list), or an unknown read.
pub const NIL: u32 = u32::MAX;

/// What a micro-op does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MopKind {
    /// `["r", k, v]`.
    Read,
    /// `["append", k, v]` (list-append).
    Append,
    /// `["w", k, v]` (rw-register).
    Write,
}

/// One micro-op. For an append or a write, `value` is the value written. For a read of a
/// register, `value` is the value read ([`NIL`] for `null` or unknown). For a read of a list,
/// the elements are `elements[value .. value + len]` ([`NIL`]: `null` or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mop {
    pub kind: MopKind,
    pub key: u32,
    pub value: u32,
    pub len: u32,
}

/// One transaction: an invocation and its completion (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Txn {
    pub outcome: Outcome,
    pub process: u64,
    /// Index into [`TxnHistory::nodes`], or [`NIL`].
    pub node: u32,
    /// The `index` of the invocation event and of the completion (`u64::MAX`: none).
    pub invoke_index: u64,
    pub complete_index: u64,
    /// Position of the invocation and completion among the history's events (real-time
    /// order; `u64::MAX`: no completion).
    pub invoke_pos: u64,
    pub complete_pos: u64,
    /// The micro-ops are `mops[mops_start .. mops_start + mops_len]`: the completion's when
    /// ok, else the invocation's (whose reads are unknown).
    pub mops_start: u32,
    pub mops_len: u32,
}

/// Interns JSON values (keys, written values) into dense integers, keeping each original.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ints: FxHashMap<i64, u32>,
    others: FxHashMap<String, u32>,
    values: Vec<Value>,
}

impl Interner {
    /// The id of `v`, new or not.
    pub fn intern(&mut self, v: &Value) -> u32 {
        if let Some(i) = v.as_i64() {
            if let Some(&id) = self.ints.get(&i) {
                return id;
            }
            let id = self.values.len() as u32;
            self.ints.insert(i, id);
            self.values.push(v.clone());
            return id;
        }
        let text = v.to_string();
        if let Some(&id) = self.others.get(&text) {
            return id;
        }
        let id = self.values.len() as u32;
        self.others.insert(text, id);
        self.values.push(v.clone());
        id
    }

    /// The value of an id ([`NIL`] is `null`).
    pub fn value(&self, id: u32) -> Value {
        self.values.get(id as usize).cloned().unwrap_or(Value::Null)
    }

    /// How many distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A transactional history, compact.
#[derive(Debug, Clone)]
pub struct TxnHistory {
    pub kind: TxnKind,
    /// In invocation order; a transaction's id is its position here.
    pub txns: Vec<Txn>,
    pub mops: Vec<Mop>,
    /// The elements of list reads.
    pub elements: Vec<u32>,
    pub keys: Interner,
    pub values: Interner,
    pub nodes: Vec<String>,
    /// Transaction ids in the order of their completions (real time).
    pub completion_order: Vec<u32>,
}

impl TxnHistory {
    /// Read a whole history of events (see [`TxnHistoryBuilder`]).
    pub fn from_events(kind: TxnKind, events: &[Event]) -> Result<TxnHistory, HistoryError> {
        let mut b = TxnHistoryBuilder::new(kind);
        for e in events {
            b.push(e)?;
        }
        Ok(b.finish())
    }

    /// The micro-ops of transaction `t`.
    pub fn mops(&self, t: u32) -> &[Mop] {
        let txn = &self.txns[t as usize];
        &self.mops[txn.mops_start as usize..(txn.mops_start + txn.mops_len) as usize]
    }

    /// The elements a list read returned (empty for `null`).
    pub fn read_elements(&self, m: &Mop) -> &[u32] {
        if m.value == NIL {
            &[]
        } else {
            &self.elements[m.value as usize..(m.value + m.len) as usize]
        }
    }

    /// A transaction's micro-ops as JSON, as the history has them.
    pub fn mops_json(&self, t: u32) -> Value {
        Value::Array(
            self.mops(t)
                .iter()
                .map(|m| {
                    Value::Array(vec![
                        self.f_name(m).into(),
                        self.keys.value(m.key),
                        self.mop_value(m),
                    ])
                })
                .collect(),
        )
    }

    /// The `f` of a micro-op as the history spells it.
    pub fn f_name(&self, m: &Mop) -> &'static str {
        match m.kind {
            MopKind::Read => "r",
            MopKind::Append => "append",
            MopKind::Write => "w",
        }
    }

    /// The value of a micro-op as JSON (a read's value as read; `null` when unknown).
    pub fn mop_value(&self, m: &Mop) -> Value {
        match (m.kind, self.kind) {
            (MopKind::Read, TxnKind::ListAppend) if m.value != NIL => Value::Array(
                self.read_elements(m)
                    .iter()
                    .map(|&e| self.values.value(e))
                    .collect(),
            ),
            _ if m.value == NIL => Value::Null,
            _ => self.values.value(m.value),
        }
    }

    /// The node name of a transaction, if recorded.
    pub fn node(&self, t: u32) -> Option<&str> {
        let n = self.txns[t as usize].node;
        self.nodes.get(n as usize).map(String::as_str)
    }
}

/// Builds a [`TxnHistory`] from events pushed in history order: pairs each client invocation
/// with its process's next event, skips the nemesis, and reads the micro-ops. Errors are the
/// history's (a completion with no invocation, a value that is not a list of `[f, k, v]`, a
/// read of a list that returned something other than a list, a micro-op the kind does not
/// have).
#[derive(Debug)]
pub struct TxnHistoryBuilder {
    h: TxnHistory,
    open: FxHashMap<u64, u32>,
    node_ids: FxHashMap<String, u32>,
    pos: u64,
}

impl TxnHistoryBuilder {
    /// An empty history of `kind`.
    pub fn new(kind: TxnKind) -> Self {
        TxnHistoryBuilder {
            h: TxnHistory {
                kind,
                txns: Vec::new(),
                mops: Vec::new(),
                elements: Vec::new(),
                keys: Interner::default(),
                values: Interner::default(),
                nodes: Vec::new(),
                completion_order: Vec::new(),
            },
            open: FxHashMap::default(),
            node_ids: FxHashMap::default(),
            pos: 0,
        }
    }

    /// Take the next event of the history.
    pub fn push(&mut self, e: &Event) -> Result<(), HistoryError> {
        let pos = self.pos;
        self.pos += 1;
        let Process::Client(p) = e.process else {
            return Ok(());
        };
        let malformed = |reason: String| HistoryError::Malformed {
            index: e.index,
            reason,
        };
        if e.f != "txn" {
            return Err(malformed(format!(
                "a transactional history has only txn ops, not {:?}",
                e.f
            )));
        }
        if e.kind == EventType::Invoke {
            if self.open.contains_key(&p) {
                return Err(malformed(format!(
                    "process {p} invokes a txn while its previous one has not completed"
                )));
            }
            let node = match &e.node {
                Some(n) => match self.node_ids.get(n) {
                    Some(&id) => id,
                    None => {
                        let id = self.h.nodes.len() as u32;
                        self.h.nodes.push(n.clone());
                        self.node_ids.insert(n.clone(), id);
                        id
                    }
                },
                None => NIL,
            };
            let start = self.h.mops.len() as u32;
            self.read_mops(&e.value, false).map_err(malformed)?;
            let t = self.h.txns.len() as u32;
            self.h.txns.push(Txn {
                outcome: Outcome::Info,
                process: p,
                node,
                invoke_index: e.index,
                complete_index: u64::MAX,
                invoke_pos: pos,
                complete_pos: u64::MAX,
                mops_start: start,
                mops_len: self.h.mops.len() as u32 - start,
            });
            self.open.insert(p, t);
            return Ok(());
        }
        let Some(t) = self.open.remove(&p) else {
            return Err(malformed(format!(
                "{:?} completion of a txn by process {p}, which has no open invocation",
                e.kind
            )));
        };
        let outcome = match e.kind {
            EventType::Ok => Outcome::Ok,
            EventType::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        if outcome == Outcome::Ok {
            let start = self.h.mops.len() as u32;
            self.read_mops(&e.value, true).map_err(malformed)?;
            let len = self.h.mops.len() as u32 - start;
            let txn = self.h.txns[t as usize];
            if len == txn.mops_len && txn.mops_start + txn.mops_len == start {
                // The invocation's micro-ops are the last ones: the completion's replace them.
                self.h
                    .mops
                    .copy_within(start as usize.., txn.mops_start as usize);
                self.h.mops.truncate(start as usize);
            } else {
                self.h.txns[t as usize].mops_start = start;
                self.h.txns[t as usize].mops_len = len;
            }
        }
        let txn = &mut self.h.txns[t as usize];
        txn.outcome = outcome;
        txn.complete_index = e.index;
        txn.complete_pos = pos;
        self.h.completion_order.push(t);
        Ok(())
    }

    /// Parse a txn value into micro-ops; reads are filled in only when `completed_ok`.
    fn read_mops(&mut self, value: &Value, completed_ok: bool) -> Result<(), String> {
        let Some(mops) = value.as_array() else {
            return Err(format!(
                "a txn's value must be a list of micro-ops, not {value}"
            ));
        };
        for (i, mop) in mops.iter().enumerate() {
            let parts = mop
                .as_array()
                .filter(|a| a.len() == 3)
                .ok_or_else(|| format!("micro-op {i} must be [f, key, value], not {mop}"))?;
            let f = parts[0]
                .as_str()
                .map(|f| f.trim_start_matches(':'))
                .ok_or_else(|| format!("micro-op {i}: f must be a string, not {}", parts[0]))?;
            let kind = match (f, self.h.kind) {
                ("r", _) => MopKind::Read,
                ("append", TxnKind::ListAppend) => MopKind::Append,
                ("w", TxnKind::RwRegister) => MopKind::Write,
                _ => {
                    return Err(format!(
                        "micro-op {i}: {f:?} is not a micro-op of {} (which has {})",
                        match self.h.kind {
                            TxnKind::ListAppend => "txn-list-append",
                            TxnKind::RwRegister => "txn-rw-register",
                        },
                        match self.h.kind {
                            TxnKind::ListAppend => "r and append",
                            TxnKind::RwRegister => "r and w",
                        }
                    ));
                }
            };
            let key = self.h.keys.intern(&parts[1]);
            let v = &parts[2];
            let (value, len) = match kind {
                MopKind::Read if !completed_ok || v.is_null() => (NIL, 0),
                MopKind::Read if self.h.kind == TxnKind::ListAppend => {
                    let Some(list) = v.as_array() else {
                        return Err(format!(
                            "micro-op {i}: a read of a list returned {v}, which is not a list"
                        ));
                    };
                    let start = self.h.elements.len() as u32;
                    for e in list {
                        let id = self.h.values.intern(e);
                        self.h.elements.push(id);
                    }
                    (start, list.len() as u32)
                }
                MopKind::Read => (self.h.values.intern(v), 0),
                _ => {
                    if v.is_null() {
                        return Err(format!("micro-op {i}: a write of null"));
                    }
                    (self.h.values.intern(v), 0)
                }
            };
            self.h.mops.push(Mop {
                kind,
                key,
                value,
                len,
            });
        }
        Ok(())
    }

    /// The history; invocations still open are transactions without completion (info).
    pub fn finish(self) -> TxnHistory {
        self.h
    }
}

/// For tests: ok transactions, each of its own process with micro-ops `txns[i]` (JSON), all
/// invoked together and completed in order.
#[cfg(test)]
pub(crate) fn concurrent_ok(kind: TxnKind, txns: &[&str]) -> TxnHistory {
    let mut text = String::new();
    for kind in ["invoke", "ok"] {
        for (i, m) in txns.iter().enumerate() {
            text +=
                &format!("{{\"process\":{i},\"type\":\"{kind}\",\"f\":\"txn\",\"value\":{m}}}\n");
        }
    }
    let events = crate::history::parse_history("h", text.as_bytes()).unwrap();
    TxnHistory::from_events(kind, &events).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    #[test]
    fn pairs_invocations_and_interns_keys_and_values() {
        let text = r#"{"index":0,"process":0,"node":"n0","type":"invoke","f":"txn","value":[["r",1,null],["append",1,3]]}
{"index":1,"process":"nemesis","type":"info","f":"kill","value":["n1"]}
{"index":2,"process":1,"type":"invoke","f":"txn","value":[["append","x",4]]}
{"index":3,"process":0,"node":"n0","type":"ok","f":"txn","value":[["r",1,[1,2]],["append",1,3]]}
{"index":4,"process":1,"type":"fail","f":"txn","value":[["append","x",4]]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = TxnHistory::from_events(TxnKind::ListAppend, &events).unwrap();
        assert_eq!(h.txns.len(), 2);
        assert_eq!(h.txns[0].outcome, Outcome::Ok);
        assert_eq!(h.txns[1].outcome, Outcome::Fail);
        assert_eq!(
            h.mops_json(0),
            serde_json::json!([["r", 1, [1, 2]], ["append", 1, 3]])
        );
        assert_eq!(h.mops_json(1), serde_json::json!([["append", "x", 4]]));
        assert_eq!(h.completion_order, [0, 1]);
        assert_eq!(h.node(0), Some("n0"));
        assert_eq!(h.keys.len(), 2);
    }

    #[test]
    fn malformed_micro_ops_are_errors_not_panics() {
        for (value, why) in [
            ("3", "list of micro-ops"),
            ("[[\"r\",1]]", "[f, key, value]"),
            ("[[1,1,1]]", "f must be a string"),
            ("[[\"w\",1,1]]", "not a micro-op of txn-list-append"),
        ] {
            let text = format!(
                "{{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":{value}}}"
            );
            let events = parse_history("h", text.as_bytes()).unwrap();
            let err = TxnHistory::from_events(TxnKind::ListAppend, &events)
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{err}");
        }
        let text = r#"{"index":0,"process":0,"type":"invoke","f":"txn","value":[["r",1,null]]}
{"index":1,"process":0,"type":"ok","f":"txn","value":[["r",1,5]]}"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let err = TxnHistory::from_events(TxnKind::ListAppend, &events)
            .unwrap_err()
            .to_string();
        assert!(err.contains("which is not a list"), "{err}");
        assert!(TxnHistory::from_events(TxnKind::RwRegister, &events).is_ok());
    }
}

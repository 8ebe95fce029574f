//! A broadcast history, prepared for the checkers of reliable, FIFO, causal and total-order
//! broadcast (the course's lecture on broadcast protocols), and likewise the history of any
//! workload whose clients add values to a set and read it back (g-set): [`SetOps`] names its
//! ops.
//!
//! Each broadcast value becomes a small integer id, with its *origin* (the node its client
//! sent it to) and when it was invoked and acknowledged; each ok read becomes the list of ids
//! it returned, in the node's delivery order, tagged with the node's *incarnation*: a node
//! listed in a nemesis `kill`, `wipe` or `restart` lost its memory, so its reads invoked after
//! that event belong to a new incarnation (a `kill` or `wipe` followed by its `restart` is one
//! boundary).

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, EventType, HistoryError, Process};
use crate::op::{Outcome, client_ops};

/// What a workload that adds values to a set calls its ops and messages: the op (history
/// `f`, and the request `type`) that adds a value, the request field that holds it, the reply
/// that acknowledges it, and the words for sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetOps {
    /// The op that adds a value: its `f` in the history and its request's `type`.
    pub add: &'static str,
    /// The request's field that holds the value.
    pub field: &'static str,
    /// The reply's `type`.
    pub add_ok: &'static str,
    /// The add in a sentence's past tense: "no client had {past} it".
    pub past: &'static str,
    /// What a read returns one of, in a sentence: "message", "element".
    pub item: &'static str,
    /// Reads list the values in the order the node delivered them (broadcast): the delivery
    /// order can be checked, and server messages are counted per add (`msgs_per_broadcast`).
    pub delivery_order: bool,
}

impl SetOps {
    /// The broadcast workload's: `broadcast {message}` -> `broadcast_ok`, reads in delivery
    /// order.
    pub const BROADCAST: SetOps = SetOps {
        add: "broadcast",
        field: "message",
        add_ok: "broadcast_ok",
        past: "broadcast",
        item: "message",
        delivery_order: true,
    };
}

/// One broadcast value.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Positions (in the event slice) of its first and last broadcast invocations.
    pub first_invoke: Option<usize>,
    pub last_invoke: Option<usize>,
    /// The node of its first broadcast invocation.
    pub origin: Option<u32>,
    /// The first ok completion of a broadcast of it.
    pub first_ok: Option<usize>,
    /// The first ok completion after its last invocation (Jepsen's set-full tracks an element
    /// from its last `add` invocation on).
    pub ok_after_last_invoke: Option<usize>,
}

/// One ok read.
#[derive(Debug, Clone)]
pub struct Read {
    pub node: Option<u32>,
    pub incarnation: u32,
    pub process: u64,
    pub invoke_pos: usize,
    pub complete_pos: usize,
    pub is_final: bool,
    /// Message ids in delivery order, as returned.
    pub messages: Vec<u32>,
}

/// A read, as a person finds it in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadRef {
    pub node: Option<String>,
    pub incarnation: u32,
    pub process: u64,
    /// `index` of the invocation and of the completion.
    pub invoke_index: u64,
    pub complete_index: u64,
    /// Completion time, ns since the start.
    pub time: u64,
    /// How many messages it returned.
    pub length: usize,
    /// What it returned `length` of, in words ([`SetOps::item`]).
    #[serde(skip)]
    pub item: &'static str,
}

impl std::fmt::Display for ReadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read at {}{} (events {}..{}, process {}, {} {}{})",
            self.node.as_deref().unwrap_or("?"),
            if self.incarnation > 0 {
                format!(" incarnation {}", self.incarnation)
            } else {
                String::new()
            },
            self.invoke_index,
            self.complete_index,
            self.process,
            self.length,
            self.item,
            if self.length == 1 { "" } else { "s" }
        )
    }
}

/// Interns message values: small non-negative integers by a dense table, others by text.
#[derive(Debug, Default)]
struct Interner {
    dense: Vec<u32>,
    other: FxHashMap<String, u32>,
    values: Vec<Value>,
}

const DENSE_LIMIT: u64 = 1 << 24;

impl Interner {
    fn intern(&mut self, v: &Value) -> u32 {
        if let Some(n) = v.as_u64().filter(|&n| n < DENSE_LIMIT) {
            let n = n as usize;
            if n >= self.dense.len() {
                self.dense.resize(
                    (n + 1).max(self.dense.len() * 2).min(DENSE_LIMIT as usize),
                    u32::MAX,
                );
            }
            if self.dense[n] == u32::MAX {
                self.dense[n] = self.values.len() as u32;
                self.values.push(v.clone());
            }
            return self.dense[n];
        }
        let key = v.to_string();
        if let Some(&id) = self.other.get(&key) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.other.insert(key, id);
        id
    }
}

/// A broadcast history, prepared.
#[derive(Debug)]
pub struct BroadcastHistory<'a> {
    pub events: &'a [Event],
    /// Message id to value.
    pub values: Vec<Value>,
    /// Node index to name.
    pub nodes: Vec<String>,
    /// Per message id (values that were only read have no invocation).
    pub messages: Vec<Message>,
    /// Ok reads, in invocation order.
    pub reads: Vec<Read>,
    /// Every broadcast that ended ok: the positions of its invocation and of its
    /// `broadcast_ok`, in invocation order.
    pub acknowledged: Vec<(usize, usize)>,
    /// What the workload calls its ops.
    pub ops: SetOps,
}

impl<'a> BroadcastHistory<'a> {
    /// Prepare the events of a broadcast run. Errors when the history is malformed or a read's
    /// value is not a list.
    pub fn new(events: &'a [Event]) -> Result<BroadcastHistory<'a>, HistoryError> {
        BroadcastHistory::of(events, SetOps::BROADCAST)
    }

    /// Prepare the events of a run whose values are added by `ops.add`.
    pub fn of(events: &'a [Event], ops: SetOps) -> Result<BroadcastHistory<'a>, HistoryError> {
        let client = client_ops(events)?;
        let mut interner = Interner::default();
        let mut node_ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut nodes: Vec<String> = Vec::new();
        let mut node_of = |name: Option<&'a str>| -> Option<u32> {
            let name = name?;
            Some(*node_ids.entry(name).or_insert_with(|| {
                nodes.push(name.to_owned());
                (nodes.len() - 1) as u32
            }))
        };
        let mut messages: Vec<Message> = Vec::new();
        // Broadcast events in history order: (position, message, is_invoke, ok).
        let mut timeline: Vec<(usize, u32, bool)> = Vec::new();
        let mut reads = Vec::new();
        let mut acknowledged = Vec::new();
        for op in &client {
            match op.f() {
                f if f == ops.add => {
                    let m = interner.intern(&op.invoke.value);
                    if messages.len() <= m as usize {
                        messages.resize(m as usize + 1, Message::default());
                    }
                    let node = node_of(op.node());
                    let msg = &mut messages[m as usize];
                    if msg.first_invoke.is_none() {
                        msg.first_invoke = Some(op.invoke_pos);
                        msg.origin = node;
                    }
                    timeline.push((op.invoke_pos, m, true));
                    if op.outcome() == Outcome::Ok
                        && let Some(c) = op.complete_pos
                    {
                        timeline.push((c, m, false));
                        acknowledged.push((op.invoke_pos, c));
                    }
                }
                "read" if op.outcome() == Outcome::Ok => {
                    let Some(list) = op.value().as_array() else {
                        return Err(HistoryError::Malformed {
                            index: op.completion.map_or(op.invoke.index, |c| c.index),
                            reason: format!(
                                "a {} read must return a list, found {}",
                                ops.add,
                                op.value()
                            ),
                        });
                    };
                    let Process::Client(process) = *op.process() else {
                        continue;
                    };
                    reads.push(Read {
                        node: node_of(op.node()),
                        incarnation: 0,
                        process,
                        invoke_pos: op.invoke_pos,
                        complete_pos: op.complete_pos.unwrap_or(op.invoke_pos),
                        is_final: op.is_final(),
                        messages: list.iter().map(|v| interner.intern(v)).collect(),
                    });
                }
                _ => {}
            }
        }
        timeline.sort_unstable();
        for (pos, m, invoke) in timeline {
            let msg = &mut messages[m as usize];
            if invoke {
                msg.last_invoke = Some(pos);
                msg.ok_after_last_invoke = None;
            } else {
                msg.first_ok.get_or_insert(pos);
                msg.ok_after_last_invoke.get_or_insert(pos);
            }
        }
        messages.resize(interner.values.len(), Message::default());
        // Incarnation boundaries per node.
        let mut boundaries: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        let mut down: Vec<bool> = vec![false; nodes.len()];
        for (pos, e) in events.iter().enumerate() {
            // Nemesis ops are recorded as `info`; an `invoke` of one, if present, is not the
            // event itself.
            if !e.process.is_nemesis() || e.kind == EventType::Invoke {
                continue;
            }
            let kill = match e.f.as_str() {
                "kill" | "wipe" => true,
                "restart" => false,
                _ => continue,
            };
            let Some(list) = e.value.as_array() else {
                continue;
            };
            for name in list.iter().filter_map(Value::as_str) {
                let Some(&n) = node_ids.get(name) else {
                    continue;
                };
                let n = n as usize;
                if kill || !down[n] {
                    boundaries[n].push(pos);
                }
                down[n] = kill;
            }
        }
        for read in &mut reads {
            if let Some(n) = read.node {
                let b = &boundaries[n as usize];
                read.incarnation = b.partition_point(|&p| p < read.invoke_pos) as u32;
            }
        }
        Ok(BroadcastHistory {
            events,
            values: interner.values,
            nodes,
            messages,
            reads,
            acknowledged,
            ops,
        })
    }

    /// A read as a person finds it in the history.
    pub fn read_ref(&self, read: &Read) -> ReadRef {
        ReadRef {
            node: read.node.map(|n| self.nodes[n as usize].clone()),
            incarnation: read.incarnation,
            process: read.process,
            invoke_index: self.events[read.invoke_pos].index,
            complete_index: self.events[read.complete_pos].index,
            time: self.events[read.complete_pos].time,
            length: read.messages.len(),
            item: self.ops.item,
        }
    }

    /// The `index` field of the event at a position.
    pub fn index_at(&self, pos: usize) -> u64 {
        self.events[pos].index
    }

    /// The `time` field of the event at a position.
    pub fn time_at(&self, pos: usize) -> u64 {
        self.events[pos].time
    }

    /// The name of a node index.
    pub fn node_name(&self, node: Option<u32>) -> String {
        node.map_or_else(|| "?".to_owned(), |n| self.nodes[n as usize].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    #[test]
    fn prepares_messages_reads_and_incarnations() {
        let text = r#"{"index":0,"time":10,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":7}
{"index":1,"time":20,"process":0,"node":"n0","type":"ok","f":"broadcast","value":7}
{"index":2,"time":30,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":3,"time":40,"process":1,"node":"n1","type":"ok","f":"read","value":[7,"x"]}
{"index":4,"time":50,"process":"nemesis","type":"info","f":"kill","value":["n1"]}
{"index":5,"time":60,"process":"nemesis","type":"info","f":"restart","value":["n1"]}
{"index":6,"time":70,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":7,"time":80,"process":1,"node":"n1","type":"ok","f":"read","value":[],"final":true}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        assert_eq!(h.values, vec![serde_json::json!(7), serde_json::json!("x")]);
        assert_eq!(h.messages[0].origin, Some(0));
        assert_eq!(
            (h.messages[0].first_invoke, h.messages[0].first_ok),
            (Some(0), Some(1))
        );
        assert_eq!(h.messages[1].first_invoke, None);
        assert_eq!(h.reads.len(), 2);
        assert_eq!(h.reads[0].messages, vec![0, 1]);
        assert_eq!((h.reads[0].incarnation, h.reads[1].incarnation), (0, 1));
        assert!(h.reads[1].is_final);
        assert_eq!(h.read_ref(&h.reads[1]).node.as_deref(), Some("n1"));
    }

    #[test]
    fn a_wipe_begins_a_new_incarnation_like_a_kill() {
        let text = r#"{"index":0,"time":10,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":1,"time":20,"process":1,"node":"n1","type":"ok","f":"read","value":[]}
{"index":2,"time":30,"process":"nemesis","type":"info","f":"wipe","value":["n1"]}
{"index":3,"time":40,"process":"nemesis","type":"info","f":"restart","value":["n1"]}
{"index":4,"time":50,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":5,"time":60,"process":1,"node":"n1","type":"ok","f":"read","value":[]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        assert_eq!((h.reads[0].incarnation, h.reads[1].incarnation), (0, 1));
    }

    #[test]
    fn a_read_that_is_not_a_list_is_an_error() {
        let text = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":null}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"read","value":5}"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let err = BroadcastHistory::new(&events).unwrap_err().to_string();
        assert!(err.starts_with("event 1: "), "{err}");
    }
}

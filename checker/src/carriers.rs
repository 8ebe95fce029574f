//! Which messages carried a broadcast value: the journal (`messages.jsonl`) read against the
//! history, to tell which nodes held a value that was lost (the course's reliable broadcast:
//! a value is safe only once some node that keeps it survives).
//!
//! Message bodies are the nodes' own business: a value may travel as `"message": 17`, in a
//! list `"messages": [..., 17]`, inside a batch `"items": [[seq, {"value": 17}]]`, and the same
//! bodies hold counters that are small integers too (`msg_id`, sequence numbers, sessions,
//! positions, timestamps, vector clocks). Broadcast values are the integers 0, 1, 2, ... so a
//! counter often equals some value. A number counts as a value only where the run shows that
//! values travel there:
//!
//! - A *slot* is where a number sits in a body: the body's `type` and the path of keys to it,
//!   array positions collapsed (`gossip.messages[]`), except positions inside a tuple (an array
//!   directly inside an array: `batch.items[][0]` is a sequence number, `batch.items[][1]` the
//!   item). `msg_id` and `in_reply_to` are the protocol's and never count; only messages
//!   between servers are read.
//! - A slot is *plausible* when at least 99% of the numbers in it were, when sent, values
//!   whose broadcast had been invoked (a session id, a Lamport timestamp or a message id runs
//!   ahead of the values and fails this).
//! - A value enters the cluster at its origin, the node its client sent it to. A plausible
//!   slot *introduces* values when at least 3 of the values in it (all of them, in a run of
//!   fewer) and at least 90% first appear there in a message from their own origin within
//!   [`INTRODUCTION_WINDOW`] of their invocation. A counter fails this: sequence number 17 is
//!   sent by whichever node reaches it, at a time unrelated to the broadcast of value 17.
//!   The number must be named by a key (or listed under one), not sit at a tuple position.
//! - The keys that name the numbers of the introducing slots (`message`, `messages`,
//!   `value`, ...) are the *value keys*; every plausible slot named by a value key is a *value
//!   slot*, so the relays of another message type (`delta.items[].value`) count too.
//!
//! A message carries value x when x is a number in one of its value slots. The scan is one
//! pass over the journal; it keeps the carriers of the values it is asked to watch, and per
//! slot a few counts and the first appearance of each value.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::{BroadcastHistory, SetOps};
use crate::history::HistoryError;
use crate::journal::{NetEventKind, is_client};

/// How long after its invocation a value may first appear in a message from its origin and
/// still count as introduced there: longer than any batching interval a node would use.
pub const INTRODUCTION_WINDOW: u64 = 2_000_000_000;

/// A slot must hold at least this many introduced values (or every value of a smaller run).
const MIN_INTRODUCED: usize = 3;

/// At most this many distinct slots are tracked; a body that invents paths without end
/// (values as keys) does not grow the scan past it.
const MAX_SLOTS: usize = 10_000;

/// Keys of the protocol, never a value.
const PROTOCOL_KEYS: [&str; 3] = ["msg_id", "in_reply_to", "type"];

/// What became of one copy of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "fate")]
pub enum Fate {
    Delivered { time: u64 },
    Dropped { time: u64, reason: String },
}

/// One message that carried a watched value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Carried {
    /// The journal's id of the message.
    pub id: u64,
    pub src: String,
    pub dest: String,
    pub sent: u64,
    /// Deliveries and drops, in journal order (none: still in flight at the end).
    pub fates: Vec<Fate>,
    /// The client's `broadcast` request or the origin's `broadcast_ok` reply.
    pub client: bool,
}

/// What the scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Carriers {
    /// The value slots, as `type.path`, sorted.
    pub value_slots: Vec<String>,
    /// Per watched value (its number): the messages that carried it, in order of sending.
    pub by_value: BTreeMap<u64, Vec<Carried>>,
}

#[derive(Debug, Default)]
struct Slot {
    path: String,
    /// The last key on the path (`value` for `batch.items[][1].value`).
    key: String,
    /// The path ends at a tuple position.
    tuple_end: bool,
    numbers: u64,
    plausible: u64,
    /// Per value (message id of the history): the first send that had it here.
    first: FxHashMap<u32, (u64, u32)>,
}

/// One occurrence of a watched value in a send, kept until its slot is judged.
#[derive(Debug, Clone)]
struct Seen {
    slot: u32,
    value: u64,
    index: usize,
}

/// The scan of a journal against a broadcast history: feed it every line
/// ([`CarrierScan::line`], [`scan_journal`] or [`scan_journal_file`]), then
/// [`CarrierScan::finish`].
pub struct CarrierScan {
    /// Number -> message id, for the history's integer values.
    ids: FxHashMap<u64, u32>,
    /// Per message id: the time of its first invocation, and its origin's name.
    invoked: Vec<Option<(u64, Option<String>)>>,
    watched: FxHashSet<u64>,
    node_ids: FxHashMap<String, u32>,
    node_names: Vec<String>,
    slot_ids: FxHashMap<String, u32>,
    slots: Vec<Slot>,
    /// Messages that had a watched number in some slot, or were a client's broadcast of a
    /// watched value or its reply.
    kept: Vec<Carried>,
    kept_at: FxHashMap<u64, usize>,
    seen: Vec<Seen>,
    /// Watched client broadcasts: (client, msg_id) -> value, to find their replies.
    requests: FxHashMap<(String, u64), u64>,
    /// What the clients' requests and replies are called.
    ops: SetOps,
}

/// A journal line, with the body parsed.
#[derive(Deserialize)]
struct Line {
    time: u64,
    event: NetEventKind,
    id: u64,
    src: String,
    /// The node that wrote a forwarded line (see `crate::journal`): the message's sender.
    #[serde(default)]
    via: Option<String>,
    dest: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    reason: Option<String>,
}

impl CarrierScan {
    /// A scan that keeps the carriers of `watch` (values of `h`, as numbers).
    pub fn new(h: &BroadcastHistory<'_>, watch: impl IntoIterator<Item = u64>) -> CarrierScan {
        let mut ids = FxHashMap::default();
        let mut invoked = Vec::with_capacity(h.values.len());
        for (m, value) in h.values.iter().enumerate() {
            if let Some(n) = value.as_u64() {
                ids.insert(n, m as u32);
            }
            let msg = &h.messages[m];
            invoked.push(msg.first_invoke.map(|p| {
                (
                    h.time_at(p),
                    msg.origin.map(|o| h.nodes[o as usize].clone()),
                )
            }));
        }
        CarrierScan {
            ids,
            invoked,
            watched: watch.into_iter().collect(),
            node_ids: FxHashMap::default(),
            node_names: Vec::new(),
            slot_ids: FxHashMap::default(),
            slots: Vec::new(),
            kept: Vec::new(),
            kept_at: FxHashMap::default(),
            seen: Vec::new(),
            requests: FxHashMap::default(),
            ops: h.ops,
        }
    }

    fn node(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.node_ids.get(name) {
            return n;
        }
        let n = self.node_names.len() as u32;
        self.node_names.push(name.to_owned());
        self.node_ids.insert(name.to_owned(), n);
        n
    }

    fn slot(&mut self, path: &str, key: &str, tuple_end: bool) -> Option<u32> {
        if let Some(&s) = self.slot_ids.get(path) {
            return Some(s);
        }
        if self.slots.len() >= MAX_SLOTS {
            return None;
        }
        let s = self.slots.len() as u32;
        self.slots.push(Slot {
            path: path.to_owned(),
            key: key.to_owned(),
            tuple_end,
            ..Slot::default()
        });
        self.slot_ids.insert(path.to_owned(), s);
        Some(s)
    }

    fn keep(&mut self, time: u64, id: u64, src: &str, dest: &str, client: bool) -> usize {
        if let Some(&i) = self.kept_at.get(&id) {
            return i;
        }
        let i = self.kept.len();
        self.kept.push(Carried {
            id,
            src: src.to_owned(),
            dest: dest.to_owned(),
            sent: time,
            fates: Vec::new(),
            client,
        });
        self.kept_at.insert(id, i);
        i
    }

    /// A message sent.
    fn send(&mut self, time: u64, id: u64, src: &str, dest: &str, body: &Value) {
        if is_client(src) || is_client(dest) {
            self.client_message(time, id, src, dest, body);
            return;
        }
        let kind = body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let mut found: Vec<(String, String, bool, u64)> = Vec::new();
        let mut path = kind;
        numbers(body, &mut path, "", false, &mut found);
        let sender = self.node(src);
        for (path, key, tuple_end, n) in found {
            let Some(s) = self.slot(&path, &key, tuple_end) else {
                continue;
            };
            let value = self.ids.get(&n).copied();
            let invoked = value.and_then(|m| self.invoked[m as usize].as_ref().map(|i| i.0));
            let slot = &mut self.slots[s as usize];
            slot.numbers += 1;
            if invoked.is_some_and(|t| t <= time) {
                slot.plausible += 1;
            }
            if let Some(m) = value {
                slot.first.entry(m).or_insert((time, sender));
            }
            if self.watched.contains(&n) {
                let index = self.keep(time, id, src, dest, false);
                self.seen.push(Seen {
                    slot: s,
                    value: n,
                    index,
                });
            }
        }
    }

    /// A client's `broadcast` (or `add`: the history's [`SetOps`]) of a watched value, or the
    /// reply to one.
    fn client_message(&mut self, time: u64, id: u64, src: &str, dest: &str, body: &Value) {
        let kind = body.get("type").and_then(Value::as_str);
        let msg_id = |key: &str| body.get(key).and_then(Value::as_u64);
        if is_client(src) && kind == Some(self.ops.add) {
            let Some(n) = body.get(self.ops.field).and_then(Value::as_u64) else {
                return;
            };
            if self.watched.contains(&n) {
                let index = self.keep(time, id, src, dest, true);
                self.by_client(index, n);
                if let Some(m) = msg_id("msg_id") {
                    self.requests.insert((src.to_owned(), m), n);
                }
            }
        } else if is_client(dest)
            && kind == Some(self.ops.add_ok)
            && let Some(m) = msg_id("in_reply_to")
            && let Some(&n) = self.requests.get(&(dest.to_owned(), m))
        {
            let index = self.keep(time, id, src, dest, true);
            self.by_client(index, n);
        }
    }

    /// Client messages are carriers of their value whatever the slots.
    fn by_client(&mut self, index: usize, value: u64) {
        self.seen.push(Seen {
            slot: u32::MAX,
            value,
            index,
        });
    }

    /// A message delivered.
    fn deliver(&mut self, time: u64, id: u64) {
        if let Some(&i) = self.kept_at.get(&id) {
            self.kept[i].fates.push(Fate::Delivered { time });
        }
    }

    /// A message dropped.
    fn drop_message(&mut self, time: u64, id: u64, reason: &str) {
        if let Some(&i) = self.kept_at.get(&id) {
            self.kept[i].fates.push(Fate::Dropped {
                time,
                reason: reason.to_owned(),
            });
        }
    }

    /// One line of `messages.jsonl`; `name` and `number` place it in errors.
    pub fn line(&mut self, name: &str, number: usize, text: &str) -> Result<(), HistoryError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let line: Line = serde_json::from_str(text).map_err(|e| HistoryError::Parse {
            path: name.to_owned(),
            line: number,
            reason: e.to_string(),
        })?;
        match line.event {
            NetEventKind::Send => {
                if let Some(body) = &line.body {
                    let sender = line.via.as_deref().unwrap_or(&line.src);
                    self.send(line.time, line.id, sender, &line.dest, body);
                }
            }
            NetEventKind::Deliver => self.deliver(line.time, line.id),
            NetEventKind::Drop => self.drop_message(
                line.time,
                line.id,
                line.reason.as_deref().unwrap_or("unknown"),
            ),
        }
        Ok(())
    }

    /// The slots judged, and the carriers of the watched values.
    pub fn finish(self) -> Carriers {
        let values_invoked = self.invoked.iter().filter(|i| i.is_some()).count();
        let plausible = |s: &Slot| s.numbers > 0 && s.plausible * 100 >= s.numbers * 99;
        let introduced = |s: &Slot| {
            s.first
                .iter()
                .filter(|&(&m, &(time, sender))| {
                    self.invoked[m as usize]
                        .as_ref()
                        .is_some_and(|(at, origin)| {
                            origin.as_deref() == Some(self.node_names[sender as usize].as_str())
                                && time >= *at
                                && time - at <= INTRODUCTION_WINDOW
                        })
                })
                .count()
        };
        let value_keys: BTreeSet<&str> = self
            .slots
            .iter()
            .filter(|s| plausible(s) && !s.tuple_end)
            .filter(|s| {
                let n = introduced(s);
                n >= MIN_INTRODUCED.min(values_invoked).max(1) && n * 10 >= s.first.len() * 9
            })
            .map(|s| s.key.as_str())
            .collect();
        let is_value_slot: Vec<bool> = self
            .slots
            .iter()
            .map(|s| plausible(s) && !s.tuple_end && value_keys.contains(s.key.as_str()))
            .collect();
        let mut value_slots: Vec<String> = self
            .slots
            .iter()
            .zip(&is_value_slot)
            .filter(|(_, v)| **v)
            .map(|(s, _)| s.path.clone())
            .collect();
        value_slots.sort();
        let mut carried: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
        for seen in &self.seen {
            if seen.slot == u32::MAX || is_value_slot[seen.slot as usize] {
                carried.entry(seen.value).or_default().insert(seen.index);
            }
        }
        let by_value = carried
            .into_iter()
            .map(|(value, indexes)| {
                let list = indexes.into_iter().map(|i| self.kept[i].clone()).collect();
                (value, list)
            })
            .collect();
        Carriers {
            value_slots,
            by_value,
        }
    }
}

/// Every non-negative integer in `v` with its slot path (`path` holds the path so far), the
/// last key on the path, and whether the path ends at a tuple position.
fn numbers(
    v: &Value,
    path: &mut String,
    key: &str,
    in_array: bool,
    out: &mut Vec<(String, String, bool, u64)>,
) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if PROTOCOL_KEYS.contains(&k.as_str()) {
                    continue;
                }
                let len = path.len();
                path.push('.');
                path.push_str(k);
                numbers(x, path, k, false, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let len = path.len();
                if in_array {
                    path.push_str(&format!("[{i}]"));
                } else {
                    path.push_str("[]");
                }
                numbers(x, path, key, true, out);
                path.truncate(len);
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_u64() {
                let tuple_end = path.ends_with(']') && !path.ends_with("[]");
                out.push((path.clone(), key.to_owned(), tuple_end, n));
            }
        }
        _ => {}
    }
}

/// Feed `messages.jsonl` text to `scan`; `name` names the source in errors.
pub fn scan_journal(
    name: &str,
    mut reader: impl BufRead,
    scan: &mut CarrierScan,
) -> Result<(), HistoryError> {
    let mut text = String::new();
    let mut number = 0;
    loop {
        text.clear();
        let read = reader
            .read_line(&mut text)
            .map_err(|error| HistoryError::Io {
                path: name.to_owned(),
                error,
            })?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        scan.line(name, number, &text)?;
    }
}

/// Feed the `messages.jsonl` file at `path` to `scan`.
pub fn scan_journal_file(path: &Path, scan: &mut CarrierScan) -> Result<(), HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| HistoryError::Io {
        path: name.clone(),
        error,
    })?;
    scan_journal(
        &name,
        std::io::BufReader::with_capacity(1 << 16, file),
        scan,
    )
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;
    use crate::history::parse_history;

    /// Three nodes; values 0..=5 broadcast at n0, n1, n2 in turn, 100 ms apart.
    fn history() -> String {
        let mut text = String::new();
        for v in 0..6u64 {
            let node = v % 3;
            let t = v * 100_000_000;
            let _ = writeln!(
                text,
                r#"{{"index":{},"time":{t},"process":{node},"node":"n{node}","type":"invoke","f":"broadcast","value":{v}}}"#,
                2 * v
            );
            let _ = writeln!(
                text,
                r#"{{"index":{},"time":{},"process":{node},"node":"n{node}","type":"ok","f":"broadcast","value":{v}}}"#,
                2 * v + 1,
                t + 1_000_000
            );
        }
        text
    }

    /// The journal of a gossiping cluster: each origin sends its new value to the two other
    /// nodes in a `gossip` with a list of values, the origin's own sequence number `seq`
    /// (0, 1, ... per origin: plausible values, all of them), a session id, a `msg_id` and
    /// acknowledgements as `[[first, last]]` ranges that equal the values. Value 4 is watched;
    /// `msg_id` reaches 4 too.
    fn journal() -> String {
        let mut text = String::new();
        let mut id = 0;
        for v in 0..6u64 {
            let origin = v % 3;
            let t = v * 100_000_000 + 2_000_000;
            for dest in (0..3).filter(|&d| d != origin) {
                id += 1;
                let _ = writeln!(
                    text,
                    r#"{{"time":{t},"event":"send","id":{id},"src":"n{origin}","dest":"n{dest}","body":{{"type":"gossip","msg_id":{id},"seq":{},"session":987654321,"messages":[{v}],"acks":[[0,{v}]]}}}}"#,
                    v / 3
                );
                let _ = writeln!(
                    text,
                    r#"{{"time":{},"event":"deliver","id":{id},"src":"n{origin}","dest":"n{dest}"}}"#,
                    t + 5_000_000
                );
            }
        }
        text
    }

    #[test]
    fn values_are_found_where_origins_introduce_them_and_counters_are_not() {
        let events = parse_history("h", history().as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let mut scan = CarrierScan::new(&h, [4]);
        scan_journal("m", journal().as_bytes(), &mut scan).unwrap();
        let carriers = scan.finish();
        assert_eq!(carriers.value_slots, vec!["gossip.messages[]"]);
        let four = &carriers.by_value[&4];
        // Value 4, from n1, went to n0 and n2; msg_id 4 and seq 4 are not value 4.
        let routes: Vec<(&str, &str)> = four
            .iter()
            .map(|c| (c.src.as_str(), c.dest.as_str()))
            .collect();
        assert_eq!(routes, vec![("n1", "n0"), ("n1", "n2")]);
        assert_eq!(four[0].fates, vec![Fate::Delivered { time: 407_000_000 }]);
        assert!(!four[0].client);
    }

    #[test]
    fn a_client_broadcast_and_its_reply_carry_their_value() {
        let events = parse_history("h", history().as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let mut scan = CarrierScan::new(&h, [1]);
        let text = r#"{"time":100000000,"event":"send","id":1,"src":"c1","dest":"n1","body":{"type":"broadcast","message":1,"msg_id":7}}
{"time":100000000,"event":"deliver","id":1,"src":"c1","dest":"n1"}
{"time":100500000,"event":"send","id":2,"src":"n1","dest":"c1","body":{"type":"broadcast_ok","in_reply_to":7}}
{"time":100600000,"event":"drop","id":2,"src":"n1","dest":"c1","reason":"partition"}
{"time":100700000,"event":"send","id":3,"src":"n1","dest":"c1","body":{"type":"broadcast_ok","in_reply_to":8}}
"#;
        scan_journal("m", text.as_bytes(), &mut scan).unwrap();
        let carriers = scan.finish();
        let one = &carriers.by_value[&1];
        assert_eq!(one.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(one.iter().all(|c| c.client));
        assert_eq!(
            one[1].fates,
            vec![Fate::Dropped {
                time: 100_600_000,
                reason: "partition".into()
            }]
        );
    }

    #[test]
    fn a_bad_line_is_an_error_that_names_it() {
        let events = parse_history("h", history().as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let mut scan = CarrierScan::new(&h, [1]);
        let err = scan_journal("messages.jsonl", "\n{oops\n".as_bytes(), &mut scan).unwrap_err();
        assert!(err.to_string().starts_with("messages.jsonl:2: "), "{err}");
    }
}

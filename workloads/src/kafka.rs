//! `kafka`: append-only logs, one per key, as a Kafka-style message queue keeps them (Gossip
//! Glomers challenge 5). A node gives every message it accepts an offset in its key's log;
//! clients read each log onwards from a position they keep, and record how far they got. The
//! course's concept is the replicated log behind state machine replication (total order
//! broadcast, 6.2): every reader must see one key's messages at the same offsets, none lost,
//! none twice.
//!
//! Requests and replies (Maelstrom's, typed in [`proto::Payload`]): `send {key, msg}` ->
//! `send_ok {offset}`; `poll {offsets: {key: offset}}` -> `poll_ok {msgs: {key: [[offset, msg],
//! ...]}}`, each key's messages from the asked offset on; `commit_offsets {offsets}` ->
//! `commit_offsets_ok`; `list_committed_offsets {keys}` -> `list_committed_offsets_ok
//! {offsets}`. Keys are strings (Maelstrom rewrites its integer keys to strings too).
//!
//! Op mix (Maelstrom's, from Jepsen's kafka workload without transactions): each op picks one of
//! `--key-count` active keys (10 by default), later keys more likely (each twice as likely as
//! the one before, as Elle's exponential key distribution: [`crate::keys`]); half the ops
//! `send` the key's next message (1, 2, 3, ..., so a message is unique within its key), half
//! `poll`. A key takes a random number of sends, at most `--max-writes-per-key` (16 by default,
//! as Maelstrom's), then a fresh key takes its place. One op in [`ASSIGN_ONE_IN`] is instead an *assign* of the op's key:
//! a `list_committed_offsets` of it, and one time in three also of every key with acknowledged
//! sends no poll has returned yet (Jepsen's poll-unseen), so that lagging keys get read.
//!
//! Each client is a consumer, as Maelstrom's client is ([`Kafka::prepare`], [`Kafka::observe`]):
//! it polls only the keys it is assigned, each from its own position; a `poll_ok` moves the
//! position past the last offset returned, and the client then commits the highest offsets that
//! poll returned (a `commit_offsets` right after it, on the same client). When an assign
//! succeeds the client's keys become the assigned ones: a key it already had keeps its position,
//! a new one starts at its committed offset, or 0. A client starts with no keys, so its polls
//! ask for nothing until its first assign; a client whose op ended `info` starts again with no
//! keys, as Jepsen opens a fresh client after a crash. Jepsen's separate, periodic client
//! `crash` op is not generated.
//!
//! The final op of each node is one `poll` of every key the run sent to, from offset 0: a node
//! should answer it with each whole log (a node that hands out logs a page at a time has the
//! rest counted as unseen).
//!
//! History values: `send` `{key, msg}`, ok `{key, msg, offset}`; `poll` `{offsets}`, ok
//! `{offsets, msgs}`; `commit_offsets` `{offsets}`; `list_committed_offsets` `{keys}`, ok `{keys,
//! offsets}`. `poll` and `list_committed_offsets` change nothing, so they are idempotent (`fail`
//! on a timeout or an indefinite error); a `send` or `commit_offsets` whose reply was lost may
//! have happened: `info`. Checked by [`checker::kafka`].

use std::collections::{BTreeMap, BTreeSet};

use checker::{Check, Event};
use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::keys::{KeyPool, KeyPoolOptions};
use crate::op::{Completion, ErrorInfo, Op, OpError, Outcome, complete_with, unexpected};
use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// One op in this many is an assign (Jepsen's `sub-p` of 1/64).
pub const ASSIGN_ONE_IN: u32 = 64;

/// What one client (one process) remembers: its assigned keys and the offset it polls each
/// from next.
#[derive(Debug, Clone, Default)]
struct Consumer {
    positions: BTreeMap<String, u64>,
}

/// The kafka workload: the keys in use, every key sent to, and each client's consumer.
#[derive(Debug, Clone, Default)]
pub struct Kafka {
    /// The keys sends go to (a key's sends are its writes).
    pool: KeyPool,
    /// Every key a `send` was drawn for (the final polls read them all).
    keys: BTreeSet<u64>,
    consumers: BTreeMap<u64, Consumer>,
    /// The highest offset acknowledged by a `send_ok`, and returned by a `poll_ok`, per key:
    /// a key whose sends are ahead of its polls is unseen, and assigns catch up on it.
    sent: BTreeMap<String, u64>,
    polled: BTreeMap<String, u64>,
}

/// A key's name on the wire.
fn key_name(key: u64) -> String {
    key.to_string()
}

impl Kafka {
    /// A generator whose sends spread over keys as `keys` says.
    pub fn new(keys: KeyPoolOptions) -> Self {
        Kafka {
            pool: KeyPool::new(keys),
            ..Kafka::default()
        }
    }

    /// Keys with acknowledged sends past what any poll has returned.
    fn unseen(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter(|&(k, &o)| self.polled.get(k).is_none_or(|&p| p < o))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The op client `process` sends for the drawn `op`: a `poll` asks from its positions, an
    /// assign names its keys (and, when it catches up, the unseen ones). Ops that already say
    /// what they ask (a final poll) are kept as they are.
    pub fn prepare(&mut self, process: u64, op: Op) -> Op {
        match op.f.as_str() {
            "poll" if op.value.is_null() => {
                let positions = self
                    .consumers
                    .get(&process)
                    .map(|c| c.positions.clone())
                    .unwrap_or_default();
                Op::new("poll", json!({ "offsets": positions }))
            }
            "list_committed_offsets" if op.value.get("catch_up").is_some() => {
                let mut keys: BTreeSet<String> = string_list(&op.value["keys"]);
                if op.value["catch_up"] == Value::Bool(true) {
                    keys.extend(self.unseen());
                }
                Op::new("list_committed_offsets", json!({ "keys": keys }))
            }
            _ => op,
        }
    }

    /// What client `process` learns from its op's end; returns the op it sends next at once,
    /// if any (the `commit_offsets` after a poll that returned messages).
    pub fn observe(&mut self, process: u64, op: &Op, completion: &Completion) -> Option<Op> {
        if completion.outcome == Outcome::Info {
            self.consumers.remove(&process);
            return None;
        }
        if completion.outcome != Outcome::Ok {
            return None;
        }
        let value = &completion.value;
        match op.f.as_str() {
            "send" => {
                if let (Some(key), Some(offset)) = (value["key"].as_str(), value["offset"].as_u64())
                {
                    let top = self.sent.entry(key.to_owned()).or_insert(offset);
                    *top = (*top).max(offset);
                }
                None
            }
            "poll" => {
                let consumer = self.consumers.entry(process).or_default();
                let mut commit = BTreeMap::new();
                for (key, pairs) in value["msgs"].as_object().into_iter().flatten() {
                    let Some(last) = pairs
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get(0).and_then(Value::as_u64))
                        .max()
                    else {
                        continue;
                    };
                    let position = consumer.positions.entry(key.clone()).or_insert(0);
                    *position = (*position).max(last.saturating_add(1));
                    let top = self.polled.entry(key.clone()).or_insert(last);
                    *top = (*top).max(last);
                    commit.insert(key.clone(), last);
                }
                (!commit.is_empty()).then(|| Op::new("commit_offsets", json!(commit)))
            }
            "list_committed_offsets" => {
                let consumer = self.consumers.entry(process).or_default();
                let keys = string_list(&value["keys"]);
                let committed = &value["offsets"];
                consumer.positions = keys
                    .into_iter()
                    .map(|k| {
                        let at = consumer
                            .positions
                            .get(&k)
                            .copied()
                            .or_else(|| committed[&k].as_u64())
                            .unwrap_or(0);
                        (k, at)
                    })
                    .collect();
                None
            }
            _ => None,
        }
    }
}

/// The strings of a JSON list, as a set.
fn string_list(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

/// An `{key: offset}` map of a history value, if it is one.
fn offsets_of(value: &Value) -> Option<BTreeMap<String, u64>> {
    serde_json::from_value(value.clone()).ok()
}

fn is_idempotent(op: &Op) -> bool {
    matches!(op.f.as_str(), "poll" | "list_committed_offsets")
}

impl Spec for Kafka {
    const NAME: &'static str = "kafka";
    const ABOUT: &'static str = "send {key, msg} -> {offset}, poll {offsets}, commit_offsets, list_committed_offsets: append-only logs per key";
    const SEMANTICS: &'static str = "one message per offset and one offset per message in each key's log; no acknowledged send lost or unseen; \
         offsets increase within a poll, from poll to poll of a client (until it is reassigned) and from send to send of a client; \
         no message polled that was never sent; committed offsets never go back";
    const CHECK: Check = Check::Kafka;

    fn start(options: &WorkloadOptions) -> Self {
        Kafka::new(options.keys)
    }

    /// Sends or polls.
    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| matches!(e.f.as_str(), "send" | "poll"))
    }
}

impl Workload for Kafka {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Kafka
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        self.pool.fill(rng);
        let send = rng.random_bool(0.5);
        let slot = self.pool.slot(rng);
        if send && self.pool.exhausted(slot) {
            // The key has had its sends: a fresh key takes its slot.
            self.pool.replace(slot, rng);
        }
        let key = self.pool.get(slot).key;
        if rng.random_range(0..ASSIGN_ONE_IN) == 0 {
            let catch_up = rng.random_range(0..3u32) == 0;
            return Op::new(
                "list_committed_offsets",
                json!({"keys": [key_name(key)], "catch_up": catch_up}),
            );
        }
        if send {
            let msg = self.pool.write(slot);
            self.keys.insert(key);
            Op::new("send", json!({"key": key_name(key), "msg": msg}))
        } else {
            Op::new("poll", Value::Null)
        }
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        let bad = || OpError::new(Self::NAME, op);
        let v = &op.value;
        match op.f.as_str() {
            "send" => Ok(Payload::Send {
                key: v["key"].as_str().ok_or_else(bad)?.to_owned(),
                msg: v.get("msg").cloned().ok_or_else(bad)?,
            }),
            "poll" if v.is_null() => Ok(Payload::Poll {
                offsets: BTreeMap::new(),
            }),
            "poll" => Ok(Payload::Poll {
                offsets: offsets_of(&v["offsets"]).ok_or_else(bad)?,
            }),
            "commit_offsets" => Ok(Payload::CommitOffsets {
                offsets: offsets_of(v).ok_or_else(bad)?,
            }),
            "list_committed_offsets" if v["keys"].is_array() => Ok(Payload::ListCommittedOffsets {
                keys: string_list(&v["keys"]).into_iter().collect(),
            }),
            _ => Err(bad()),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, is_idempotent(op), reply, |reply| {
            match (op.f.as_str(), &reply.payload) {
                ("send", Payload::SendOk { offset }) => {
                    let mut value = op.value.clone();
                    value["offset"] = json!(offset);
                    Ok(value)
                }
                ("send", _) => Err(unexpected(reply, "send_ok")),
                ("poll", Payload::PollOk { msgs }) => Ok(json!({
                    "offsets": op.value.get("offsets").cloned().unwrap_or(json!({})),
                    "msgs": msgs,
                })),
                ("poll", _) => Err(unexpected(reply, "poll_ok")),
                ("commit_offsets", Payload::CommitOffsetsOk) => Ok(op.value.clone()),
                ("commit_offsets", _) => Err(unexpected(reply, "commit_offsets_ok")),
                ("list_committed_offsets", Payload::ListCommittedOffsetsOk { offsets }) => {
                    Ok(json!({"keys": op.value["keys"].clone(), "offsets": offsets}))
                }
                _ => Err(unexpected(reply, "list_committed_offsets_ok")),
            }
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, is_idempotent(op), ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        let offsets: BTreeMap<String, u64> = self.keys.iter().map(|&k| (key_name(k), 0)).collect();
        Some(Op::new("poll", json!({ "offsets": offsets })))
    }

    fn sends_topology(&self) -> bool {
        false
    }

    fn prepare(&mut self, process: u64, op: Op) -> Op {
        Kafka::prepare(self, process, op)
    }

    fn observe(&mut self, process: u64, op: &Op, completion: &Completion) -> Option<Op> {
        Kafka::observe(self, process, op, completion)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn reply(body: Value) -> Body {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn requests_and_replies_have_maelstroms_fields() {
        let k = Kafka::default();
        let send = k
            .request(&Op::new("send", json!({"key": "3", "msg": 7})))
            .unwrap();
        assert_eq!(
            Body::new(send).to_value(),
            json!({"type": "send", "key": "3", "msg": 7})
        );
        let c = k.complete(
            &Op::new("send", json!({"key": "3", "msg": 7})),
            &reply(json!({"type": "send_ok", "offset": 4, "in_reply_to": 1})),
        );
        assert_eq!(
            c,
            Completion::ok(json!({"key": "3", "msg": 7, "offset": 4}))
        );
        let poll = Op::new("poll", json!({"offsets": {"3": 2}}));
        assert_eq!(
            Body::new(k.request(&poll).unwrap()).to_value(),
            json!({"type": "poll", "offsets": {"3": 2}})
        );
        let c = k.complete(
            &poll,
            &reply(json!({"type": "poll_ok", "msgs": {"3": [[2, 9], [3, 5]]}})),
        );
        assert_eq!(
            c,
            Completion::ok(json!({"offsets": {"3": 2}, "msgs": {"3": [[2, 9], [3, 5]]}}))
        );
        let list = Op::new("list_committed_offsets", json!({"keys": ["3", "4"]}));
        assert_eq!(
            Body::new(k.request(&list).unwrap()).to_value(),
            json!({"type": "list_committed_offsets", "keys": ["3", "4"]})
        );
        let bad = k.complete(&poll, &reply(json!({"type": "poll_ok", "msgs": [1]})));
        assert!(bad.is_malformed_reply(), "{bad:?}");
        assert_eq!(bad.outcome, Outcome::Fail, "a poll changes nothing");
        let lost = k.timeout(&Op::new("send", json!({"key": "3", "msg": 8})));
        assert_eq!(lost.outcome, Outcome::Info);
    }

    #[test]
    fn a_client_polls_its_assigned_keys_from_its_positions_and_commits_what_it_read() {
        let mut k = Kafka::default();
        // No keys yet: the poll asks for nothing.
        let poll = k.prepare(0, Op::new("poll", Value::Null));
        assert_eq!(poll.value, json!({"offsets": {}}));
        let assign = k.prepare(
            0,
            Op::new(
                "list_committed_offsets",
                json!({"keys": ["1"], "catch_up": false}),
            ),
        );
        assert_eq!(assign.value, json!({"keys": ["1"]}));
        let done = Completion::ok(json!({"keys": ["1"], "offsets": {"1": 3}}));
        assert_eq!(k.observe(0, &assign, &done), None);
        let poll = k.prepare(0, Op::new("poll", Value::Null));
        assert_eq!(
            poll.value,
            json!({"offsets": {"1": 3}}),
            "from the committed offset"
        );
        let polled = Completion::ok(json!({"offsets": {"1": 3}, "msgs": {"1": [[3, 4], [5, 6]]}}));
        let commit = k.observe(0, &poll, &polled).unwrap();
        assert_eq!(commit, Op::new("commit_offsets", json!({"1": 5})));
        assert!(k.request(&commit).is_ok());
        let poll = k.prepare(0, Op::new("poll", Value::Null));
        assert_eq!(poll.value, json!({"offsets": {"1": 6}}));
        // Another client has its own position; a client that crashed starts again.
        assert_eq!(
            k.prepare(1, Op::new("poll", Value::Null)).value,
            json!({"offsets": {}})
        );
        let info = Completion::uncertain(&poll, false, ErrorInfo::timeout());
        assert_eq!(k.observe(0, &poll, &info), None);
        assert_eq!(
            k.prepare(0, Op::new("poll", Value::Null)).value,
            json!({"offsets": {}})
        );
    }

    #[test]
    fn an_assign_that_catches_up_adds_the_keys_sent_but_not_polled() {
        let mut k = Kafka::default();
        let send = Op::new("send", json!({"key": "7", "msg": 1}));
        k.observe(
            2,
            &send,
            &Completion::ok(json!({"key": "7", "msg": 1, "offset": 0})),
        );
        let assign = k.prepare(
            0,
            Op::new(
                "list_committed_offsets",
                json!({"keys": ["1"], "catch_up": true}),
            ),
        );
        assert_eq!(assign.value, json!({"keys": ["1", "7"]}));
    }

    #[test]
    fn the_mix_is_half_sends_half_polls_with_rare_assigns_and_unique_messages_per_key() {
        let mut k = Kafka::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let ops: Vec<Op> = (0..20_000).map(|_| k.next_op(&mut rng)).collect();
        let share = |f: &str| ops.iter().filter(|o| o.f == f).count() as f64 / ops.len() as f64;
        assert!((0.45..0.55).contains(&share("send")), "{}", share("send"));
        assert!((0.45..0.55).contains(&share("poll")), "{}", share("poll"));
        let assigns = share("list_committed_offsets");
        assert!((0.01..0.025).contains(&assigns), "{assigns}");
        let mut per_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for op in ops.iter().filter(|o| o.f == "send") {
            per_key
                .entry(op.value["key"].as_str().unwrap().to_owned())
                .or_default()
                .push(op.value["msg"].as_u64().unwrap());
        }
        for (key, msgs) in &per_key {
            let expected: Vec<u64> = (1..=msgs.len() as u64).collect();
            assert_eq!(msgs, &expected, "key {key}");
            assert!(msgs.len() as u64 <= crate::keys::DEFAULT_MAX_WRITES_PER_KEY);
        }
        let final_poll = k.final_op().unwrap();
        assert_eq!(
            final_poll.value["offsets"].as_object().unwrap().len(),
            per_key.len(),
            "the final poll reads every key sent to, from 0"
        );
    }
}

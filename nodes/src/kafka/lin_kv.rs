//! `kafka-lin-kv`: Kafka-style logs kept in the `lin-kv` service, as the Gossip Glomers 5b
//! solutions keep them: the nodes hold no state of their own that matters.
//!
//! **Algorithm.** Each key's log is one value of `lin-kv`, `"log/<key>"`: the list of its
//! entries, each `[msg, tag]`, a message's offset its place in the list. A node appends by
//! compare-and-set from the list it last knew to that list plus the new entries (sends to one
//! key that arrive while an append is in flight wait and go together in the next one). If the
//! list moved on (error 22), the node reads it and appends again on top. The tag (node,
//! incarnation, counter) makes every entry unique, which makes an uncertain append decidable:
//! after a timeout or an error the node reads the list back; if its entries are there, the
//! append happened, at that place; if the list is still the one it expected, it sends the
//! *same* compare-and-set again (it can apply at most once); if the list moved on without
//! them, the append can never apply (lists only grow, so the expected list never comes back)
//! and its sends are appended again on top. A `poll` reads each asked key's list and answers
//! from the offsets asked. Committed offsets are `"committed/<key>"`, raised by
//! compare-and-set and never lowered; `list_committed_offsets` reads them.
//!
//! **Guarantee.** The service is linearizable and a list only ever grows by compare-and-set,
//! so every message has one offset, every offset one message, offsets are dense, and a send
//! acknowledged with an offset stays there; a poll or list that starts after a send or commit
//! was acknowledged sees it.
//!
//! **When it acknowledges.** A send, when its compare-and-set is known to have applied. A
//! commit, when the stored offset is at least the one asked. Polls and lists, when their reads
//! are answered.
//!
//! **Topology.** Ignored: nodes never talk to each other.
//!
//! **Cost.** Between nodes, nothing. To the service: an append per batch of sends to one key
//! (more when nodes race for a key), a read per key polled or listed, a read and a
//! compare-and-set per commit that raises an offset.
//!
//! **Partition.** Services are never partitioned, so nodes serve through any partition.
//!
//! **Crash.** Everything acknowledged is in the service; a restarted node starts with nothing
//! known and learns each list when it first appends to it. A read that fails makes the poll or
//! list fail with error 11 (it changed nothing).

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{ErrorCode, Message, Payload};
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::node::{Node, TimerId};

/// The service the logs are kept in.
pub const SERVICE: &str = "lin-kv";
/// How long an RPC to the service may take before it counts as timed out.
pub const RPC_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long to wait before reading again after the service failed to answer.
pub const RETRY_DELAY: Duration = Duration::from_millis(50);

/// The service key of `key`'s log.
pub fn log_key(key: &str) -> String {
    format!("log/{key}")
}

/// The service key of `key`'s committed offset.
pub fn committed_key(key: &str) -> String {
    format!("committed/{key}")
}

/// An append in flight: the list it expects and the entries it adds, with their requests.
#[derive(Debug, Clone)]
struct Append {
    from: Option<Vec<Value>>,
    entries: Vec<(Message, Value)>,
}

impl Append {
    fn to(&self) -> Vec<Value> {
        let mut list = self.from.clone().unwrap_or_default();
        list.extend(self.entries.iter().map(|(_, e)| e.clone()));
        list
    }
}

/// One key's log as this node knows it.
#[derive(Debug, Default)]
struct KeyLog {
    /// The list last read or written (`None`: absent, or not known yet).
    known: Option<Vec<Value>>,
    append: Option<Append>,
    pending: Vec<(Message, Value)>,
}

/// A commit waiting on one key: its request id and the offset it asks for.
type Waiter = (u64, u64);

/// One key's committed offset as this node knows it, and the commits waiting on it.
#[derive(Debug, Default)]
struct Committed {
    known: Option<u64>,
    /// The offset a compare-and-set in flight raises it to.
    in_flight: Option<u64>,
    /// The commits still to be reached.
    waiting: Vec<Waiter>,
}

/// A client request answered from several reads (a poll, a list).
#[derive(Debug)]
struct Gather {
    request: Message,
    waiting: usize,
    failed: bool,
    msgs: BTreeMap<String, Vec<(u64, Value)>>,
    offsets: BTreeMap<String, u64>,
}

/// What an outstanding RPC is for.
#[derive(Debug, Clone)]
enum Purpose {
    Append(String),
    /// Read a key's list back to settle its append.
    Settle(String),
    Raise(String),
    ReadCommitted(String),
    /// A read for gather `id` of `key`, from offset `from` (a poll) or of its committed
    /// offset (a list, `from` None).
    Gather {
        id: u64,
        key: String,
        from: Option<u64>,
    },
}

/// The node.
#[derive(Debug, Default)]
pub struct LinKvLogs {
    logs: BTreeMap<String, KeyLog>,
    committed: BTreeMap<String, Committed>,
    /// Commit requests and how many keys each still waits for.
    commits: BTreeMap<u64, (Message, usize)>,
    gathers: BTreeMap<u64, Gather>,
    rpcs: BTreeMap<u64, Purpose>,
    retries: BTreeMap<TimerId, Purpose>,
    next_id: u64,
}

fn list_of(value: Option<&Value>) -> Option<Vec<Value>> {
    value.and_then(Value::as_array).cloned()
}

impl LinKvLogs {
    fn rpc(&mut self, ctx: &mut Ctx, payload: &Payload, purpose: Purpose) {
        let id = ctx.rpc(SERVICE, payload, RPC_TIMEOUT);
        self.rpcs.insert(id, purpose);
    }

    fn read(&mut self, ctx: &mut Ctx, key: String, purpose: Purpose) {
        let payload = Payload::Read {
            key: Some(key.into()),
        };
        self.rpc(ctx, &payload, purpose);
    }

    fn retry_later(&mut self, ctx: &mut Ctx, purpose: Purpose) {
        let timer = ctx.set_timer(RETRY_DELAY);
        self.retries.insert(timer, purpose);
    }

    /// Start an append of every waiting send of `key`, if none is in flight.
    fn flush(&mut self, ctx: &mut Ctx, key: &str) {
        let Some(log) = self.logs.get_mut(key) else {
            return;
        };
        if log.append.is_some() || log.pending.is_empty() {
            return;
        }
        log.append = Some(Append {
            from: log.known.clone(),
            entries: std::mem::take(&mut log.pending),
        });
        self.send_append(ctx, key);
    }

    fn send_append(&mut self, ctx: &mut Ctx, key: &str) {
        let Some(append) = self.logs.get(key).and_then(|l| l.append.as_ref()) else {
            return;
        };
        let cas = Payload::Cas {
            key: log_key(key).into(),
            from: append.from.clone().map_or(Value::Null, Value::from),
            to: Value::from(append.to()),
            create_if_not_exists: Some(append.from.is_none()),
        };
        self.rpc(ctx, &cas, Purpose::Append(key.to_owned()));
    }

    /// The append of `key` applied, its entries from offset `at` on.
    fn appended(&mut self, ctx: &mut Ctx, key: &str, at: usize, list: Vec<Value>) {
        let Some(log) = self.logs.get_mut(key) else {
            return;
        };
        if let Some(append) = log.append.take() {
            for (i, (request, _)) in append.entries.iter().enumerate() {
                let offset = (at + i) as u64;
                ctx.reply(request, &Payload::SendOk { offset });
            }
        }
        log.known = Some(list);
        self.flush(ctx, key);
    }

    /// `key`'s list was read back to settle its append.
    fn settle(&mut self, ctx: &mut Ctx, key: &str, list: Option<Vec<Value>>) {
        let Some(log) = self.logs.get_mut(key) else {
            return;
        };
        let Some(append) = &log.append else {
            log.known = list;
            return self.flush(ctx, key);
        };
        let first = &append.entries[0].1;
        let found = list
            .as_ref()
            .and_then(|l| l.iter().position(|e| e == first));
        match found {
            Some(at) => self.appended(ctx, key, at, list.unwrap_or_default()),
            None if list == append.from => self.send_append(ctx, key),
            None => {
                // The list moved on without these entries: they go again, on top of it.
                if let Some(append) = log.append.take() {
                    let mut entries = append.entries;
                    entries.append(&mut log.pending);
                    log.pending = entries;
                }
                log.known = list;
                self.flush(ctx, key);
            }
        }
    }

    fn on_send(&mut self, ctx: &mut Ctx, request: Message, key: String, msg: Value) {
        self.next_id += 1;
        let tag = format!("{}-{:x}-{}", ctx.id(), ctx.incarnation(), self.next_id);
        let entry = json!([msg, tag]);
        self.logs
            .entry(key.clone())
            .or_default()
            .pending
            .push((request, entry));
        self.flush(ctx, &key);
    }

    /// Raise `key`'s committed offset to the highest one waiting, or answer the waiting
    /// commits it already covers.
    fn drive_commit(&mut self, ctx: &mut Ctx, key: &str) {
        let Some(c) = self.committed.get_mut(key) else {
            return;
        };
        if c.in_flight.is_some() {
            return;
        }
        let known = c.known;
        let (reached, still): (Vec<Waiter>, Vec<Waiter>) = c
            .waiting
            .drain(..)
            .partition(|&(_, o)| known.is_some_and(|k| k >= o));
        c.waiting = still;
        let target = c.waiting.iter().map(|&(_, o)| o).max();
        if let Some(target) = target {
            c.in_flight = Some(target);
            let cas = Payload::Cas {
                key: committed_key(key).into(),
                from: known.map_or(Value::Null, Value::from),
                to: Value::from(target),
                create_if_not_exists: Some(known.is_none()),
            };
            self.rpc(ctx, &cas, Purpose::Raise(key.to_owned()));
        }
        for (id, _) in reached {
            if let Some((_, left)) = self.commits.get_mut(&id) {
                *left -= 1;
                if *left == 0
                    && let Some((request, _)) = self.commits.remove(&id)
                {
                    ctx.reply(&request, &Payload::CommitOffsetsOk);
                }
            }
        }
    }

    fn on_commit(&mut self, ctx: &mut Ctx, request: Message, offsets: BTreeMap<String, u64>) {
        if offsets.is_empty() {
            ctx.reply(&request, &Payload::CommitOffsetsOk);
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.commits.insert(id, (request, offsets.len()));
        for (key, offset) in &offsets {
            self.committed
                .entry(key.clone())
                .or_default()
                .waiting
                .push((id, *offset));
            self.drive_commit(ctx, key);
        }
    }

    /// A poll (`offsets`, each key from its offset) or a list (`keys`, their committed
    /// offsets): one read per key, answered when all are in.
    fn gather(&mut self, ctx: &mut Ctx, request: Message, asked: Vec<(String, Option<u64>)>) {
        if asked.is_empty() {
            let answer = match request.body.payload {
                Payload::Poll { .. } => Payload::PollOk {
                    msgs: BTreeMap::new(),
                },
                _ => Payload::ListCommittedOffsetsOk {
                    offsets: BTreeMap::new(),
                },
            };
            ctx.reply(&request, &answer);
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.gathers.insert(
            id,
            Gather {
                request,
                waiting: asked.len(),
                failed: false,
                msgs: BTreeMap::new(),
                offsets: BTreeMap::new(),
            },
        );
        for (key, from) in asked {
            let service_key = match from {
                Some(_) => log_key(&key),
                None => committed_key(&key),
            };
            self.read(ctx, service_key, Purpose::Gather { id, key, from });
        }
    }

    fn gathered(
        &mut self,
        ctx: &mut Ctx,
        id: u64,
        key: String,
        from: Option<u64>,
        reply: &Message,
    ) {
        let Some(g) = self.gathers.get_mut(&id) else {
            return;
        };
        g.waiting -= 1;
        match (&reply.body.payload, reply.body.error_code(), from) {
            (Payload::ReadOk { value, .. }, _, Some(from)) => {
                let list = list_of(value.as_ref()).unwrap_or_default();
                let pairs: Vec<(u64, Value)> = list
                    .iter()
                    .enumerate()
                    .skip(usize::try_from(from).unwrap_or(usize::MAX))
                    .map(|(o, e)| (o as u64, e.get(0).cloned().unwrap_or(Value::Null)))
                    .collect();
                if !pairs.is_empty() {
                    g.msgs.insert(key, pairs);
                }
            }
            (Payload::ReadOk { value, .. }, _, None) => {
                match value.as_ref().and_then(Value::as_u64) {
                    Some(o) => {
                        g.offsets.insert(key, o);
                    }
                    None => g.failed = true,
                }
            }
            (_, Some(ErrorCode::KeyDoesNotExist), _) => {}
            _ => g.failed = true,
        }
        if g.waiting > 0 {
            return;
        }
        let Some(g) = self.gathers.remove(&id) else {
            return;
        };
        if g.failed {
            ctx.reply_error(
                &g.request,
                ErrorCode::TemporarilyUnavailable,
                "lin-kv did not answer every read",
            );
            return;
        }
        let answer = match g.request.body.payload {
            Payload::Poll { .. } => Payload::PollOk { msgs: g.msgs },
            _ => Payload::ListCommittedOffsetsOk { offsets: g.offsets },
        };
        ctx.reply(&g.request, &answer);
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx, purpose: Purpose, reply: &Message) {
        let error = reply.body.error_code();
        match purpose {
            Purpose::Append(key) => match reply.body.payload {
                Payload::CasOk => {
                    let at = self
                        .logs
                        .get(&key)
                        .and_then(|l| l.append.as_ref())
                        .map_or(0, |a| a.from.as_ref().map_or(0, Vec::len));
                    let list = self
                        .logs
                        .get(&key)
                        .and_then(|l| l.append.as_ref())
                        .map(Append::to)
                        .unwrap_or_default();
                    self.appended(ctx, &key, at, list);
                }
                // Even a definite error speaks only of this send of the append, not of an
                // earlier one that may have landed: settle it by reading the list back.
                _ => self.read(ctx, log_key(&key), Purpose::Settle(key)),
            },
            Purpose::Settle(key) => match (&reply.body.payload, error) {
                (Payload::ReadOk { value, .. }, _) => {
                    self.settle(ctx, &key, list_of(value.as_ref()));
                }
                (_, Some(ErrorCode::KeyDoesNotExist)) => self.settle(ctx, &key, None),
                _ => self.retry_later(ctx, Purpose::Settle(key)),
            },
            Purpose::Raise(key) => {
                if let Some(c) = self.committed.get_mut(&key) {
                    if reply.body.payload == Payload::CasOk {
                        c.known = c.in_flight.take().max(c.known);
                        self.drive_commit(ctx, &key);
                    } else {
                        self.read(ctx, committed_key(&key), Purpose::ReadCommitted(key));
                    }
                }
            }
            Purpose::ReadCommitted(key) => {
                let known = match (&reply.body.payload, error) {
                    (Payload::ReadOk { value, .. }, _) => value.as_ref().and_then(Value::as_u64),
                    (_, Some(ErrorCode::KeyDoesNotExist)) => None,
                    _ => return self.retry_later(ctx, Purpose::ReadCommitted(key)),
                };
                if let Some(c) = self.committed.get_mut(&key) {
                    c.in_flight = None;
                    c.known = known;
                }
                self.drive_commit(ctx, &key);
            }
            Purpose::Gather { id, key, from } => self.gathered(ctx, id, key, from, reply),
        }
    }
}

impl Node for LinKvLogs {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Some(reply_to) = msg.body.in_reply_to {
            if let Some(purpose) = self.rpcs.remove(&reply_to) {
                self.on_rpc_reply(ctx, purpose, &msg);
            }
            return;
        }
        match msg.body.payload.clone() {
            Payload::Send { key, msg: m } => self.on_send(ctx, msg, key, m),
            Payload::Poll { offsets } => {
                let asked = offsets.into_iter().map(|(k, o)| (k, Some(o))).collect();
                self.gather(ctx, msg, asked);
            }
            Payload::CommitOffsets { offsets } => self.on_commit(ctx, msg, offsets),
            Payload::ListCommittedOffsets { keys } => {
                let asked = keys.into_iter().map(|k| (k, None)).collect();
                self.gather(ctx, msg, asked);
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        let Some(purpose) = self.retries.remove(&timer) else {
            return;
        };
        match purpose {
            Purpose::Settle(key) => self.read(ctx, log_key(&key), Purpose::Settle(key)),
            Purpose::ReadCommitted(key) => {
                self.read(ctx, committed_key(&key), Purpose::ReadCommitted(key))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// A kafka-lin-kv node and a scripted lin-kv: the test plays the service.
    type Script = crate::script::Script<LinKvLogs>;

    fn script() -> Script {
        let mut s = Script::start(LinKvLogs::default(), 7, &["n0", "n1"], SERVICE);
        s.expect("c0", "init_ok");
        s
    }

    fn cas_parts(msg: &Message) -> (Value, Value, Value) {
        match &msg.body.payload {
            Payload::Cas { key, from, to, .. } => (key.clone(), from.clone(), to.clone()),
            other => panic!("expected cas, got {other:?}"),
        }
    }

    fn offset(msg: &Message) -> u64 {
        match msg.body.payload {
            Payload::SendOk { offset } => offset,
            ref other => panic!("expected send_ok, got {other:?}"),
        }
    }

    #[test]
    fn sends_append_by_compare_and_set_and_get_their_place_as_offset() {
        let mut s = script();
        s.deliver(
            "c1",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 10}),
        );
        let cas = s.expect(SERVICE, "cas");
        let (key, from, to) = cas_parts(&cas);
        assert_eq!((key, from), (json!("log/k"), Value::Null));
        assert_eq!(to.as_array().unwrap().len(), 1);
        // Two more sends wait for the append in flight, then go together.
        s.deliver(
            "c2",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 11}),
        );
        s.deliver(
            "c3",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 12}),
        );
        assert!(s.outbox.is_empty(), "{:?}", s.outbox);
        s.answer(&cas, json!({"type": "cas_ok"}));
        assert_eq!(offset(&s.expect("c1", "send_ok")), 0);
        let batch = s.expect(SERVICE, "cas");
        let (_, from, to) = cas_parts(&batch);
        assert_eq!(from, to_first(&to, 1));
        assert_eq!(to.as_array().unwrap().len(), 3);
        s.answer(&batch, json!({"type": "cas_ok"}));
        assert_eq!(offset(&s.expect("c2", "send_ok")), 1);
        assert_eq!(offset(&s.expect("c3", "send_ok")), 2);
        // A poll reads the list and answers from the asked offset.
        s.deliver(
            "c4",
            json!({"type": "poll", "msg_id": 3, "offsets": {"k": 1}}),
        );
        let read = s.expect(SERVICE, "read");
        s.answer(&read, json!({"type": "read_ok", "value": to}));
        let polled = s.expect("c4", "poll_ok");
        assert_eq!(
            polled.body.payload,
            Payload::PollOk {
                msgs: BTreeMap::from([("k".to_owned(), vec![(1, json!(11)), (2, json!(12))])])
            }
        );
    }

    /// The first `n` entries of a list, as the JSON the service holds.
    fn to_first(list: &Value, n: usize) -> Value {
        Value::from(list.as_array().unwrap()[..n].to_vec())
    }

    #[test]
    fn a_list_that_moved_on_is_read_and_the_send_appended_on_top() {
        let mut s = script();
        s.deliver(
            "c1",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 10}),
        );
        let cas = s.expect(SERVICE, "cas");
        s.answer(&cas, json!({"type": "error", "code": 22}));
        let read = s.expect(SERVICE, "read");
        let other = json!([[99, "n1-1-1"], [98, "n1-1-2"]]);
        s.answer(&read, json!({"type": "read_ok", "value": other}));
        let again = s.expect(SERVICE, "cas");
        let (_, from, to) = cas_parts(&again);
        assert_eq!(from, other);
        assert_eq!(to.as_array().unwrap().len(), 3);
        s.answer(&again, json!({"type": "cas_ok"}));
        assert_eq!(offset(&s.expect("c1", "send_ok")), 2);
    }

    #[test]
    fn a_timed_out_append_that_landed_is_acknowledged_at_its_place() {
        let mut s = script();
        s.deliver(
            "c1",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 10}),
        );
        let cas = s.expect(SERVICE, "cas");
        let (_, _, to) = cas_parts(&cas);
        s.advance(RPC_TIMEOUT + Duration::from_millis(1));
        let read = s.expect(SERVICE, "read");
        // Someone else appended after it: it is still at its place, 0.
        let mut landed = to.as_array().unwrap().clone();
        landed.push(json!([7, "n1-1-1"]));
        s.answer(&read, json!({"type": "read_ok", "value": landed}));
        assert_eq!(offset(&s.expect("c1", "send_ok")), 0);
        // One that did not land yet is sent again unchanged.
        s.deliver(
            "c2",
            json!({"type": "send", "msg_id": 1, "key": "k", "msg": 11}),
        );
        let cas = s.expect(SERVICE, "cas");
        s.advance(RPC_TIMEOUT + Duration::from_millis(1));
        let read = s.expect(SERVICE, "read");
        let (_, from, _) = cas_parts(&cas);
        s.answer(&read, json!({"type": "read_ok", "value": from}));
        let again = s.expect(SERVICE, "cas");
        assert_eq!(again.body.payload, cas.body.payload);
    }

    #[test]
    fn commits_only_raise_the_stored_offset_and_lists_read_it() {
        let mut s = script();
        s.deliver(
            "c1",
            json!({"type": "commit_offsets", "msg_id": 1, "offsets": {"k": 4}}),
        );
        let cas = s.expect(SERVICE, "cas");
        assert_eq!(
            cas_parts(&cas),
            (json!("committed/k"), Value::Null, json!(4))
        );
        s.answer(&cas, json!({"type": "error", "code": 22}));
        let read = s.expect(SERVICE, "read");
        s.answer(&read, json!({"type": "read_ok", "value": 6}));
        // Already past 4: nothing to write.
        s.expect("c1", "commit_offsets_ok");
        assert!(s.outbox.is_empty(), "{:?}", s.outbox);
        s.deliver(
            "c2",
            json!({"type": "list_committed_offsets", "msg_id": 2, "keys": ["k", "x"]}),
        );
        let reads = [s.expect(SERVICE, "read"), s.expect(SERVICE, "read")];
        s.answer(&reads[0], json!({"type": "read_ok", "value": 6}));
        s.answer(&reads[1], json!({"type": "error", "code": 20}));
        let listed = s.expect("c2", "list_committed_offsets_ok");
        assert_eq!(
            listed.body.payload,
            Payload::ListCommittedOffsetsOk {
                offsets: BTreeMap::from([("k".to_owned(), 6)])
            }
        );
    }
}

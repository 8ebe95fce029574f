//! `g-counter`: a counter backed by the `seq-kv` service, correct under its errors and timeouts.
//!
//! Each node owns one key in `seq-kv`, `"g-counter/<node>"`, and is its only writer; the
//! counter's value is the sum over every node's key. An `add` is acknowledged only once the
//! node's compare-and-set that includes it has succeeded, so an acknowledged add survives a
//! crash of the node. Adds that arrive while a write is in flight wait and go together in the
//! next one (batching).
//!
//! The stored value is `{"sum", "ver", "by"}`: `ver` counts writes to the key and `by` names the
//! incarnation and write that made it, so no two writes ever store the same value. That makes a
//! timed-out compare-and-set decidable: read the key back; if it holds the attempt's own value
//! the write happened, if it still holds the value the attempt expected it has not happened (yet)
//! and the *same* compare-and-set is sent again (it can apply at most once), and if it holds
//! anything else a late write of an earlier incarnation of this node moved the key on, so the
//! attempt can never apply and its adds are retried on top of the new value.
//!
//! Service errors: 20 (key does not exist) on a read means the sum is 0. Any failure of a
//! compare-and-set (22 precondition failed, 20, a timeout) is settled the same way, by reading
//! the key back: a definite error speaks only of that one send, and an earlier send of the same
//! attempt may have landed. A read older than what the node already saw (seq-kv may serve stale
//! reads) is read again.
//!
//! `read` asks `seq-kv` for every node's key and answers with the sum; if any of those reads
//! fails it answers error 11 (the read did not happen, the client may retry).

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{ErrorCode, Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::node::{Node, TimerId};

/// The service the counter is stored in.
pub const SERVICE: &str = "seq-kv";
/// How long an RPC to the service may take before it counts as timed out.
pub const RPC_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long to wait before retrying after the service failed to answer.
pub const RETRY_DELAY: Duration = Duration::from_millis(100);

/// The key node `node` owns.
pub fn key_of(node: &str) -> String {
    format!("g-counter/{node}")
}

/// What a node's key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub sum: i64,
    pub ver: u64,
    pub by: String,
}

/// An in-flight compare-and-set of this node's key.
#[derive(Debug, Clone)]
struct Attempt {
    /// What the key held when the attempt was made (None: absent).
    from: Option<Stored>,
    to: Stored,
    /// The `add` requests it acknowledges when it succeeds.
    batch: Vec<Message>,
}

/// What an outstanding RPC was for.
#[derive(Debug, Clone)]
enum Purpose {
    /// Learn this node's own key (at start, and after a failed or uncertain write).
    LoadOwn,
    /// The compare-and-set of the current attempt.
    Write,
    /// One of the per-node reads of a client `read`.
    Read { op: u64, key: String },
}

/// A client `read` waiting for its per-node reads.
#[derive(Debug)]
struct ReadOp {
    request: Message,
    waiting: usize,
    sum: i64,
    failed: bool,
}

/// The g-counter node.
#[derive(Debug, Default)]
pub struct GCounter {
    /// This node's key as last known: None until loaded; Some(None) when absent.
    own: Option<Option<Stored>>,
    attempt: Option<Attempt>,
    pending: Vec<Message>,
    rpcs: BTreeMap<u64, Purpose>,
    reads: BTreeMap<u64, ReadOp>,
    next_read: u64,
    writes: u64,
    retry_timer: Option<TimerId>,
}

impl GCounter {
    fn key(ctx: &Ctx) -> String {
        key_of(ctx.id())
    }

    fn load_own(&mut self, ctx: &mut Ctx) {
        let key = Self::key(ctx);
        let id = ctx.rpc(
            SERVICE,
            &Payload::Read {
                key: Some(key.into()),
            },
            RPC_TIMEOUT,
        );
        self.rpcs.insert(id, Purpose::LoadOwn);
    }

    fn retry_later(&mut self, ctx: &mut Ctx) {
        if self.retry_timer.is_none() {
            self.retry_timer = Some(ctx.set_timer(RETRY_DELAY));
        }
    }

    /// Start a write of every pending add, if the key is known and no write is in flight.
    fn flush(&mut self, ctx: &mut Ctx) {
        let Some(own) = &self.own else { return };
        if self.attempt.is_some() || self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        let delta: i64 = batch.iter().map(delta_of).sum();
        self.writes += 1;
        let base = own.as_ref();
        let to = Stored {
            sum: base.map_or(0, |s| s.sum).saturating_add(delta),
            ver: base.map_or(0, |s| s.ver) + 1,
            by: format!("{}-{:x}-{}", ctx.id(), ctx.incarnation(), self.writes),
        };
        self.attempt = Some(Attempt {
            from: own.clone(),
            to,
            batch,
        });
        self.send_attempt(ctx);
    }

    fn send_attempt(&mut self, ctx: &mut Ctx) {
        let Some(attempt) = &self.attempt else { return };
        let cas = Payload::Cas {
            key: Self::key(ctx).into(),
            from: to_json(attempt.from.as_ref()),
            to: to_json(Some(&attempt.to)),
            create_if_not_exists: Some(attempt.from.is_none()),
        };
        let id = ctx.rpc(SERVICE, &cas, RPC_TIMEOUT);
        self.rpcs.insert(id, Purpose::Write);
    }

    /// The attempt is known to have happened: acknowledge its adds.
    fn attempt_applied(&mut self, ctx: &mut Ctx) {
        if let Some(attempt) = self.attempt.take() {
            for request in &attempt.batch {
                ctx.reply(request, &Payload::AddOk);
            }
            self.own = Some(Some(attempt.to));
        }
        self.flush(ctx);
    }

    /// The attempt is known never to apply: put its adds back in front of the queue.
    fn attempt_dead(&mut self, ctx: &mut Ctx, now_stored: Option<Stored>) {
        if let Some(attempt) = self.attempt.take() {
            let mut batch = attempt.batch;
            batch.append(&mut self.pending);
            self.pending = batch;
        }
        self.own = Some(now_stored);
        self.flush(ctx);
    }

    /// This node's key was read back (at start, or to settle an uncertain write).
    fn on_own_key(&mut self, ctx: &mut Ctx, value: Option<Stored>) {
        let Some(attempt) = &self.attempt else {
            self.own = Some(value);
            self.flush(ctx);
            return;
        };
        let from_ver = attempt.from.as_ref().map_or(0, |s| s.ver);
        if value.as_ref() == Some(&attempt.to) {
            self.attempt_applied(ctx);
        } else if value == attempt.from {
            // Not applied yet, and it may still be on its way: send the same write again.
            self.send_attempt(ctx);
        } else if value.as_ref().map_or(0, |s| s.ver) < from_ver {
            // A stale read: older than what this node already saw. Read again.
            self.load_own(ctx);
        } else {
            // Someone (an earlier incarnation of this node) moved the key on: the attempt's
            // precondition can never hold again.
            self.attempt_dead(ctx, value);
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx, purpose: Purpose, msg: &Message) {
        let error = msg.body.error_code();
        match purpose {
            Purpose::LoadOwn => match (&msg.body.payload, error) {
                (Payload::ReadOk { value, .. }, _) => match parse_stored(value.as_ref()) {
                    Some(stored) => self.on_own_key(ctx, Some(stored)),
                    None => {
                        ctx.log(format!("unreadable value in own key: {value:?}"));
                        self.retry_later(ctx);
                    }
                },
                (_, Some(ErrorCode::KeyDoesNotExist)) => self.on_own_key(ctx, None),
                _ => self.retry_later(ctx),
            },
            Purpose::Write => match msg.body.payload {
                Payload::CasOk => self.attempt_applied(ctx),
                // A timeout says nothing, and even a definite error (22, 20) speaks only of
                // this send of the attempt, not of an earlier send that may have landed:
                // settle it by reading the key back.
                _ => self.load_own(ctx),
            },
            Purpose::Read { op, key } => {
                let Some(read) = self.reads.get_mut(&op) else {
                    return;
                };
                read.waiting -= 1;
                match (&msg.body.payload, error) {
                    (Payload::ReadOk { value, .. }, _) => match parse_stored(value.as_ref()) {
                        Some(stored) => {
                            let sum = if key == key_of(ctx.id()) {
                                // Never report less than this node's own acknowledged adds.
                                let own = self.own.clone().flatten();
                                own.filter(|o| o.ver > stored.ver)
                                    .map_or(stored.sum, |o| o.sum)
                            } else {
                                stored.sum
                            };
                            read.sum = read.sum.saturating_add(sum);
                        }
                        None => read.failed = true,
                    },
                    (_, Some(ErrorCode::KeyDoesNotExist)) => {}
                    _ => read.failed = true,
                }
                if read.waiting == 0 {
                    let read = self.reads.remove(&op).expect("present");
                    if read.failed {
                        ctx.reply_error(
                            &read.request,
                            ErrorCode::TemporarilyUnavailable,
                            "seq-kv did not answer every read",
                        );
                    } else {
                        ctx.reply(
                            &read.request,
                            &Payload::ReadOk {
                                messages: None,
                                value: Some(read.sum.into()),
                            },
                        );
                    }
                }
            }
        }
    }
}

fn delta_of(request: &Message) -> i64 {
    match request.body.payload {
        Payload::Add {
            delta: Some(delta), ..
        } => delta,
        _ => 0,
    }
}

fn to_json(stored: Option<&Stored>) -> Value {
    stored.map_or(Value::Null, |s| {
        serde_json::to_value(s).unwrap_or(Value::Null)
    })
}

fn parse_stored(value: Option<&Value>) -> Option<Stored> {
    serde_json::from_value(value?.clone()).ok()
}

impl Node for GCounter {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.load_own(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Some(reply_to) = msg.body.in_reply_to {
            if let Some(purpose) = self.rpcs.remove(&reply_to) {
                self.on_rpc_reply(ctx, purpose, &msg);
            }
            return;
        }
        match &msg.body.payload {
            Payload::Add { delta: Some(_), .. } => {
                self.pending.push(msg);
                self.flush(ctx);
            }
            // A g-set's `add {element}`: a counter has nothing to add.
            Payload::Add { .. } => {
                ctx.reply_error(&msg, ErrorCode::MalformedRequest, "add needs a delta");
            }
            Payload::Read { .. } => {
                let op = self.next_read;
                self.next_read += 1;
                let nodes: Vec<String> = ctx.node_ids().to_vec();
                for node in &nodes {
                    let key = key_of(node);
                    let id = ctx.rpc(
                        SERVICE,
                        &Payload::Read {
                            key: Some(key.clone().into()),
                        },
                        RPC_TIMEOUT,
                    );
                    self.rpcs.insert(id, Purpose::Read { op, key });
                }
                self.reads.insert(
                    op,
                    ReadOp {
                        request: msg,
                        waiting: nodes.len(),
                        sum: 0,
                        failed: false,
                    },
                );
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.retry_timer == Some(timer) {
            self.retry_timer = None;
            self.load_own(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A g-counter node and a scripted seq-kv: the test plays the service.
    type Script = crate::script::Script<GCounter>;

    fn script(nodes: &[&str]) -> Script {
        Script::start(GCounter::default(), 0xab, nodes, SERVICE)
    }

    fn add(script: &mut Script, msg_id: u64, delta: i64) {
        script.deliver(
            "c1",
            json!({"type": "add", "msg_id": msg_id, "delta": delta}),
        );
    }

    fn cas_to(msg: &Message) -> Value {
        match &msg.body.payload {
            Payload::Cas { to, .. } => to.clone(),
            other => panic!("expected cas, got {other:?}"),
        }
    }

    #[test]
    fn first_add_creates_the_key_and_is_acknowledged_after_cas_ok() {
        let mut s = script(&["n0"]);
        s.expect("c0", "init_ok");
        let load = s.expect(SERVICE, "read");
        assert_eq!(
            load.body.payload,
            Payload::Read {
                key: Some(json!("g-counter/n0"))
            }
        );
        add(&mut s, 0, 3);
        assert!(s.outbox.is_empty(), "no write before the key is known");
        s.answer(
            &load,
            json!({"type": "error", "code": 20, "text": "not found"}),
        );
        let cas = s.expect(SERVICE, "cas");
        match &cas.body.payload {
            Payload::Cas {
                key,
                from,
                to,
                create_if_not_exists,
            } => {
                assert_eq!(key, &json!("g-counter/n0"));
                assert_eq!(from, &Value::Null);
                assert_eq!(to["sum"], json!(3));
                assert_eq!(to["ver"], json!(1));
                assert_eq!(*create_if_not_exists, Some(true));
            }
            other => panic!("{other:?}"),
        }
        assert!(s.outbox.is_empty(), "no ack before the write is done");
        s.answer(&cas, json!({"type": "cas_ok"}));
        let ack = s.expect("c1", "add_ok");
        assert_eq!(ack.body.in_reply_to, Some(0));
    }

    #[test]
    fn an_add_without_a_delta_is_malformed() {
        let mut s = script(&["n0"]);
        s.expect("c0", "init_ok");
        s.expect(SERVICE, "read");
        for (msg_id, body) in [
            (3, json!({"type": "add", "msg_id": 3, "element": 4})),
            (4, json!({"type": "add", "msg_id": 4})),
        ] {
            s.deliver("c1", body);
            let reply = s.expect("c1", "error");
            assert_eq!(reply.body.in_reply_to, Some(msg_id));
            assert_eq!(reply.body.error_code(), Some(ErrorCode::MalformedRequest));
        }
        assert!(s.outbox.is_empty(), "{:?}", s.outbox);
    }

    #[test]
    fn precondition_failed_rereads_and_retries_on_the_new_value() {
        let mut s = script(&["n0"]);
        s.expect("c0", "init_ok");
        let load = s.expect(SERVICE, "read");
        s.answer(&load, json!({"type": "error", "code": 20}));
        add(&mut s, 0, 2);
        let cas = s.expect(SERVICE, "cas");
        // An earlier incarnation's late write got there first.
        s.answer(
            &cas,
            json!({"type": "error", "code": 22, "text": "expected null"}),
        );
        let reread = s.expect(SERVICE, "read");
        let moved = json!({"sum": 5, "ver": 1, "by": "n0-old-1"});
        s.answer(&reread, json!({"type": "read_ok", "value": moved}));
        let retry = s.expect(SERVICE, "cas");
        match &retry.body.payload {
            Payload::Cas {
                from,
                to,
                create_if_not_exists,
                ..
            } => {
                assert_eq!(from, &moved);
                assert_eq!(to["sum"], json!(7));
                assert_eq!(to["ver"], json!(2));
                assert_eq!(*create_if_not_exists, Some(false));
            }
            other => panic!("{other:?}"),
        }
        s.answer(&retry, json!({"type": "cas_ok"}));
        assert_eq!(s.expect("c1", "add_ok").body.in_reply_to, Some(0));
    }

    #[test]
    fn a_timed_out_write_that_landed_is_acknowledged_without_writing_again() {
        let mut s = script(&["n0"]);
        s.expect("c0", "init_ok");
        let load = s.expect(SERVICE, "read");
        s.answer(&load, json!({"type": "error", "code": 20}));
        add(&mut s, 0, 4);
        let cas = s.expect(SERVICE, "cas");
        let to = cas_to(&cas);
        add(&mut s, 1, 1); // waits for the next batch
        s.advance(RPC_TIMEOUT + MS);
        let reread = s.expect(SERVICE, "read");
        s.answer(&reread, json!({"type": "read_ok", "value": to}));
        assert_eq!(s.expect("c1", "add_ok").body.in_reply_to, Some(0));
        // The waiting add goes out next, on top of the landed write.
        let next = s.expect(SERVICE, "cas");
        assert_eq!(cas_to(&next)["sum"], json!(5));
        // A late cas_ok for the timed-out RPC is dropped by the runtime.
        s.answer(&cas, json!({"type": "cas_ok"}));
        assert!(s.outbox.is_empty(), "{:?}", s.outbox);
    }

    #[test]
    fn a_timed_out_write_that_did_not_land_is_sent_again_unchanged() {
        let mut s = script(&["n0"]);
        s.expect("c0", "init_ok");
        let load = s.expect(SERVICE, "read");
        let base = json!({"sum": 10, "ver": 3, "by": "n0-x-3"});
        s.answer(&load, json!({"type": "read_ok", "value": base}));
        add(&mut s, 7, 2);
        let cas = s.expect(SERVICE, "cas");
        s.advance(RPC_TIMEOUT + MS);
        let reread = s.expect(SERVICE, "read");
        s.answer(&reread, json!({"type": "read_ok", "value": base}));
        let again = s.expect(SERVICE, "cas");
        assert_eq!(
            again.body.payload, cas.body.payload,
            "the same write, so it applies once"
        );
        // The first send lands late, so the second fails with 22: settle by reading back.
        s.answer(&again, json!({"type": "error", "code": 22}));
        let settle = s.expect(SERVICE, "read");
        s.answer(&settle, json!({"type": "read_ok", "value": cas_to(&cas)}));
        assert_eq!(s.expect("c1", "add_ok").body.in_reply_to, Some(7));
        assert!(s.outbox.is_empty());
    }

    #[test]
    fn read_sums_every_node_key_and_fails_definitely_when_one_is_unanswered() {
        let mut s = script(&["n0", "n1", "n2"]);
        s.expect("c0", "init_ok");
        let load = s.expect(SERVICE, "read");
        s.answer(
            &load,
            json!({"type": "read_ok", "value": {"sum": 2, "ver": 1, "by": "a"}}),
        );
        s.deliver("c1", json!({"type": "read", "msg_id": 4}));
        let reads: Vec<Message> = (0..3).map(|_| s.expect(SERVICE, "read")).collect();
        s.answer(
            &reads[0],
            json!({"type": "read_ok", "value": {"sum": 2, "ver": 1, "by": "a"}}),
        );
        s.answer(
            &reads[1],
            json!({"type": "read_ok", "value": {"sum": 40, "ver": 9, "by": "b"}}),
        );
        s.answer(&reads[2], json!({"type": "error", "code": 20}));
        let reply = s.expect("c1", "read_ok");
        assert_eq!(reply.body.in_reply_to, Some(4));
        assert_eq!(
            reply.body.payload,
            Payload::ReadOk {
                messages: None,
                value: Some(json!(42))
            }
        );

        s.deliver("c1", json!({"type": "read", "msg_id": 5}));
        let reads: Vec<Message> = (0..3).map(|_| s.expect(SERVICE, "read")).collect();
        s.answer(&reads[0], json!({"type": "error", "code": 20}));
        s.answer(&reads[1], json!({"type": "error", "code": 20}));
        s.advance(RPC_TIMEOUT + MS);
        let reply = s.expect("c1", "error");
        assert_eq!(reply.body.in_reply_to, Some(5));
        assert_eq!(
            reply.body.error_code(),
            Some(ErrorCode::TemporarilyUnavailable)
        );
    }
}

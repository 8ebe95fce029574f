//! `lin-kv-leader`: a linearizable key-value store by a single leader.
//!
//! Every `read`, `write` and `cas` is applied by one node, the leader (the first node id,
//! `n0`). A client's request to any other node is forwarded to the leader over RPC, and the
//! leader's answer is relayed back. The leader handles one message at a time, so its order of
//! handling is a total order of all operations, and each operation takes effect at the leader
//! at some instant between the client's request and its reply: that is linearizability, the
//! same argument as total-order broadcast by a single leader (course 4.2), with the leader
//! holding the only copy.
//!
//! Under a partition, nodes cut off from the leader cannot serve anything: a forwarded
//! operation whose answer does not come within [`FORWARD_TIMEOUT`](crate::forward::FORWARD_TIMEOUT) is answered with error 0
//! (timeout, indefinite: the leader may still apply it), so clients record `info`, never a
//! wrong answer. Reads that time out get error 11 instead: a read changes nothing, so not
//! knowing whether it happened does not matter.
//!
//! **Crash.** The leader appends every operation that may change the store (`write`, `cas`)
//! to its stable log `applied` before it answers, and replays the log when it starts, so a
//! restarted leader serves the store it had: while it is down, nothing is served (clients time
//! out), and nothing acknowledged is lost. A **wipe** of the leader's disk loses the store, and
//! the history stops being linearizable: the leader holds the only copy. A real system
//! replicates the leader's log (Raft); this node shows the idea without it.
//!
//! **Duplicates.** A forward the network delivers twice is applied once: the leader remembers
//! the answers to the last [`ANSWERS_KEPT`](crate::forward::ANSWERS_KEPT) forwards by their origin, its incarnation and the
//! forward's msg_id, and answers a copy with the same answer. (Without this, a write's late
//! copy, applied after a newer write, would bring an old value back: `harness explore` found
//! that under the `duplicate` fault.) What is remembered is not persisted: a copy that
//! arrives after the leader restarted is applied again.
//!
//! Cost: 0 messages per operation at the leader, 2 (forward and answer) elsewhere.

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::forward::{ForwardAnswers, Forwarder, Seen};
use crate::kv::store::{KvOp, Store};
use crate::node::Node;

/// Peer messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Peer {
    /// Apply `op` and answer with its result. `incarnation` is the sender's, so that its
    /// msg_ids name a forward uniquely across its restarts.
    Forward {
        op: KvOp,
        #[serde(default)]
        incarnation: u64,
    },
    /// The leader's answer to a forward, naming the incarnation it answers (a follower that
    /// restarted reuses msg_ids, so a late answer to its previous incarnation's forward must
    /// not be taken for the answer to its own).
    ForwardOk { incarnation: u64, answer: Payload },
}

/// The node.
#[derive(Debug, Default)]
pub struct LeaderKv {
    store: Store,
    /// This node's operations forwarded to the leader.
    forwarded: Forwarder,
    /// The leader's answers to forwards.
    answers: ForwardAnswers,
    /// Persist each write only when the next one comes (`lin-kv-forgets-on-restart`,
    /// [`crate::kv::forgets_on_restart`]): the write not yet on disk.
    pub(crate) write_behind: Option<Option<KvOp>>,
}

impl LeaderKv {
    fn leader(ctx: &Ctx) -> String {
        ctx.node_ids().first().cloned().unwrap_or_default()
    }

    /// Apply `op` at the leader; an operation that may change the store is persisted first
    /// (replaying the same operations in the same order rebuilds the same store).
    fn apply(&mut self, ctx: &mut Ctx, op: &KvOp) -> Payload {
        if !op.is_read() {
            match &mut self.write_behind {
                None => ctx.persist(APPLIED, op),
                Some(last) => {
                    if let Some(previous) = last.replace(op.clone()) {
                        ctx.persist(APPLIED, &previous);
                    }
                }
            }
        }
        self.store.apply(op)
    }
}

/// The leader's stable log of operations.
const APPLIED: &str = "applied";

impl Node for LeaderKv {
    fn on_init(&mut self, ctx: &mut Ctx) {
        for op in ctx.take_recovered().decode::<KvOp>(APPLIED) {
            self.store.apply(&op);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Some(reply_to) = msg.body.in_reply_to {
            let answer = match msg.body.parse_custom::<Peer>() {
                Ok(Peer::ForwardOk {
                    incarnation,
                    answer,
                }) => Some((incarnation, answer)),
                _ => None,
            };
            self.forwarded
                .on_reply(ctx, &msg, reply_to, answer, "the leader", "the operation");
            return;
        }
        if let Some(op) = KvOp::from_request(&msg.body.payload) {
            let leader = Self::leader(ctx);
            if ctx.id() == leader {
                let answer = self.apply(ctx, &op);
                ctx.reply(&msg, &answer);
            } else {
                let is_read = op.is_read();
                let forward = Peer::Forward {
                    op,
                    incarnation: ctx.incarnation(),
                };
                self.forwarded.forward(ctx, &leader, &forward, msg, is_read);
            }
            return;
        }
        match msg.body.parse_custom::<Peer>() {
            Ok(Peer::ForwardOk { .. }) => {}
            Ok(Peer::Forward { op, incarnation }) => {
                let key = ForwardAnswers::key(&msg, incarnation);
                let answer = match self.answers.seen(&key) {
                    // A copy of a forward already applied (the leader applies one at once, so
                    // none is ever still running).
                    Seen::Answered(answer) => answer,
                    Seen::Running | Seen::New => {
                        self.answers.begin(key.clone());
                        let answer = self.apply(ctx, &op);
                        self.answers.answered(&key, answer.clone());
                        answer
                    }
                };
                ctx.reply(
                    &msg,
                    &Peer::ForwardOk {
                        incarnation,
                        answer,
                    },
                );
            }
            Err(_) => ctx.not_supported(&msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proto::{Body, ErrorCode};
    use serde_json::{Value, json};

    use super::*;
    use crate::forward::FORWARD_TIMEOUT;
    use crate::{Runtime, sends};

    fn node(id: &str) -> Runtime<LeaderKv> {
        let mut rt = Runtime::new(LeaderKv::default(), 0, 0);
        let init = json!({"type": "init", "msg_id": 1, "node_id": id, "node_ids": ["n0", "n1"]});
        rt.handle_message(
            Duration::ZERO,
            Message::new("c0", id, serde_json::from_value(init).unwrap()),
        );
        rt
    }

    fn msg(src: &str, dest: &str, body: Value) -> Message {
        Message::new(src, dest, serde_json::from_value::<Body>(body).unwrap())
    }

    #[test]
    fn a_follower_forwards_to_the_leader_and_relays_its_answer() {
        let mut leader = node("n0");
        let mut follower = node("n1");
        let effects = follower.handle_message(
            Duration::ZERO,
            msg(
                "c1",
                "n1",
                json!({"type": "write", "msg_id": 1, "key": 3, "value": 7}),
            ),
        );
        let forward = sends(&effects)[0].clone();
        assert_eq!(forward.dest, "n0");
        assert_eq!(forward.body.kind(), "forward");
        let effects = leader.handle_message(Duration::ZERO, forward);
        let answer = sends(&effects)[0].clone();
        assert_eq!(answer.body.kind(), "forward_ok");
        let effects = follower.handle_message(Duration::ZERO, answer);
        let reply = sends(&effects)[0];
        assert_eq!(
            (reply.dest.as_str(), reply.body.in_reply_to),
            ("c1", Some(1))
        );
        assert_eq!(reply.body.payload, Payload::WriteOk);
        // The leader serves its own clients directly.
        let effects = leader.handle_message(
            Duration::ZERO,
            msg("c2", "n0", json!({"type": "read", "msg_id": 2, "key": 3})),
        );
        assert_eq!(
            sends(&effects)[0].body.payload,
            Payload::ReadOk {
                messages: None,
                value: Some(json!(7))
            }
        );
    }

    #[test]
    fn a_duplicated_forward_is_applied_once() {
        let mut leader = node("n0");
        let mut follower = node("n1");
        let write = |value: u64, msg_id: u64| {
            msg(
                "c1",
                "n1",
                json!({"type": "write", "msg_id": msg_id, "key": 3, "value": value}),
            )
        };
        let effects = follower.handle_message(Duration::ZERO, write(1, 1));
        let first = sends(&effects)[0].clone();
        leader.handle_message(Duration::ZERO, first.clone());
        // A newer write, then the network's late copy of the first one.
        let effects = follower.handle_message(Duration::ZERO, write(2, 2));
        leader.handle_message(Duration::ZERO, sends(&effects)[0].clone());
        let effects = leader.handle_message(Duration::ZERO, first);
        assert_eq!(sends(&effects)[0].body.kind(), "forward_ok");
        let effects = leader.handle_message(
            Duration::ZERO,
            msg("c2", "n0", json!({"type": "read", "msg_id": 9, "key": 3})),
        );
        assert_eq!(
            sends(&effects)[0].body.payload,
            Payload::ReadOk {
                messages: None,
                value: Some(json!(2))
            },
            "the copy must not bring the old value back"
        );
    }

    #[test]
    fn an_answer_to_a_previous_incarnation_is_not_relayed() {
        let mut leader = node("n0");
        let mut before = node("n1");
        let write = msg(
            "c1",
            "n1",
            json!({"type": "write", "msg_id": 1, "key": 3, "value": 1}),
        );
        let forward = sends(&before.handle_message(Duration::ZERO, write))[0].clone();
        let stale = sends(&leader.handle_message(Duration::ZERO, forward))[0].clone();
        // n1 restarts (a new incarnation, msg_ids from the start again) and forwards a read
        // with the same msg_id; the old answer arrives first.
        let mut after = Runtime::new(LeaderKv::default(), 0, 1);
        let init = json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n0", "n1"]});
        after.handle_message(
            Duration::ZERO,
            Message::new("c0", "n1", serde_json::from_value(init).unwrap()),
        );
        let read = msg("c2", "n1", json!({"type": "read", "msg_id": 5, "key": 3}));
        let forward = sends(&after.handle_message(Duration::ZERO, read))[0].clone();
        assert_eq!(
            forward.body.msg_id, stale.body.in_reply_to,
            "msg_ids repeat"
        );
        assert!(sends(&after.handle_message(Duration::ZERO, stale)).is_empty());
        let answer = sends(&leader.handle_message(Duration::ZERO, forward))[0].clone();
        let reply = sends(&after.handle_message(Duration::ZERO, answer))[0].clone();
        assert_eq!(reply.dest, "c2");
        assert_eq!(
            reply.body.payload,
            Payload::ReadOk {
                messages: None,
                value: Some(json!(1))
            }
        );
        drop(before);
    }

    #[test]
    fn a_restarted_leader_serves_the_store_it_had_and_a_wiped_one_does_not() {
        let mut c =
            crate::sim::Cluster::new(2, 1, Duration::from_millis(5), |_| LeaderKv::default());
        let write = json!({"type": "write", "key": 1, "value": 9});
        let w = c.request("c1", "n1", &write);
        c.run_for(Duration::from_millis(100));
        assert_eq!(c.reply_to("c1", w).unwrap().body.payload, Payload::WriteOk);
        let read_at = |c: &mut crate::sim::Cluster<LeaderKv>| {
            let r = c.request("c2", "n0", &json!({"type": "read", "key": 1}));
            c.run_for(Duration::from_millis(100));
            c.reply_to("c2", r).unwrap().body.payload.clone()
        };
        c.crash("n0");
        c.restart("n0");
        assert_eq!(
            read_at(&mut c),
            Payload::ReadOk {
                messages: None,
                value: Some(json!(9))
            }
        );
        c.crash("n0");
        c.wipe("n0");
        c.restart("n0");
        assert!(matches!(
            read_at(&mut c),
            Payload::Error {
                code: ErrorCode::KeyDoesNotExist,
                ..
            }
        ));
    }

    #[test]
    fn an_unanswered_forward_is_indefinite_for_writes_and_definite_for_reads() {
        let mut follower = node("n1");
        follower.handle_message(
            Duration::ZERO,
            msg(
                "c1",
                "n1",
                json!({"type": "cas", "msg_id": 1, "key": 3, "from": 1, "to": 2}),
            ),
        );
        follower.handle_message(
            Duration::ZERO,
            msg("c2", "n1", json!({"type": "read", "msg_id": 1, "key": 3})),
        );
        let effects = follower.advance(FORWARD_TIMEOUT + Duration::from_millis(1));
        let replies = sends(&effects);
        let code_for = |client: &str| {
            replies
                .iter()
                .find(|m| m.dest == client)
                .and_then(|m| m.body.error_code())
        };
        assert_eq!(code_for("c1"), Some(ErrorCode::Timeout));
        assert_eq!(code_for("c2"), Some(ErrorCode::TemporarilyUnavailable));
    }
}

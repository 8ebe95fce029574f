//! `txn-single`: a strict-serializable transactional store by a single copy (Gossip Glomers
//! 6a, and any node count).
//!
//! **Algorithm.** One node, `n0` (the first node id), holds the only copy of the store
//! ([`Store`]). It runs every transaction the moment it handles it, to the end, before it
//! handles anything else: transactions run one at a time, so its order of handling is a
//! serial order. A client's transaction sent to any other node is forwarded to `n0` over RPC
//! and `n0`'s answer relayed back (as `lin-kv-leader` does for single operations).
//!
//! **Guarantee.** Strict serializability, for both txn-rw-register and txn-list-append: each
//! transaction takes effect at one instant, while `n0` handles it, which lies between the
//! client's request and its reply, and the instants are totally ordered. So the histories have
//! no dependency cycle of any kind (no G0, G1, G-single, G2) and respect real time.
//!
//! **Partition.** A node cut off from `n0` serves nothing. A forward not answered within
//! [`FORWARD_TIMEOUT`](crate::forward::FORWARD_TIMEOUT) is answered with error 11 (temporarily unavailable, definite) when the
//! transaction only reads, and error 0 (timeout, indefinite) when it writes: `n0` may still
//! run it, so claiming it did not happen could be false. Unavailable, never wrong.
//!
//! **Crash.** `n0` appends the write micro-ops of every transaction it commits to its stable
//! log `applied` before it answers, and replays them at start; so a restarted `n0` serves the
//! store it had. A wipe of `n0`'s disk loses the store: it is the only copy.
//!
//! **Duplicates.** A forward delivered twice runs once: `n0` remembers the answers to the last
//! [`ANSWERS_KEPT`](crate::forward::ANSWERS_KEPT) forwards by origin, its incarnation and msg_id (an `append` run twice
//! would put an element in a list twice).
//!
//! The same node, with one thing changed at `n0` ([`Commit`]), is two planted bugs:
//! [`crate::txn::aborted_reads`] and [`crate::txn::lost_updates`].
//!
//! Cost: 0 messages per transaction at `n0`, 2 (forward and answer) elsewhere.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{ErrorCode, Message, MicroOp, Payload};
use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::forward::{ForwardAnswers, ForwardKey, Forwarder, Seen};
use crate::node::{Node, TimerId};
use crate::txn::engine::{self, Execution, Store};

/// The stable log of committed writes.
const APPLIED: &str = "applied";

/// How `n0` commits a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Run and commit at once, atomically, then answer (`txn-single`).
    Serial,
    /// Run and commit at once, but answer every `every`-th transaction that writes with error
    /// 30 (txn-conflict), its writes left in place (`txn-aborted-reads`).
    AbortEvery { every: u64 },
    /// Run the reads now against the store as it is, apply the writes `delay` later without
    /// checking what changed meanwhile, and answer then (`txn-lost-updates`).
    DeferWrites { delay: Duration },
}

/// Peer messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Peer {
    /// Run `txn` and answer. `incarnation` is the sender's, so that its msg_ids name a forward
    /// uniquely across its restarts.
    ForwardTxn { txn: Vec<MicroOp>, incarnation: u64 },
    /// `n0`'s answer to a forward of the sender's incarnation `incarnation`.
    ForwardTxnOk { incarnation: u64, answer: Payload },
}

/// Who waits for a transaction's answer at `n0`.
#[derive(Debug, Clone)]
enum Asker {
    /// A client of `n0` itself.
    Client(Message),
    /// Another node, for its client.
    Forward {
        msg: Message,
        incarnation: u64,
        key: ForwardKey,
    },
}

/// A transaction whose writes wait for their commit timer ([`Commit::DeferWrites`]).
#[derive(Debug)]
struct Deferred {
    asker: Asker,
    execution: Execution,
}

/// The node.
#[derive(Debug)]
pub struct SingleCopy {
    commit: Commit,
    store: Store,
    /// This node's transactions forwarded to `n0`.
    forwarded: Forwarder,
    /// `n0`'s answers to forwards.
    answers: ForwardAnswers,
    /// Transactions that wrote, counted at `n0` ([`Commit::AbortEvery`]).
    writers: u64,
    deferred: BTreeMap<TimerId, Deferred>,
}

impl Default for SingleCopy {
    fn default() -> Self {
        SingleCopy::new(Commit::Serial)
    }
}

impl SingleCopy {
    /// A node that commits as `commit` says.
    pub fn new(commit: Commit) -> Self {
        SingleCopy {
            commit,
            store: Store::default(),
            forwarded: Forwarder::default(),
            answers: ForwardAnswers::default(),
            writers: 0,
            deferred: BTreeMap::new(),
        }
    }

    /// This node's copy of the store (empty except at `n0`).
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn holder(ctx: &Ctx) -> String {
        ctx.node_ids().first().cloned().unwrap_or_default()
    }

    /// Run `txn` at `n0` for `asker`: answer now, or when its writes are applied.
    fn serve(&mut self, ctx: &mut Ctx, txn: &[MicroOp], asker: Asker) {
        let execution = match engine::execute(txn, |key| self.store.get(key).cloned()) {
            Ok(execution) => execution,
            Err(err) => return self.answer(ctx, asker, err.payload()),
        };
        if execution.is_read_only() {
            return self.answer(ctx, asker, engine::txn_ok(&execution));
        }
        match self.commit {
            Commit::Serial => {
                self.persist(ctx, &execution);
                self.store.commit(&execution);
                self.answer(ctx, asker, engine::txn_ok(&execution));
            }
            Commit::AbortEvery { every } => {
                self.persist(ctx, &execution);
                self.store.commit(&execution);
                self.writers += 1;
                let answer = if self.writers.is_multiple_of(every.max(1)) {
                    Payload::error(
                        ErrorCode::TxnConflict,
                        "aborted: conflict with a concurrent transaction",
                    )
                } else {
                    engine::txn_ok(&execution)
                };
                self.answer(ctx, asker, answer);
            }
            Commit::DeferWrites { delay } => {
                let timer = ctx.set_timer(delay);
                self.deferred.insert(timer, Deferred { asker, execution });
            }
        }
    }

    /// Append `execution`'s write micro-ops to the stable log.
    fn persist(&self, ctx: &mut Ctx, execution: &Execution) {
        let ops: Vec<&MicroOp> = execution.writes.iter().map(|w| &w.op).collect();
        ctx.persist(APPLIED, &ops);
    }

    /// Apply a deferred transaction's writes to the store as it is now, and answer.
    fn apply_deferred(&mut self, ctx: &mut Ctx, deferred: Deferred) {
        self.persist(ctx, &deferred.execution);
        for write in &deferred.execution.writes {
            if let Err(err) = self.store.apply(&write.op) {
                ctx.log(format!("a deferred write was not applied: {}", err.text));
            }
        }
        self.answer(ctx, deferred.asker, engine::txn_ok(&deferred.execution));
    }

    fn answer(&mut self, ctx: &mut Ctx, asker: Asker, answer: Payload) {
        match asker {
            Asker::Client(request) => ctx.reply(&request, &answer),
            Asker::Forward {
                msg,
                incarnation,
                key,
            } => {
                ctx.reply(
                    &msg,
                    &Peer::ForwardTxnOk {
                        incarnation,
                        answer: answer.clone(),
                    },
                );
                self.answers.answered(&key, answer);
            }
        }
    }

    /// A forward arrived at `n0`: run it, or answer a copy with the answer already given.
    fn on_forward(&mut self, ctx: &mut Ctx, msg: Message, txn: Vec<MicroOp>, incarnation: u64) {
        let key = ForwardAnswers::key(&msg, incarnation);
        match self.answers.seen(&key) {
            Seen::Answered(answer) => {
                ctx.reply(
                    &msg,
                    &Peer::ForwardTxnOk {
                        incarnation,
                        answer,
                    },
                );
                return;
            }
            Seen::Running => return,
            Seen::New => self.answers.begin(key.clone()),
        }
        self.serve(
            ctx,
            &txn,
            Asker::Forward {
                msg,
                incarnation,
                key,
            },
        );
    }
}

impl Node for SingleCopy {
    fn on_init(&mut self, ctx: &mut Ctx) {
        for ops in ctx.take_recovered().decode::<Vec<MicroOp>>(APPLIED) {
            for op in &ops {
                // Only ops that applied were logged; replaying them in order rebuilds the store.
                let _ = self.store.apply(op);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Some(reply_to) = msg.body.in_reply_to {
            let answer = match msg.body.parse_custom::<Peer>() {
                Ok(Peer::ForwardTxnOk {
                    incarnation,
                    answer,
                }) => Some((incarnation, answer)),
                _ => None,
            };
            self.forwarded.on_reply(
                ctx,
                &msg,
                reply_to,
                answer,
                "n0, which holds the store,",
                "the transaction",
            );
            return;
        }
        if let Payload::Txn { txn } = &msg.body.payload {
            let holder = Self::holder(ctx);
            if ctx.id() == holder {
                let txn = txn.clone();
                self.serve(ctx, &txn, Asker::Client(msg));
            } else {
                let is_read = txn.iter().all(|op| op.f() == engine::READ);
                let forward = Peer::ForwardTxn {
                    txn: txn.clone(),
                    incarnation: ctx.incarnation(),
                };
                self.forwarded.forward(ctx, &holder, &forward, msg, is_read);
            }
            return;
        }
        match msg.body.parse_custom::<Peer>() {
            Ok(Peer::ForwardTxn { txn, incarnation }) => {
                self.on_forward(ctx, msg, txn, incarnation);
            }
            Ok(Peer::ForwardTxnOk { .. }) => {}
            Err(_) => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if let Some(deferred) = self.deferred.remove(&timer) {
            self.apply_deferred(ctx, deferred);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::script::Script;

    fn txn(msg_id: u64, ops: Value) -> Value {
        json!({"type": "txn", "msg_id": msg_id, "txn": ops})
    }

    #[test]
    fn the_holder_runs_transactions_one_at_a_time_and_reads_its_own_writes() {
        let mut s = Script::start(SingleCopy::default(), 1, &["n0"], "none");
        s.expect("c0", "init_ok");
        s.deliver("c1", txn(1, json!([["append", 1, 6], ["w", 2, 9]])));
        s.expect("c1", "txn_ok");
        s.deliver(
            "c2",
            txn(2, json!([["r", 1, null], ["r", 2, null], ["r", 3, null]])),
        );
        let reply = s.expect("c2", "txn_ok");
        assert_eq!(
            reply.body.payload,
            Payload::TxnOk {
                txn: serde_json::from_value(json!([["r", 1, [6]], ["r", 2, 9], ["r", 3, null]]))
                    .unwrap()
            }
        );
    }

    #[test]
    fn a_copy_of_a_forward_runs_once_and_gets_the_same_answer() {
        let mut s = Script::start(SingleCopy::default(), 1, &["n0", "n1"], "none");
        s.expect("c0", "init_ok");
        let forward = json!({"type": "forward_txn", "msg_id": 4, "incarnation": 1,
                             "txn": [["append", 1, 6], ["r", 1, null]]});
        s.deliver("n1", forward.clone());
        let first = s.expect("n1", "forward_txn_ok");
        s.deliver("n1", forward);
        let second = s.expect("n1", "forward_txn_ok");
        assert_eq!(first.body.payload, second.body.payload);
        assert_eq!(s.rt.node().store().get(&json!(1)), Some(&json!([6])));
    }

    #[test]
    fn a_restarted_holder_replays_its_committed_writes() {
        let mut c =
            crate::sim::Cluster::new(1, 3, Duration::from_millis(5), |_| SingleCopy::default());
        let t = json!({"type": "txn", "txn": [["append", 1, 6], ["w", 2, 9], ["append", 1, 7]]});
        c.request("c1", "n0", &t);
        c.crash("n0");
        c.restart("n0");
        let n0 = c.node("n0").unwrap();
        assert_eq!(n0.store().get(&json!(1)), Some(&json!([6, 7])));
        assert_eq!(n0.store().get(&json!(2)), Some(&json!(9)));
    }
}

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
//! [`FORWARD_TIMEOUT`] is answered with error 11 (temporarily unavailable, definite) when the
//! transaction only reads, and error 0 (timeout, indefinite) when it writes: `n0` may still
//! run it, so claiming it did not happen could be false. Unavailable, never wrong.
//!
//! **Crash.** `n0` appends the write micro-ops of every transaction it commits to its stable
//! log `applied` before it answers, and replays them at start; so a restarted `n0` serves the
//! store it had. A wipe of `n0`'s disk loses the store: it is the only copy.
//!
//! **Duplicates.** A forward delivered twice runs once: `n0` remembers the answers to the last
//! [`ANSWERS_KEPT`] forwards by origin, its incarnation and msg_id (an `append` run twice
//! would put an element in a list twice).
//!
//! The same node, with one thing changed at `n0` ([`Commit`]), is two planted bugs:
//! [`crate::txn::aborted_reads`] and [`crate::txn::lost_updates`].
//!
//! Cost: 0 messages per transaction at `n0`, 2 (forward and answer) elsewhere.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use proto::{ErrorCode, Message, MicroOp, Payload};
use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::node::{Node, TimerId};
use crate::txn::engine::{self, Execution, Store};

/// How many answers to forwards `n0` remembers.
pub const ANSWERS_KEPT: usize = 65_536;

/// How long a node waits for `n0`'s answer to a forwarded transaction.
pub const FORWARD_TIMEOUT: Duration = Duration::from_millis(2000);

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

/// A forward's identity: origin, its incarnation, the forward's msg_id.
type ForwardKey = (String, u64, u64);

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

/// A client request this node forwarded to `n0`.
#[derive(Debug)]
struct Forwarded {
    request: Message,
    is_read: bool,
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
    forwarded: BTreeMap<u64, Forwarded>,
    /// Answers to forwards (None: not answered yet), oldest first in `answer_order`.
    answers: BTreeMap<ForwardKey, Option<Payload>>,
    answer_order: VecDeque<ForwardKey>,
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
            forwarded: BTreeMap::new(),
            answers: BTreeMap::new(),
            answer_order: VecDeque::new(),
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
                if let Some(slot) = self.answers.get_mut(&key) {
                    *slot = Some(answer);
                }
            }
        }
    }

    /// A forward arrived at `n0`: run it, or answer a copy with the answer already given.
    fn on_forward(&mut self, ctx: &mut Ctx, msg: Message, txn: Vec<MicroOp>, incarnation: u64) {
        let key = (
            msg.src.clone(),
            incarnation,
            msg.body.msg_id.unwrap_or_default(),
        );
        match self.answers.get(&key) {
            Some(Some(answer)) => {
                let answer = answer.clone();
                ctx.reply(
                    &msg,
                    &Peer::ForwardTxnOk {
                        incarnation,
                        answer,
                    },
                );
                return;
            }
            // A copy of a forward still running: its answer will come.
            Some(None) => return,
            None => {}
        }
        self.answers.insert(key.clone(), None);
        self.answer_order.push_back(key.clone());
        if self.answer_order.len() > ANSWERS_KEPT
            && let Some(oldest) = self.answer_order.pop_front()
        {
            self.answers.remove(&oldest);
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

    /// `n0` answered a forward (or it timed out): relay the answer to the client.
    fn on_forward_answer(&mut self, ctx: &mut Ctx, msg: &Message, reply_to: u64) {
        let Some(forwarded) = self.forwarded.remove(&reply_to) else {
            return;
        };
        let answer = match msg.body.parse_custom::<Peer>() {
            Ok(Peer::ForwardTxnOk {
                incarnation,
                answer,
            }) => {
                if incarnation != ctx.incarnation() {
                    // An answer to a forward of this node's previous incarnation.
                    self.forwarded.insert(reply_to, forwarded);
                    return;
                }
                answer
            }
            _ => match msg.body.error_code() {
                Some(ErrorCode::Timeout) if forwarded.is_read => Payload::error(
                    ErrorCode::TemporarilyUnavailable,
                    "n0, which holds the store, did not answer in time",
                ),
                Some(ErrorCode::Timeout) => Payload::error(
                    ErrorCode::Timeout,
                    "n0, which holds the store, did not answer in time; the transaction may \
                     still happen",
                ),
                _ => msg.body.payload.clone(),
            },
        };
        ctx.reply(&forwarded.request, &answer);
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
            self.on_forward_answer(ctx, &msg, reply_to);
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
                let id = ctx.rpc(&holder, &forward, FORWARD_TIMEOUT);
                self.forwarded.insert(
                    id,
                    Forwarded {
                        request: msg,
                        is_read,
                    },
                );
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

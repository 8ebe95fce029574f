//! `kafka-replicated`: Kafka-style logs by state-machine replication over total-order broadcast
//! (the course's "replication using broadcast", 5.3, on the Lamport-timestamp total order of
//! 4.2), without any service.
//!
//! **Algorithm.** Every `send`, `commit_offsets` and `list_committed_offsets` is submitted to
//! [`TotalOrder`] (the machinery of `broadcast-total-lamport`, as `lin-kv-tob` uses it). Every
//! node applies the deliveries in the total order to its own copy of [`Logs`] (the machinery
//! of [`crate::replication::Replica`], shared with `lin-kv-tob`): a send appends
//! its message to its key's log, and its offset is the message's place there. The node the
//! client asked answers when it applies *that* command, with what its copy said. A `poll` is
//! answered at once from the local copy.
//!
//! **Guarantee.** Every copy applies the same commands in the same order, so every node gives
//! each message the same offset, and a local copy is always a prefix of every log: a poll may
//! lag (Kafka promises no recency) but never shows a message at another offset, never skips
//! one, and never goes back. A send is acknowledged only once it is in the order, so nothing
//! acknowledged is lost. Committed offsets only grow ([`Logs::commit`] keeps the highest), and
//! a `list_committed_offsets` goes through the order, so it sees every commit acknowledged
//! before it began: committed offsets never go back.
//!
//! **When it acknowledges.** A send, when this node applies it (its place in the total order
//! is final). A poll, at once.
//!
//! **Topology.** Ignored: the total order talks to every node.
//!
//! **Cost.** Each send, commit and list is one total-order broadcast (entries and the ticks
//! that let them be delivered, shared under load); polls cost nothing.
//!
//! **Partition.** The Lamport order needs a higher timestamp from every node, so a partition
//! stalls every send, commit and list until it heals: a send not applied within the timeout
//! (`--timeout-ms`, default [`crate::kv::tob::DEFAULT_TIMEOUT`]) is answered with error 0
//! (indefinite: it is in the order and takes effect after the heal), a list with error 11.
//! Polls go on from the local copy. After the heal everything is applied everywhere.
//!
//! **Crash.** The total order keeps every delivery on stable storage before it is applied; a
//! restarted node replays them and rebuilds its logs before it serves (until then it answers
//! error 11).

use std::collections::BTreeMap;

use proto::{ErrorCode, Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::kafka::Logs;
use crate::kv::tob::TobKvConfig;
use crate::node::{Node, TimerId};
use crate::replication::{Replica, StateMachine};

/// What changes or reads the committed state, as it travels through the total order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KafkaOp {
    Send { key: String, msg: Value },
    Commit { offsets: BTreeMap<String, u64> },
    List { keys: Vec<String> },
}

/// The logs are the replicated state machine; a list of committed offsets changes nothing.
impl StateMachine for Logs {
    type Op = KafkaOp;

    fn apply(&mut self, op: &KafkaOp) -> Payload {
        match op {
            KafkaOp::Send { key, msg } => Payload::SendOk {
                offset: self.append(key, msg.clone()),
            },
            KafkaOp::Commit { offsets } => {
                self.commit(offsets);
                Payload::CommitOffsetsOk
            }
            KafkaOp::List { keys } => Payload::ListCommittedOffsetsOk {
                offsets: self.committed(keys),
            },
        }
    }

    fn is_read(op: &KafkaOp) -> bool {
        matches!(op, KafkaOp::List { .. })
    }
}

/// The node.
#[derive(Debug)]
pub struct Replicated {
    replica: Replica<Logs>,
}

impl Replicated {
    /// A node with the given settings (`lin-kv-tob`'s flags).
    pub fn new(config: TobKvConfig) -> Self {
        Replicated {
            replica: Replica::new(config),
        }
    }

    /// This node's copy of the logs.
    pub fn logs(&self) -> &Logs {
        self.replica.machine()
    }
}

impl Default for Replicated {
    fn default() -> Self {
        Replicated::new(TobKvConfig::default())
    }
}

impl Node for Replicated {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.replica.start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if self.replica.receive(ctx, &msg) {
            return;
        }
        if msg.body.msg_id.is_none() || msg.body.in_reply_to.is_some() {
            ctx.not_supported(&msg);
            return;
        }
        let op = match &msg.body.payload {
            Payload::Poll { .. } => {
                if !self.replica.readable() {
                    ctx.reply_error(
                        &msg,
                        ErrorCode::TemporarilyUnavailable,
                        "recovering after a start: not serving yet",
                    );
                } else if let Some(answer) = self.replica.machine_mut().answer(&msg.body.payload) {
                    ctx.reply(&msg, &answer);
                }
                return;
            }
            Payload::Send { key, msg: m } => KafkaOp::Send {
                key: key.clone(),
                msg: m.clone(),
            },
            Payload::CommitOffsets { offsets } => KafkaOp::Commit {
                offsets: offsets.clone(),
            },
            Payload::ListCommittedOffsets { keys } => KafkaOp::List { keys: keys.clone() },
            _ => {
                ctx.not_supported(&msg);
                return;
            }
        };
        self.replica.submit(ctx, msg, op);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.replica.on_timer(ctx, timer);
    }
}

//! `kafka-replicated`: Kafka-style logs by state-machine replication over total-order broadcast
//! (the course's "replication using broadcast", 5.3, on the Lamport-timestamp total order of
//! 4.2), without any service.
//!
//! **Algorithm.** Every `send`, `commit_offsets` and `list_committed_offsets` is submitted to
//! [`TotalOrder`] (the machinery of `broadcast-total-lamport`, as `lin-kv-tob` uses it). Every
//! node applies the deliveries in the total order to its own copy of [`Logs`]: a send appends
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

use crate::broadcast::total_lamport::TotalOrder;
use crate::ctx::Ctx;
use crate::kafka::Logs;
use crate::kv::tob::TobKvConfig;
use crate::node::{Node, TimerId};

/// What changes or reads the committed state, as it travels through the total order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KafkaOp {
    Send { key: String, msg: Value },
    Commit { offsets: BTreeMap<String, u64> },
    List { keys: Vec<String> },
}

/// A command of the total order, tagged so the submitting node recognises its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub op: KafkaOp,
    pub inc: u64,
    pub seq: u64,
}

/// A client request waiting for its command to be applied here.
#[derive(Debug)]
struct Waiting {
    request: Message,
    seq: u64,
    is_list: bool,
    timer: TimerId,
}

/// The node.
#[derive(Debug)]
pub struct Replicated {
    config: TobKvConfig,
    order: TotalOrder<Command>,
    logs: Logs,
    waiting: BTreeMap<u64, Waiting>,
    deadlines: BTreeMap<TimerId, u64>,
    next_seq: u64,
}

impl Replicated {
    /// A node with the given settings (`lin-kv-tob`'s flags).
    pub fn new(config: TobKvConfig) -> Self {
        Replicated {
            config,
            order: TotalOrder::new(config.order),
            logs: Logs::default(),
            waiting: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// This node's copy of the logs.
    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    fn submit(&mut self, ctx: &mut Ctx, request: Message, op: KafkaOp) {
        let is_list = matches!(op, KafkaOp::List { .. });
        let seq = self.next_seq;
        let command = Command {
            op,
            inc: ctx.incarnation(),
            seq,
        };
        match self.order.submit(ctx, command) {
            None => ctx.reply_error(
                &request,
                ErrorCode::TemporarilyUnavailable,
                "recovering after a start: not serving yet",
            ),
            Some(pos) => {
                self.next_seq += 1;
                let timer = ctx.set_timer(self.config.timeout);
                self.deadlines.insert(timer, pos);
                self.waiting.insert(
                    pos,
                    Waiting {
                        request,
                        seq,
                        is_list,
                        timer,
                    },
                );
            }
        }
    }

    /// Apply what the total order delivered, in order, and answer the requests among it.
    fn settle(&mut self, ctx: &mut Ctx) {
        self.order.take_stable();
        for delivery in self.order.take_delivered() {
            let answer = match &delivery.payload.op {
                KafkaOp::Send { key, msg } => Payload::SendOk {
                    offset: self.logs.append(key, msg.clone()),
                },
                KafkaOp::Commit { offsets } => {
                    self.logs.commit(offsets);
                    Payload::CommitOffsetsOk
                }
                KafkaOp::List { keys } => Payload::ListCommittedOffsetsOk {
                    offsets: self.logs.committed(keys),
                },
            };
            let mine = delivery.origin == ctx.id()
                && delivery.payload.inc == ctx.incarnation()
                && self
                    .waiting
                    .get(&delivery.pos)
                    .is_some_and(|w| w.seq == delivery.payload.seq);
            if mine && let Some(waiting) = self.waiting.remove(&delivery.pos) {
                self.deadlines.remove(&waiting.timer);
                ctx.cancel_timer(waiting.timer);
                ctx.reply(&waiting.request, &answer);
            }
        }
    }

    fn time_out(&mut self, ctx: &mut Ctx, pos: u64) {
        let Some(waiting) = self.waiting.remove(&pos) else {
            return;
        };
        let ms = self.config.timeout.as_millis();
        if waiting.is_list {
            ctx.reply_error(
                &waiting.request,
                ErrorCode::TemporarilyUnavailable,
                format!("not ordered within {ms} ms (the total order is stalled)"),
            );
        } else {
            ctx.reply_error(
                &waiting.request,
                ErrorCode::Timeout,
                format!(
                    "not applied within {ms} ms (the total order is stalled); it may still take effect"
                ),
            );
        }
    }
}

impl Default for Replicated {
    fn default() -> Self {
        Replicated::new(TobKvConfig::default())
    }
}

impl Node for Replicated {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.order.start(ctx);
        self.settle(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if self.order.receive(ctx, &msg) {
            self.settle(ctx);
            return;
        }
        if msg.body.msg_id.is_none() || msg.body.in_reply_to.is_some() {
            ctx.not_supported(&msg);
            return;
        }
        let op = match &msg.body.payload {
            Payload::Poll { .. } => {
                if !self.order.is_readable() {
                    ctx.reply_error(
                        &msg,
                        ErrorCode::TemporarilyUnavailable,
                        "recovering after a start: not serving yet",
                    );
                } else if let Some(answer) = self.logs.answer(&msg.body.payload) {
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
        self.submit(ctx, msg, op);
        self.settle(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if let Some(pos) = self.deadlines.remove(&timer) {
            self.time_out(ctx, pos);
            return;
        }
        self.order.on_timer(ctx, timer);
        self.settle(ctx);
    }
}

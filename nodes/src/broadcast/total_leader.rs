//! `broadcast-total-leader`: total order broadcast through a single leader (the course's
//! "total order broadcast": the single-leader approach).
//!
//! **Algorithm.** The leader is `n0` (the first node `init` lists). A node that receives a
//! broadcast from a client forwards it to the leader; the leader appends it to its log, which
//! assigns it the next sequence number, and sends the log to every node. Every node delivers
//! the leader's log in sequence-number order, holding back a message whose predecessors have
//! not all arrived.
//!
//! **Guarantee.** Total order: all nodes deliver the same messages in the same order (each
//! node's delivered sequence is a prefix of the leader's log), even across restarts of any
//! node, the leader included.
//!
//! **Crash tolerance.** The leader's log travels through the quorum layer, and deliveries are
//! kept on stable storage ([`crate::broadcast::ordered`]): a sequence number is delivered only
//! once a majority holds it, and the leader persists each entry before it sends it, so a
//! restarted leader continues its log after every sequence number it ever gave out (from its
//! disk, or, after a wipe, from a majority: then a number it gives out again was never
//! delivered with another message). The forwarding node re-forwards until the message appears
//! in the log; the leader ignores a message already in its log.
//!
//! **When `broadcast_ok` is sent.** When the forwarding node sees the message's sequence number
//! held by a majority: then its place in the order is fixed for good.
//!
//! **Topology.** Ignored: a star around the leader for forwarding, every node to every other
//! for replication.
//!
//! **Cost per broadcast**, with n nodes: one forward, then about 3(n-1) messages to replicate the
//! leader's entry (copies, acknowledgements, announcement); under load the leader's batches carry
//! several entries and announcements at once. Measured in the simulator (25 nodes, latency uniform
//! in [0, 200] ms, 100 operations per second for 20 s, half of them reads;
//! `tests/it/broadcast/cost.rs`): about 19 messages per client operation, stable latency p50 520
//! ms, max 675 ms.
//!
//! **Partition.** Nodes on the leader's side, if it is a majority, keep delivering. Everyone
//! else stops delivering and their clients time out, until the partition heals.
//!
//! **Crash.** If the leader crashes, *nothing is delivered anywhere* until it restarts and
//! recovers: a single leader is a single point of failure. Nodes never deliver out of order
//! while stalled; they just wait. Other crashes stop nothing while a majority is up. What is
//! persisted: the quorum layer's entries and announcements, and every delivery; a restarted
//! node replays its deliveries and serves reads at once. No kill pattern loses an acknowledged
//! message or changes the order.
//!
//! **Wipe.** A wiped node, the leader included, recovers the log from a majority before it
//! serves; a wipe of a minority loses nothing acknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::ordered::{Order, Ordered};
use crate::broadcast::quorum::{QuorumConfig, Watermark};
use crate::broadcast::service::Algorithm;
use crate::broadcast::values::{MessageId, Minter};
use crate::ctx::Ctx;
use crate::node::TimerId;

/// An entry of the leader's log: the message given this sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequenced {
    pub id: MessageId,
    pub value: Value,
}

/// Total order by the leader's sequence numbers.
#[derive(Debug, Clone, Default)]
pub struct LeaderOrder {
    leader: String,
    /// The next sequence number to deliver.
    next: u64,
}

impl Order for LeaderOrder {
    type Entry = Sequenced;
    /// The leader's sequence number.
    type Key = u64;
    const WATERMARK: Watermark = Watermark::Stable;
    const FIRST_ONLY: bool = true;

    /// Only the leader's log is delivered; other nodes append nothing.
    fn hold(&mut self, origin: &str, pos: u64, _: &Sequenced) -> Option<u64> {
        (origin == self.leader).then_some(pos)
    }

    /// Every smaller sequence number has been delivered.
    fn deliverable(&self, seq: &u64, _: &Sequenced) -> bool {
        *seq == self.next
    }

    fn deliver(&mut self, seq: &u64, _: &Sequenced) {
        self.next = seq + 1;
    }
}

/// "Please put this message in the log."
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToLeader {
    Forward { id: MessageId, value: Value },
}

/// A client's message, not yet seen in the log.
#[derive(Debug, Clone)]
struct Forwarded {
    request: Message,
    value: Value,
    sent_at: Duration,
}

/// The total-order-by-leader node.
#[derive(Debug)]
pub struct TotalLeader {
    ordered: Ordered<LeaderOrder>,
    /// How long to wait for a forwarded message to appear in the log before sending it again.
    forward_retry: Duration,
    delivered: Delivered,
    minter: Minter,
    /// At the leader, once ready: every message id in its log.
    sequenced: Option<BTreeSet<MessageId>>,
    waiting: BTreeMap<MessageId, Forwarded>,
    retry_timer: Option<TimerId>,
}

impl TotalLeader {
    /// A node with the given quorum settings.
    pub fn new(config: QuorumConfig) -> Self {
        TotalLeader {
            ordered: Ordered::new(LeaderOrder::default(), config),
            forward_retry: Duration::from_millis(1000),
            delivered: Delivered::new(),
            minter: Minter::default(),
            sequenced: None,
            waiting: BTreeMap::new(),
            retry_timer: None,
        }
    }

    /// The leader's id.
    pub fn leader(&self) -> &str {
        &self.ordered.order().leader
    }

    /// How many sequence numbers are held back.
    pub fn held_back(&self) -> usize {
        self.ordered.held_back()
    }

    fn is_leader(&self, ctx: &Ctx) -> bool {
        ctx.id() == self.leader()
    }

    /// At the leader: give `id` the next sequence number, unless it has one.
    fn sequence(&mut self, ctx: &mut Ctx, id: MessageId, value: Value) {
        if !self.ordered.is_ready() {
            return;
        }
        // The log as recovered: never sequence these again.
        let ordered = &self.ordered;
        let sequenced = self
            .sequenced
            .get_or_insert_with(|| ordered.own_entries().map(|(_, s)| s.id.clone()).collect());
        if sequenced.insert(id.clone()) {
            self.ordered.append(ctx, Sequenced { id, value });
        }
    }

    fn forward(&mut self, ctx: &mut Ctx, id: &MessageId) {
        let Some(waiting) = self.waiting.get_mut(id) else {
            return;
        };
        waiting.sent_at = ctx.now();
        let value = waiting.value.clone();
        if self.is_leader(ctx) {
            self.sequence(ctx, id.clone(), value);
        } else {
            let leader = self.leader().to_owned();
            ctx.send(
                &leader,
                &ToLeader::Forward {
                    id: id.clone(),
                    value,
                },
            );
        }
    }

    fn arm_retry(&mut self, ctx: &mut Ctx) {
        if !self.waiting.is_empty() && self.retry_timer.is_none() {
            self.retry_timer = Some(ctx.set_timer(self.forward_retry));
        }
    }

    /// Acknowledge the forwarded messages whose place in the log is now fixed; show what was
    /// delivered.
    fn settle(&mut self, ctx: &mut Ctx) {
        for placed in self.ordered.take_safe() {
            if placed.origin == self.leader()
                && let Some(waiting) = self.waiting.remove(&placed.entry.id)
            {
                ctx.reply(&waiting.request, &Payload::BroadcastOk);
            }
        }
        for placed in self.ordered.take_delivered() {
            self.delivered.deliver(ctx.now(), placed.entry.value);
        }
    }
}

impl Default for TotalLeader {
    fn default() -> Self {
        TotalLeader::new(QuorumConfig::new(Watermark::Stable))
    }
}

impl Algorithm for TotalLeader {
    fn start(&mut self, ctx: &mut Ctx) {
        self.ordered.order_mut().leader = ctx.node_ids().first().cloned().unwrap_or_default();
        self.minter = Minter::new(ctx.id(), ctx.incarnation());
        self.ordered.start(ctx);
        self.settle(ctx);
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        let id = self.minter.mint();
        self.waiting.insert(
            id.clone(),
            Forwarded {
                request,
                value,
                sent_at: ctx.now(),
            },
        );
        self.forward(ctx, &id);
        self.arm_retry(ctx);
        self.settle(ctx);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        if !self.ordered.receive(ctx, &msg) {
            if msg.body.kind() == "forward" {
                match msg.body.parse_custom::<ToLeader>() {
                    Ok(ToLeader::Forward { id, value }) if self.is_leader(ctx) => {
                        self.sequence(ctx, id, value)
                    }
                    Ok(_) => ctx.log(format!(
                        "not the leader; dropping a forward from {}",
                        msg.src
                    )),
                    Err(err) => ctx.log(format!(
                        "ignoring a malformed forward from {}: {err}",
                        msg.src
                    )),
                }
            } else {
                ctx.not_supported(&msg);
            }
        }
        self.settle(ctx);
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.retry_timer == Some(timer) {
            self.retry_timer = None;
            let now = ctx.now();
            let due: Vec<MessageId> = self
                .waiting
                .iter()
                .filter(|(_, w)| w.sent_at + self.forward_retry <= now)
                .map(|(id, _)| id.clone())
                .collect();
            for id in due {
                self.forward(ctx, &id);
            }
            self.arm_retry(ctx);
        } else {
            self.ordered.on_timer(ctx, timer);
        }
        self.settle(ctx);
    }

    fn delivered(&self) -> &Delivered {
        &self.delivered
    }

    fn serving(&self) -> bool {
        self.ordered.is_ready()
    }

    fn readable(&self) -> bool {
        self.ordered.is_readable()
    }
}

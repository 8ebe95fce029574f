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
//! **Crash tolerance.** The leader's log travels through the quorum layer
//! ([`crate::broadcast::quorum`]): a sequence number is delivered only once a majority holds
//! it, so a restarted leader, reading a majority, continues its log after every sequence
//! number anyone delivered, and a number it gives out again was never delivered with another
//! message. The forwarding node re-forwards until the message appears in the log; the leader
//! ignores a message already in its log.
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
//! while stalled; they just wait. Other crashes stop nothing while a majority is up.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::holdback::HoldBack;
use crate::broadcast::quorum::{Event, Quorum, QuorumConfig, Watermark};
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
    quorum: Quorum<Sequenced>,
    /// How long to wait for a forwarded message to appear in the log before sending it again.
    forward_retry: Duration,
    leader: String,
    /// The leader's entries by sequence number, waiting for their predecessors.
    holdback: HoldBack<u64, Sequenced>,
    /// The next sequence number to deliver.
    next: u64,
    delivered: Delivered,
    minter: Minter,
    /// At the leader: every message id in its log.
    sequenced: BTreeSet<MessageId>,
    waiting: BTreeMap<MessageId, Forwarded>,
    retry_timer: Option<TimerId>,
}

impl TotalLeader {
    /// A node with the given quorum settings (watermark `Stable`).
    pub fn new(config: QuorumConfig) -> Self {
        TotalLeader {
            quorum: Quorum::new(QuorumConfig {
                watermark: Watermark::Stable,
                ..config
            }),
            forward_retry: Duration::from_millis(1000),
            leader: String::new(),
            holdback: HoldBack::new(),
            next: 0,
            delivered: Delivered::new(),
            minter: Minter::default(),
            sequenced: BTreeSet::new(),
            waiting: BTreeMap::new(),
            retry_timer: None,
        }
    }

    /// The leader's id.
    pub fn leader(&self) -> &str {
        &self.leader
    }

    /// How many sequence numbers are held back.
    pub fn held_back(&self) -> usize {
        self.holdback.len()
    }

    fn is_leader(&self, ctx: &Ctx) -> bool {
        ctx.id() == self.leader
    }

    /// At the leader: give `id` the next sequence number, unless it has one.
    fn sequence(&mut self, ctx: &mut Ctx, id: MessageId, value: Value) {
        if self.quorum.is_ready() && !self.sequenced.contains(&id) {
            self.sequenced.insert(id.clone());
            self.quorum.append(ctx, Sequenced { id, value });
        }
    }

    fn forward(&mut self, ctx: &mut Ctx, id: &MessageId) {
        let Some(waiting) = self.waiting.get_mut(id) else {
            return;
        };
        waiting.sent_at = ctx.now();
        let value = waiting.value.clone();
        if ctx.id() == self.leader {
            self.sequence(ctx, id.clone(), value);
        } else {
            let leader = self.leader.clone();
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

    fn drain(&mut self, ctx: &mut Ctx) {
        for event in self.quorum.take_events() {
            match event {
                Event::Ready if self.is_leader(ctx) => {
                    // The recovered log: never sequence these again.
                    self.sequenced = self
                        .quorum
                        .own_entries()
                        .map(|(_, s)| s.id.clone())
                        .collect();
                }
                Event::Deliverable { origin, pos, body } if origin == self.leader => {
                    if let Some(waiting) = self.waiting.remove(&body.id) {
                        ctx.reply(&waiting.request, &Payload::BroadcastOk);
                    }
                    self.holdback.hold(pos, body);
                }
                _ => {}
            }
        }
        // Deliver in sequence-number order.
        while let Some((seq, entry)) = self.holdback.release_first(|seq, _| *seq == self.next) {
            self.next = seq + 1;
            self.delivered.deliver(ctx.now(), entry.value);
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
        self.leader = ctx.node_ids().first().cloned().unwrap_or_default();
        self.minter = Minter::new(ctx.id(), ctx.incarnation());
        self.quorum.start(ctx);
        self.drain(ctx);
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
        self.drain(ctx);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        if !self.quorum.receive(ctx, &msg) {
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
        self.drain(ctx);
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
            self.quorum.on_timer(ctx, timer);
        }
        self.drain(ctx);
    }

    fn delivered(&self) -> &Delivered {
        &self.delivered
    }

    fn serving(&self) -> bool {
        self.quorum.is_ready()
    }
}

//! `broadcast-total-lamport`: total order broadcast by Lamport timestamps (the course's "total
//! order broadcast" without a leader, and "Lamport clocks").
//!
//! **Algorithm.** Every message carries a Lamport timestamp `t` from its origin's clock, and
//! the total order is by `(t, origin)`. Each origin's messages reach every node in the order
//! sent (per-origin FIFO). A node delivers the smallest message it holds once it has seen a
//! higher timestamp from every other node: FIFO links then guarantee that nothing smaller can
//! still arrive. Nodes that have nothing to broadcast send empty *ticks* (a timestamp and no
//! value) so that others hear from them: a node ticks, at most once per `--tick-ms`, whenever
//! it has received a message stamped at or after its own last timestamp.
//!
//! **Guarantee.** Total order: all nodes deliver the same messages in the same order (each
//! node's sequence is a prefix of the order by `(t, origin)`), across restarts too.
//!
//! **Crash tolerance.** Messages and ticks go through the quorum layer
//! ([`crate::broadcast::quorum`]); a node counts a timestamp as "seen" only once a majority
//! holds it. A restarted node reads a majority and observes every timestamp there before it
//! issues any, so its new timestamps exceed every one that anyone has acted on: it never issues
//! a timestamp below one it issued before and that counted.
//!
//! **When `broadcast_ok` is sent.** When a majority holds the message: its timestamp, hence
//! its place in the order, is then fixed and cannot be lost to a minority of crashes.
//!
//! **Topology.** Ignored: every node sends to every other.
//!
//! **Cost per broadcast**, with n nodes: about 3(n-1) messages for the message itself, and as much
//! again for each node's tick in reply, so about 3n(n-1) at low load; under load one tick per node
//! per `--tick-ms` answers many messages. Measured in the simulator (25 nodes, latency uniform in
//! [0, 200] ms, 100 operations per second for 20 s, half of them reads;
//! `tests/it/broadcast/cost.rs`): about 73 messages per client operation, stable latency p50 705
//! ms, max 830 ms (the most expensive broadcast here: everyone must hear from everyone).
//!
//! **Partition and crash.** Every node must hear from *every* other node, so a partition of
//! any shape, or the crash of any single node, *stops delivery everywhere* until it heals or
//! the node restarts. Nodes never deliver out of order while stalled: they wait. Broadcasts
//! still get acknowledged on a majority side, and are delivered once the cluster is whole.
//!
//! [`TotalOrder`] is the ordering machinery as a library type, so that other nodes (a
//! replicated key-value store) can run their operations through it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use proto::{Message, Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::holdback::HoldBack;
use crate::broadcast::quorum::{Event, Quorum, QuorumConfig, Watermark};
use crate::broadcast::service::Algorithm;
use crate::clock::LamportClock;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// A timestamped entry: a payload, or a tick when `payload` is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>"))]
pub struct Stamped<P> {
    pub ts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<P>,
}

/// A payload delivered in total order.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<P> {
    /// The node that submitted it.
    pub origin: String,
    /// Its position in the origin's log (what [`TotalOrder::submit`] returned there).
    pub pos: u64,
    /// Its Lamport timestamp.
    pub ts: u64,
    pub payload: P,
}

/// Settings of [`TotalOrder`].
#[derive(Debug, Clone, Copy)]
pub struct TotalOrderConfig {
    pub quorum: QuorumConfig,
    /// At most one tick per this long.
    pub tick: Duration,
}

impl Default for TotalOrderConfig {
    /// Links batching every 50 ms and a tick at most every 100 ms: every node ticks about that
    /// often under load, and each tick is replicated like a message, so these bound the cost
    /// (on 25 nodes at 100 operations per second, about 70 messages per operation).
    fn default() -> Self {
        TotalOrderConfig {
            quorum: QuorumConfig::new(Watermark::Stable).with_interval(Duration::from_millis(50)),
            tick: Duration::from_millis(100),
        }
    }
}

/// Total order broadcast by Lamport timestamps, as a component of a node.
///
/// Feed it the node's init, messages and timers ([`TotalOrder::start`],
/// [`TotalOrder::receive`], [`TotalOrder::on_timer`]); [`TotalOrder::submit`] a payload; take
/// what became safe ([`TotalOrder::take_stable`]) and what is delivered, in the total order
/// ([`TotalOrder::take_delivered`]). The same sequence of deliveries happens at every node.
#[derive(Debug)]
pub struct TotalOrder<P> {
    config: TotalOrderConfig,
    nodes: Vec<String>,
    quorum: Quorum<Stamped<P>>,
    clock: LamportClock,
    /// First stage: each origin's entries, in its order.
    fifo: HoldBack<(String, u64), Stamped<P>>,
    next: BTreeMap<String, u64>,
    /// The timestamp of the latest entry of each node delivered by the first stage.
    heard: BTreeMap<String, u64>,
    /// Second stage: payloads by `(timestamp, origin, position)`.
    queue: HoldBack<(u64, String, u64), P>,
    /// The timestamp of this node's latest entry.
    last_issued: u64,
    /// The highest timestamp of another node's payload received.
    newest_foreign: u64,
    tick_timer: Option<TimerId>,
    stable: Vec<u64>,
    out: Vec<Delivery<P>>,
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> TotalOrder<P> {
    /// A component with the given settings.
    pub fn new(config: TotalOrderConfig) -> Self {
        TotalOrder {
            config,
            nodes: Vec::new(),
            quorum: Quorum::new(QuorumConfig {
                watermark: Watermark::Stable,
                ..config.quorum
            }),
            clock: LamportClock::new(),
            fifo: HoldBack::new(),
            next: BTreeMap::new(),
            heard: BTreeMap::new(),
            queue: HoldBack::new(),
            last_issued: 0,
            newest_foreign: 0,
            tick_timer: None,
            stable: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The node is initialised: begin recovery.
    pub fn start(&mut self, ctx: &mut Ctx) {
        self.nodes = ctx.node_ids().to_vec();
        self.quorum.start(ctx);
        self.process(ctx);
    }

    /// True once recovery is over and payloads may be submitted.
    pub fn is_ready(&self) -> bool {
        self.quorum.is_ready()
    }

    /// Submit `payload` for total-order delivery. Returns its position in this node's log (the
    /// `pos` of its [`Delivery`] and of [`TotalOrder::take_stable`]), or `None` while
    /// recovering.
    pub fn submit(&mut self, ctx: &mut Ctx, payload: P) -> Option<u64> {
        if !self.is_ready() {
            return None;
        }
        let ts = self.clock.tick();
        let pos = self.quorum.append(
            ctx,
            Stamped {
                ts,
                payload: Some(payload),
            },
        )?;
        self.last_issued = ts;
        self.process(ctx);
        Some(pos)
    }

    /// Handle `msg` if it is this component's. Returns false for other messages.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        let mine = self.quorum.receive(ctx, msg);
        if mine {
            self.process(ctx);
        }
        mine
    }

    /// Handle a timer; returns false if it is not this component's.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        if self.tick_timer == Some(timer) {
            self.tick_timer = None;
            if self.needs_tick() {
                let ts = self.clock.tick();
                if self
                    .quorum
                    .append(ctx, Stamped { ts, payload: None })
                    .is_some()
                {
                    self.last_issued = ts;
                }
            }
        } else if !self.quorum.on_timer(ctx, timer) {
            return false;
        }
        self.process(ctx);
        true
    }

    /// Positions of this node's submissions that a majority now holds (their place in the
    /// order is final), in the order they became so.
    pub fn take_stable(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.stable)
    }

    /// Payloads delivered since the last call, in the total order.
    pub fn take_delivered(&mut self) -> Vec<Delivery<P>> {
        std::mem::take(&mut self.out)
    }

    /// The Lamport clock's current value.
    pub fn clock(&self) -> u64 {
        self.clock.time()
    }

    /// How many payloads wait for their turn in the total order.
    pub fn held_back(&self) -> usize {
        self.queue.len()
    }

    /// Others may be waiting to hear a timestamp from this node above one they hold.
    fn needs_tick(&self) -> bool {
        self.is_ready() && self.newest_foreign >= self.last_issued
    }

    fn process(&mut self, ctx: &mut Ctx) {
        let me = ctx.id().to_owned();
        for event in self.quorum.take_events() {
            match event {
                Event::Stored { origin, body, .. } => {
                    self.clock.observe(body.ts);
                    if body.payload.is_some() && origin != me {
                        self.newest_foreign = self.newest_foreign.max(body.ts);
                    }
                }
                Event::Deliverable { origin, pos, body } => {
                    if origin == me && body.payload.is_some() {
                        self.stable.push(pos);
                    }
                    self.fifo.hold((origin, pos), body);
                }
                Event::Ready => {}
            }
        }
        // Stage one: each origin's entries in its order; note the latest timestamp heard.
        while let Some(((origin, pos), entry)) = self
            .fifo
            .release(|(origin, pos), _| *pos == self.next.get(origin).copied().unwrap_or(0))
        {
            self.next.insert(origin.clone(), pos + 1);
            let heard = self.heard.entry(origin.clone()).or_insert(0);
            *heard = (*heard).max(entry.ts);
            if let Some(payload) = entry.payload {
                self.queue.hold((entry.ts, origin, pos), payload);
            }
        }
        // Stage two: the smallest payload goes once every other node has been heard above it.
        while let Some(((ts, origin, pos), payload)) =
            self.queue.release_first(|(ts, origin, _), _| {
                self.nodes
                    .iter()
                    .filter(|node| *node != origin)
                    .all(|node| self.heard.get(node).is_some_and(|heard| heard > ts))
            })
        {
            self.out.push(Delivery {
                origin,
                pos,
                ts,
                payload,
            });
        }
        if self.needs_tick() && self.tick_timer.is_none() {
            self.tick_timer = Some(ctx.set_timer(self.config.tick));
        }
    }
}

/// The `broadcast-total-lamport` node: [`TotalOrder`] carrying broadcast values.
#[derive(Debug)]
pub struct TotalLamport {
    order: TotalOrder<Value>,
    delivered: Delivered,
    waiting: BTreeMap<u64, Message>,
}

impl TotalLamport {
    /// A node with the given settings.
    pub fn new(config: TotalOrderConfig) -> Self {
        TotalLamport {
            order: TotalOrder::new(config),
            delivered: Delivered::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// The ordering component.
    pub fn order(&self) -> &TotalOrder<Value> {
        &self.order
    }

    fn settle(&mut self, ctx: &mut Ctx) {
        for pos in self.order.take_stable() {
            if let Some(request) = self.waiting.remove(&pos) {
                ctx.reply(&request, &Payload::BroadcastOk);
            }
        }
        for delivery in self.order.take_delivered() {
            self.delivered.deliver(ctx.now(), delivery.payload);
        }
    }
}

impl Default for TotalLamport {
    fn default() -> Self {
        TotalLamport::new(TotalOrderConfig::default())
    }
}

impl Algorithm for TotalLamport {
    fn start(&mut self, ctx: &mut Ctx) {
        self.order.start(ctx);
        self.settle(ctx);
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        if let Some(pos) = self.order.submit(ctx, value) {
            self.waiting.insert(pos, request);
        }
        self.settle(ctx);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        if !self.order.receive(ctx, &msg) {
            ctx.not_supported(&msg);
        }
        self.settle(ctx);
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.order.on_timer(ctx, timer);
        self.settle(ctx);
    }

    fn delivered(&self) -> &Delivered {
        &self.delivered
    }

    fn serving(&self) -> bool {
        self.order.is_ready()
    }
}

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
//! **Crash tolerance.** Messages and ticks go through the quorum layer, and deliveries are kept
//! on stable storage ([`crate::broadcast::ordered`]); a node counts a timestamp as "seen" only
//! once a majority holds it. A restarted node observes every timestamp of the log it finds on
//! its disk (or, after a wipe, reads from a majority) before it issues any, so its new
//! timestamps exceed every one that anyone has acted on: it never issues a timestamp below one
//! it issued before and that counted.
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
//! What is persisted: the quorum layer's entries (messages and ticks) and announcements, and
//! every delivery. A restarted node replays its deliveries and serves reads at once; no kill
//! pattern loses an acknowledged message or changes the order.
//!
//! **Wipe.** A wiped node recovers from a majority before it serves; a wipe of a minority loses
//! nothing acknowledged.
//!
//! [`LamportOrder`] is the order (hold-back key, deliverable predicate); [`TotalOrder`] adds the
//! clock's ticks and is the machinery as a library type, so that other nodes (a replicated
//! key-value store) can run their operations through it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::Duration;

use proto::{Message, Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::ordered::{Order, Ordered};
use crate::broadcast::quorum::{QuorumConfig, Watermark};
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

/// What this node has heard from one origin, in the origin's order.
#[derive(Debug, Clone, Default)]
struct Heard {
    /// Positions `0 .. prefix` have all arrived.
    prefix: u64,
    /// The timestamps of later positions that arrived early.
    early: BTreeMap<u64, u64>,
    /// The highest timestamp among positions `0 .. prefix`.
    ts: u64,
}

/// Total order by `(timestamp, origin)`.
#[derive(Debug, Clone)]
pub struct LamportOrder<P> {
    me: String,
    nodes: Vec<String>,
    clock: LamportClock,
    heard: BTreeMap<String, Heard>,
    /// The timestamp of this node's latest entry.
    last_issued: u64,
    /// The highest timestamp of another node's payload received.
    newest_foreign: u64,
    payload: PhantomData<P>,
}

impl<P> Default for LamportOrder<P> {
    fn default() -> Self {
        LamportOrder {
            me: String::new(),
            nodes: Vec::new(),
            clock: LamportClock::new(),
            heard: BTreeMap::new(),
            last_issued: 0,
            newest_foreign: 0,
            payload: PhantomData,
        }
    }
}

impl<P> LamportOrder<P> {
    /// Others may be waiting to hear a timestamp from this node above one they hold.
    fn needs_tick(&self) -> bool {
        self.newest_foreign >= self.last_issued
    }

    /// A new timestamp for an entry of this node.
    fn issue(&mut self) -> u64 {
        let ts = self.clock.tick();
        self.last_issued = ts;
        ts
    }
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> Order for LamportOrder<P> {
    type Entry = Stamped<P>;
    /// (timestamp, origin, position).
    type Key = (u64, String, u64);
    const WATERMARK: Watermark = Watermark::Stable;
    const FIRST_ONLY: bool = true;

    fn stored(&mut self, origin: &str, entry: &Stamped<P>) {
        self.clock.observe(entry.ts);
        if origin == self.me {
            self.last_issued = self.last_issued.max(entry.ts);
        } else if entry.payload.is_some() {
            self.newest_foreign = self.newest_foreign.max(entry.ts);
        }
    }

    /// Note what this origin has been heard at (each origin's entries count in its own
    /// order); a payload waits under its timestamp, a tick is not delivered.
    fn hold(&mut self, origin: &str, pos: u64, entry: &Stamped<P>) -> Option<Self::Key> {
        let heard = self.heard.entry(origin.to_owned()).or_default();
        if pos >= heard.prefix {
            heard.early.insert(pos, entry.ts);
            while let Some(ts) = heard.early.remove(&heard.prefix) {
                heard.prefix += 1;
                heard.ts = heard.ts.max(ts);
            }
        }
        entry
            .payload
            .as_ref()
            .map(|_| (entry.ts, origin.to_owned(), pos))
    }

    /// Every earlier entry of its origin has arrived, and every other node has been heard at a
    /// higher timestamp: with FIFO links, nothing smaller can still come.
    fn deliverable(&self, (ts, origin, pos): &Self::Key, _: &Stamped<P>) -> bool {
        self.heard.get(origin).is_some_and(|h| h.prefix > *pos)
            && self
                .nodes
                .iter()
                .filter(|node| *node != origin)
                .all(|node| self.heard.get(node).is_some_and(|h| h.ts > *ts))
    }

    fn deliver(&mut self, _: &Self::Key, _: &Stamped<P>) {}
}

/// An order that [`TotalOrder`] can run: [`LamportOrder`] itself, or an order around one
/// (whose clock and bookkeeping it reaches through this trait).
pub trait Lamport<P>: Order<Entry = Stamped<P>> + Default {
    /// The Lamport order inside.
    fn lamport(&self) -> &LamportOrder<P>;
    /// The Lamport order inside, to change it.
    fn lamport_mut(&mut self) -> &mut LamportOrder<P>;
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> Lamport<P> for LamportOrder<P> {
    fn lamport(&self) -> &LamportOrder<P> {
        self
    }

    fn lamport_mut(&mut self) -> &mut LamportOrder<P> {
        self
    }
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
/// ([`TotalOrder::take_delivered`]; at start, the deliveries replayed from stable storage). The
/// same sequence of deliveries happens at every node.
#[derive(Debug)]
pub struct TotalOrder<
    P: Clone + Debug + Serialize + DeserializeOwned,
    O: Lamport<P> = LamportOrder<P>,
> {
    config: TotalOrderConfig,
    ordered: Ordered<O>,
    tick_timer: Option<TimerId>,
    payload: PhantomData<P>,
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> TotalOrder<P> {
    /// A component with the given settings.
    pub fn new(config: TotalOrderConfig) -> Self {
        TotalOrder::with_order(config)
    }
}

impl<P: Clone + Debug + Serialize + DeserializeOwned, O: Lamport<P>> TotalOrder<P, O> {
    /// A component with the given settings, ordering by `O`.
    pub fn with_order(config: TotalOrderConfig) -> Self {
        TotalOrder {
            config,
            ordered: Ordered::new(O::default(), config.quorum),
            tick_timer: None,
            payload: PhantomData,
        }
    }

    /// The node is initialised: replay stable storage, begin recovery.
    pub fn start(&mut self, ctx: &mut Ctx) {
        let order = self.ordered.order_mut().lamport_mut();
        order.me = ctx.id().to_owned();
        order.nodes = ctx.node_ids().to_vec();
        self.ordered.start(ctx);
        self.arm_tick(ctx);
    }

    /// True once recovery is over and payloads may be submitted.
    pub fn is_ready(&self) -> bool {
        self.ordered.is_ready()
    }

    /// True when what was delivered before a restart is all delivered again.
    pub fn is_readable(&self) -> bool {
        self.ordered.is_readable()
    }

    /// Submit `payload` for total-order delivery. Returns its position in this node's log (the
    /// `pos` of its [`Delivery`] and of [`TotalOrder::take_stable`]), or `None` while
    /// recovering.
    pub fn submit(&mut self, ctx: &mut Ctx, payload: P) -> Option<u64> {
        if !self.is_ready() {
            return None;
        }
        let ts = self.ordered.order_mut().lamport_mut().issue();
        let pos = self.ordered.append(
            ctx,
            Stamped {
                ts,
                payload: Some(payload),
            },
        )?;
        self.arm_tick(ctx);
        Some(pos)
    }

    /// Handle `msg` if it is this component's. Returns false for other messages.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        let mine = self.ordered.receive(ctx, msg);
        if mine {
            self.arm_tick(ctx);
        }
        mine
    }

    /// Handle a timer; returns false if it is not this component's.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        if self.tick_timer == Some(timer) {
            self.tick_timer = None;
            if self.is_ready() && self.ordered.order().lamport().needs_tick() {
                let ts = self.ordered.order_mut().lamport_mut().issue();
                self.ordered.append(ctx, Stamped { ts, payload: None });
            }
        } else if !self.ordered.on_timer(ctx, timer) {
            return false;
        }
        self.arm_tick(ctx);
        true
    }

    /// Positions of this node's submissions that a majority now holds (their place in the
    /// order is final), in the order they became so.
    pub fn take_stable(&mut self) -> Vec<u64> {
        let me = self.ordered.order().lamport().me.clone();
        self.ordered
            .take_safe()
            .into_iter()
            .filter(|p| p.origin == me && p.entry.payload.is_some())
            .map(|p| p.pos)
            .collect()
    }

    /// Payloads delivered since the last call, in the total order.
    pub fn take_delivered(&mut self) -> Vec<Delivery<P>> {
        self.ordered
            .take_delivered()
            .into_iter()
            .filter_map(|p| {
                let ts = p.entry.ts;
                p.entry.payload.map(|payload| Delivery {
                    origin: p.origin,
                    pos: p.pos,
                    ts,
                    payload,
                })
            })
            .collect()
    }

    /// The Lamport clock's current value.
    pub fn clock(&self) -> u64 {
        self.ordered.order().lamport().clock.time()
    }

    /// How many payloads wait for their turn in the total order.
    pub fn held_back(&self) -> usize {
        self.ordered.held_back()
    }

    fn arm_tick(&mut self, ctx: &mut Ctx) {
        if self.is_ready()
            && self.ordered.order().lamport().needs_tick()
            && self.tick_timer.is_none()
        {
            self.tick_timer = Some(ctx.set_timer(self.config.tick));
        }
    }
}

/// The `broadcast-total-lamport` node: [`TotalOrder`] carrying broadcast values.
#[derive(Debug)]
pub struct TotalLamport<O: Lamport<Value> = LamportOrder<Value>> {
    order: TotalOrder<Value, O>,
    delivered: Delivered,
    waiting: BTreeMap<u64, Message>,
}

impl TotalLamport {
    /// A node with the given settings.
    pub fn new(config: TotalOrderConfig) -> Self {
        TotalLamport::with_order(config)
    }
}

impl<O: Lamport<Value>> TotalLamport<O> {
    /// A node with the given settings, ordering by `O`.
    pub fn with_order(config: TotalOrderConfig) -> Self {
        TotalLamport {
            order: TotalOrder::with_order(config),
            delivered: Delivered::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// The ordering component.
    pub fn order(&self) -> &TotalOrder<Value, O> {
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

impl<O: Lamport<Value>> Algorithm for TotalLamport<O> {
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

    fn readable(&self) -> bool {
        self.order.is_readable()
    }
}

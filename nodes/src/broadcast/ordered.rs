//! What the four ordered broadcasts share (the course's "broadcast ordering"): every one of them
//! is "send to all, hold back, deliver when allowed", and differs from the others only in
//! three things, the [`Order`]:
//!
//! - its **hold-back key**: where a received message waits, and the order in which waiting
//!   messages are tried (per origin and sequence number, or by timestamp);
//! - its **deliverable predicate**: when a waiting message may be delivered;
//! - what **delivery** changes (the next sequence number, a vector clock).
//!
//! [`Ordered`] carries the rest, the same for all four:
//!
//! - *transport*: each node's messages are entries of its own log, replicated by the quorum
//!   layer ([`crate::broadcast::quorum`]) over reliable links; an entry reaches the order only
//!   once a majority holds it, so nothing delivered can be lost to a minority of crashes;
//! - *the hold-back queue* and the loop that delivers every message the predicate allows;
//! - *durability*: the quorum layer keeps its logs on stable storage, and every delivery is
//!   appended to the stable log `delivered` in the event that makes it, so before any read can
//!   show it. At start, the deliveries are replayed through [`Order::deliver`] in the same
//!   order: the order's state and the delivered sequence are back exactly as they were, and a
//!   restarted node's reads go on from where they stood. Entries the quorum layer hands up again
//!   after a restart are recognised as delivered and not delivered twice.
//!
//! A node whose disk survived serves reads at once after a restart; one that starts without
//! stable storage (first start, wiped disk) serves nothing until the quorum layer has recovered
//! from a majority.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proto::{Message, Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::holdback::HoldBack;
use crate::broadcast::quorum::{Event, Quorum, QuorumConfig, Watermark};
use crate::broadcast::seqset::SeqSet;
use crate::broadcast::service::Algorithm;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// The stable log of deliveries.
pub const DELIVERED: &str = "delivered";

/// One ordering algorithm: its hold-back key, its deliverable predicate, what delivery does.
pub trait Order {
    /// What an origin puts in its log for one message: the payload and what the order needs.
    type Entry: Clone + Debug + Serialize + DeserializeOwned;
    /// Where a message waits in the hold-back queue; waiting messages are tried in key order.
    type Key: Ord + Clone + Debug;
    /// Which announcement makes an entry safe to hand to the order.
    const WATERMARK: Watermark = Watermark::Stable;
    /// Only the smallest key can ever be delivered next (a total order): the loop stops at the
    /// first waiting message that is not deliverable.
    const FIRST_ONLY: bool = false;

    /// A version of `origin`'s entry arrived, not yet known to be safe (a Lamport clock
    /// observes timestamps here).
    fn stored(&mut self, _origin: &str, _entry: &Self::Entry) {}

    /// `origin`'s entry at `pos` is safely replicated. Returns its hold-back key, or `None`
    /// when it is never delivered (an empty tick). Called once per entry per start, in any
    /// order across positions, and also for entries delivered before a restart.
    fn hold(&mut self, origin: &str, pos: u64, entry: &Self::Entry) -> Option<Self::Key>;

    /// May the waiting message `key` be delivered now?
    fn deliverable(&self, key: &Self::Key, entry: &Self::Entry) -> bool;

    /// Deliver it: advance the order's state.
    fn deliver(&mut self, key: &Self::Key, entry: &Self::Entry);
}

/// An origin's entry at a position of its log: handed up as safe, or delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placed<E> {
    pub origin: String,
    pub pos: u64,
    pub entry: E,
}

/// An [`Order`] with its transport, hold-back queue and durability.
#[derive(Debug)]
pub struct Ordered<O: Order> {
    order: O,
    quorum: Quorum<O::Entry>,
    holdback: HoldBack<O::Key, Placed<O::Entry>>,
    /// Positions delivered, per origin (since the first start: restored from disk).
    done: BTreeMap<String, SeqSet>,
    /// Entries handed up as safe since the last [`Ordered::take_safe`].
    safe: Vec<Placed<O::Entry>>,
    /// Deliveries since the last [`Ordered::take_delivered`] (replayed ones included).
    delivered: Vec<Placed<O::Entry>>,
    /// The node found its state on stable storage at start.
    recovered: bool,
}

impl<O: Order> Ordered<O> {
    /// `order` over a quorum layer with `config` (its watermark is the order's).
    pub fn new(order: O, config: QuorumConfig) -> Self {
        Ordered {
            order,
            quorum: Quorum::new(QuorumConfig {
                watermark: O::WATERMARK,
                ..config
            }),
            holdback: HoldBack::new(),
            done: BTreeMap::new(),
            safe: Vec::new(),
            delivered: Vec::new(),
            recovered: false,
        }
    }

    /// The node is initialised: replay what stable storage held, then begin recovery.
    pub fn start(&mut self, ctx: &mut Ctx) {
        let stable = ctx.take_recovered();
        for placed in stable.decode::<Placed<O::Entry>>(DELIVERED) {
            if self
                .done
                .entry(placed.origin.clone())
                .or_default()
                .insert(placed.pos)
                && let Some(key) = self.order.hold(&placed.origin, placed.pos, &placed.entry)
            {
                self.order.deliver(&key, &placed.entry);
                self.delivered.push(placed);
            }
        }
        self.recovered = self.quorum.start(ctx, &stable);
        self.process(ctx);
    }

    /// Append `entry` to this node's log. Returns its position, or `None` while recovering.
    pub fn append(&mut self, ctx: &mut Ctx, entry: O::Entry) -> Option<u64> {
        let pos = self.quorum.append(ctx, entry)?;
        self.process(ctx);
        Some(pos)
    }

    /// Handle `msg` if it is the transport's. False for any other message.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        let mine = self.quorum.receive(ctx, msg);
        if mine {
            self.process(ctx);
        }
        mine
    }

    /// Handle a timer; false if it is not the transport's.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        let mine = self.quorum.on_timer(ctx, timer);
        if mine {
            self.process(ctx);
        }
        mine
    }

    /// True once the node may append (recovery is over).
    pub fn is_ready(&self) -> bool {
        self.quorum.is_ready()
    }

    /// True when reads may be served: recovery is over, or the node found its deliveries on
    /// stable storage (they are all back, in order).
    pub fn is_readable(&self) -> bool {
        self.recovered || self.quorum.is_ready()
    }

    /// Entries that became safe (held by a majority at the order's watermark) since the last
    /// call: their place is fixed, so their broadcasts may be acknowledged.
    pub fn take_safe(&mut self) -> Vec<Placed<O::Entry>> {
        std::mem::take(&mut self.safe)
    }

    /// Deliveries since the last call, in delivery order (at start: those replayed from
    /// stable storage).
    pub fn take_delivered(&mut self) -> Vec<Placed<O::Entry>> {
        std::mem::take(&mut self.delivered)
    }

    /// The order's state.
    pub fn order(&self) -> &O {
        &self.order
    }

    /// The order's state, to change it (a Lamport clock ticking).
    pub fn order_mut(&mut self) -> &mut O {
        &mut self.order
    }

    /// This node's own log, by position.
    pub fn own_entries(&self) -> impl Iterator<Item = (u64, &O::Entry)> {
        self.quorum.own_entries()
    }

    /// How many messages wait in the hold-back queue.
    pub fn held_back(&self) -> usize {
        self.holdback.len()
    }

    /// Hold back what the transport handed up, and deliver what the order allows.
    fn process(&mut self, ctx: &mut Ctx) {
        for event in self.quorum.take_events() {
            match event {
                Event::Stored { origin, body, .. } => self.order.stored(&origin, &body),
                Event::Deliverable { origin, pos, body } => {
                    let key = self.order.hold(&origin, pos, &body);
                    let done = self.done.get(&origin).is_some_and(|d| d.contains(pos));
                    if let Some(key) = key
                        && !done
                    {
                        let placed = Placed {
                            origin: origin.clone(),
                            pos,
                            entry: body.clone(),
                        };
                        self.holdback.hold(key, placed);
                    }
                    self.safe.push(Placed {
                        origin,
                        pos,
                        entry: body,
                    });
                }
                Event::Ready => {}
            }
        }
        loop {
            let order = &self.order;
            let ready =
                |key: &O::Key, placed: &Placed<O::Entry>| order.deliverable(key, &placed.entry);
            let next = if O::FIRST_ONLY {
                self.holdback.release_first(ready)
            } else {
                self.holdback.release(ready)
            };
            let Some((key, placed)) = next else { break };
            self.order.deliver(&key, &placed.entry);
            self.done
                .entry(placed.origin.clone())
                .or_default()
                .insert(placed.pos);
            ctx.persist(DELIVERED, &placed);
            self.delivered.push(placed);
        }
    }
}

/// An order whose entries carry a client's broadcast value and are appended at the node the
/// client asked (FIFO, causal).
pub trait ValueOrder: Order {
    /// The entry for `value`, broadcast by node `me` (the order adds what it needs).
    fn entry(&self, me: &str, value: Value) -> Self::Entry;
    /// The value `entry` carries.
    fn value(entry: &Self::Entry) -> &Value;
}

/// A broadcast node around a [`ValueOrder`]: a client's value is appended to this node's log,
/// acknowledged once it is safe, and shown in reads in delivery order.
#[derive(Debug)]
pub struct OrderedBroadcast<O: Order> {
    ordered: Ordered<O>,
    delivered: Delivered,
    /// Client requests by the position of their entry.
    waiting: BTreeMap<u64, Message>,
}

impl<O: ValueOrder + Default> OrderedBroadcast<O> {
    /// A node with the given quorum settings.
    pub fn new(config: QuorumConfig) -> Self {
        OrderedBroadcast {
            ordered: Ordered::new(O::default(), config),
            delivered: Delivered::new(),
            waiting: BTreeMap::new(),
        }
    }
}

impl<O: ValueOrder + Default> Default for OrderedBroadcast<O> {
    fn default() -> Self {
        Self::new(QuorumConfig::new(O::WATERMARK))
    }
}

impl<O: ValueOrder> OrderedBroadcast<O> {
    /// How many messages are held back.
    pub fn held_back(&self) -> usize {
        self.ordered.held_back()
    }

    /// The order's state.
    pub fn order(&self) -> &O {
        self.ordered.order()
    }

    /// Acknowledge what became safe, show what was delivered.
    fn settle(&mut self, ctx: &mut Ctx) {
        for placed in self.ordered.take_safe() {
            if placed.origin == ctx.id()
                && let Some(request) = self.waiting.remove(&placed.pos)
            {
                ctx.reply(&request, &Payload::BroadcastOk);
            }
        }
        for placed in self.ordered.take_delivered() {
            self.delivered
                .deliver(ctx.now(), O::value(&placed.entry).clone());
        }
    }
}

impl<O: ValueOrder> Algorithm for OrderedBroadcast<O> {
    fn start(&mut self, ctx: &mut Ctx) {
        self.ordered.start(ctx);
        self.settle(ctx);
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        let entry = self.ordered.order().entry(ctx.id(), value);
        if let Some(pos) = self.ordered.append(ctx, entry) {
            self.waiting.insert(pos, request);
        }
        self.settle(ctx);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        if !self.ordered.receive(ctx, &msg) {
            ctx.not_supported(&msg);
        }
        self.settle(ctx);
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.ordered.on_timer(ctx, timer);
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

//! Quorum-replicated origin logs: the crash-recovery layer under the ordered broadcasts (the
//! course's "replication" and "quorums": an entry that a majority holds survives the loss of
//! any minority, because any two majorities intersect).
//!
//! Each node is the *origin* of a log: the entries it broadcasts (values, timestamps, sequence
//! assignments: whatever its algorithm puts there). It sends each entry to every peer over a
//! reliable link; from the peers' acknowledgements it learns which prefix of its log a majority
//! holds, and announces that prefix (`stable`). For causal broadcast it goes one step further:
//! once a majority has acknowledged the announcement itself, it announces `committed`. A node
//! hands an origin's entry to its ordering algorithm ([`Event::Deliverable`]) only when it is
//! covered by such an announcement. So everything any node ever delivers is held by a majority,
//! and a node that restarts with empty memory finds it again by reading a majority.
//!
//! **Start and restart.** A node cannot tell its first start from a restart, so it always
//! recovers before it serves:
//!
//! 1. *Sync*: ask every peer for its whole state (every origin's entries and announcements),
//!    in pages, until `n - majority + 1` ready nodes have answered in full: an entry that a
//!    majority held is still held by `majority - 1` others, so these include a holder.
//!    A peer that is itself recovering sends what it holds too, but does not count, since it
//!    has forgotten what it held before its restart; when every peer has answered in full,
//!    ready or not, the node goes on with the union of their states (a cluster that just
//!    started, where everyone is empty; or more nodes recovering at once than a majority
//!    covers, when that union is all that is left anywhere).
//! 2. *Announce* a new generation of its own log, one higher than any it has seen, together
//!    with the announcements it learned, and wait until a majority holds that. A generation is
//!    therefore never used twice, and what it learned is itself held by a majority.
//! 3. *Ready*: send its own log again under the new generation (only the part without a gap:
//!    past a gap nothing can have been stable), then serve. New entries follow.
//!
//! A node that has not finished recovery keeps receiving and storing entries, but does not
//! serve clients; its answers to syncs say it is recovering.
//!
//! **Restarted peers.** When a peer shows up in a new session (it restarted), each origin
//! sends it its whole log and latest announcements again: the peer's previous life may have
//! acknowledged entries that were not yet stable when it recovered, and nobody else would
//! send those.
//!
//! **Anti-entropy** (the `repair` module): every second each node also exchanges digests of
//! its logs with a random peer, so that an entry that reached a few nodes before its origin
//! crashed spreads to all of them instead of waiting for the origin's restart.
//!
//! **What it tolerates.** Any number of crashes and restarts, as long as a majority holds
//! each entry at every moment: one node at a time down or recovering, or any minority at
//! once. An entry is lost only if every node holding it loses its memory before passing it
//! on; that can happen when a majority is killed at once while a partition had kept the
//! entry inside that majority. Then acknowledged messages are lost and what the killed nodes
//! delivered is forgotten: without stable storage no algorithm does better.

mod durable;
pub mod origin_log;
mod recovery;
mod repair;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::Duration;

use proto::Message;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::broadcast::link::{Arrival, Link, LinkConfig};
use crate::broadcast::seqset::SeqSet;
use crate::ctx::Ctx;
use crate::node::TimerId;
use crate::storage::Stable;

use origin_log::OriginLog;
pub use origin_log::Watermark;
use recovery::Phase;

/// Settings of the layer.
#[derive(Debug, Clone, Copy)]
pub struct QuorumConfig {
    /// The links that carry entries and announcements.
    pub link: LinkConfig,
    /// What makes an entry deliverable.
    pub watermark: Watermark,
    /// How long a sync request may go unanswered.
    pub sync_timeout: Duration,
    /// How often a recovering node asks again the peers that have not answered in full.
    pub sync_retry: Duration,
    /// Time between two anti-entropy exchanges started by this node.
    pub anti_entropy: Duration,
}

impl QuorumConfig {
    /// The defaults, delivering at `watermark`.
    pub fn new(watermark: Watermark) -> Self {
        QuorumConfig {
            link: LinkConfig::default(),
            watermark,
            sync_timeout: Duration::from_millis(1000),
            sync_retry: Duration::from_millis(500),
            anti_entropy: Duration::from_millis(1000),
        }
    }

    /// The same, with the link batching every `interval`.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.link.interval = interval;
        self
    }
}

/// What the layer tells the ordering algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<E> {
    /// Recovery is over: the node may append and serve clients.
    Ready,
    /// A version of an origin's entry arrived (it is not yet known to be safe). Lets a
    /// Lamport clock observe timestamps as early as possible.
    Stored { origin: String, pos: u64, body: E },
    /// An origin's entry is safely replicated: the algorithm may deliver it when its order
    /// allows. Each position of each origin is handed up once per incarnation, in any order
    /// across positions.
    Deliverable { origin: String, pos: u64, body: E },
}

/// An announcement of what a generation had replicated: used to write back what a recovering
/// node learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    pub origin: String,
    #[serde(rename = "gen")]
    pub generation: u64,
    pub upto: u64,
}

/// What the links carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item<E> {
    /// The origin's entry at `pos`, as its generation `gen` sends it.
    Entry {
        #[serde(rename = "gen")]
        generation: u64,
        pos: u64,
        body: E,
    },
    /// A majority holds positions below `upto` of generation `gen`.
    Stable {
        #[serde(rename = "gen")]
        generation: u64,
        upto: u64,
    },
    /// A majority knows that positions below `upto` of generation `gen` are stable.
    Committed {
        #[serde(rename = "gen")]
        generation: u64,
        upto: u64,
    },
    /// The origin starts generation `gen`; `known` is what it learned while recovering.
    Generation {
        #[serde(rename = "gen")]
        generation: u64,
        known: Vec<Known>,
    },
}

/// Replication progress of this node's own log, in its current generation.
#[derive(Debug, Clone, Default)]
struct Own {
    generation: u64,
    /// The next free position.
    next: u64,
    /// Positions each peer has acknowledged.
    acked: BTreeMap<String, SeqSet>,
    stable: u64,
    /// The highest `stable` announcement each peer has acknowledged.
    peer_stable: BTreeMap<String, u64>,
    committed: u64,
}

/// The quorum layer of one node. Generic over the entry type `E` of the algorithm above.
#[derive(Debug)]
pub struct Quorum<E> {
    config: QuorumConfig,
    me: String,
    peers: Vec<String>,
    majority: usize,
    link: Link<Item<E>>,
    logs: BTreeMap<String, OriginLog<E>>,
    own: Own,
    phase: Phase,
    events: Vec<Event<E>>,
    repair_timer: Option<TimerId>,
}

impl<E: Clone + Debug + Serialize + DeserializeOwned> Quorum<E> {
    /// A layer with the given settings; call [`Quorum::start`] at init.
    pub fn new(config: QuorumConfig) -> Self {
        Quorum {
            config,
            me: String::new(),
            peers: Vec::new(),
            majority: 1,
            link: Link::new(config.link),
            logs: BTreeMap::new(),
            own: Own::default(),
            phase: Phase::Starting,
            events: Vec::new(),
            repair_timer: None,
        }
    }

    /// The node is initialised, and `stable` is what its stable storage held: begin recovery.
    /// A node that finds its logs on disk has kept everything it ever held and acknowledged:
    /// it hands up what its announcements cover at once and goes straight to announcing a new
    /// generation. A new node (first start, wiped disk, no stable storage) first syncs from
    /// its peers. Returns true for the first case.
    pub fn start(&mut self, ctx: &mut Ctx, stable: &Stable) -> bool {
        self.me = ctx.id().to_owned();
        self.peers = ctx.peers().map(str::to_owned).collect();
        let cluster = self.peers.len() + 1;
        self.majority = cluster / 2 + 1;
        self.link.start(ctx);
        self.start_repair(ctx);
        let recovered = self.restore(stable) > 0;
        if recovered {
            let origins: Vec<String> = self.logs.keys().cloned().collect();
            for origin in origins {
                self.hand_up(&origin);
            }
            self.announce_generation(ctx);
        } else {
            self.start_recovery(ctx);
        }
        recovered
    }

    /// True once recovery is over.
    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// How many nodes make a majority of the cluster.
    pub fn majority(&self) -> usize {
        self.majority
    }

    /// This node's current generation (0 until recovery announced one).
    pub fn generation(&self) -> u64 {
        self.own.generation
    }

    /// Append `body` to this node's log and start replicating it. Returns its position, or
    /// `None` while the node is recovering.
    pub fn append(&mut self, ctx: &mut Ctx, body: E) -> Option<u64> {
        if !self.is_ready() {
            return None;
        }
        let pos = self.own.next;
        self.own.next += 1;
        let generation = self.own.generation;
        let me = self.me.clone();
        self.keep_entry(ctx, &me, pos, generation, &body);
        for peer in self.peers.clone() {
            self.link.send(
                ctx,
                &peer,
                Item::Entry {
                    generation,
                    pos,
                    body: body.clone(),
                },
            );
        }
        self.advance_stable(ctx);
        Some(pos)
    }

    /// The entries of this node's own log, by position.
    pub fn own_entries(&self) -> impl Iterator<Item = (u64, &E)> {
        self.logs
            .get(&self.me)
            .into_iter()
            .flat_map(|log| log.entries().map(|(pos, _, body)| (pos, body)))
    }

    /// Handle `msg` if it is this layer's (link batches and sync traffic). Returns false for
    /// any other message.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        if let Some(arrival) = self.link.receive(ctx, msg) {
            self.on_arrival(ctx, arrival);
            return true;
        }
        self.receive_sync(ctx, msg) || self.receive_repair(ctx, msg)
    }

    /// Handle a timer; returns false if it is not this layer's.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        self.link.on_timer(ctx, timer)
            || self.on_sync_timer(ctx, timer)
            || self.on_repair_timer(ctx, timer)
    }

    /// What happened since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event<E>> {
        std::mem::take(&mut self.events)
    }

    fn log_mut(&mut self, origin: &str) -> &mut OriginLog<E> {
        self.logs.entry(origin.to_owned()).or_default()
    }

    /// Hand up what the announcements now cover in `origin`'s log.
    fn hand_up(&mut self, origin: &str) {
        let watermark = self.config.watermark;
        let ready = self.log_mut(origin).hand_up(watermark);
        self.events
            .extend(ready.into_iter().map(|(pos, body)| Event::Deliverable {
                origin: origin.to_owned(),
                pos,
                body,
            }));
    }

    fn on_arrival(&mut self, ctx: &mut Ctx, arrival: Arrival<Item<E>>) {
        let from = arrival.from;
        if arrival.restarted {
            self.resend_to(ctx, &from);
        }
        let mut acked = false;
        let mut stable_acked = false;
        for item in arrival.acked {
            match item {
                Item::Entry {
                    generation, pos, ..
                } if generation == self.own.generation => {
                    self.own.acked.entry(from.clone()).or_default().insert(pos);
                    acked = true;
                }
                Item::Stable { generation, upto } if generation == self.own.generation => {
                    let known = self.own.peer_stable.entry(from.clone()).or_insert(0);
                    *known = (*known).max(upto);
                    stable_acked = true;
                }
                Item::Generation { generation, .. } => {
                    self.on_generation_acked(ctx, &from, generation)
                }
                _ => {}
            }
        }
        if acked {
            self.advance_stable(ctx);
        }
        if stable_acked {
            self.advance_committed(ctx);
        }
        let mut touched = BTreeSet::new();
        for item in arrival.fresh.into_iter().chain(arrival.notes) {
            match item {
                Item::Entry {
                    generation,
                    pos,
                    body,
                } => {
                    if self.keep_entry(ctx, &from, pos, generation, &body) {
                        self.events.push(Event::Stored {
                            origin: from.clone(),
                            pos,
                            body,
                        });
                    }
                }
                Item::Stable { generation, upto } => {
                    self.keep_stable(ctx, &from, generation, upto);
                }
                Item::Committed { generation, upto } => {
                    self.keep_committed(ctx, &from, generation, upto);
                }
                Item::Generation { generation, known } => {
                    self.keep_generation(ctx, &from, generation);
                    for k in known {
                        self.keep_stable(ctx, &k.origin, k.generation, k.upto);
                        touched.insert(k.origin);
                    }
                }
            }
        }
        touched.insert(from);
        for origin in touched {
            self.hand_up(&origin);
        }
    }

    /// `peer` restarted and lost what its previous life held of this node's log, including
    /// entries that were not stable when it recovered and that it will not find elsewhere:
    /// send it the whole log and the latest announcements again, and stop counting what its
    /// previous life acknowledged.
    fn resend_to(&mut self, ctx: &mut Ctx, peer: &str) {
        if !self.is_ready() {
            return;
        }
        self.own.acked.remove(peer);
        self.own.peer_stable.remove(peer);
        let generation = self.own.generation;
        let me = self.me.clone();
        let entries: Vec<(u64, E)> = self
            .logs
            .get(&me)
            .into_iter()
            .flat_map(|log| log.entries().map(|(pos, _, body)| (pos, body.clone())))
            .collect();
        self.link.forget(peer, |_| true);
        for (pos, body) in entries {
            self.link.send(
                ctx,
                peer,
                Item::Entry {
                    generation,
                    pos,
                    body,
                },
            );
        }
        let (stable, committed) = (self.own.stable, self.own.committed);
        if stable > 0 {
            let item = Item::Stable {
                generation,
                upto: stable,
            };
            self.announce_to(ctx, peer, item);
        }
        if committed > 0 {
            let item = Item::Committed {
                generation,
                upto: committed,
            };
            self.announce_to(ctx, peer, item);
        }
    }

    /// Send an announcement to every peer.
    fn announce(&mut self, ctx: &mut Ctx, item: Item<E>) {
        for peer in self.peers.clone() {
            self.announce_to(ctx, &peer, item.clone());
        }
    }

    /// Send an announcement to `peer`, superseding older ones of the same kind not yet sent.
    /// Under the `Committed` watermark, `stable` announcements are reliable items: their
    /// acknowledgements tell this origin who knows them. Every other announcement is a note
    /// (sent once, unacknowledged): a lost one is superseded by the next, or repaired by
    /// anti-entropy, which carries every node's announcements.
    fn announce_to(&mut self, ctx: &mut Ctx, peer: &str, item: Item<E>) {
        let is_stable = matches!(item, Item::Stable { .. });
        let same_kind = move |queued: &Item<E>| match queued {
            Item::Stable { .. } => is_stable,
            Item::Committed { .. } => !is_stable,
            _ => false,
        };
        if is_stable && self.config.watermark == Watermark::Committed {
            self.link.forget(peer, same_kind);
            self.link.send(ctx, peer, item);
        } else {
            self.link.send_note(ctx, peer, item, same_kind);
        }
    }

    /// The `k`-th highest of `values` (k >= 1), 0 if there are fewer.
    fn kth_highest(mut values: Vec<u64>, k: usize) -> u64 {
        values.sort_unstable_by(|a, b| b.cmp(a));
        values.get(k - 1).copied().unwrap_or(0)
    }

    /// Recompute the prefix of this node's log that a majority holds.
    fn advance_stable(&mut self, ctx: &mut Ctx) {
        if !self.is_ready() {
            return;
        }
        let others = self.majority - 1;
        let stable = if others == 0 {
            self.own.next
        } else {
            let prefixes = self
                .peers
                .iter()
                .map(|p| self.own.acked.get(p).map_or(0, SeqSet::prefix))
                .collect();
            Self::kth_highest(prefixes, others).min(self.own.next)
        };
        if stable <= self.own.stable {
            return;
        }
        self.own.stable = stable;
        let generation = self.own.generation;
        let me = self.me.clone();
        self.keep_stable(ctx, &me, generation, stable);
        self.announce(
            ctx,
            Item::Stable {
                generation,
                upto: stable,
            },
        );
        match self.config.watermark {
            Watermark::Stable => self.hand_up(&me),
            Watermark::Committed => self.advance_committed(ctx),
        }
    }

    /// Recompute the prefix of this node's log that a majority knows to be stable.
    fn advance_committed(&mut self, ctx: &mut Ctx) {
        if self.config.watermark != Watermark::Committed || !self.is_ready() {
            return;
        }
        let others = self.majority - 1;
        let committed = if others == 0 {
            self.own.stable
        } else {
            let known = self
                .peers
                .iter()
                .map(|p| self.own.peer_stable.get(p).copied().unwrap_or(0))
                .collect();
            Self::kth_highest(known, others).min(self.own.stable)
        };
        if committed <= self.own.committed {
            return;
        }
        self.own.committed = committed;
        let generation = self.own.generation;
        let me = self.me.clone();
        self.keep_committed(ctx, &me, generation, committed);
        self.announce(
            ctx,
            Item::Committed {
                generation,
                upto: committed,
            },
        );
        self.hand_up(&me);
    }
}

//! `broadcast-eager`: eager reliable broadcast (the course's "broadcast algorithms").
//!
//! **Algorithm.** The first time a node receives a message (from a client or from a peer) it
//! delivers it and sends it to every other node, the one it came from and its origin included,
//! over reliable links (retry until acknowledged, de-duplicate at the receiver; see
//! [`crate::broadcast::link`]). Because every node relays, a message reaches everyone as long
//! as one node that holds it keeps running. Links batch: each node sends each peer at most one
//! message per `--interval-ms`, carrying all new messages and acknowledgements for that peer;
//! `--interval-ms 0` turns batching off (the textbook variant: one message per copy).
//!
//! **Guarantee.** Reliable broadcast: every message delivered by a correct node, or
//! acknowledged to a client, is eventually delivered by every correct node, each at most once.
//! No order is promised.
//!
//! **When `broadcast_ok` is sent.** When the first peer acknowledges storing the message: from
//! then on two nodes hold it and both relay it to everyone, so the crash of the origin alone
//! cannot lose it. (Acknowledging at receipt would lose it if the origin crashed before its
//! first batch left.) In a one-node cluster, at once.
//!
//! **Topology.** The suggested topology is ignored: every node talks to every other.
//!
//! **Cost.** Every node sends every message to every other: n(n-1) copies per broadcast
//! (`copies_per_broadcast` in `results.json`; more when a copy is retried), whatever the
//! batching. Unbatched, each copy is a message (and each copy is acknowledged: the
//! acknowledgement rides on a copy going back when there is one, else alone). Batched, the
//! number of *messages* is at most one per ordered pair of nodes per interval (plus
//! acknowledgement-only batches), whatever the load. Measured in the simulator (25 nodes, latency
//! uniform in [0, 200] ms, 100 operations per second for 20 s, half of them reads;
//! `tests/it/broadcast/cost.rs`): about 23 messages per client operation, stable latency p50 300
//! ms, max 450 ms.
//!
//! **Partition.** Delivery continues inside each side; the links retry across the cut, and
//! after the partition heals the retries deliver everything to the other side.
//!
//! **Crash and restart.** Every message a node accepts is on its stable storage before the node
//! acknowledges it to anyone or shows it in a read ([`crate::broadcast::received`]). A
//! restarted node reads its messages back and delivers them again, in the same order, before it
//! serves, so its reads never go back; then it exchanges digests with every peer, both ways:
//! it pulls what it missed while it was down, and pushes what it held but had not yet relayed
//! when it crashed (its outbox was in memory). So no kill pattern loses a message: one node, a
//! majority, all at once, again and again.
//!
//! **Wipe.** A node whose disk is wiped comes back empty and pulls everything from its peers. A
//! message is lost only if every node that held it is wiped: the origin acknowledges a
//! broadcast once a second node has it, so a wipe of one node loses nothing, a wipe of two can
//! lose a message that had not yet spread beyond them.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{Message, Payload};
use serde_json::Value;

use crate::broadcast::anti_entropy::{self, AntiEntropy};
use crate::broadcast::delivered::Delivered;
use crate::broadcast::link::{Link, LinkConfig};
use crate::broadcast::received::Received;
use crate::broadcast::service::Algorithm;
use crate::broadcast::values::{Item, MessageId, Minter, Store};
use crate::ctx::Ctx;
use crate::node::TimerId;

/// Timing of the eager node.
#[derive(Debug, Clone, Copy)]
pub struct EagerConfig {
    /// The links (batch interval, retry).
    pub link: LinkConfig,
    /// How long a pull request to a peer may go unanswered before it is sent again.
    pub pull_timeout: Duration,
}

impl Default for EagerConfig {
    fn default() -> Self {
        EagerConfig {
            link: LinkConfig {
                interval: Duration::from_millis(250),
                retry: Duration::from_millis(1000),
                max_items: 512,
            },
            pull_timeout: Duration::from_millis(2000),
        }
    }
}

/// The eager reliable broadcast node.
#[derive(Debug)]
pub struct Eager {
    config: EagerConfig,
    link: Link<Item>,
    received: Received,
    minter: Minter,
    /// Client requests waiting for a peer to acknowledge their message.
    waiting: BTreeMap<MessageId, Message>,
    /// Pull requests in flight: rpc id -> peer.
    pulls: BTreeMap<u64, String>,
}

impl Eager {
    /// An eager node with the given timing.
    pub fn new(config: EagerConfig) -> Self {
        Eager {
            config,
            link: Link::new(config.link),
            received: Received::new(),
            minter: Minter::default(),
            waiting: BTreeMap::new(),
            pulls: BTreeMap::new(),
        }
    }

    /// The messages this node holds.
    pub fn store(&self) -> &Store {
        self.received.store()
    }

    /// Keep (on stable storage) and deliver `item` if it is new. Returns true if it was.
    fn accept(&mut self, ctx: &mut Ctx, item: &Item) -> bool {
        self.received.accept(ctx, item)
    }

    /// Send `item` to every other node (the sender and the origin too, as the textbook does:
    /// a node does not know who else holds it).
    fn relay(&mut self, ctx: &mut Ctx, item: &Item) {
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in &peers {
            self.link.send(ctx, peer, item.clone());
        }
    }

    fn pull(&mut self, ctx: &mut Ctx, peer: &str) {
        let request = AntiEntropy::Digest {
            digest: self.received.store().digest().clone(),
        };
        let id = ctx.rpc(peer, &request, self.config.pull_timeout);
        self.pulls.insert(id, peer.to_owned());
    }

    fn on_pull_reply(&mut self, ctx: &mut Ctx, peer: String, msg: &Message) {
        match msg.body.parse_custom::<AntiEntropy>() {
            Ok(AntiEntropy::Delta {
                items,
                more,
                digest,
            }) => {
                for item in &items {
                    self.accept(ctx, item);
                }
                // The peer lacks some of ours (held here but not relayed before a crash):
                // send it those over the link.
                if let Some(theirs) = digest {
                    let lacking = self
                        .received
                        .store()
                        .missing_from(&theirs, None, usize::MAX);
                    for item in lacking {
                        self.link.send(ctx, &peer, item);
                    }
                }
                if more {
                    self.pull(ctx, &peer);
                }
            }
            // A timeout (or anything else): ask that peer again.
            _ => self.pull(ctx, &peer),
        }
    }
}

impl Default for Eager {
    fn default() -> Self {
        Eager::new(EagerConfig::default())
    }
}

impl Algorithm for Eager {
    fn start(&mut self, ctx: &mut Ctx) {
        self.received.recover(ctx);
        self.link.start(ctx);
        self.minter = Minter::new(ctx.id(), ctx.incarnation());
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in peers {
            self.pull(ctx, &peer);
        }
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        let item = Item {
            id: self.minter.mint(),
            value,
        };
        self.accept(ctx, &item);
        if ctx.peers().next().is_none() {
            ctx.reply(&request, &Payload::BroadcastOk);
            return;
        }
        self.waiting.insert(item.id.clone(), request);
        self.relay(ctx, &item);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Some(arrival) = self.link.receive(ctx, &msg) {
            for item in &arrival.acked {
                if let Some(request) = self.waiting.remove(&item.id) {
                    ctx.reply(&request, &Payload::BroadcastOk);
                }
            }
            for item in &arrival.fresh {
                if self.accept(ctx, item) {
                    self.relay(ctx, item);
                }
            }
            return;
        }
        if let Some(reply_to) = msg.body.in_reply_to {
            if let Some(peer) = self.pulls.remove(&reply_to) {
                self.on_pull_reply(ctx, peer, &msg);
            }
            return;
        }
        match msg.body.kind() {
            kind if anti_entropy::KINDS.contains(&kind) => {
                if let Ok(AntiEntropy::Digest { digest }) = msg.body.parse_custom() {
                    // Always answer a pull, even when there is nothing to send: the puller
                    // waits for an answer from every peer.
                    let answer = anti_entropy::answer_digest(self.received.store(), &digest)
                        .unwrap_or(AntiEntropy::Delta {
                            items: Vec::new(),
                            more: false,
                            digest: None,
                        });
                    ctx.reply(&msg, &answer);
                }
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.link.on_timer(ctx, timer);
    }

    fn delivered(&self) -> &Delivered {
        self.received.delivered()
    }
}

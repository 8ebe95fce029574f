//! `broadcast-gossip`: gossip with batching, and anti-entropy (the course's gossip protocols;
//! the setup of the Gossip Glomers "efficient broadcast" challenge). Two ways to choose where a
//! new message goes, the flag `--peers`:
//!
//! **Algorithm, `--peers tree` (the default).** The nodes, in the order `init` lists them, form
//! a tree in which each node has `--fanout` children (node `i`'s parent is `(i - 1) / fanout`);
//! with the default fanout (24) the tree is a star around `n0` for up to 25 nodes. The first time
//! a node receives a message it queues it for its tree neighbours (except the one it came
//! from), and every `--interval-ms` it sends each neighbour one `push` with everything queued
//! for it.
//!
//! **Algorithm, `--peers random`.** Push gossip as the course draws it ("infect and die"): the
//! first time a node receives a message it queues it once, and every `--interval-ms` it sends
//! everything queued to `--fanout` peers drawn at random (default 3), then forgets the queue.
//! A message reaches about `1 - e^-fanout` of the nodes this way (about 95% for 3); the rest
//! is left to anti-entropy.
//!
//! **Batching.** `--interval-ms 0` turns it off (the textbook variant): a push leaves at once,
//! one message per value.
//!
//! **Both.** Every `--anti-entropy-ms` each node sends its digest to one random peer, which
//! answers with what the node lacks (and asks back for what it lacks itself): this repairs
//! pushes lost to message loss, partitions and crashes, whatever the tree or the draw.
//!
//! **Guarantee.** Every message acknowledged to a client is eventually delivered by every node
//! (eventual delivery; anti-entropy makes it certain once the network heals), each at most
//! once. No order.
//!
//! **When `broadcast_ok` is sent.** When another node has acknowledged storing the message.
//! The origin sends each new message at once, in a `store`, to its tree parent (the root, and
//! every node with `--peers random`: to a random peer); the receiver spreads it and acknowledges it in its next push. If no
//! acknowledgement comes within `store_timeout`, the origin asks another random peer. Once a
//! second node holds the message, the crash of the origin alone cannot lose it, and anti-entropy
//! brings it to everyone.
//!
//! **Topology.** The suggested topology is ignored: the tree above (or the random draw) carries
//! the pushes, random peers the anti-entropy. The tree is the default because of what the two
//! cost on the Gossip Glomers setup (25 nodes, 100 ms latency): random pushes need about
//! log(n) rounds to reach most nodes and anti-entropy for the last few, so their tail latency
//! is the anti-entropy period, while the star needs two hops for everyone; `harness compare
//! --bins target/release/broadcast-gossip -- --peers random` shows the difference (figures in
//! the README).
//!
//! **Cost.** Per broadcast: one `store` to the parent; per interval, one push per tree edge that
//! has something to carry (for a star, the root's n-1 pushes carry every message of the interval),
//! or with random peers `fanout` pushes per node that received something; per anti-entropy period, one digest per node (and a delta only when something is missing).
//! Measured in the simulator (25 nodes, latency uniform in [0, 200] ms, 100 operations per second
//! for 20 s, half of them reads; `tests/it/broadcast/cost.rs`): about 2.4 messages per client
//! operation, stable latency p50 370 ms, max 545 ms (tree). The defaults favour latency and
//! quick repair (an exchange every 2 s converges within a short recovery even with one random
//! peer per push); on the Gossip Glomers setup the cheapest setting that keeps visibility
//! latency p50 under 400 ms and max under 800 ms is `--interval-ms 600 --anti-entropy-ms 4000`
//! (`harness compare --preset frontier`, figures in the README), which `make compare` runs.
//!
//! **Partition.** Pushes across the cut are lost. Each side keeps delivering what its own
//! nodes receive when the tree path is inside it; origins cut off from their parent get their
//! acknowledgement from a random reachable peer. After the partition heals, anti-entropy
//! brings every side's messages to the other.
//!
//! **Crash and restart.** Every message a node accepts is on its stable storage before the node
//! acknowledges it or shows it in a read ([`crate::broadcast::received`]). A restarted node
//! reads its messages back and delivers them again, in the same order, before it serves (its
//! reads never go back), and begins with an anti-entropy exchange at once, which also carries
//! what it held but had not pushed when it crashed; the periodic exchanges do the rest. A
//! crashed root stops the pushes until it restarts; anti-entropy alone keeps spreading messages
//! meanwhile. No kill pattern loses a message.
//!
//! **Wipe.** A wiped node comes back empty and catches up by anti-entropy. The origin
//! acknowledges once a second node stores the message, so a wipe of one node loses nothing; a
//! wipe of both holders before the message spread further loses it.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{Message, Payload};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::anti_entropy::{self, AntiEntropy};
use crate::broadcast::delivered::Delivered;
use crate::broadcast::received::Received;
use crate::broadcast::service::Algorithm;
use crate::broadcast::values::{Item, MessageId, Minter, Store};
use crate::ctx::Ctx;
use crate::node::TimerId;

/// Where a node pushes the messages it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peers {
    /// To its neighbours in a tree with `fanout` children per node.
    Tree,
    /// To `fanout` peers drawn at random at every push.
    Random,
}

impl Peers {
    /// The fanout that fits this choice when none is given: a star for up to 25 nodes, or
    /// three random peers.
    pub fn default_fanout(self) -> usize {
        match self {
            Peers::Tree => 24,
            Peers::Random => 3,
        }
    }
}

impl std::str::FromStr for Peers {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tree" => Ok(Peers::Tree),
            "random" => Ok(Peers::Random),
            other => Err(format!("--peers takes tree or random, not {other:?}")),
        }
    }
}

/// Settings of the gossip node (the binary's flags).
#[derive(Debug, Clone, Copy)]
pub struct GossipConfig {
    /// Where pushes go.
    pub peers: Peers,
    /// Children per node in the push tree, or random peers per push.
    pub fanout: usize,
    /// At most one push per tree neighbour per interval; zero: no batching, each value pushed
    /// at once (at the end of the step that received it) in a message of its own.
    pub interval: Duration,
    /// Time between two anti-entropy exchanges started by this node.
    pub anti_entropy: Duration,
    /// How long the origin waits for a storage acknowledgement before asking another peer.
    pub store_timeout: Duration,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            peers: Peers::Tree,
            fanout: Peers::Tree.default_fanout(),
            interval: Duration::from_millis(150),
            anti_entropy: Duration::from_millis(2000),
            store_timeout: Duration::from_millis(1000),
        }
    }
}

/// Gossip's own messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Gossip {
    /// Messages along the tree, and acknowledgements of `store`s.
    Push {
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        acks: Vec<MessageId>,
    },
    /// "Keep these messages, spread them, and acknowledge them."
    Store { items: Vec<Item> },
}

/// A client request waiting for its storage acknowledgement.
#[derive(Debug, Clone)]
struct Waiting {
    request: Message,
    item: Item,
    asked_at: Duration,
}

/// The push tree: the parent and children of this node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub parent: Option<String>,
    pub children: Vec<String>,
}

impl Tree {
    /// The tree position of `me` among `nodes` (in `init` order) when each node has `fanout`
    /// children. A node not in the list is a root with no children.
    pub fn new(nodes: &[String], me: &str, fanout: usize) -> Self {
        let fanout = fanout.max(1);
        let Some(i) = nodes.iter().position(|n| n == me) else {
            return Tree::default();
        };
        let parent = (i > 0).then(|| nodes[(i - 1) / fanout].clone());
        let first = i.saturating_mul(fanout).saturating_add(1);
        let children = nodes.iter().skip(first).take(fanout).cloned().collect();
        Tree { parent, children }
    }

    /// Parent and children.
    pub fn neighbours(&self) -> impl Iterator<Item = &String> {
        self.parent.iter().chain(self.children.iter())
    }
}

/// The gossip node.
#[derive(Debug)]
pub struct GossipNode {
    config: GossipConfig,
    tree: Tree,
    received: Received,
    minter: Minter,
    /// Messages queued for each tree neighbour.
    queued: BTreeMap<String, Vec<Item>>,
    /// With random peers: messages received since the last push, with the node each came from.
    fresh: Vec<(Item, Option<String>)>,
    /// Storage acknowledgements owed to each peer.
    owed: BTreeMap<String, Vec<MessageId>>,
    waiting: BTreeMap<MessageId, Waiting>,
    /// The push timer and when it fires.
    push_timer: Option<(TimerId, Duration)>,
    anti_entropy_timer: Option<TimerId>,
}

impl GossipNode {
    /// A gossip node with the given settings.
    pub fn new(config: GossipConfig) -> Self {
        GossipNode {
            config,
            tree: Tree::default(),
            received: Received::new(),
            minter: Minter::default(),
            queued: BTreeMap::new(),
            fresh: Vec::new(),
            owed: BTreeMap::new(),
            waiting: BTreeMap::new(),
            push_timer: None,
            anti_entropy_timer: None,
        }
    }

    /// This node's place in the push tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The messages this node holds.
    pub fn store(&self) -> &Store {
        self.received.store()
    }

    /// Keep, deliver and spread `item` if it is new; `from` is the node it came from.
    fn accept(&mut self, ctx: &mut Ctx, item: &Item, from: Option<&str>) -> bool {
        if !self.received.accept(ctx, item) {
            return false;
        }
        if self.config.peers == Peers::Random {
            self.fresh.push((item.clone(), from.map(str::to_owned)));
            self.arm_push(ctx);
            return true;
        }
        let targets: Vec<String> = self
            .tree
            .neighbours()
            .filter(|n| Some(n.as_str()) != from && n.as_str() != item.id.origin())
            .cloned()
            .collect();
        for target in targets {
            self.queued.entry(target).or_default().push(item.clone());
        }
        self.arm_push(ctx);
        true
    }

    /// Make sure the push timer runs while anything waits: at the next interval when
    /// something is to be pushed or acknowledged, else (only storage acknowledgements awaited)
    /// when the first of them is overdue, and at least an interval away. A timer set for later
    /// is brought forward.
    fn arm_push(&mut self, ctx: &mut Ctx) {
        let to_send = !self.fresh.is_empty()
            || self.queued.values().any(|q| !q.is_empty())
            || self.owed.values().any(|o| !o.is_empty());
        let overdue_at = self
            .waiting
            .values()
            .map(|w| w.asked_at + self.config.store_timeout)
            .min();
        let now = ctx.now();
        let after = match (to_send, overdue_at) {
            (true, _) => self.config.interval,
            (false, Some(at)) => at.saturating_sub(now).max(self.config.interval),
            (false, None) => return,
        };
        match self.push_timer {
            Some((_, at)) if at <= now + after => {}
            stale => {
                if let Some((id, _)) = stale {
                    ctx.cancel_timer(id);
                }
                self.push_timer = Some((ctx.set_timer(after), now + after));
            }
        }
    }

    /// Send each neighbour what is queued for it, each peer the acknowledgements owed to it,
    /// and ask again for storage acknowledgements that are overdue.
    fn push(&mut self, ctx: &mut Ctx) {
        self.push_to_random_peers(ctx);
        let mut targets: Vec<String> = self.queued.keys().cloned().collect();
        targets.extend(self.owed.keys().cloned());
        targets.sort();
        targets.dedup();
        for target in targets {
            let items = self.queued.remove(&target).unwrap_or_default();
            let acks = self.owed.remove(&target).unwrap_or_default();
            self.send_push(ctx, &target, items, acks);
        }
        let now = ctx.now();
        let overdue: Vec<MessageId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.asked_at + self.config.store_timeout <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in overdue {
            if let Some(peer) = self.random_peer(ctx)
                && let Some(waiting) = self.waiting.get_mut(&id)
            {
                waiting.asked_at = now;
                let items = vec![waiting.item.clone()];
                ctx.send(&peer, &Gossip::Store { items });
            }
        }
    }

    /// With random peers: everything received since the last push, to `fanout` peers drawn at
    /// random among those with something to learn (each gets the messages it neither sent nor
    /// originated), with the acknowledgements owed to them.
    fn push_to_random_peers(&mut self, ctx: &mut Ctx) {
        if self.fresh.is_empty() {
            return;
        }
        let fresh = std::mem::take(&mut self.fresh);
        let news_for = |peer: &str| -> Vec<Item> {
            fresh
                .iter()
                .filter(|(item, from)| from.as_deref() != Some(peer) && item.id.origin() != peer)
                .map(|(item, _)| item.clone())
                .collect()
        };
        // Drawn among the peers that have something to learn, so no draw is wasted.
        let candidates: Vec<String> = ctx
            .peers()
            .filter(|peer| !news_for(peer).is_empty())
            .map(str::to_owned)
            .collect();
        let chosen: Vec<String> = candidates
            .choose_multiple(ctx.rng(), self.config.fanout)
            .cloned()
            .collect();
        for peer in chosen {
            let items = news_for(&peer);
            let acks = self.owed.remove(&peer).unwrap_or_default();
            self.send_push(ctx, &peer, items, acks);
        }
    }

    /// Push `items` and `acks` to `peer`: in one message, or unbatched (`--interval-ms 0`) one
    /// message per item, the acknowledgements riding with the first.
    fn send_push(&self, ctx: &mut Ctx, peer: &str, items: Vec<Item>, acks: Vec<MessageId>) {
        if items.is_empty() && acks.is_empty() {
            return;
        }
        if !self.config.interval.is_zero() || items.len() <= 1 {
            ctx.send(peer, &Gossip::Push { items, acks });
            return;
        }
        let mut acks = Some(acks);
        for item in items {
            let acks = acks.take().unwrap_or_default();
            ctx.send(
                peer,
                &Gossip::Push {
                    items: vec![item],
                    acks,
                },
            );
        }
    }

    fn random_peer(&self, ctx: &mut Ctx) -> Option<String> {
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        if peers.is_empty() {
            return None;
        }
        let i = ctx.rng().random_range(0..peers.len());
        Some(peers[i].clone())
    }

    /// Start an anti-entropy exchange with a random peer.
    fn anti_entropy(&mut self, ctx: &mut Ctx) {
        if let Some(peer) = self.random_peer(ctx) {
            let digest = self.received.store().digest().clone();
            ctx.send(&peer, &AntiEntropy::Digest { digest });
        }
        self.anti_entropy_timer = Some(ctx.set_timer(self.config.anti_entropy));
    }

    fn on_anti_entropy(&mut self, ctx: &mut Ctx, msg: &Message) {
        let exchange = match msg.body.parse_custom::<AntiEntropy>() {
            Ok(exchange) => exchange,
            Err(err) => {
                ctx.log(format!(
                    "ignoring a malformed {} from {}: {err}",
                    msg.body.kind(),
                    msg.src
                ));
                return;
            }
        };
        let answer = match exchange {
            AntiEntropy::Digest { digest } => {
                anti_entropy::answer_digest(self.received.store(), &digest)
            }
            AntiEntropy::Delta { items, digest, .. } => {
                for item in &items {
                    self.accept(ctx, item, Some(&msg.src));
                }
                digest.and_then(|d| anti_entropy::answer_delta(self.received.store(), &d))
            }
        };
        if let Some(answer) = answer {
            ctx.send(&msg.src, &answer);
        }
    }
}

impl Default for GossipNode {
    fn default() -> Self {
        GossipNode::new(GossipConfig::default())
    }
}

impl Algorithm for GossipNode {
    fn start(&mut self, ctx: &mut Ctx) {
        self.received.recover(ctx);
        self.tree = match self.config.peers {
            Peers::Tree => Tree::new(ctx.node_ids(), ctx.id(), self.config.fanout),
            Peers::Random => Tree::default(),
        };
        self.minter = Minter::new(ctx.id(), ctx.incarnation());
        // Begin with an exchange: a restarted node catches up at once.
        self.anti_entropy(ctx);
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        let item = Item {
            id: self.minter.mint(),
            value,
        };
        let keeper = match self.tree.parent.clone() {
            Some(parent) => Some(parent),
            None => self.random_peer(ctx),
        };
        let Some(keeper) = keeper else {
            // A single node: nobody else to hold it.
            self.accept(ctx, &item, None);
            ctx.reply(&request, &Payload::BroadcastOk);
            return;
        };
        // The keeper gets it in the `store`; the other neighbours through pushes.
        self.accept(ctx, &item, Some(&keeper));
        ctx.send(
            &keeper,
            &Gossip::Store {
                items: vec![item.clone()],
            },
        );
        self.waiting.insert(
            item.id.clone(),
            Waiting {
                request,
                item,
                asked_at: ctx.now(),
            },
        );
        self.arm_push(ctx);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        match msg.body.kind() {
            "push" | "store" => match msg.body.parse_custom::<Gossip>() {
                Ok(Gossip::Push { items, acks }) => {
                    for item in &items {
                        self.accept(ctx, item, Some(&msg.src));
                    }
                    for id in acks {
                        if let Some(waiting) = self.waiting.remove(&id) {
                            ctx.reply(&waiting.request, &Payload::BroadcastOk);
                        }
                    }
                }
                Ok(Gossip::Store { items }) => {
                    for item in &items {
                        self.accept(ctx, item, Some(&msg.src));
                        self.owed
                            .entry(msg.src.clone())
                            .or_default()
                            .push(item.id.clone());
                    }
                    self.arm_push(ctx);
                }
                Err(err) => ctx.log(format!(
                    "ignoring a malformed {} from {}: {err}",
                    msg.body.kind(),
                    msg.src
                )),
            },
            kind if anti_entropy::KINDS.contains(&kind) => self.on_anti_entropy(ctx, &msg),
            _ => ctx.not_supported(&msg),
        }
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.push_timer.map(|(id, _)| id) == Some(timer) {
            self.push_timer = None;
            self.push(ctx);
            self.arm_push(ctx);
        } else if self.anti_entropy_timer == Some(timer) {
            self.anti_entropy(ctx);
        }
    }

    fn delivered(&self) -> &Delivered {
        self.received.delivered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn the_default_tree_of_25_nodes_is_a_star() {
        let nodes = ids(25);
        let root = Tree::new(&nodes, "n0", 24);
        assert_eq!(root.parent, None);
        assert_eq!(root.children.len(), 24);
        let leaf = Tree::new(&nodes, "n17", 24);
        assert_eq!(leaf.parent.as_deref(), Some("n0"));
        assert!(leaf.children.is_empty());
    }

    #[test]
    fn a_binary_tree_links_parents_and_children() {
        let nodes = ids(6);
        assert_eq!(Tree::new(&nodes, "n1", 2).children, vec!["n3", "n4"]);
        assert_eq!(Tree::new(&nodes, "n4", 2).parent.as_deref(), Some("n1"));
        assert_eq!(Tree::new(&nodes, "n2", 2).children, vec!["n5"]);
        assert!(Tree::new(&nodes, "n9", 2).neighbours().next().is_none());
    }
}

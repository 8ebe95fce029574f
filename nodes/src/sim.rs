//! An in-process cluster under virtual time: the same [`Node`]s as the real binaries, driven by
//! a discrete-event simulation instead of processes and pipes.
//!
//! Every message between nodes goes through the harness's network model, [`netmodel::Network`]:
//! it draws the message's latency from the cluster's seed (so one seed is one interleaving and
//! different seeds are different interleavings), loses or duplicates it when those faults are
//! on, and checks partitions at delivery, exactly as for a run of the harness. Partitions,
//! message loss and duplication, crashes and restarts are available, so scripted and property
//! tests can check what a node does under the faults of the course's system models. Messages
//! addressed to anything that is not a node (clients `c…`) are collected in
//! [`Cluster::client_inbox`].
//!
//! Each node has stable storage ([`crate::storage`]): its writes take effect at the end of the
//! event that made them, before any of the event's messages is delivered, so a crash, which
//! happens between events, loses exactly what was not yet persisted. A restart hands the node
//! what its storage holds; [`Cluster::wipe`] empties it first (a replaced disk).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use netmodel::{Grudge, Latency, LatencyDist, Network};
use proto::{Body, Message, Payload};
use serde::Serialize;

use crate::ctx::Effect;
use crate::node::Node;
use crate::runtime::Runtime;
use crate::storage::Stable;

/// A message on its way, ordered by delivery time and then by send order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Duration,
    seq: u64,
    line: String,
}

/// A simulated cluster of nodes `n0 .. n{N-1}`.
pub struct Cluster<N> {
    make: Box<dyn Fn(&str) -> N>,
    nodes: BTreeMap<String, Option<Runtime<N>>>,
    incarnations: BTreeMap<String, u64>,
    /// Each node's stable storage; it survives crashes.
    disks: BTreeMap<String, Stable>,
    node_ids: Vec<String>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    now: Duration,
    seed: u64,
    /// Every message's fate: latency, loss, duplication, and partitions at delivery.
    network: Network,
    /// For each node, the nodes it does not hear from: every cut made since the last heal.
    grudge: Grudge,
    next_client_msg: u64,
    /// Every message sent to a non-node, in the order sent.
    pub client_inbox: Vec<Message>,
    /// Node-to-node messages sent so far.
    pub messages_sent: u64,
    /// Each node's wall-clock offset from virtual time, in nanoseconds, when one was set
    /// ([`Cluster::set_clock_offset`]).
    clock_offsets: BTreeMap<String, i64>,
}

impl<N: Node> Cluster<N> {
    /// `count` nodes built by `make` (given each node's id), initialised, with latencies
    /// uniform in `[0, max_latency]` (the network's uniform distribution with mean
    /// `max_latency / 2`). Init replies land in the client inbox and are cleared.
    pub fn new(
        count: usize,
        seed: u64,
        max_latency: Duration,
        make: impl Fn(&str) -> N + 'static,
    ) -> Self {
        let node_ids: Vec<String> = (0..count).map(|i| format!("n{i}")).collect();
        let mut cluster = Cluster {
            make: Box::new(make),
            nodes: BTreeMap::new(),
            incarnations: BTreeMap::new(),
            disks: BTreeMap::new(),
            node_ids: node_ids.clone(),
            queue: BinaryHeap::new(),
            seq: 0,
            now: Duration::ZERO,
            seed,
            network: Network::new(
                &node_ids,
                Latency::new(LatencyDist::Uniform, max_latency / 2),
                seed,
            ),
            grudge: Grudge::new(),
            next_client_msg: 0,
            client_inbox: Vec::new(),
            messages_sent: 0,
            clock_offsets: BTreeMap::new(),
        };
        for id in &node_ids {
            cluster.start(id);
        }
        cluster.client_inbox.clear();
        cluster
    }

    fn start(&mut self, id: &str) {
        let incarnation = self.incarnations.entry(id.to_owned()).or_insert(0);
        *incarnation += 1;
        let stable = self.disks.get(id).cloned().unwrap_or_default();
        let mut runtime = Runtime::new((self.make)(id), self.seed, *incarnation).recovering(stable);
        let init = Message::new(
            "c-init",
            id,
            Body {
                msg_id: Some(0),
                in_reply_to: None,
                payload: Payload::Init {
                    node_id: id.to_owned(),
                    node_ids: self.node_ids.clone(),
                },
            },
        );
        let effects = runtime.handle_message(self.now, init);
        self.nodes.insert(id.to_owned(), Some(runtime));
        self.dispatch(id, effects);
    }

    /// Set node `id`'s wall clock ([`crate::Ctx::wall_clock`]) to virtual time plus
    /// `offset_ns` (behind when negative) from now on: a skewed physical clock.
    pub fn set_clock_offset(&mut self, id: &str, offset_ns: i64) {
        self.clock_offsets.insert(id.to_owned(), offset_ns);
    }

    /// What node `id`'s wall clock reads now, if it was set.
    fn wall_clock(&self, id: &str) -> Option<Duration> {
        let offset = *self.clock_offsets.get(id)?;
        let true_time = crate::WALL_CLOCK_EPOCH + self.now;
        let by = Duration::from_nanos(offset.unsigned_abs());
        Some(if offset >= 0 {
            true_time + by
        } else {
            true_time.saturating_sub(by)
        })
    }

    /// Virtual time now.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The node `id`'s runtime (None while crashed).
    pub fn node(&self, id: &str) -> Option<&N> {
        self.nodes.get(id)?.as_ref().map(Runtime::node)
    }

    /// Drop each node-to-node message with probability `p` (a fair-loss network).
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`.
    pub fn set_loss(&mut self, p: f64) {
        self.network.set_loss(p).expect("a loss probability");
    }

    /// Deliver each node-to-node message twice with probability `p` (each copy with its own
    /// latency, each checked against partitions at its delivery).
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`.
    pub fn set_duplicate(&mut self, p: f64) {
        self.network
            .set_duplicate(p)
            .expect("a duplication probability");
    }

    /// Cut every link between the two groups, both ways, adding to the cuts already made.
    /// Checked at delivery.
    ///
    /// # Panics
    /// If a group names an id that is not a node of the cluster.
    pub fn partition(&mut self, a: &[&str], b: &[&str]) {
        for (from, to) in [(a, b), (b, a)] {
            for dest in to {
                let deaf = self.grudge.entry((*dest).to_owned()).or_default();
                deaf.extend(from.iter().map(|src| (*src).to_owned()));
            }
        }
        self.network
            .partition(&self.grudge)
            .expect("partitions name nodes of the cluster");
    }

    /// Heal every partition.
    pub fn heal(&mut self) {
        self.grudge.clear();
        self.network.heal_partition();
    }

    /// Crash a node: its memory is gone and messages to it are lost until it restarts.
    pub fn crash(&mut self, id: &str) {
        self.nodes.insert(id.to_owned(), None);
    }

    /// Restart a crashed node with empty memory (its stable storage kept) and send it `init`
    /// again.
    pub fn restart(&mut self, id: &str) {
        self.start(id);
    }

    /// Empty a node's stable storage (a replaced disk). Crash it first: a running node keeps
    /// what it has in memory.
    pub fn wipe(&mut self, id: &str) {
        self.disks.remove(id);
    }

    /// What a node's stable storage holds.
    pub fn disk(&self, id: &str) -> Option<&Stable> {
        self.disks.get(id)
    }

    /// Send a request from client `client` to node `node`; returns its `msg_id`. Client links
    /// have no latency: it is handled at once.
    pub fn request<P: Serialize>(&mut self, client: &str, node: &str, payload: &P) -> u64 {
        let msg_id = self.next_client_msg;
        self.next_client_msg += 1;
        let payload = Payload::custom(payload).expect("request payload serializes");
        let msg = Message::new(
            client,
            node,
            Body {
                msg_id: Some(msg_id),
                in_reply_to: None,
                payload,
            },
        );
        self.deliver(msg);
        msg_id
    }

    /// The reply a client got to `msg_id`, if any.
    pub fn reply_to(&self, client: &str, msg_id: u64) -> Option<&Message> {
        self.client_inbox
            .iter()
            .find(|m| m.dest == client && m.body.in_reply_to == Some(msg_id))
    }

    /// Carry out the effects of one event of node `from`: its writes first (the event's
    /// messages leave only once they are durable), then its messages.
    fn dispatch(&mut self, from: &str, effects: Vec<Effect>) {
        for effect in &effects {
            if let Effect::Persist(write) = effect {
                self.disks.entry(from.to_owned()).or_default().apply(write);
            }
        }
        for effect in effects {
            let Effect::Send(msg) = effect else { continue };
            if self.nodes.contains_key(&msg.dest) {
                self.messages_sent += 1;
                let sent_at = nanos(self.now);
                let fate = self.network.route_ids(&msg.src, &msg.dest, sent_at);
                let line = proto::to_line(&msg);
                for at in fate.deliveries() {
                    self.seq += 1;
                    self.queue.push(Reverse(InFlight {
                        at: Duration::from_nanos(at),
                        seq: self.seq,
                        line: line.clone(),
                    }));
                }
            } else {
                self.client_inbox.push(msg);
            }
        }
    }

    fn deliver(&mut self, msg: Message) {
        let now = self.now;
        let wall = self.wall_clock(&msg.dest);
        let Some(Some(runtime)) = self.nodes.get_mut(&msg.dest) else {
            return;
        };
        if let Some(wall) = wall {
            runtime.set_wall_clock(wall);
        }
        let dest = msg.dest.clone();
        let effects = runtime.handle_message(now, msg);
        self.dispatch(&dest, effects);
    }

    /// The time of the next event: a message delivery or a node's timer.
    fn next_event(&self) -> Option<Duration> {
        let msg = self.queue.peek().map(|Reverse(m)| m.at);
        let timer = self
            .nodes
            .values()
            .filter_map(|r| r.as_ref()?.next_deadline())
            .min();
        match (msg, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Run one event (the earliest). Returns false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(at);
        if self.queue.peek().is_some_and(|Reverse(m)| m.at <= at) {
            let Reverse(item) = self.queue.pop().expect("peeked");
            let msg = proto::parse_line(&item.line).expect("simulated messages parse");
            if self.network.blocked_ids(&msg.src, &msg.dest) {
                return true;
            }
            self.deliver(msg);
        } else {
            let now = self.now;
            let ids: Vec<String> = self.nodes.keys().cloned().collect();
            for id in ids {
                let wall = self.wall_clock(&id);
                if let Some(Some(runtime)) = self.nodes.get_mut(&id)
                    && runtime.next_deadline().is_some_and(|d| d <= now)
                {
                    if let Some(wall) = wall {
                        runtime.set_wall_clock(wall);
                    }
                    let effects = runtime.advance(now);
                    self.dispatch(&id, effects);
                }
            }
        }
        true
    }

    /// Run events until virtual time passes `now + span`, or nothing is left to do.
    pub fn run_for(&mut self, span: Duration) {
        let until = self.now + span;
        while self.next_event().is_some_and(|at| at <= until) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Run until no message is in flight and no timer is set, or `max_steps` events ran.
    /// Returns true if the cluster became quiet.
    pub fn run_until_quiet(&mut self, max_steps: usize) -> bool {
        for _ in 0..max_steps {
            if !self.step() {
                return true;
            }
        }
        false
    }
}

/// A virtual time in the network model's unit: nanoseconds since the start (saturating).
fn nanos(t: Duration) -> u64 {
    u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)
}

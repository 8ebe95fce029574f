//! A broadcast node of one's own, as a Gossip Glomers student writes it, on the sans-IO
//! [`nodes::Node`] trait: the simulator drives it, so `cargo test` can run it under faults.
//!
//! **Flooding.** A value a node learns for the first time (from a client's `broadcast` or a
//! neighbour's `gossip`) is written to stable storage, then sent to every neighbour of the
//! `topology` message (every other node before one arrives, and after a restart).
//!
//! **Retries** ([`Flood::new`]): the node remembers, per neighbour, the values that neighbour has
//! not acknowledged (`gossip_ok`), and sends them again every [`RETRY`] until it does. A lost
//! message, a partition or a paused neighbour only delays a value. After a restart the node
//! reads its values back and floods them all again, since what its neighbours had not yet
//! acknowledged was in memory.
//!
//! **The naive variant** ([`Flood::naive`]) sends each value once and forgets it: one lost
//! message or one partition and a value never reaches part of the cluster. The tests show
//! exploration finding that, and shrinking it to a small command.
//!
//! **In a test** (the sample of the repository's README, compiled here as a doctest):
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use runner::simulation::Simulation;
//! use sim_own_node::Flood;
//!
//! // One seed: the verdict comes back, the run's files go to the store.
//! let run = Simulation::new("broadcast")
//!     .node("flood", Flood::new) // makes a fresh node at start and at every restart
//!     .store(std::env::temp_dir().join("my-runs"))
//!     .node_count(5)
//!     .nemesis("partition,kill,loss")
//!     .seed(7)
//!     .run()?;
//! assert!(run.valid(), "{}\nreplay: {}", run.headline(), run.command);
//!
//! // Many seeds, each drawing its own shape; the first failure, shrunk.
//! let found = Simulation::new("broadcast")
//!     .node("flood-naive", Flood::naive)
//!     .explore(100)?;
//! let failure = &found.failures[0];
//! println!("seed {} fails: {}", failure.seed, failure.headline);
//!
//! // Replay a failure from the command exploration printed (or the shrunk one).
//! let (command, _dir, _runs) = found.shrunk.as_ref().unwrap();
//! let again = Simulation::new("broadcast")
//!     .node("flood-naive", Flood::naive)
//!     .replay(command)
//!     .run()?;
//! assert!(!again.valid());
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nodes::{Ctx, Node, TimerId};
use proto::{ErrorCode, Message, Payload};
use serde::{Deserialize, Serialize};

/// How often unacknowledged values are sent again.
pub const RETRY: Duration = Duration::from_millis(300);

/// The stable log that holds every value this node has learnt.
const LOG: &str = "values";

/// The node's own messages between nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Peer {
    /// These values are new to you, perhaps.
    Gossip { values: Vec<u64> },
    /// I have these values (on stable storage).
    GossipOk { values: Vec<u64> },
}

/// The broadcast node: flooding, with or without retries.
#[derive(Debug)]
pub struct Flood {
    retry: bool,
    /// Values in the order this node learnt them (what `read` answers).
    values: Vec<u64>,
    seen: BTreeSet<u64>,
    /// The `topology` message's neighbours of this node (None: not given, every peer).
    neighbours: Option<Vec<String>>,
    /// Per neighbour, the values it has not acknowledged yet (only with retries).
    unacked: BTreeMap<String, BTreeSet<u64>>,
    timer: Option<TimerId>,
}

impl Default for Flood {
    fn default() -> Self {
        Flood::new()
    }
}

impl Flood {
    /// The correct node: retries until every neighbour acknowledges every value.
    pub fn new() -> Self {
        Flood {
            retry: true,
            values: Vec::new(),
            seen: BTreeSet::new(),
            neighbours: None,
            unacked: BTreeMap::new(),
            timer: None,
        }
    }

    /// The naive node: each value is sent once to each neighbour, and never again.
    pub fn naive() -> Self {
        Flood {
            retry: false,
            ..Flood::new()
        }
    }

    fn neighbours(&self, ctx: &Ctx) -> Vec<String> {
        match &self.neighbours {
            Some(list) => list.clone(),
            None => ctx.peers().map(str::to_owned).collect(),
        }
    }

    /// Keep `value` if it is new (on disk first), and flood it to every neighbour but `from`.
    fn learn(&mut self, ctx: &mut Ctx, value: u64, from: Option<&str>) {
        if !self.seen.insert(value) {
            return;
        }
        ctx.persist(LOG, &value);
        self.values.push(value);
        for peer in self.neighbours(ctx) {
            if Some(peer.as_str()) == from {
                continue;
            }
            if self.retry {
                self.unacked.entry(peer.clone()).or_default().insert(value);
            }
            ctx.send(
                &peer,
                &Peer::Gossip {
                    values: vec![value],
                },
            );
        }
    }

    /// Send every neighbour what it has not acknowledged, in one message.
    fn resend(&mut self, ctx: &mut Ctx) {
        for (peer, values) in &self.unacked {
            if !values.is_empty() {
                let values = values.iter().copied().collect();
                ctx.send(peer, &Peer::Gossip { values });
            }
        }
    }
}

impl Node for Flood {
    fn on_init(&mut self, ctx: &mut Ctx) {
        // A restart: what was learnt before is on disk; flood it all again.
        let recovered: Vec<u64> = ctx.take_recovered().decode(LOG);
        for value in &recovered {
            if self.seen.insert(*value) {
                self.values.push(*value);
            }
        }
        if self.retry {
            for peer in self.neighbours(ctx) {
                self.unacked
                    .entry(peer)
                    .or_default()
                    .extend(self.values.iter().copied());
            }
            self.timer = Some(ctx.set_timer(RETRY));
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.timer == Some(timer) {
            self.resend(ctx);
            self.timer = Some(ctx.set_timer(RETRY));
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        match &msg.body.payload {
            Payload::Topology { topology } => {
                self.neighbours = topology.get(ctx.id()).cloned();
                ctx.reply(&msg, &Payload::TopologyOk);
            }
            Payload::Broadcast { message } => match message.as_u64() {
                Some(value) => {
                    self.learn(ctx, value, None);
                    ctx.reply(&msg, &Payload::BroadcastOk);
                }
                None => ctx.reply_error(
                    &msg,
                    ErrorCode::MalformedRequest,
                    "this node broadcasts non-negative integers",
                ),
            },
            Payload::Read { key: None } => {
                let messages = self.values.iter().map(|v| (*v).into()).collect();
                ctx.reply(
                    &msg,
                    &Payload::ReadOk {
                        messages: Some(messages),
                        value: None,
                    },
                );
            }
            _ => match msg.body.parse_custom::<Peer>() {
                Ok(Peer::Gossip { values }) => {
                    for value in &values {
                        self.learn(ctx, *value, Some(&msg.src));
                    }
                    // Acknowledge all of them, the ones already known too: the sender's
                    // earlier acknowledgement may have been lost.
                    ctx.send(&msg.src, &Peer::GossipOk { values });
                }
                Ok(Peer::GossipOk { values }) => {
                    if let Some(waiting) = self.unacked.get_mut(&msg.src) {
                        for value in values {
                            waiting.remove(&value);
                        }
                    }
                }
                Err(_) => ctx.not_supported(&msg),
            },
        }
    }
}

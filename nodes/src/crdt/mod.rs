//! State-based CRDTs (the course's 8.1, "Collaboration software": replicas that accept updates
//! locally and converge by merging states), each a node of the `g-set` or `pn-counter`
//! workload, and the two classic ways to get the merge wrong.
//!
//! | binary | module | workload | merge | converges |
//! |---|---|---|---|---|
//! | `g-set` | [`g_set`] | g-set | union | yes |
//! | `g-set-lossy` | [`g_set_lossy`] | g-set | the peer's set replaces this node's | no: elements lost |
//! | `pn-counter` | [`pn_counter`] | pn-counter | per-entry maximum | yes |
//! | `pn-counter-double-count` | [`pn_counter_double_count`] | pn-counter | adds the sender's counts | no: final reads out of range |
//!
//! Apart from the table, [`g_counter_double_count`] (`g-counter-double-count`, g-counter
//! workload) is not a [`Replica`]: it forwards each add as a delta instead of gossiping its
//! state, and counts a duplicated forward twice.
//!
//! Every one is the same node, [`Replica`], around a different [`Crdt`]: the node applies a
//! client's `add` to its own state at once and acknowledges it, answers a `read` from its own
//! state, and every `--interval-ms` sends its whole state to every other node in a `gossip`;
//! a node that receives one merges it into its own. The modules say what each state is and
//! what its merge does.
//!
//! **Why the correct ones converge.** Their merge is a join: commutative, associative and
//! idempotent, and an add only moves the state up. So it does not matter in which order
//! gossips arrive, how often the same one arrives, or that some are lost: once every node has
//! merged (directly or through others) a state of every other node taken after its last add,
//! all hold the same state. Gossip never stops, so after a partition heals that takes one
//! interval plus a network delay.
//!
//! **Stable storage.** What changed in an event (the added element or count, the part of a
//! gossiped state that was new) is appended to the log `state` before the event's messages
//! leave, so an `add_ok` and every read speak only of what is on disk; a restart joins the
//! log's records back into one state (the correct join, for every variant), and the log is
//! replaced by that single state every [`COMPACT_AFTER`] records.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::Duration;

use proto::{ErrorCode, Message, Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::flags::Flags;
use crate::node::{Node, TimerId};

pub mod g_counter_double_count;
pub mod g_set;
pub mod g_set_lossy;
pub mod pn_counter;
pub mod pn_counter_double_count;

/// A state-based CRDT: its state, a client's add, the merge of a peer's state, and the read.
pub trait Crdt {
    /// The replicated state, as gossiped and persisted. `Default` is the empty state.
    type State: Debug + Clone + Default + PartialEq + Serialize + DeserializeOwned;

    /// Apply a client's `add` at replica `replica` (this node's name in the state). Returns
    /// the part of the state that changed (the default state when nothing did), or why the
    /// request is malformed for this CRDT (a g-set's `add` needs an `element`, a counter's a
    /// `delta`).
    fn add(state: &mut Self::State, replica: &str, add: &Payload) -> Result<Self::State, String>;

    /// Merge `peer`, the state gossiped by replica `from`, into this replica's (`replica`).
    /// Returns the part of the state that changed, None when nothing did.
    fn merge(
        state: &mut Self::State,
        replica: &str,
        from: &str,
        peer: Self::State,
    ) -> Option<Self::State>;

    /// Join a record of stable storage back into the state at a restart: the CRDT's join,
    /// whatever [`Crdt::merge`] does.
    fn restore(state: &mut Self::State, record: Self::State);

    /// The `value` of a `read_ok`.
    fn read(state: &Self::State) -> Value;
}

/// The stable log of the state's changes.
pub const LOG: &str = "state";
/// The stable log that holds this node's replica name.
pub const REPLICA_LOG: &str = "replica";
/// The `state` log is compacted into one record once it holds this many.
pub const COMPACT_AFTER: usize = 256;

/// The settings of a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// How often each node sends its whole state to every other node.
    pub interval: Duration,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        ReplicaConfig {
            interval: Duration::from_millis(200),
        }
    }
}

impl ReplicaConfig {
    /// The flags a CRDT node program takes.
    pub const FLAGS: [crate::flags::Flag; 1] = [crate::flags::Flag {
        name: "interval-ms",
        value: "N",
        what: "how often the replica sends its state to every peer, in ms",
        default: || crate::flags::ms_default(ReplicaConfig::default().interval),
    }];

    /// The settings from a node program's flags: `--interval-ms N` (gossip interval, default
    /// 200).
    pub fn from_flags(flags: &Flags) -> Result<ReplicaConfig, String> {
        let defaults = ReplicaConfig::default();
        Ok(ReplicaConfig {
            interval: flags.ms("interval-ms", defaults.interval)?,
        })
    }
}

/// A gossip as sent: the sender's replica name and its whole state.
#[derive(Serialize)]
struct GossipOut<'a, S> {
    #[serde(rename = "type")]
    kind: &'static str,
    replica: &'a str,
    state: &'a S,
}

/// A gossip as received.
#[derive(Deserialize)]
struct GossipIn<S> {
    replica: String,
    state: S,
}

/// The `type` of the gossip between replicas.
const GOSSIP: &str = "gossip";

/// A node that holds one replica of the CRDT `C`.
#[derive(Debug)]
pub struct Replica<C: Crdt> {
    config: ReplicaConfig,
    state: C::State,
    /// This node's name in the state: its id and the incarnation that first started with an
    /// empty disk, so that a node whose disk was wiped counts under a new name and never below
    /// what the others hold for its old one.
    replica: String,
    /// Records in the `state` log since it was last compacted.
    logged: usize,
    crdt: PhantomData<C>,
}

impl<C: Crdt> Replica<C> {
    /// A replica with the given settings.
    pub fn new(config: ReplicaConfig) -> Self {
        Replica {
            config,
            state: C::State::default(),
            replica: String::new(),
            logged: 0,
            crdt: PhantomData,
        }
    }

    /// Put `changed` on stable storage (nothing when it is empty); compact the log when it is
    /// long.
    fn persist(&mut self, ctx: &mut Ctx, changed: &C::State) {
        if *changed == C::State::default() {
            return;
        }
        if self.logged >= COMPACT_AFTER {
            ctx.persist_all(LOG, std::slice::from_ref(&self.state));
            self.logged = 1;
        } else {
            ctx.persist(LOG, changed);
            self.logged += 1;
        }
    }

    fn gossip(&self, ctx: &mut Ctx) {
        let gossip = GossipOut {
            kind: GOSSIP,
            replica: &self.replica,
            state: &self.state,
        };
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in &peers {
            ctx.send(peer, &gossip);
        }
    }
}

impl<C: Crdt> Default for Replica<C> {
    fn default() -> Self {
        Replica::new(ReplicaConfig::default())
    }
}

impl<C: Crdt> Node for Replica<C> {
    fn on_init(&mut self, ctx: &mut Ctx) {
        let recovered = ctx.take_recovered();
        let records: Vec<C::State> = recovered.decode(LOG);
        self.logged = records.len();
        for record in records {
            C::restore(&mut self.state, record);
        }
        match recovered.decode::<String>(REPLICA_LOG).pop() {
            Some(replica) => self.replica = replica,
            None => {
                self.replica = format!("{}-{:x}", ctx.id(), ctx.incarnation());
                ctx.persist(REPLICA_LOG, &self.replica);
            }
        }
        ctx.set_timer(self.config.interval);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if msg.body.in_reply_to.is_some() {
            return;
        }
        match &msg.body.payload {
            Payload::Add { .. } => {
                match C::add(&mut self.state, &self.replica, &msg.body.payload) {
                    Ok(changed) => {
                        self.persist(ctx, &changed);
                        ctx.reply(&msg, &Payload::AddOk);
                    }
                    Err(why) => ctx.reply_error(&msg, ErrorCode::MalformedRequest, why),
                }
            }
            Payload::Read { .. } => ctx.reply(
                &msg,
                &Payload::ReadOk {
                    messages: None,
                    value: Some(C::read(&self.state)),
                },
            ),
            Payload::Raw(raw) if raw.kind == GOSSIP => {
                match msg.body.parse_custom::<GossipIn<C::State>>() {
                    Ok(gossip) => {
                        if let Some(changed) = C::merge(
                            &mut self.state,
                            &self.replica,
                            &gossip.replica,
                            gossip.state,
                        ) {
                            self.persist(ctx, &changed);
                        }
                    }
                    Err(err) => ctx.log(format!("unreadable gossip from {}: {err}", msg.src)),
                }
            }
            _ => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _timer: TimerId) {
        self.gossip(ctx);
        ctx.set_timer(self.config.interval);
    }
}

//! `kv-gossip`: local reads and writes, replicated by gossip with last-writer-wins. Eventually
//! consistent (the course's 7.3), **not** linearizable (7.2). With `--stamps wall` (the
//! catalog's `kv-gossip-wall-clock`) it is the same store stamped by physical clocks, a
//! planted bug: it loses writes when clocks are skewed.
//!
//! **Algorithm.** Each node answers every `read`, `write` and `cas` at once from its own copy
//! of the store ([`Store`]). A write, or a cas that succeeds, stamps the key; the stamp is
//! paired with the node id to break ties, so the stamps of all writes are totally ordered:
//!
//! - `--stamps lamport` (the default): the node's Lamport clock (the course's 3.3), which
//!   observes every stamp the node receives;
//! - `--stamps wall`: the node's wall clock (3.1, [`Ctx::wall_clock`]) in nanoseconds since
//!   the epoch, as Cassandra stamps a write with its coordinator's time of day.
//!
//! A node keeps a value only if its stamp beats the one it holds: the last-writer-wins register
//! of the course's 5.1 ("reconciling replicas"). A write whose stamp does not beat the key's
//! current one is acknowledged and discarded at once (a Lamport stamp always beats it, since
//! the clock has observed every stamp the node holds). Every `--interval-ms` a node pushes the
//! keys it changed since its last push to every peer, and every `--anti-entropy-ms` it sends
//! its whole state to one random peer, which repairs what a partition or a lost message kept
//! away.
//!
//! **What it guarantees.** Convergence: once the writes stop and gossip has reached every node,
//! all nodes hold, for each key, the value with the highest stamp, whatever the order in which
//! updates arrived (taking the maximum is commutative, associative and idempotent). It is
//! always available: a partition never stops a node from answering. Lamport stamps are
//! consistent with causality: a write made after its client saw another write (wrote it, or
//! read it at this node) gets a higher stamp, so last-writer-wins never lets the earlier one
//! win. Wall-clock stamps are not: a node whose clock is behind stamps a write that causally
//! follows another with a *smaller* time, and last-writer-wins silently keeps the earlier write
//! (and a node whose clock is ahead makes its writes win over later ones until true time
//! catches up). The `lww-register` workload catches such a lost write and names the skew.
//!
//! **When it acknowledges.** At once, after the node appended the value to its stable log.
//!
//! **Topology.** Every node pushes to every other; anti-entropy picks a random peer.
//!
//! **Why it is not linearizable.** A read is served from local state, so after a write is
//! acknowledged at one node, a read at another node that gossip has not reached yet returns
//! the old value, although the write completed before the read began (a stale read). A `cas`
//! checks only the local copy: two nodes can both see `from` and both succeed, and then
//! last-writer-wins keeps one `to` and silently drops the other: a lost update that no single
//! copy could produce. A stamp orders writes by causality (or, with wall clocks, by what the
//! clocks said), not by real time, so even the order it settles on may put a write that
//! finished first after one that began later.
//!
//! **Partition.** Both sides keep answering; when it heals, anti-entropy brings each side the
//! other's writes and the higher stamps win.
//!
//! **Crash.** Every value a node keeps (its own writes and the newer values gossip brings) is
//! appended to its stable log `versions` before the node answers or gossips it; a restarted
//! node merges the log back before it serves (its Lamport clock observing every stamp), so it
//! never forgets an acknowledged write. A wiped node comes back empty and catches up by
//! anti-entropy: its own writes that no peer had received yet are lost.
//!
//! **Cost.** No message on the critical path; one push per interval to each peer while keys
//! change, and one anti-entropy message per node per anti-entropy interval.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proto::{Message, Payload};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::LamportClock;
use crate::ctx::Ctx;
use crate::kv::store::{KvOp, Store, key_id};
use crate::node::{Node, TimerId};

/// The stable log of the values a node keeps.
const VERSIONS: &str = "versions";

/// Settings of the node.
#[derive(Debug, Clone, Copy)]
pub struct GossipKvConfig {
    /// Time between two pushes of changed keys to every peer.
    pub interval: Duration,
    /// Time between two whole-state exchanges with one random peer.
    pub anti_entropy: Duration,
    /// What stamps a write.
    pub stamps: Stamps,
}

/// What stamps a write (`--stamps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stamps {
    /// The node's Lamport clock: consistent with causality.
    #[default]
    Lamport,
    /// The node's wall clock, in nanoseconds since the epoch: wrong when clocks are skewed.
    Wall,
}

impl Stamps {
    /// The name `--stamps` takes.
    pub fn name(self) -> &'static str {
        match self {
            Stamps::Lamport => "lamport",
            Stamps::Wall => "wall",
        }
    }
}

impl std::str::FromStr for Stamps {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lamport" => Ok(Stamps::Lamport),
            "wall" => Ok(Stamps::Wall),
            other => Err(format!("--stamps takes lamport or wall, not {other:?}")),
        }
    }
}

impl Default for GossipKvConfig {
    fn default() -> Self {
        GossipKvConfig {
            interval: Duration::from_millis(100),
            anti_entropy: Duration::from_millis(1000),
            stamps: Stamps::Lamport,
        }
    }
}

/// The stamp of a key's value: a Lamport timestamp (or, with [`Stamps::Wall`], the writer's
/// wall clock in nanoseconds since the epoch) and the node that wrote it. Ordered by
/// timestamp, then node id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp {
    pub ts: u64,
    pub node: String,
}

/// One key's value as gossip carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned {
    pub key: Value,
    pub value: Value,
    pub ts: u64,
    pub node: String,
}

/// Peer messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Peer {
    /// Values to merge, last writer wins.
    KvGossip { entries: Vec<Versioned> },
}

/// The node.
#[derive(Debug)]
pub struct GossipKv {
    config: GossipKvConfig,
    clock: LamportClock,
    store: Store,
    /// Each written key's stamp, by the key's JSON text (as [`Store`] keys them).
    stamps: BTreeMap<String, (Value, Stamp)>,
    /// Keys changed here since the last push.
    dirty: BTreeSet<String>,
    push_timer: Option<TimerId>,
    anti_entropy_timer: Option<TimerId>,
}

impl GossipKv {
    /// A node with the given settings.
    pub fn new(config: GossipKvConfig) -> Self {
        GossipKv {
            config,
            clock: LamportClock::new(),
            store: Store::default(),
            stamps: BTreeMap::new(),
            dirty: BTreeSet::new(),
            push_timer: None,
            anti_entropy_timer: None,
        }
    }

    /// This node's copy of the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The stamp of `key`'s value here, if it was ever written.
    pub fn stamp(&self, key: &Value) -> Option<&Stamp> {
        self.stamps.get(&key.to_string()).map(|(_, s)| s)
    }

    fn versioned(&self, name: &str) -> Option<Versioned> {
        let (key, stamp) = self.stamps.get(name)?;
        Some(Versioned {
            key: key.clone(),
            value: self.store.get(key).cloned().unwrap_or(Value::Null),
            ts: stamp.ts,
            node: stamp.node.clone(),
        })
    }

    /// The stamp of a write at this node now: a Lamport tick, or the wall clock.
    fn next_stamp(&mut self, ctx: &Ctx) -> Stamp {
        let ts = match self.config.stamps {
            Stamps::Lamport => self.clock.tick(),
            Stamps::Wall => u64::try_from(ctx.wall_clock().as_nanos()).unwrap_or(u64::MAX),
        };
        Stamp {
            ts,
            node: ctx.id().to_owned(),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx, request: &Message, op: &KvOp) {
        let name = key_id(op.key());
        // A wall-clock stamp is drawn before the op: one that does not beat the key's current
        // stamp loses at once. (A Lamport stamp always beats it; it is drawn after, only for
        // an op that changes the key, so that reads and failed cas do not tick the clock.)
        let early = match self.config.stamps {
            Stamps::Wall if !op.is_read() => Some(self.next_stamp(ctx)),
            _ => None,
        };
        if let Some(stamp) = &early
            && self
                .stamps
                .get(&name)
                .is_some_and(|(_, current)| stamp <= current)
        {
            // Last writer wins: the key holds a value with a higher stamp, so this write is
            // acknowledged (the op's own answer) and discarded.
            let answer = op.apply(self.store.get(op.key())).reply;
            ctx.reply(request, &answer);
            return;
        }
        let answer = self.store.apply(op);
        let changed = matches!(answer, Payload::WriteOk | Payload::CasOk);
        if changed {
            let stamp = match early {
                Some(stamp) => stamp,
                None => self.next_stamp(ctx),
            };
            self.stamps.insert(name.clone(), (op.key().clone(), stamp));
            if let Some(version) = self.versioned(&name) {
                ctx.persist(VERSIONS, &version);
            }
            self.dirty.insert(name);
        }
        ctx.reply(request, &answer);
    }

    /// Merge gossiped values: keep (and persist) each one whose stamp beats ours.
    fn merge(&mut self, ctx: &mut Ctx, entries: Vec<Versioned>) {
        for entry in entries {
            if self.keep(entry.clone()) {
                ctx.persist(VERSIONS, &entry);
            }
        }
    }

    /// Keep `entry` if its stamp beats the key's current one. True if kept.
    fn keep(&mut self, entry: Versioned) -> bool {
        if self.config.stamps == Stamps::Lamport {
            self.clock.observe(entry.ts);
        }
        let stamp = Stamp {
            ts: entry.ts,
            node: entry.node,
        };
        let name = entry.key.to_string();
        let newer = self
            .stamps
            .get(&name)
            .is_none_or(|(_, current)| stamp > *current);
        if newer {
            self.store.set(&entry.key, entry.value);
            self.stamps.insert(name, (entry.key, stamp));
        }
        newer
    }

    fn push(&mut self, ctx: &mut Ctx) {
        let dirty = std::mem::take(&mut self.dirty);
        let entries: Vec<Versioned> = dirty.iter().filter_map(|n| self.versioned(n)).collect();
        if entries.is_empty() {
            return;
        }
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in peers {
            ctx.send(
                &peer,
                &Peer::KvGossip {
                    entries: entries.clone(),
                },
            );
        }
    }

    fn anti_entropy(&mut self, ctx: &mut Ctx) {
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        if peers.is_empty() || self.stamps.is_empty() {
            return;
        }
        let peer = peers[ctx.rng().random_range(0..peers.len())].clone();
        let entries: Vec<Versioned> = self
            .stamps
            .keys()
            .filter_map(|n| self.versioned(n))
            .collect();
        ctx.send(&peer, &Peer::KvGossip { entries });
    }
}

impl Default for GossipKv {
    fn default() -> Self {
        GossipKv::new(GossipKvConfig::default())
    }
}

impl Node for GossipKv {
    fn on_init(&mut self, ctx: &mut Ctx) {
        for version in ctx.take_recovered().decode::<Versioned>(VERSIONS) {
            self.keep(version);
        }
        self.push_timer = Some(ctx.set_timer(self.config.interval));
        self.anti_entropy_timer = Some(ctx.set_timer(self.config.anti_entropy));
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let is_request = msg.body.msg_id.is_some() && msg.body.in_reply_to.is_none();
        if let Some(op) = KvOp::from_request(&msg.body.payload)
            && is_request
        {
            self.on_request(ctx, &msg, &op);
            return;
        }
        match msg.body.parse_custom::<Peer>() {
            Ok(Peer::KvGossip { entries }) => self.merge(ctx, entries),
            Err(_) => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.push_timer == Some(timer) {
            self.push(ctx);
            self.push_timer = Some(ctx.set_timer(self.config.interval));
        } else if self.anti_entropy_timer == Some(timer) {
            self.anti_entropy(ctx);
            self.anti_entropy_timer = Some(ctx.set_timer(self.config.anti_entropy));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kv::tob::tests::{answer, read, read_value, write};
    use crate::sim::Cluster;

    fn cluster(seed: u64) -> Cluster<GossipKv> {
        Cluster::new(3, seed, Duration::from_millis(20), |_| GossipKv::default())
    }

    fn cas(key: u64, from: u64, to: u64) -> Value {
        json!({"type": "cas", "key": key, "from": from, "to": to})
    }

    #[test]
    fn answers_at_once_and_a_read_elsewhere_misses_the_write_until_gossip_arrives() {
        let mut c = cluster(1);
        let w = c.request("c1", "n0", &write(1, 4));
        // Answered without any network step.
        assert_eq!(c.reply_to("c1", w).unwrap().body.payload, Payload::WriteOk);
        let r = c.request("c2", "n1", &read(1));
        assert_eq!(
            c.reply_to("c2", r).unwrap().body.error_code(),
            Some(proto::ErrorCode::KeyDoesNotExist),
            "a stale read: the write completed before this read began"
        );
        c.run_for(Duration::from_millis(300));
        let r = c.request("c2", "n1", &read(1));
        assert_eq!(read_value(c.reply_to("c2", r).unwrap()), Some(json!(4)));
    }

    #[test]
    fn concurrent_cas_both_succeed_and_last_writer_wins_drops_one() {
        let mut c = cluster(2);
        let w = c.request("c1", "n0", &write(7, 0));
        answer(&mut c, "c1", w, Duration::ZERO).unwrap();
        c.run_for(Duration::from_millis(500));
        let a = c.request("c1", "n0", &cas(7, 0, 1));
        let b = c.request("c2", "n2", &cas(7, 0, 2));
        assert_eq!(c.reply_to("c1", a).unwrap().body.payload, Payload::CasOk);
        assert_eq!(c.reply_to("c2", b).unwrap().body.payload, Payload::CasOk);
        c.run_for(Duration::from_millis(500));
        let values: Vec<Option<&Value>> = ["n0", "n1", "n2"]
            .iter()
            .map(|n| c.node(n).unwrap().store().get(&json!(7)))
            .collect();
        // Converged on one of the two: n2's, whose clock had observed n0's write (a higher
        // stamp). n0's acknowledged cas is lost.
        assert_eq!(values, vec![Some(&json!(2)); 3]);
        assert_eq!(c.node("n1").unwrap().stamp(&json!(7)).unwrap().node, "n2");
    }

    #[test]
    fn replicas_converge_after_a_partition_heals() {
        let mut c = cluster(3);
        c.partition(&["n0"], &["n1", "n2"]);
        let a = c.request("c1", "n0", &write(2, 10));
        let b = c.request("c2", "n1", &write(2, 20));
        assert!(c.reply_to("c1", a).is_some() && c.reply_to("c2", b).is_some());
        c.run_for(Duration::from_secs(1));
        assert_eq!(
            c.node("n0").unwrap().store().get(&json!(2)),
            Some(&json!(10))
        );
        assert_eq!(
            c.node("n2").unwrap().store().get(&json!(2)),
            Some(&json!(20))
        );
        c.heal();
        // The pushes were lost; anti-entropy with random peers repairs it.
        c.run_for(Duration::from_secs(8));
        let winner = c.node("n0").unwrap().store().get(&json!(2)).cloned();
        assert_eq!(winner, Some(json!(20)), "same ts, n1 > n0");
        for n in ["n1", "n2"] {
            assert_eq!(c.node(n).unwrap().store().get(&json!(2)), winner.as_ref());
        }
    }

    #[test]
    fn a_restarted_node_keeps_its_acknowledged_writes() {
        let mut c = cluster(9);
        let w = c.request("c1", "n0", &json!({"type": "write", "key": 1, "value": 5}));
        c.run_for(Duration::from_millis(1));
        assert_eq!(c.reply_to("c1", w).unwrap().body.payload, Payload::WriteOk);
        c.crash("n0");
        c.restart("n0");
        let n0 = c.node("n0").unwrap();
        assert_eq!(n0.store().get(&json!(1)), Some(&json!(5)));
        assert_eq!(n0.stamp(&json!(1)).map(|s| s.node.as_str()), Some("n0"));
    }

    fn stamped(stamps: Stamps, seed: u64) -> Cluster<GossipKv> {
        Cluster::new(3, seed, Duration::from_millis(20), move |_| {
            GossipKv::new(GossipKvConfig {
                stamps,
                ..GossipKvConfig::default()
            })
        })
    }

    /// The course (5.1): last-writer-wins by wall-clock timestamps loses a write that
    /// causally follows another when the later writer's clock is behind; Lamport timestamps
    /// are consistent with causality, so the same store keeps it.
    fn write_after_reading_on_a_slow_clock(stamps: Stamps) -> Vec<Option<Value>> {
        let mut c = stamped(stamps, 4);
        c.set_clock_offset("n1", -3_000_000_000);
        let w = c.request("c1", "n0", &write(5, 1));
        assert_eq!(c.reply_to("c1", w).unwrap().body.payload, Payload::WriteOk);
        c.run_for(Duration::from_millis(300));
        // c2 reads 1 at n1, then writes 2: its write comes after 1, causally.
        let r = c.request("c2", "n1", &read(5));
        assert_eq!(read_value(c.reply_to("c2", r).unwrap()), Some(json!(1)));
        let w = c.request("c2", "n1", &write(5, 2));
        assert_eq!(c.reply_to("c2", w).unwrap().body.payload, Payload::WriteOk);
        c.run_for(Duration::from_secs(3));
        ["n0", "n1", "n2"]
            .iter()
            .map(|n| c.node(n).unwrap().store().get(&json!(5)).cloned())
            .collect()
    }

    #[test]
    fn lamport_stamps_keep_a_write_made_after_reading_another_on_a_slow_clock() {
        assert_eq!(
            write_after_reading_on_a_slow_clock(Stamps::Lamport),
            vec![Some(json!(2)); 3]
        );
    }

    #[test]
    fn wall_clock_stamps_lose_a_write_made_after_reading_another_on_a_slow_clock() {
        assert_eq!(
            write_after_reading_on_a_slow_clock(Stamps::Wall),
            vec![Some(json!(1)); 3],
            "the acknowledged write of 2 is discarded everywhere"
        );
    }

    #[test]
    fn stamps_are_named_as_the_flag_takes_them() {
        for stamps in [Stamps::Lamport, Stamps::Wall] {
            assert_eq!(stamps.name().parse::<Stamps>(), Ok(stamps));
        }
        assert!(
            "hlc"
                .parse::<Stamps>()
                .unwrap_err()
                .contains("lamport or wall")
        );
    }

    #[test]
    fn an_older_stamp_never_overwrites_a_newer_one() {
        let mut node = GossipKv::default();
        node.keep(Versioned {
            key: json!(1),
            value: json!(5),
            ts: 9,
            node: "n1".into(),
        });
        node.keep(Versioned {
            key: json!(1),
            value: json!(6),
            ts: 3,
            node: "n2".into(),
        });
        assert_eq!(node.store().get(&json!(1)), Some(&json!(5)));
        assert!(node.clock.time() > 9, "the clock observed the stamps");
    }
}

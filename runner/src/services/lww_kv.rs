//! `lww-kv`: an eventually consistent key-value store of several replicas that merge by
//! last-writer-wins (the course's 7.3 "Eventual consistency", with the Lamport timestamps of
//! 4.1 as the version order).
//!
//! Each request goes to one replica, drawn from the seed, and is answered from that replica
//! alone. A write (or a successful compare-and-set) is stamped with the replica's Lamport
//! timestamp `(counter, replica index)`: the replica's counter goes up by one first. Every
//! [`LwwKv::DEFAULT_ANTI_ENTROPY`] (100 ms) a random pair of replicas merges both ways
//! (anti-entropy): for each key the entry with the higher stamp wins, and each replica's
//! counter becomes the larger of the two, as a Lamport clock does on receipt. Once writes
//! stop, all replicas converge to the same state.
//!
//! What it costs, and what the service is for: a read may miss recent writes (it sees only
//! its replica), a compare-and-set may succeed against a stale value, and of two concurrent
//! writes to different replicas the one with the lower stamp is lost after the merge, even if
//! its client got `write_ok` and wrote later in real time. Maelstrom's `lww-kv` (two replicas,
//! a random merge on every request) behaves the same way.

use std::collections::BTreeMap;
use std::time::Duration;

use nodes::{Ctx, Node, TimerId};
use proto::Message;
use rand::Rng;
use serde_json::Value;

use super::kv::{KvOp, key_id};
use super::{answer, kv_request, parse_request};

/// A Lamport timestamp: the replica's counter, then the replica's index to break ties.
pub type Stamp = (u64, usize);

/// One replica's copy of the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    /// The replica's Lamport counter.
    pub clock: u64,
    /// Each key's value and the stamp of the write that put it there.
    pub entries: BTreeMap<String, (Stamp, Value)>,
}

impl Replica {
    /// Take every entry of `other` with a higher stamp, and the higher clock.
    pub fn merge_from(&mut self, other: &Replica) {
        self.clock = self.clock.max(other.clock);
        for (id, (stamp, value)) in &other.entries {
            match self.entries.get(id) {
                Some((mine, _)) if mine >= stamp => {}
                _ => {
                    self.entries.insert(id.clone(), (*stamp, value.clone()));
                }
            }
        }
    }
}

/// The lww-kv service.
#[derive(Debug, Clone)]
pub struct LwwKv {
    replicas: Vec<Replica>,
    anti_entropy: Duration,
    timer: Option<TimerId>,
}

impl Default for LwwKv {
    fn default() -> Self {
        LwwKv::with(LwwKv::DEFAULT_REPLICAS, LwwKv::DEFAULT_ANTI_ENTROPY)
    }
}

impl LwwKv {
    /// How many replicas, by default.
    pub const DEFAULT_REPLICAS: usize = 3;
    /// How often a pair of replicas merges, by default.
    pub const DEFAULT_ANTI_ENTROPY: Duration = Duration::from_millis(100);

    /// Three empty replicas merging a pair every 100 ms.
    pub fn new() -> Self {
        LwwKv::default()
    }

    /// `replicas` empty replicas (at least 1) merging a pair every `anti_entropy` (a zero
    /// interval turns anti-entropy off).
    pub fn with(replicas: usize, anti_entropy: Duration) -> Self {
        LwwKv {
            replicas: vec![Replica::default(); replicas.max(1)],
            anti_entropy,
            timer: None,
        }
    }

    /// The replicas, for inspection.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// Merge replicas `a` and `b` both ways. Out-of-range indices are ignored.
    pub fn merge(&mut self, a: usize, b: usize) {
        if a == b || a >= self.replicas.len() || b >= self.replicas.len() {
            return;
        }
        let from_b = self.replicas[b].clone();
        self.replicas[a].merge_from(&from_b);
        let from_a = self.replicas[a].clone();
        self.replicas[b].merge_from(&from_a);
    }

    /// Serve `op` from replica `r`; return the reply.
    pub(crate) fn apply(&mut self, r: usize, op: &KvOp) -> proto::Payload {
        let replica = &mut self.replicas[r];
        let id = key_id(op.key());
        let outcome = op.apply(replica.entries.get(&id).map(|(_, v)| v));
        if let Some(value) = outcome.write {
            replica.clock += 1;
            replica.entries.insert(id, ((replica.clock, r), value));
        }
        outcome.reply
    }

    fn arm(&mut self, ctx: &mut Ctx) {
        if !self.anti_entropy.is_zero() && self.replicas.len() > 1 {
            self.timer = Some(ctx.set_timer(self.anti_entropy));
        }
    }
}

impl Node for LwwKv {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.arm(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let Some(op) = parse_request(ctx, &msg, kv_request) else {
            return;
        };
        let r = ctx.rng().random_range(0..self.replicas.len());
        let reply = self.apply(r, &op);
        answer(ctx, &msg, &reply);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.timer != Some(timer) {
            return;
        }
        let n = self.replicas.len();
        if n < 2 {
            return;
        }
        let a = ctx.rng().random_range(0..n);
        // A different replica: draw from the n - 1 others.
        let b = (a + 1 + ctx.rng().random_range(0..n - 1)) % n;
        self.merge(a, b);
        self.arm(ctx);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn write(key: &str, value: i64) -> KvOp {
        KvOp::Write {
            key: json!(key),
            value: json!(value),
        }
    }

    #[test]
    fn the_higher_stamp_wins_and_clocks_advance() {
        let mut kv = LwwKv::with(2, Duration::ZERO);
        kv.apply(0, &write("x", 1));
        kv.apply(0, &write("x", 2));
        kv.apply(1, &write("x", 3));
        // Replica 0 stamped (2, 0), replica 1 stamped (1, 1): replica 0's write wins, though
        // replica 1's came later.
        kv.merge(0, 1);
        let id = key_id(&json!("x"));
        assert_eq!(kv.replicas()[0], kv.replicas()[1]);
        assert_eq!(kv.replicas()[1].entries[&id], ((2, 0), json!(2)));
        assert_eq!(kv.replicas()[1].clock, 2);
        // After the merge a write on replica 1 is stamped past everything it has seen.
        kv.apply(1, &write("x", 4));
        assert_eq!(kv.replicas()[1].entries[&id].0, (3, 1));
    }

    #[test]
    fn equal_counters_are_ordered_by_replica() {
        let mut kv = LwwKv::with(3, Duration::ZERO);
        kv.apply(2, &write("x", 20));
        kv.apply(1, &write("x", 10));
        kv.merge(1, 2);
        let id = key_id(&json!("x"));
        assert_eq!(kv.replicas()[1].entries[&id].1, json!(20));
    }
}

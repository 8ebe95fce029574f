//! `txn-rc`: a totally available transactional store that meets **read committed** (Gossip
//! Glomers 6c), for txn-rw-register. And the node that two planted bugs change in one place
//! ([`Replication`]).
//!
//! **Algorithm.** Every node holds a whole copy of the store, each key with a version stamp
//! ([`Stamp`]). A node runs a client's transaction locally, start to end, in one event: its
//! reads see the local copy and the transaction's own earlier writes, its writes are buffered
//! until it ends ([`engine::execute`]). It then commits: it takes a Lamport timestamp (the
//! course's "Lamport clocks") greater than every stamp it has seen, which includes the stamps
//! of every version the transaction read, stamps each key's last write with it, applies them
//! locally, answers the client at once, and sends the write set, one message per transaction,
//! to every peer, again until acknowledged ([`Courier`]). A replica keeps a replicated value
//! only if its stamp is newer than the key's current one: a **last-writer-wins register** per
//! key, ordered by the writing transaction's timestamp (the course's "reconciling replicas").
//!
//! **Why read committed.** Adya's read committed (PL-2) forbids G0, G1a, G1b and G1c:
//! - G1a (aborted read): a transaction that does not commit writes nothing anywhere (a
//!   transaction either runs to the end in one event or fails before it wrote anything).
//! - G1b (intermediate read): only each key's final write leaves the transaction.
//! - G0 (write cycle): every key's version order is the timestamp order, at every replica,
//!   whatever the order in which replications arrive.
//! - G1c (circular information flow): a write-write edge goes from a lower to a higher
//!   timestamp, and so does a write-read edge (a reader's timestamp exceeds the stamp of the
//!   version it read); a cycle of such edges would need a timestamp greater than itself.
//!
//! Read committed is stronger than read uncommitted (Adya's PL-1, which forbids only G0), so
//! the node also meets Gossip Glomers 6b, totally available read uncommitted.
//!
//! **Why not serializable.** Two transactions on two nodes that read the same keys and write
//! different ones (write skew, G2-item), or that read a key one of them writes (G-single), run
//! concurrently with no coordination: that is the price of total availability, and a checker
//! run under `--consistency-models serializable` shows it.
//!
//! **txn-list-append.** Not served: appends are answered with error 10. A list needs one order
//! of appends per key that every replica agrees on, and last-writer-wins keeps one value per
//! key: concurrent appends on two nodes would each replace the other's list, and merging the
//! lists in arrival order (what `txn-dirty-writes` does) gives incompatible orders.
//!
//! **Partition.** Always available: a node answers from its own copy, and the writes it could
//! not deliver are delivered after the heal (the courier retries), after which every replica
//! holds, for every key, the value with the highest stamp: they converge.
//!
//! **Crash.** Every write a node applies (its own at commit, a replica's that wins) is appended
//! to its stable log `versions` before the node answers; a restarted node replays the log,
//! which also moves its Lamport clock past every stamp it issued, and sends its whole state to
//! every peer again, since the replications it had not delivered were lost with its memory.
//! A wiped node comes back empty and is not filled again by its peers: its reads return older
//! versions (or none) until new writes come, which read committed allows.
//!
//! Cost: no message on the critical path; 2 (replication and acknowledgement) per peer per
//! transaction that writes.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::LamportClock;
use crate::ctx::Ctx;
use crate::node::{Node, TimerId};
use crate::txn::courier::{Courier, Received};
use crate::txn::engine::{self, Execution, Store, TxnError};

/// The stable log of the writes a node applied.
const VERSIONS: &str = "versions";

/// How a node replicates a transaction's writes: correctly, or with one of two planted bugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    /// `txn-rc`: at commit, each key's last write, stamped, in one message per peer;
    /// last writer wins at the replicas.
    Committed,
    /// `txn-intermediate-reads`: every write micro-op as it runs, stamped, each in its own
    /// message; last writer wins at the replicas (see [`crate::txn::intermediate_reads`]).
    EachWrite,
    /// `txn-dirty-writes`: every write micro-op, unstamped, each in its own message; replicas
    /// apply them in arrival order (see [`crate::txn::dirty_writes`]).
    ArrivalOrder,
}

/// Settings of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicatedConfig {
    pub replication: Replication,
    /// An unacknowledged replication is sent again after this long.
    pub retry: Duration,
}

impl ReplicatedConfig {
    /// The flags of the node: `--retry-ms N`.
    pub const FLAGS: [crate::flags::Flag; 1] = [crate::flags::Flag {
        name: "retry-ms",
        value: "N",
        what: "how often unacknowledged writes are sent to the peers again, in ms",
        default: || crate::flags::ms_default(ReplicatedConfig::new(Replication::Committed).retry),
    }];

    /// Default settings for `replication`.
    pub fn new(replication: Replication) -> Self {
        ReplicatedConfig {
            replication,
            retry: Duration::from_millis(200),
        }
    }
}

/// A version's stamp: the writing transaction's Lamport timestamp and node, and the write's
/// position in that transaction. Ordered in that order: a total order of all writes that
/// extends happens-before.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp {
    pub ts: u64,
    pub node: String,
    pub op: u64,
}

/// One replicated write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicatedWrite {
    /// `w` or `append`.
    pub f: String,
    pub key: Value,
    /// The value written (`w`), or the element appended (`append`).
    pub value: Value,
    /// None when replicas apply writes in arrival order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<Stamp>,
}

/// The node.
#[derive(Debug)]
pub struct ReplicatedTxn {
    config: ReplicatedConfig,
    clock: LamportClock,
    store: Store,
    /// Each key's stamp, by the key's JSON text.
    stamps: BTreeMap<String, Stamp>,
    courier: Courier<Vec<ReplicatedWrite>>,
}

impl Default for ReplicatedTxn {
    fn default() -> Self {
        ReplicatedTxn::new(ReplicatedConfig::new(Replication::Committed))
    }
}

impl ReplicatedTxn {
    /// A node with the given settings.
    pub fn new(config: ReplicatedConfig) -> Self {
        ReplicatedTxn {
            config,
            clock: LamportClock::new(),
            store: Store::default(),
            stamps: BTreeMap::new(),
            courier: Courier::new(config.retry),
        }
    }

    /// This node's copy of the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The stamp of `key`'s value here, if it has one.
    pub fn stamp(&self, key: &Value) -> Option<&Stamp> {
        self.stamps.get(&key.to_string())
    }

    /// The Lamport clock's current value.
    pub fn clock(&self) -> u64 {
        self.clock.time()
    }

    fn stamped(&self) -> bool {
        self.config.replication != Replication::ArrivalOrder
    }

    fn on_txn(&mut self, ctx: &mut Ctx, request: &Message, txn: &[proto::MicroOp]) {
        if self.stamped() && engine::has_append(txn) {
            let err = TxnError::not_supported(
                "this store serves txn-rw-register only: list-append needs one order of \
                 appends per key that every replica agrees on, and last-writer-wins keeps one \
                 value per key",
            );
            return ctx.reply(request, &err.payload());
        }
        let execution = match engine::execute(txn, |key| self.store.get(key).cloned()) {
            Ok(execution) => execution,
            Err(err) => return ctx.reply(request, &err.payload()),
        };
        if !execution.is_read_only() {
            self.commit(ctx, &execution);
        }
        ctx.reply(request, &engine::txn_ok(&execution));
    }

    /// Apply `execution`'s writes here and send them to every peer.
    fn commit(&mut self, ctx: &mut Ctx, execution: &Execution) {
        let ts = self.clock.tick();
        let node = ctx.id().to_owned();
        let stamp = |index: usize| Stamp {
            ts,
            node: node.clone(),
            op: index as u64,
        };
        let finals: Vec<ReplicatedWrite> = execution
            .finals()
            .into_values()
            .map(|w| ReplicatedWrite {
                f: engine::WRITE.to_owned(),
                key: w.op.key().clone(),
                value: w.after.clone(),
                stamp: Some(stamp(w.index)),
            })
            .collect();
        // Each item, and whether it is held back until the courier's next retry.
        let final_index: Vec<u64> = finals
            .iter()
            .filter_map(|w| w.stamp.as_ref().map(|s| s.op))
            .collect();
        let items: Vec<(Vec<ReplicatedWrite>, bool)> = match self.config.replication {
            Replication::Committed => vec![(finals.clone(), false)],
            // The planted bug: the writes a later micro-op overwrites go out at once, the
            // transaction's final ones a retry later, as a store that streams writes while it
            // runs and ships the final values at commit; peers hold the intermediate value
            // in between.
            Replication::EachWrite => execution
                .writes
                .iter()
                .map(|w| {
                    let write = ReplicatedWrite {
                        f: engine::WRITE.to_owned(),
                        key: w.op.key().clone(),
                        value: w.after.clone(),
                        stamp: Some(stamp(w.index)),
                    };
                    (vec![write], final_index.contains(&(w.index as u64)))
                })
                .collect(),
            Replication::ArrivalOrder => execution
                .writes
                .iter()
                .map(|w| {
                    let write = ReplicatedWrite {
                        f: w.op.f().to_owned(),
                        key: w.op.key().clone(),
                        value: w.op.value().clone(),
                        stamp: None,
                    };
                    (vec![write], false)
                })
                .collect(),
        };
        if self.stamped() {
            for write in finals {
                self.keep(ctx, write);
            }
        } else {
            for write in execution.finals().into_values() {
                let write = ReplicatedWrite {
                    f: engine::WRITE.to_owned(),
                    key: write.op.key().clone(),
                    value: write.after.clone(),
                    stamp: None,
                };
                self.keep(ctx, write);
            }
        }
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for (item, later) in items {
            for peer in &peers {
                if later {
                    self.courier.send_later(ctx, peer, item.clone());
                } else {
                    self.courier.send(ctx, peer, item.clone());
                }
            }
        }
    }

    /// Apply one replicated (or local) write, and append it to the stable log if it took
    /// effect.
    fn keep(&mut self, ctx: &mut Ctx, write: ReplicatedWrite) {
        if self.take(ctx, &write) {
            ctx.persist(VERSIONS, &write);
        }
    }

    /// Apply one write: last writer wins when stamped, else as it comes. True if it took
    /// effect.
    fn take(&mut self, ctx: &Ctx, write: &ReplicatedWrite) -> bool {
        let Some(stamp) = &write.stamp else {
            let op = proto::MicroOp(write.f.clone(), write.key.clone(), write.value.clone());
            return match self.store.apply(&op) {
                Ok(()) => true,
                Err(err) => {
                    ctx.log(format!("a replicated write was not applied: {}", err.text));
                    false
                }
            };
        };
        self.clock.observe(stamp.ts);
        let name = write.key.to_string();
        let newer = self.stamps.get(&name).is_none_or(|current| stamp > current);
        if newer {
            self.store.set(&write.key, write.value.clone());
            self.stamps.insert(name, stamp.clone());
        }
        newer
    }

    /// Every key with its value and stamp, as one replication.
    fn state(&self) -> Vec<ReplicatedWrite> {
        self.store
            .iter()
            .filter_map(|(key, value)| {
                Some(ReplicatedWrite {
                    f: engine::WRITE.to_owned(),
                    key: key.clone(),
                    value: value.clone(),
                    stamp: Some(self.stamp(key)?.clone()),
                })
            })
            .collect()
    }
}

impl Node for ReplicatedTxn {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.courier.start(ctx);
        for write in ctx.take_recovered().decode::<ReplicatedWrite>(VERSIONS) {
            self.take(ctx, &write);
        }
        // The replications not yet acknowledged were lost with the memory: send everything
        // again (last writer wins makes a repeat harmless). Unstamped writes cannot be
        // repeated harmlessly (an append would be applied twice), so those are not.
        let state = self.state();
        if self.stamped() && !state.is_empty() {
            let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
            for peer in peers {
                self.courier.send(ctx, &peer, state.clone());
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if let Payload::Txn { txn } = &msg.body.payload {
            if msg.body.in_reply_to.is_none() {
                let txn = txn.clone();
                self.on_txn(ctx, &msg, &txn);
            }
            return;
        }
        match self.courier.receive(ctx, &msg) {
            Some(Received::Fresh(writes)) => {
                for write in writes {
                    self.keep(ctx, write);
                }
            }
            Some(Received::Nothing) => {}
            None => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.courier.on_timer(ctx, timer);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::script::Script;

    fn start() -> Script<ReplicatedTxn> {
        let mut s = Script::start(ReplicatedTxn::default(), 1, &["n0", "n1"], "none");
        s.expect("c0", "init_ok");
        s
    }

    #[test]
    fn a_transaction_is_answered_at_once_and_its_final_writes_replicated_in_one_message() {
        let mut s = start();
        s.deliver(
            "c1",
            json!({"type": "txn", "msg_id": 1, "txn": [["w", 1, 1], ["w", 2, 2], ["w", 1, 3]]}),
        );
        let replicate = s.expect("n1", "replicate");
        s.expect("c1", "txn_ok");
        let item = &replicate.body.to_value()["item"];
        assert_eq!(
            item,
            &json!([
                {"f": "w", "key": 1, "value": 3, "stamp": {"ts": 1, "node": "n0", "op": 2}},
                {"f": "w", "key": 2, "value": 2, "stamp": {"ts": 1, "node": "n0", "op": 1}}
            ])
        );
    }

    #[test]
    fn appends_are_not_supported() {
        let mut s = start();
        s.deliver(
            "c1",
            json!({"type": "txn", "msg_id": 1, "txn": [["r", 1, null], ["append", 1, 1]]}),
        );
        let reply = s.expect("c1", "error");
        assert_eq!(
            reply.body.error_code(),
            Some(proto::ErrorCode::NotSupported)
        );
        assert!(s.outbox.is_empty());
    }

    #[test]
    fn the_timestamp_of_a_transaction_exceeds_every_version_it_read() {
        let mut s = start();
        s.deliver(
            "n1",
            json!({"type": "replicate", "session": 1, "seq": 0, "item": [
                {"f": "w", "key": 1, "value": 5, "stamp": {"ts": 40, "node": "n1", "op": 0}}
            ]}),
        );
        s.expect("n1", "replicate_ok");
        s.deliver(
            "c1",
            json!({"type": "txn", "msg_id": 1, "txn": [["r", 1, null], ["w", 2, 6]]}),
        );
        s.expect("n1", "replicate");
        let reply = s.expect("c1", "txn_ok");
        assert_eq!(reply.body.to_value()["txn"][0][2], 5);
        assert!(s.rt.node().stamp(&json!(2)).unwrap().ts > 40);
    }

    #[test]
    fn a_restarted_node_keeps_its_writes_and_delivers_those_its_crash_interrupted() {
        let mut c = crate::sim::Cluster::new(2, 5, Duration::from_millis(10), |_| {
            ReplicatedTxn::default()
        });
        c.partition(&["n0"], &["n1"]);
        c.request(
            "c1",
            "n0",
            &json!({"type": "txn", "txn": [["w", 1, 5], ["w", 2, 6]]}),
        );
        c.run_for(Duration::from_millis(500));
        c.crash("n0");
        c.restart("n0");
        let n0 = c.node("n0").unwrap();
        assert_eq!(n0.store().get(&json!(1)), Some(&json!(5)));
        c.heal();
        c.run_for(Duration::from_secs(1));
        let n1 = c.node("n1").unwrap();
        assert_eq!(n1.store().get(&json!(2)), Some(&json!(6)));
        assert_eq!(n1.stamp(&json!(2)).unwrap().node, "n0");
        // The replayed log moved the clock past the stamps n0 issued before: its next write
        // of key 1 is newer than its last, everywhere.
        c.request("c1", "n0", &json!({"type": "txn", "txn": [["w", 1, 7]]}));
        c.run_for(Duration::from_secs(1));
        assert_eq!(
            c.node("n1").unwrap().store().get(&json!(1)),
            Some(&json!(7))
        );
        assert!(c.node("n0").unwrap().clock() > 1);
    }
}

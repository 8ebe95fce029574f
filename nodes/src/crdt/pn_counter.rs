//! `pn-counter`: a counter that goes up and down, the state-based CRDT built from two grow-only
//! counters (the course's 8.1).
//!
//! **Algorithm.** The state is two vectors indexed by replica: `p`, how much each replica was
//! incremented, and `n`, how much it was decremented; both only grow. An `add {delta}` adds a
//! positive delta to this node's entry of `p` and the size of a negative one to its entry of
//! `n`. A `read` returns the sum of `p` minus the sum of `n`. Every `--interval-ms` each node
//! sends both vectors to every other node ([`super::Replica`]), and a node that receives them
//! keeps, entry by entry, the larger of its own count and the peer's.
//!
//! **Guarantee.** Strong eventual consistency: once the faults heal and every node has heard
//! from every other after its last add, every node reads the same value, the sum of every
//! acknowledged add (and of the unacknowledged ones that happened). Only replica `r` raises
//! entry `r`, so the largest value seen of an entry is the newest, and the per-entry maximum is
//! a join: order, repetition and loss of gossips do not matter. Reads in between may lag (a
//! node counts what it has heard of) and, with decrements, go down.
//!
//! **When `add_ok` is sent.** At once, when this node's entry holds the delta and is on stable
//! storage.
//!
//! **Topology.** Ignored (the pn-counter workload sends none): every node gossips to every
//! other.
//!
//! **Cost.** No message per add or read; per interval, n - 1 gossips from each node, each with
//! the two vectors: n(n - 1) messages of O(n) size per interval, whatever the load.
//!
//! **Partition.** Both sides keep counting (the counter is available under any partition) and
//! read only their own side's adds; once the partition heals, the next gossips bring each side
//! the other's entries.
//!
//! **Crash and restart.** Every entry that changes, this node's own on an add and any that a
//! gossip raised, is appended to stable storage before the add is acknowledged or a read shows
//! it; a restarted node reads its vectors back, so its own entry never goes back (if it did, its
//! next increments would be hidden by the larger count its peers hold). A node whose disk was
//! wiped counts under a new replica name (its id and incarnation), for the same reason; its old
//! entry lives on in its peers.

use std::collections::BTreeMap;

use proto::Payload;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Crdt;

/// The two vectors: increments and decrements per replica.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// How much each replica was incremented.
    #[serde(default)]
    pub p: BTreeMap<String, u64>,
    /// How much each replica was decremented (sizes of the negative deltas).
    #[serde(default)]
    pub n: BTreeMap<String, u64>,
}

impl Counts {
    /// The counter's value: the increments minus the decrements (clamped to `i64`).
    pub fn value(&self) -> i64 {
        let sum = |v: &BTreeMap<String, u64>| v.values().map(|&c| i128::from(c)).sum::<i128>();
        let value = sum(&self.p) - sum(&self.n);
        value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// A counter's `add {delta}`: the delta; why the request is malformed when it has none.
fn delta_of(add: &Payload) -> Result<i64, String> {
    match add {
        Payload::Add {
            delta: Some(delta), ..
        } => Ok(*delta),
        _ => Err("a counter's add needs a delta".to_owned()),
    }
}

/// Count `add`'s delta at `replica`; the entry that changed (none for a delta of 0).
pub(super) fn add(counts: &mut Counts, replica: &str, add: &Payload) -> Result<Counts, String> {
    let delta = delta_of(add)?;
    let mut changed = Counts::default();
    if delta != 0 {
        let (vector, changed_vector) = if delta > 0 {
            (&mut counts.p, &mut changed.p)
        } else {
            (&mut counts.n, &mut changed.n)
        };
        let entry = vector.entry(replica.to_owned()).or_insert(0);
        *entry = entry.saturating_add(delta.unsigned_abs());
        changed_vector.insert(replica.to_owned(), *entry);
    }
    Ok(changed)
}

/// Keep the larger of each entry; returns the entries that grew.
pub(super) fn join(counts: &mut Counts, peer: Counts) -> Counts {
    let mut changed = Counts::default();
    for (mine, theirs, grew) in [
        (&mut counts.p, peer.p, &mut changed.p),
        (&mut counts.n, peer.n, &mut changed.n),
    ] {
        for (replica, count) in theirs {
            let entry = mine.entry(replica.clone()).or_insert(0);
            if count > *entry {
                *entry = count;
                grew.insert(replica, count);
            }
        }
    }
    changed
}

/// The PN-counter: merge by per-entry maximum.
#[derive(Debug)]
pub struct PnCounter;

impl Crdt for PnCounter {
    type State = Counts;

    fn add(state: &mut Counts, replica: &str, request: &Payload) -> Result<Counts, String> {
        add(state, replica, request)
    }

    fn merge(state: &mut Counts, _replica: &str, _from: &str, peer: Counts) -> Option<Counts> {
        let grew = join(state, peer);
        (grew != Counts::default()).then_some(grew)
    }

    fn restore(state: &mut Counts, record: Counts) {
        join(state, record);
    }

    fn read(state: &Counts) -> Value {
        Value::from(state.value())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn counts(value: Value) -> Counts {
        serde_json::from_value(value).unwrap()
    }

    fn delta(d: i64) -> Payload {
        Payload::Add {
            delta: Some(d),
            element: None,
        }
    }

    #[test]
    fn increments_and_decrements_go_to_this_replicas_entries() {
        let mut c = Counts::default();
        PnCounter::add(&mut c, "n0-1", &delta(4)).unwrap();
        let changed = PnCounter::add(&mut c, "n0-1", &delta(-5)).unwrap();
        assert_eq!(changed, counts(json!({"n": {"n0-1": 5}})));
        PnCounter::add(&mut c, "n0-1", &delta(0)).unwrap();
        assert_eq!(c, counts(json!({"p": {"n0-1": 4}, "n": {"n0-1": 5}})));
        assert_eq!(PnCounter::read(&c), json!(-1));
        let element = Payload::Add {
            delta: None,
            element: Some(json!(1)),
        };
        assert!(PnCounter::add(&mut c, "n0-1", &element).is_err());
    }

    #[test]
    fn merge_keeps_the_larger_count_of_each_entry_in_any_order_any_number_of_times() {
        let a = counts(json!({"p": {"a": 3, "b": 1}, "n": {"a": 2}}));
        let b = counts(json!({"p": {"a": 1, "b": 4}, "n": {"c": 7}}));
        let mut ab = a.clone();
        PnCounter::merge(&mut ab, "me", "b", b.clone());
        let mut ba = b.clone();
        PnCounter::merge(&mut ba, "me", "a", a.clone());
        assert_eq!(ab, ba);
        assert_eq!(
            ab,
            counts(json!({"p": {"a": 3, "b": 4}, "n": {"a": 2, "c": 7}}))
        );
        assert_eq!(PnCounter::merge(&mut ab, "me", "a", a), None, "idempotent");
        assert_eq!(PnCounter::read(&ab), json!(-2));
    }
}

//! `pn-counter-double-count`: [`super::pn_counter`] with a merge that is not a join: the counts
//! a peer gossips for itself are added to what this node holds for that peer, instead of
//! replacing it when larger. The classic mix-up of a state (a running total) with an update
//! (an increment): state-based replication sends the same totals again and again, so a merge
//! that adds them counts each increment once per gossip (8.1: the merge must be idempotent).
//!
//! **Algorithm.** Exactly `pn-counter`'s for `add` and `read`, and the same gossip of both
//! vectors to every other node every `--interval-ms`. A node that receives a gossip from
//! replica `r` adds `r`'s own entries of `p` and `n` to its entries for `r`; every other entry
//! it merges correctly, by maximum, except its own entries, which it alone counts (taking a
//! peer's inflated view of them would feed the error back and make it grow exponentially).
//!
//! **Why the reads go out of range.** Each gossip from `r` adds `r`'s whole count again, so a
//! node's entry for `r` is about `r`'s count times the number of gossips it has received from
//! `r`, and keeps growing after the last add. A read shows every peer's increments and
//! decrements multiplied; the final reads after the heal are far outside every total the adds
//! could make (the sum of the acknowledged adds plus any subset of the indefinite ones), and
//! the pn-counter checker names each such final read and how far it is from the nearest
//! possible total. Only a node that has not heard from anyone, or peers that never added, read
//! right.
//!
//! **When `add_ok` is sent, Topology, Cost.** As `pn-counter`.
//!
//! **Partition.** A cut stops the inflation across it while it lasts; it resumes at the heal.
//!
//! **Crash and restart.** What is on stable storage is what `pn-counter` writes (the entries as
//! inflated), joined back by maximum at a restart.
//!
//! The fix is `pn-counter`: merge by per-entry maximum.

use proto::Payload;
use serde_json::Value;

use super::Crdt;
use super::pn_counter::{Counts, add, join};

/// The PN-counter whose merge adds the sender's own counts.
#[derive(Debug)]
pub struct PnCounterDoubleCount;

impl Crdt for PnCounterDoubleCount {
    type State = Counts;

    fn add(state: &mut Counts, replica: &str, request: &Payload) -> Result<Counts, String> {
        add(state, replica, request)
    }

    /// The bug: the sender's own entries are added; the rest are merged by maximum, but for
    /// this node's own, which only it counts.
    fn merge(state: &mut Counts, replica: &str, from: &str, mut peer: Counts) -> Option<Counts> {
        let mut changed = Counts::default();
        for (mine, theirs, grew) in [
            (&mut state.p, &mut peer.p, &mut changed.p),
            (&mut state.n, &mut peer.n, &mut changed.n),
        ] {
            theirs.remove(replica);
            if let Some(count) = theirs.remove(from).filter(|&c| c > 0) {
                let entry = mine.entry(from.to_owned()).or_insert(0);
                *entry = entry.saturating_add(count);
                grew.insert(from.to_owned(), *entry);
            }
        }
        let rest = join(state, peer);
        changed.p.extend(rest.p);
        changed.n.extend(rest.n);
        (changed != Counts::default()).then_some(changed)
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

    #[test]
    fn every_gossip_of_the_same_total_counts_it_again() {
        let gossip: Counts = serde_json::from_value(json!({"p": {"n1-1": 3}})).unwrap();
        let mut mine = Counts::default();
        for _ in 0..3 {
            PnCounterDoubleCount::merge(&mut mine, "n0-1", "n1-1", gossip.clone());
        }
        assert_eq!(
            PnCounterDoubleCount::read(&mine),
            json!(9),
            "3 counted thrice"
        );
    }
}

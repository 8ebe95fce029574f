//! `broadcast-total-tiebreak`: [`super::total_lamport`] with the wrong tie-break. Messages are
//! ordered by Lamport timestamp, but two messages with the same timestamp are ordered by when
//! they reached this node's hold-back queue (local arrival order) instead of by origin.
//!
//! **The promise it breaks.** Total order: every node delivers the same messages in the same
//! order. Lamport timestamps order causally related messages, but concurrent broadcasts at two
//! nodes can carry the same timestamp, and only a tie-break that every node computes alike
//! (the origin's id) puts them in one order everywhere. Arrival order differs between nodes:
//! an origin's own message becomes safe (a majority holds it) before the others learn that it
//! is, so each origin tends to put its own message first.
//!
//! **What shows it.** Two nodes broadcasting concurrently, each before it has seen the other's
//! message, from equal clocks: both messages get the same timestamp, and two nodes deliver
//! them in opposite orders (the broadcast checker's total-order check names the pair). Runs in
//! which broadcasts never coincide (low rate, or every broadcast seen everywhere before the next
//! one), or in which the tied messages happen to arrive in the same order everywhere, pass.
//!
//! **Everything else** is `broadcast-total-lamport`'s. The fix is `broadcast-total-lamport`:
//! break ties by origin.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::broadcast::ordered::Order;
use crate::broadcast::quorum::Watermark;
use crate::broadcast::total_lamport::{Lamport, LamportOrder, Stamped, TotalLamport};

/// Lamport order with ties broken by local arrival.
#[derive(Debug, Clone)]
pub struct TiebreakOrder<P> {
    lamport: LamportOrder<P>,
    /// Messages handed to the hold-back queue so far.
    arrivals: u64,
}

impl<P> Default for TiebreakOrder<P> {
    fn default() -> Self {
        TiebreakOrder {
            lamport: LamportOrder::default(),
            arrivals: 0,
        }
    }
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> Order for TiebreakOrder<P> {
    type Entry = Stamped<P>;
    /// (timestamp, arrival here, origin, position): the bug is the second field.
    type Key = (u64, u64, String, u64);
    const WATERMARK: Watermark = Watermark::Stable;
    const FIRST_ONLY: bool = true;

    fn stored(&mut self, origin: &str, entry: &Stamped<P>) {
        self.lamport.stored(origin, entry);
    }

    fn hold(&mut self, origin: &str, pos: u64, entry: &Stamped<P>) -> Option<Self::Key> {
        let (ts, origin, pos) = self.lamport.hold(origin, pos, entry)?;
        self.arrivals += 1;
        Some((ts, self.arrivals, origin, pos))
    }

    fn deliverable(&self, (ts, _, origin, pos): &Self::Key, entry: &Stamped<P>) -> bool {
        self.lamport
            .deliverable(&(*ts, origin.clone(), *pos), entry)
    }

    fn deliver(&mut self, (ts, _, origin, pos): &Self::Key, entry: &Stamped<P>) {
        self.lamport.deliver(&(*ts, origin.clone(), *pos), entry);
    }
}

impl<P: Clone + Debug + Serialize + DeserializeOwned> Lamport<P> for TiebreakOrder<P> {
    fn lamport(&self) -> &LamportOrder<P> {
        &self.lamport
    }

    fn lamport_mut(&mut self) -> &mut LamportOrder<P> {
        &mut self.lamport
    }
}

/// The `broadcast-total-tiebreak` node.
pub type TotalTiebreak = TotalLamport<TiebreakOrder<serde_json::Value>>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::broadcast::total_lamport::TotalOrderConfig;
    use crate::broadcast::{Algorithm, Service};
    use crate::sim::Cluster;

    /// Three quiet nodes; `n0` broadcasts "a" and `n1` broadcasts "b", at the same instant
    /// (`concurrent`) or "b" once "a" is delivered everywhere. What each node delivered.
    fn two_broadcasts<A: Algorithm + 'static>(
        make: fn() -> A,
        concurrent: bool,
    ) -> Vec<Vec<Value>> {
        let mut c = Cluster::new(3, 5, Duration::from_millis(10), move |_| {
            Service::new(make())
        });
        c.run_for(Duration::from_secs(3));
        c.request("c1", "n0", &json!({"type": "broadcast", "message": "a"}));
        if !concurrent {
            c.run_for(Duration::from_secs(3));
        }
        c.request("c2", "n1", &json!({"type": "broadcast", "message": "b"}));
        c.run_for(Duration::from_secs(5));
        ["n0", "n1", "n2"]
            .iter()
            .map(|id| c.node(id).expect("up").delivered().values().to_vec())
            .collect()
    }

    fn broken() -> TotalTiebreak {
        TotalTiebreak::with_order(TotalOrderConfig::default())
    }

    #[test]
    fn concurrent_broadcasts_with_one_timestamp_are_delivered_in_different_orders() {
        let delivered = two_broadcasts(broken, true);
        assert!(delivered.iter().all(|d| d.len() == 2), "{delivered:?}");
        assert_ne!(delivered[0], delivered[1], "{delivered:?}");
    }

    #[test]
    fn the_correct_node_agrees_on_the_same_run() {
        let delivered = two_broadcasts(TotalLamport::default, true);
        assert!(
            delivered.iter().all(|d| *d == delivered[0] && d.len() == 2),
            "{delivered:?}"
        );
    }

    #[test]
    fn broadcasts_one_after_the_other_never_tie() {
        let delivered = two_broadcasts(broken, false);
        for d in &delivered {
            assert_eq!(*d, [json!("a"), json!("b")], "{delivered:?}");
        }
    }
}

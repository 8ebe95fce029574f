//! `broadcast-causal-forgets`: [`super::causal`] whose messages carry a stale vector clock:
//! the dependencies of a broadcast are the clock as it stood *before* the node's latest
//! delivery, not after it. So a message broadcast right after delivering `m1` does not list
//! `m1` as a dependency (the latest delivery is forgotten); every earlier dependency is kept,
//! and so is the origin's own sequence.
//!
//! **The promise it breaks.** Causal order: if `m1` was delivered at `m2`'s origin before `m2`
//! was broadcast, every node delivers `m1` before `m2`. Here, when the node's latest delivery
//! before broadcasting `m2` was `m1` from another origin, `m2` does not wait for `m1`
//! anywhere.
//!
//! **What shows it.** The "reply" pattern over a slow link: node B delivers A's `m1` and
//! broadcasts `m2` at once, and `m2` reaches a third node C, safely committed, before `m1`
//! does (A's link to C slow or cut for a while, C hearing of `m2` from B). C then delivers `m2`
//! before `m1` and a read at C shows them in that order. If `m1` reaches C first, or B
//! delivered anything else (its own earlier broadcast, say) between `m1` and `m2`, nothing
//! shows: a run with short, equal latencies passes.
//!
//! **Everything else** is `broadcast-causal`'s. The fix is `broadcast-causal`: attach the
//! clock after every delivery.

use crate::broadcast::causal::{CausalMessage, CausalOrder};
use crate::broadcast::ordered::{Order, OrderedBroadcast, ValueOrder};
use crate::broadcast::quorum::Watermark;
use crate::clock::VectorClock;

/// Causal order whose broadcasts carry the clock from before the latest delivery.
#[derive(Debug, Clone, Default)]
pub struct CausalForgetsOrder {
    causal: CausalOrder,
    /// The delivered counts before the latest delivery.
    before_latest: VectorClock,
}

impl Order for CausalForgetsOrder {
    type Entry = CausalMessage;
    type Key = (String, u64);
    const WATERMARK: Watermark = Watermark::Committed;

    fn hold(&mut self, origin: &str, pos: u64, entry: &CausalMessage) -> Option<Self::Key> {
        self.causal.hold(origin, pos, entry)
    }

    fn deliverable(&self, key: &Self::Key, entry: &CausalMessage) -> bool {
        self.causal.deliverable(key, entry)
    }

    fn deliver(&mut self, key: &Self::Key, entry: &CausalMessage) {
        self.before_latest = self.causal.counts().clone();
        self.causal.deliver(key, entry);
    }
}

impl ValueOrder for CausalForgetsOrder {
    /// The bug: the clock from before the latest delivery.
    fn entry(&self, me: &str, value: serde_json::Value) -> CausalMessage {
        CausalMessage {
            deps: self.before_latest.without(me),
            value,
        }
    }

    fn value(entry: &CausalMessage) -> &serde_json::Value {
        &entry.value
    }
}

/// The `broadcast-causal-forgets` node.
pub type CausalForgets = OrderedBroadcast<CausalForgetsOrder>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::broadcast::causal::Causal;
    use crate::broadcast::{Algorithm, Service};
    use crate::sim::Cluster;

    /// `n0` broadcasts "a"; once `n1` has delivered it, `n1` broadcasts "b". With `slow`, the
    /// link between `n0` and `n2` is cut until both are committed, so `n2` hears of "a" only
    /// afterwards. What each node delivered, once everything settled.
    fn reply_after_delivery<A: Algorithm + 'static>(
        make: fn() -> A,
        slow: bool,
    ) -> Vec<Vec<Value>> {
        let mut c = Cluster::new(3, 3, Duration::from_millis(10), move |_| {
            Service::new(make())
        });
        c.run_for(Duration::from_secs(2));
        if slow {
            c.partition(&["n0"], &["n2"]);
        }
        c.request("c1", "n0", &json!({"type": "broadcast", "message": "a"}));
        while c.node("n1").expect("up").delivered().is_empty() {
            assert!(c.step(), "n1 delivers a");
        }
        c.request("c2", "n1", &json!({"type": "broadcast", "message": "b"}));
        c.run_for(Duration::from_millis(300));
        c.heal();
        c.run_for(Duration::from_secs(10));
        ["n0", "n1", "n2"]
            .iter()
            .map(|id| c.node(id).expect("up").delivered().values().to_vec())
            .collect()
    }

    #[test]
    fn a_reply_overtaking_its_cause_is_delivered_first() {
        let delivered = reply_after_delivery(CausalForgets::default, true);
        assert_eq!(delivered[2], [json!("b"), json!("a")], "{delivered:?}");
    }

    #[test]
    fn the_correct_node_holds_the_reply_back_in_the_same_run() {
        let delivered = reply_after_delivery(Causal::default, true);
        for d in &delivered {
            assert_eq!(*d, [json!("a"), json!("b")], "{delivered:?}");
        }
    }

    #[test]
    fn when_the_cause_arrives_first_nothing_shows() {
        let delivered = reply_after_delivery(CausalForgets::default, false);
        for d in &delivered {
            assert_eq!(*d, [json!("a"), json!("b")], "{delivered:?}");
        }
    }
}

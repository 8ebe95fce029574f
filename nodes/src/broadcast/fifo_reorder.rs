//! `broadcast-fifo-reorder`: [`super::fifo`] with a hold-back predicate that lets one message
//! jump a gap of exactly one. A message whose sequence number is one past the next one expected
//! from its origin (its immediate predecessor is missing) is delivered at once instead of
//! waiting; the predecessor is delivered when it arrives. A gap of two or more still waits.
//!
//! **The promise it breaks.** FIFO order: if an origin broadcast `m1` before `m2`, no node
//! delivers `m2` before `m1`. Here a node that receives `m2` while `m1` is still missing
//! delivers `m2` first.
//!
//! **What shows it.** Links that reorder one origin's messages: `m2` reaching a node, safe
//! (covered by the origin's stable announcement), while `m1` has not. The links batch
//! everything due to a peer in one message and the network keeps a link's order when
//! latencies are equal, so a run with a constant latency and no loss never leaves such a gap
//! and passes. Loss with retransmission (the lost batch with `m1` is sent again after the one
//! with `m2` arrived), or latencies drawn from a distribution (uniform, exponential), make it
//! happen now and then; the broadcast checker then reports a FIFO violation in the delivering
//! node's reads.
//!
//! **Everything else** (transport, durability, cost, partitions, crashes) is `broadcast-fifo`'s.
//! The fix is `broadcast-fifo`: deliver only the next expected sequence number.

use serde_json::Value;

use crate::broadcast::fifo::FifoOrder;
use crate::broadcast::ordered::{Order, OrderedBroadcast, ValueOrder};
use crate::broadcast::quorum::Watermark;

/// FIFO order with the off-by-one: a gap of one is jumped.
#[derive(Debug, Clone, Default)]
pub struct FifoReorderOrder {
    fifo: FifoOrder,
}

impl Order for FifoReorderOrder {
    type Entry = Value;
    type Key = (String, u64);
    const WATERMARK: Watermark = Watermark::Stable;

    fn hold(&mut self, origin: &str, pos: u64, entry: &Value) -> Option<Self::Key> {
        self.fifo.hold(origin, pos, entry)
    }

    /// The bug: the next expected message, or the one after it (a gap of exactly one), or a
    /// late one the jump left behind.
    fn deliverable(&self, (origin, seq): &Self::Key, _: &Value) -> bool {
        *seq <= self.fifo.next(origin) + 1
    }

    /// The next expected number only moves forward (a late predecessor leaves it).
    fn deliver(&mut self, key: &Self::Key, entry: &Value) {
        if key.1 >= self.fifo.next(&key.0) {
            self.fifo.deliver(key, entry);
        }
    }
}

impl ValueOrder for FifoReorderOrder {
    fn entry(&self, me: &str, value: Value) -> Value {
        self.fifo.entry(me, value)
    }

    fn value(entry: &Value) -> &Value {
        entry
    }
}

/// The `broadcast-fifo-reorder` node.
pub type FifoReorder = OrderedBroadcast<FifoReorderOrder>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::broadcast::fifo::Fifo;
    use crate::broadcast::{Algorithm, Service};
    use crate::sim::Cluster;

    /// Three nodes; `n0` broadcasts 0, 1, ... 19, one every 20 ms, over links with latencies
    /// uniform in `[0, max_latency]` that lose each message with probability `loss`; then the
    /// network is made lossless and the cluster settles. True if some node delivered `n0`'s
    /// values out of order.
    fn reordered<A: Algorithm + 'static>(
        make: fn() -> A,
        seed: u64,
        max_latency: Duration,
        loss: f64,
    ) -> bool {
        let mut cluster = Cluster::new(3, seed, max_latency, move |_| Service::new(make()));
        cluster.run_for(Duration::from_secs(2));
        cluster.set_loss(loss);
        for value in 0..20 {
            cluster.request("c1", "n0", &json!({"type": "broadcast", "message": value}));
            cluster.run_for(Duration::from_millis(20));
        }
        cluster.set_loss(0.0);
        cluster.run_for(Duration::from_secs(10));
        ["n0", "n1", "n2"].iter().any(|id| {
            let values = cluster.node(id).expect("up").delivered().values();
            assert_eq!(values.len(), 20, "{id} delivered everything: {values:?}");
            values.windows(2).any(|w| w[0].as_u64() > w[1].as_u64())
        })
    }

    const LATENCY: Duration = Duration::from_millis(100);

    #[test]
    fn lossy_links_with_random_latencies_make_it_deliver_out_of_order() {
        let broken = (0..10)
            .filter(|&seed| reordered(FifoReorder::default, seed, LATENCY, 0.3))
            .count();
        assert!(broken > 0, "no seed of ten reordered a delivery");
    }

    #[test]
    fn the_correct_node_keeps_fifo_order_in_the_same_runs() {
        for seed in 0..10 {
            assert!(!reordered(Fifo::default, seed, LATENCY, 0.3), "seed {seed}");
        }
    }

    #[test]
    fn links_that_keep_order_never_show_it() {
        for seed in 0..5 {
            assert!(
                !reordered(FifoReorder::default, seed, Duration::ZERO, 0.0),
                "seed {seed}"
            );
        }
    }
}

//! Vector clocks (the course's "Vector clocks"): one counter per node. `V(a) <= V(b)` element
//! by element, and `V(a) != V(b)`, exactly when event `a` happens before event `b`; vectors
//! that are incomparable belong to concurrent events. Merging two vectors takes the maximum of
//! each element: the least upper bound, the clock of an event that has seen both.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How two vector clocks (and so two events) relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Causality {
    /// The left one happens before the right one.
    Before,
    /// The left one happens after the right one.
    After,
    /// The same vector: the same event (or the same knowledge).
    Equal,
    /// Neither happens before the other.
    Concurrent,
}

/// A vector clock keyed by node id. Missing entries are 0; zeros are never stored, so equal
/// clocks compare equal whatever way they were built. Serialized as `{"n1": 3, ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VectorClock {
    counts: BTreeMap<String, u64>,
}

impl VectorClock {
    /// The clock before any event: all zeros.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry of `node`.
    pub fn get(&self, node: &str) -> u64 {
        self.counts.get(node).copied().unwrap_or(0)
    }

    /// Set the entry of `node`.
    pub fn set(&mut self, node: &str, count: u64) {
        if count == 0 {
            self.counts.remove(node);
        } else {
            self.counts.insert(node.to_owned(), count);
        }
    }

    /// An event at `node`: its entry grows by one. Returns the new entry.
    pub fn increment(&mut self, node: &str) -> u64 {
        let next = self.get(node).saturating_add(1);
        self.set(node, next);
        next
    }

    /// Take the element-wise maximum with `other` (the least upper bound of the two).
    pub fn merge(&mut self, other: &VectorClock) {
        for (node, &count) in &other.counts {
            if count > self.get(node) {
                self.counts.insert(node.clone(), count);
            }
        }
    }

    /// The non-zero entries, by node id.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts
            .iter()
            .map(|(node, &count)| (node.as_str(), count))
    }

    /// This clock without the entry of `node`.
    pub fn without(&self, node: &str) -> VectorClock {
        let mut clock = self.clone();
        clock.counts.remove(node);
        clock
    }

    /// True when every entry of `self` is at most the matching entry of `other`.
    pub fn le(&self, other: &VectorClock) -> bool {
        self.counts
            .iter()
            .all(|(node, &count)| count <= other.get(node))
    }

    /// How `self` relates to `other` under happens-before.
    pub fn compare(&self, other: &VectorClock) -> Causality {
        match (self.le(other), other.le(self)) {
            (true, true) => Causality::Equal,
            (true, false) => Causality::Before,
            (false, true) => Causality::After,
            (false, false) => Causality::Concurrent,
        }
    }

    /// True when `self` happens before `other`: `self <= other` and they differ.
    pub fn happens_before(&self, other: &VectorClock) -> bool {
        self.compare(other) == Causality::Before
    }
}

impl PartialOrd for VectorClock {
    /// The happens-before partial order; `None` for concurrent clocks.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.compare(other) {
            Causality::Before => Some(Ordering::Less),
            Causality::After => Some(Ordering::Greater),
            Causality::Equal => Some(Ordering::Equal),
            Causality::Concurrent => None,
        }
    }
}

impl<S: Into<String>> FromIterator<(S, u64)> for VectorClock {
    fn from_iter<I: IntoIterator<Item = (S, u64)>>(iter: I) -> Self {
        let mut clock = VectorClock::new();
        for (node, count) in iter {
            clock.set(&node.into(), count);
        }
        clock
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn vc(entries: &[(&str, u64)]) -> VectorClock {
        entries.iter().map(|&(n, c)| (n, c)).collect()
    }

    #[test]
    fn compare_names_the_four_relations() {
        let a = vc(&[("n0", 1)]);
        let b = vc(&[("n0", 1), ("n1", 2)]);
        let c = vc(&[("n1", 3)]);
        assert_eq!(a.compare(&b), Causality::Before);
        assert_eq!(b.compare(&a), Causality::After);
        assert_eq!(a.compare(&a.clone()), Causality::Equal);
        assert_eq!(a.compare(&c), Causality::Concurrent);
        assert!(a < b);
        assert_eq!(a.partial_cmp(&c), None);
    }

    #[test]
    fn zeros_are_not_stored() {
        let mut a = VectorClock::new();
        a.set("n0", 0);
        assert_eq!(a, VectorClock::new());
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({}));
        a.increment("n2");
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"n2": 1}));
        assert_eq!(a.without("n2"), VectorClock::new());
    }

    #[test]
    fn merge_takes_the_maximum_of_each_entry() {
        let mut a = vc(&[("n0", 3), ("n1", 1)]);
        a.merge(&vc(&[("n1", 4), ("n2", 2)]));
        assert_eq!(a, vc(&[("n0", 3), ("n1", 4), ("n2", 2)]));
    }

    const NODES: [&str; 3] = ["n0", "n1", "n2"];

    fn clock() -> impl Strategy<Value = VectorClock> {
        prop::collection::vec(0u64..4, 3)
            .prop_map(|counts| NODES.iter().copied().zip(counts).collect())
    }

    proptest! {
        /// `merge` is the least upper bound: above both inputs, and below every clock that is
        /// above both.
        #[test]
        fn merge_is_the_least_upper_bound(a in clock(), b in clock(), c in clock()) {
            let mut m = a.clone();
            m.merge(&b);
            prop_assert!(a.le(&m) && b.le(&m));
            if a.le(&c) && b.le(&c) {
                prop_assert!(m.le(&c));
            }
            let mut n = b.clone();
            n.merge(&a);
            prop_assert_eq!(m, n);
        }

        /// Happens-before is a strict partial order: irreflexive, asymmetric, transitive.
        #[test]
        fn happens_before_is_a_strict_partial_order(a in clock(), b in clock(), c in clock()) {
            prop_assert!(!a.happens_before(&a));
            prop_assert!(!(a.happens_before(&b) && b.happens_before(&a)));
            if a.happens_before(&b) && b.happens_before(&c) {
                prop_assert!(a.happens_before(&c));
            }
        }

        /// Along a run of send/receive events, a send happens before its receive, and later
        /// events of one node happen after earlier ones.
        #[test]
        fn sends_happen_before_their_receives(events in prop::collection::vec((0usize..3, 0usize..3), 1..40)) {
            let mut clocks: Vec<VectorClock> = vec![VectorClock::new(); 3];
            for (from, to) in events {
                let before = clocks[from].clone();
                clocks[from].increment(NODES[from]);
                let sent = clocks[from].clone();
                prop_assert!(before.happens_before(&sent));
                if from != to {
                    clocks[to].merge(&sent);
                    clocks[to].increment(NODES[to]);
                    prop_assert!(sent.happens_before(&clocks[to]));
                }
            }
        }
    }
}

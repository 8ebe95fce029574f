//! A set of sequence numbers kept as disjoint ranges: what a receiver has seen, what it
//! acknowledges, what an anti-entropy digest says a node holds. Messages of one sender are
//! mostly contiguous, so the set stays a handful of ranges however many numbers it holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of `u64`, stored as sorted, disjoint, non-adjacent half-open ranges `[start, end)`.
/// Serialized as a list of inclusive pairs `[[first, last], ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqSet {
    /// start -> end (exclusive).
    ranges: BTreeMap<u64, u64>,
}

impl SeqSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the set holds no number.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many numbers the set holds.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    /// True when `x` is in the set.
    pub fn contains(&self, x: u64) -> bool {
        self.ranges
            .range(..=x)
            .next_back()
            .is_some_and(|(_, &end)| x < end)
    }

    /// True when every number of `[first, last]` is in the set.
    pub fn covers(&self, first: u64, last: u64) -> bool {
        first > last
            || self
                .ranges
                .range(..=first)
                .next_back()
                .is_some_and(|(_, &end)| last < end)
    }

    /// Add `x`. Returns true if it was not there.
    pub fn insert(&mut self, x: u64) -> bool {
        if self.contains(x) {
            return false;
        }
        self.insert_range(x, x.saturating_add(1));
        true
    }

    /// Add every number of `[start, end)`.
    pub fn insert_range(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        // Absorb a range that begins at or before `start` and reaches it.
        if let Some((&s, &e)) = self.ranges.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
        }
        // Absorb every range that begins inside or right after the new one.
        let absorbed: Vec<u64> = self.ranges.range(start..=end).map(|(&s, _)| s).collect();
        for s in absorbed {
            if let Some(e) = self.ranges.remove(&s) {
                end = end.max(e);
            }
        }
        self.ranges.insert(start, end);
    }

    /// Add every number of `other`.
    pub fn union_with(&mut self, other: &SeqSet) {
        for (&s, &e) in &other.ranges {
            self.insert_range(s, e);
        }
    }

    /// The smallest number not in the set that is at least 0: the length of the contiguous
    /// prefix `0, 1, 2, ...` the set holds.
    pub fn prefix(&self) -> u64 {
        match self.ranges.first_key_value() {
            Some((0, &end)) => end,
            _ => 0,
        }
    }

    /// The largest number in the set.
    pub fn max(&self) -> Option<u64> {
        self.ranges.last_key_value().map(|(_, &end)| end - 1)
    }

    /// The ranges, as `(first, last)` inclusive pairs.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().map(|(&s, &e)| (s, e - 1))
    }

    /// Every number, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.ranges.iter().flat_map(|(&s, &e)| s..e)
    }
}

impl FromIterator<u64> for SeqSet {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut set = SeqSet::new();
        for x in iter {
            set.insert(x);
        }
        set
    }
}

impl Serialize for SeqSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.ranges().map(|(first, last)| [first, last]))
    }
}

impl<'de> Deserialize<'de> for SeqSet {
    /// Accepts pairs in any order, overlapping or not; a pair whose first exceeds its last is
    /// an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<[u64; 2]>::deserialize(deserializer)?;
        let mut set = SeqSet::new();
        for [first, last] in pairs {
            if first > last {
                return Err(serde::de::Error::custom(format!(
                    "range [{first}, {last}] is empty"
                )));
            }
            set.insert_range(first, last.saturating_add(1));
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn adjacent_numbers_merge_into_one_range() {
        let set: SeqSet = [0, 1, 2, 5, 3, 7, 6].into_iter().collect();
        assert_eq!(set.ranges().collect::<Vec<_>>(), vec![(0, 3), (5, 7)]);
        assert_eq!(set.prefix(), 4);
        assert_eq!(set.len(), 7);
        assert_eq!(set.max(), Some(7));
        assert_eq!(serde_json::to_value(&set).unwrap(), json!([[0, 3], [5, 7]]));
    }

    #[test]
    fn a_prefix_needs_zero() {
        let set: SeqSet = [1, 2].into_iter().collect();
        assert_eq!(set.prefix(), 0);
    }

    #[test]
    fn deserialization_rejects_inverted_ranges() {
        assert!(serde_json::from_value::<SeqSet>(json!([[3, 1]])).is_err());
        let set: SeqSet = serde_json::from_value(json!([[4, 6], [0, 1], [2, 2]])).unwrap();
        assert_eq!(set.ranges().collect::<Vec<_>>(), vec![(0, 2), (4, 6)]);
    }

    proptest! {
        /// The set behaves like a `BTreeSet<u64>` under inserts, and its ranges stay disjoint
        /// and non-adjacent.
        #[test]
        fn behaves_like_a_set(xs in prop::collection::vec(0u64..64, 0..80), probe in 0u64..70) {
            let mut set = SeqSet::new();
            let mut model = BTreeSet::new();
            for x in xs {
                prop_assert_eq!(set.insert(x), model.insert(x));
            }
            prop_assert_eq!(set.contains(probe), model.contains(&probe));
            let covered = (probe..probe + 3).all(|x| model.contains(&x));
            prop_assert_eq!(set.covers(probe, probe + 2), covered);
            prop_assert_eq!(set.len(), model.len() as u64);
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            let ranges: Vec<_> = set.ranges().collect();
            for pair in ranges.windows(2) {
                prop_assert!(pair[0].1 + 1 < pair[1].0);
            }
            let back: SeqSet = serde_json::from_value(serde_json::to_value(&set).unwrap()).unwrap();
            prop_assert_eq!(back, set);
        }
    }
}

//! `g-set`: a grow-only set, the simplest state-based CRDT (the course's 8.1).
//!
//! **Algorithm.** Each node holds a set of elements. An `add {element}` puts the element in the
//! node's own set; every `--interval-ms` the node sends its whole set to every other node
//! ([`super::Replica`]), and a node that receives a set merges it into its own by union.
//!
//! **Guarantee.** Strong eventual consistency: every element acknowledged to a client is
//! eventually in every node's set, and any two nodes that have received the same adds (directly
//! or through gossip) hold the same set, whatever the order in which they merged them. Union is
//! commutative, associative and idempotent, and an add only grows the set, so late, repeated
//! and lost gossips do no harm. A node's reads never go back: its set only grows. Reads at
//! different nodes may differ (a read shows what this node has heard of), so a value can be
//! stale for a while; only the final reads after the heal must all hold every element.
//!
//! **When `add_ok` is sent.** At once, when the element is in this node's set and on its stable
//! storage. No other node need have it: it reaches them with the next gossip.
//!
//! **Topology.** Ignored (the g-set workload sends none): every node gossips to every other.
//!
//! **Cost.** No message per add or read; per interval, n - 1 gossips from each node, each
//! carrying the whole set: n(n - 1) messages of O(elements) size per interval, whatever the
//! load. Elements stay as long as the set lives; nothing is ever removed.
//!
//! **Partition.** Both sides keep accepting adds and answering reads (the set is available
//! under any partition); gossips across the cut are lost. Once the partition heals, the next
//! gossip in each direction brings each side the other's elements.
//!
//! **Crash and restart.** Each added element, and each element first learned from a gossip, is
//! appended to stable storage before the add is acknowledged or a read shows it; a restarted
//! node reads its set back, so no kill loses an acknowledged element and no node's reads go
//! back. A wiped node starts empty and is refilled by the next gossips, except for elements
//! that only it held.

use std::collections::BTreeMap;

use proto::Payload;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Crdt;

/// A set of JSON values, ordered by their JSON text (so reads and gossips list them in one
/// order on every run). Serialized as a list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<Value>", into = "Vec<Value>")]
pub struct Elements(BTreeMap<String, Value>);

impl Elements {
    /// Put `element` in the set; true if it was not there.
    pub fn insert(&mut self, element: Value) -> bool {
        let key = element.to_string();
        if self.0.contains_key(&key) {
            return false;
        }
        self.0.insert(key, element);
        true
    }

    /// True when `element` is in the set.
    pub fn contains(&self, element: &Value) -> bool {
        self.0.contains_key(&element.to_string())
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The elements, in the set's order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.0.values()
    }

    /// Add every element of `other`; returns those that were new (empty when none was).
    pub fn union(&mut self, other: Elements) -> Elements {
        let mut new = Elements::default();
        for (key, element) in other.0 {
            if !self.0.contains_key(&key) {
                self.0.insert(key.clone(), element.clone());
                new.0.insert(key, element);
            }
        }
        new
    }
}

impl From<Vec<Value>> for Elements {
    fn from(elements: Vec<Value>) -> Self {
        let mut set = Elements::default();
        for element in elements {
            set.insert(element);
        }
        set
    }
}

impl From<Elements> for Vec<Value> {
    fn from(set: Elements) -> Self {
        set.0.into_values().collect()
    }
}

/// A g-set's `add {element}`: the element; why the request is malformed when it has none.
pub(super) fn element_of(add: &Payload) -> Result<Value, String> {
    match add {
        Payload::Add {
            element: Some(element),
            ..
        } => Ok(element.clone()),
        _ => Err("a g-set's add needs an element".to_owned()),
    }
}

/// Add `add`'s element to `set`; the element alone if it was new.
pub(super) fn add(set: &mut Elements, add: &Payload) -> Result<Elements, String> {
    let element = element_of(add)?;
    let mut changed = Elements::default();
    if set.insert(element.clone()) {
        changed.insert(element);
    }
    Ok(changed)
}

/// A read of `set`: its elements, as a list.
pub(super) fn read(set: &Elements) -> Value {
    Value::Array(set.iter().cloned().collect())
}

/// The grow-only set: merge by union.
#[derive(Debug)]
pub struct GSet;

impl Crdt for GSet {
    type State = Elements;

    fn add(state: &mut Elements, _replica: &str, request: &Payload) -> Result<Elements, String> {
        add(state, request)
    }

    fn merge(
        state: &mut Elements,
        _replica: &str,
        _from: &str,
        peer: Elements,
    ) -> Option<Elements> {
        let new = state.union(peer);
        (!new.is_empty()).then_some(new)
    }

    fn restore(state: &mut Elements, record: Elements) {
        state.union(record);
    }

    fn read(state: &Elements) -> Value {
        read(state)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(values: Value) -> Elements {
        serde_json::from_value(values).unwrap()
    }

    #[test]
    fn union_is_commutative_associative_and_idempotent() {
        let (a, b, c) = (
            set(json!([1, 2])),
            set(json!([2, "x"])),
            set(json!([[3], 1])),
        );
        let merged = |parts: &[&Elements]| {
            let mut s = Elements::default();
            for p in parts {
                GSet::merge(&mut s, "me", "n", (*p).clone());
            }
            s
        };
        let abc = merged(&[&a, &b, &c]);
        assert_eq!(abc, merged(&[&c, &a, &b]));
        assert_eq!(abc, merged(&[&b, &c, &a, &b, &a]));
        // Listed in the order of their JSON text.
        assert_eq!(serde_json::to_value(&abc).unwrap(), json!(["x", 1, 2, [3]]));
        // What a merge reports as changed is what was new.
        let mut s = set(json!([1]));
        assert_eq!(
            GSet::merge(&mut s, "me", "n", set(json!([1, 4]))),
            Some(set(json!([4])))
        );
        assert_eq!(GSet::merge(&mut s, "me", "n", set(json!([4]))), None);
    }
}

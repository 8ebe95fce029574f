//! Message identity and the store of received messages for the unordered broadcasts (eager and
//! gossip), with the digest that anti-entropy exchanges.
//!
//! Every broadcast gets an id `(origin, incarnation, seq)`: the node the client sent it to, that
//! node's incarnation (so a restarted origin, whose counter starts again at 0, never reuses an
//! id), and a counter. A node's knowledge is then, per `(origin, incarnation)` stream, a set of
//! counters, which is nearly always one range: a [`Digest`] of a few numbers per stream however
//! many messages it covers. Two nodes compare digests to find what each lacks and send only
//! that (a delta, not the whole store).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::seqset::SeqSet;

/// A broadcast message's id: `[origin, incarnation, seq]` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub String, pub u64, pub u64);

impl MessageId {
    /// The node the client sent the message to.
    pub fn origin(&self) -> &str {
        &self.0
    }
}

/// A message: id and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: MessageId,
    pub value: Value,
}

/// Mints ids for the broadcasts a node originates.
#[derive(Debug, Clone, Default)]
pub struct Minter {
    origin: String,
    incarnation: u64,
    next: u64,
}

impl Minter {
    /// Ids for node `origin` in this `incarnation`.
    pub fn new(origin: &str, incarnation: u64) -> Self {
        Minter {
            origin: origin.to_owned(),
            incarnation,
            next: 0,
        }
    }

    /// A fresh id.
    pub fn mint(&mut self) -> MessageId {
        let id = MessageId(self.origin.clone(), self.incarnation, self.next);
        self.next += 1;
        id
    }
}

/// Which messages a node holds: per `(origin, incarnation)` stream, the set of counters.
/// Serialized as `[[origin, incarnation, [[first, last], ...]], ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    from = "Vec<(String, u64, SeqSet)>",
    into = "Vec<(String, u64, SeqSet)>"
)]
pub struct Digest {
    streams: BTreeMap<(String, u64), SeqSet>,
}

impl Digest {
    /// True when the digest covers `id`.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.streams
            .get(&(id.0.clone(), id.1))
            .is_some_and(|s| s.contains(id.2))
    }

    fn insert(&mut self, id: &MessageId) {
        self.streams
            .entry((id.0.clone(), id.1))
            .or_default()
            .insert(id.2);
    }

    /// How many ids the digest covers.
    pub fn len(&self) -> u64 {
        self.streams.values().map(SeqSet::len).sum()
    }

    /// True when the digest covers nothing.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

impl From<Vec<(String, u64, SeqSet)>> for Digest {
    fn from(list: Vec<(String, u64, SeqSet)>) -> Self {
        let mut digest = Digest::default();
        for (origin, incarnation, seqs) in list {
            digest
                .streams
                .entry((origin, incarnation))
                .or_default()
                .union_with(&seqs);
        }
        digest
    }
}

impl From<Digest> for Vec<(String, u64, SeqSet)> {
    fn from(digest: Digest) -> Self {
        digest
            .streams
            .into_iter()
            .map(|((origin, incarnation), seqs)| (origin, incarnation, seqs))
            .collect()
    }
}

/// Every message a node has received, by id, with its digest kept up to date.
#[derive(Debug, Clone, Default)]
pub struct Store {
    items: BTreeMap<MessageId, Value>,
    digest: Digest,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep `item`. Returns false if its id was held already (a duplicate).
    pub fn insert(&mut self, item: &Item) -> bool {
        if self.items.contains_key(&item.id) {
            return false;
        }
        self.items.insert(item.id.clone(), item.value.clone());
        self.digest.insert(&item.id);
        true
    }

    /// True when a message with this id is held.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.items.contains_key(id)
    }

    /// How many messages are held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no message is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// What this store holds.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The held messages that `digest` does not cover, at most `limit` of them, after
    /// `after` (exclusive) in id order, so a large difference can be sent in pages.
    pub fn missing_from(
        &self,
        digest: &Digest,
        after: Option<&MessageId>,
        limit: usize,
    ) -> Vec<Item> {
        let range = match after {
            Some(after) => self.items.range((
                std::ops::Bound::Excluded(after.clone()),
                std::ops::Bound::Unbounded,
            )),
            None => self.items.range(..),
        };
        range
            .filter(|(id, _)| !digest.contains(id))
            .take(limit)
            .map(|(id, value)| Item {
                id: id.clone(),
                value: value.clone(),
            })
            .collect()
    }

    /// True when `digest` covers some id this store does not hold.
    pub fn lacks_some_of(&self, digest: &Digest) -> bool {
        digest.len() > self.digest.len()
            || digest.streams.iter().any(|(stream, seqs)| {
                self.digest
                    .streams
                    .get(stream)
                    .is_none_or(|mine| seqs.ranges().any(|(first, last)| !mine.covers(first, last)))
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(origin: &str, seq: u64, value: i64) -> Item {
        Item {
            id: MessageId(origin.into(), 1, seq),
            value: json!(value),
        }
    }

    #[test]
    fn the_digest_is_a_few_ranges_per_stream() {
        let mut store = Store::new();
        for seq in 0..5 {
            assert!(store.insert(&item("n1", seq, seq as i64)));
        }
        assert!(!store.insert(&item("n1", 2, 2)));
        assert_eq!(
            serde_json::to_value(store.digest()).unwrap(),
            json!([["n1", 1, [[0, 4]]]])
        );
    }

    #[test]
    fn missing_from_sends_only_the_difference_in_pages() {
        let mut mine = Store::new();
        let mut theirs = Store::new();
        for seq in 0..6 {
            mine.insert(&item("n1", seq, seq as i64));
        }
        theirs.insert(&item("n1", 1, 1));
        theirs.insert(&item("n2", 0, 9));
        let page = mine.missing_from(theirs.digest(), None, 3);
        let ids: Vec<u64> = page.iter().map(|i| i.id.2).collect();
        assert_eq!(ids, vec![0, 2, 3]);
        let rest = mine.missing_from(theirs.digest(), Some(&page[2].id), 3);
        assert_eq!(rest.iter().map(|i| i.id.2).collect::<Vec<_>>(), vec![4, 5]);
        assert!(mine.lacks_some_of(theirs.digest()));
        assert!(!theirs.lacks_some_of(&Digest::default()));
    }
}

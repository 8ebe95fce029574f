//! Anti-entropy (the course's gossip protocols): two nodes compare what they hold and each sends
//! the other what it lacks, so messages that a lost packet, a partition or a crash kept from a
//! node still reach it.
//!
//! One exchange is push-pull: A sends its [`Digest`]; B answers with the messages A lacks
//! (a page at a time) and, when A holds some that B lacks, its own digest; A then sends those.
//! Nothing is sent back when the two already agree, so an exchange between nodes in sync costs
//! one small message.

use serde::{Deserialize, Serialize};

use crate::broadcast::values::{Digest, Item, Store};

/// At most this many messages in one delta; the rest go in the next exchange.
pub const PAGE: usize = 512;

/// The messages of an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AntiEntropy {
    /// "This is what I hold."
    Digest { digest: Digest },
    /// "Here is what you lack" (`more`: a page of it), and, if the sender lacks some of what
    /// the digest listed, the sender's digest, so that the other side sends that.
    Delta {
        items: Vec<Item>,
        #[serde(default)]
        more: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        digest: Option<Digest>,
    },
}

/// The `type`s of anti-entropy messages.
pub const KINDS: [&str; 2] = ["digest", "delta"];

/// Answer a peer's digest: what it lacks, and our digest if we lack some of what it holds.
/// `None` when the two stores agree.
pub fn answer_digest(store: &Store, digest: &Digest) -> Option<AntiEntropy> {
    let lacks = store.lacks_some_of(digest);
    let delta = page_for(store, digest, lacks);
    let has_items = matches!(&delta, AntiEntropy::Delta { items, .. } if !items.is_empty());
    (has_items || lacks).then_some(delta)
}

/// Answer the digest that came with a delta: what that peer lacks, without asking back.
/// `None` when it lacks nothing.
pub fn answer_delta(store: &Store, digest: &Digest) -> Option<AntiEntropy> {
    let delta = page_for(store, digest, false);
    matches!(&delta, AntiEntropy::Delta { items, .. } if !items.is_empty()).then_some(delta)
}

fn page_for(store: &Store, digest: &Digest, ask_back: bool) -> AntiEntropy {
    let mut items = store.missing_from(digest, None, PAGE + 1);
    let more = items.len() > PAGE;
    items.truncate(PAGE);
    AntiEntropy::Delta {
        items,
        more,
        digest: ask_back.then(|| store.digest().clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::broadcast::values::MessageId;

    fn store(ids: &[(&str, u64)]) -> Store {
        let mut store = Store::new();
        for (origin, seq) in ids {
            store.insert(&Item {
                id: MessageId((*origin).into(), 1, *seq),
                value: json!(seq),
            });
        }
        store
    }

    #[test]
    fn a_push_pull_exchange_leaves_both_sides_equal() {
        let mut a = store(&[("n0", 0), ("n0", 1)]);
        let mut b = store(&[("n1", 0)]);
        let Some(AntiEntropy::Delta { items, digest, .. }) = answer_digest(&b, a.digest()) else {
            panic!("b lacks n0's messages and holds n1's: it must answer");
        };
        for item in &items {
            a.insert(item);
        }
        let digest = digest.expect("b asks back");
        let Some(AntiEntropy::Delta { items, digest, .. }) = answer_delta(&a, &digest) else {
            panic!("a must send what b lacks");
        };
        assert!(digest.is_none());
        for item in &items {
            b.insert(item);
        }
        assert_eq!(a.digest(), b.digest());
        assert_eq!(answer_digest(&b, a.digest()), None, "in sync: no answer");
    }
}

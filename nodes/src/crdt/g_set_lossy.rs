//! `g-set-lossy`: [`super::g_set`] with a merge that is not a join: a node that receives a
//! peer's set replaces its own with it. The classic mistake of treating replication as "copy
//! the latest state" (last-writer-wins of the whole state) when the states were updated
//! concurrently; and why a CRDT's merge must be a least upper bound (8.1).
//!
//! **Algorithm.** Exactly `g-set`'s for `add` and `read`, and the same gossip of the whole set to
//! every other node every `--interval-ms`. A node that receives a gossip, though, throws its
//! own set away and keeps the sender's.
//!
//! **Why elements are lost.** An element a node added after the sender's set was taken is in
//! neither: the replacement drops it. With every node gossiping, each node's set is replaced by
//! another's over and over, and an element survives only if it reached the senders of every
//! later replacement first. Acknowledged elements vanish from reads, and the final reads after
//! the heal miss some of them: set-full reports them **lost** (present in a read, absent from a
//! later one and from the final reads). Under a partition the two sides overwrite each other
//! at the heal, so one side's elements of the whole partition go at once. No fault is needed:
//! the merge is not an upper bound of the two sets, so concurrent adds are lost as soon as two
//! nodes swap sets (each ends with the other's element only).
//!
//! **When `add_ok` is sent, Topology, Cost.** As `g-set`.
//!
//! **Partition.** Each side accepts adds and overwrites its own members' sets; the heal is when
//! the most is lost.
//!
//! **Crash and restart.** What is on stable storage is what `g-set` writes: every element this
//! node added or first learned, and the restart joins them by union. So a restart brings back
//! every element the node ever held: the bug is in memory, in the merge, and a kill hides it
//! for a while.
//!
//! The fix is `g-set`: merge by union.

use proto::Payload;
use serde_json::Value;

use super::Crdt;
use super::g_set::{Elements, add, read};

/// The g-set whose merge replaces this node's set with the peer's.
#[derive(Debug)]
pub struct GSetLossy;

impl Crdt for GSetLossy {
    type State = Elements;

    fn add(state: &mut Elements, _replica: &str, request: &Payload) -> Result<Elements, String> {
        add(state, request)
    }

    /// The bug: the peer's set replaces this one. Returns the elements that were new to this
    /// node (what stable storage records); the ones it dropped are not mentioned.
    fn merge(
        state: &mut Elements,
        _replica: &str,
        _from: &str,
        peer: Elements,
    ) -> Option<Elements> {
        let mut new = Elements::default();
        for element in peer.iter() {
            if !state.contains(element) {
                new.insert(element.clone());
            }
        }
        let changed = *state != peer;
        *state = peer;
        changed.then_some(new)
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

    #[test]
    fn a_merge_drops_what_this_node_added_since_the_peers_set_was_taken() {
        let mut mine: Elements = serde_json::from_value(json!([1, 2])).unwrap();
        let theirs: Elements = serde_json::from_value(json!([1, 3])).unwrap();
        let changed = GSetLossy::merge(&mut mine, "me", "n1", theirs);
        assert_eq!(GSetLossy::read(&mine), json!([1, 3]), "2 is lost");
        assert_eq!(changed, Some(serde_json::from_value(json!([3])).unwrap()));
    }
}

//! `txn-lost-updates`: [`super::single`] whose holder reads now and writes later, without
//! checking what changed in between. A planted bug: **G-single (lost update)**, which
//! serializability (and snapshot isolation) forbids; read committed allows it, so the history
//! passes `--consistency-models read-committed` and fails `serializable`. Both workloads.
//!
//! **The defect.** `n0` runs a transaction's reads when it arrives, against the store as it is
//! then (a snapshot, plus the transaction's own writes), and schedules its writes to be
//! applied `--commit-delay-ms` later, when it answers `txn_ok`. It never checks whether
//! another transaction wrote the keys it read in between (no first-committer-wins, no locks).
//! Two read-modify-write transactions that arrive within the delay both read the old state;
//! both commit.
//!
//! **What shows it.** In txn-list-append, `T1 = [r x, append x 1]` and
//! `T2 = [r x, append x 2]` arriving together both read `x = []`, and the list becomes
//! `[1, 2]`: `T1 -ww-> T2` (1 is before 2) and `T2 -rw-> T1` (`T2` read a version without 1),
//! a cycle with one anti-dependency edge: G-single. In txn-rw-register, `T1 = [r x, w x 1]` and
//! `T2 = [r x, w x 2]` both read the old value and `x` ends as 2: `T1`'s update is lost.
//! Writes are applied at the holder one transaction at a time, in arrival order, and every
//! read sees only committed values, so no G0, G1a, G1b or G1c: it is read committed.
//!
//! A side effect in txn-list-append: a transaction that reads a list after appending to it
//! reads its snapshot plus its own element, and if another transaction's append to that list
//! lands first, the list it read never existed in that order; the checker may report that
//! as an incompatible order of the key's elements as well.
//!
//! The fix is `txn-single`: run the whole transaction, reads and writes, as one step.

use std::time::Duration;

use crate::txn::single::{Commit, SingleCopy};

/// `--commit-delay-ms`'s default.
pub const COMMIT_DELAY: Duration = Duration::from_millis(100);

/// The `txn-lost-updates` node: writes applied `delay` after the reads.
pub fn lost_updates(delay: Duration) -> SingleCopy {
    SingleCopy::new(Commit::DeferWrites { delay })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::script::Script;

    #[test]
    fn two_read_modify_writes_within_the_delay_both_read_the_old_state() {
        let mut s = Script::start(lost_updates(COMMIT_DELAY), 1, &["n0"], "none");
        s.expect("c0", "init_ok");
        for (msg_id, element) in [(1, 1), (2, 2)] {
            s.deliver(
                &format!("c{msg_id}"),
                json!({"type": "txn", "msg_id": msg_id, "txn": [["r", 7, null], ["append", 7, element]]}),
            );
        }
        assert!(s.outbox.is_empty(), "answered only when the writes apply");
        s.advance(COMMIT_DELAY);
        for client in ["c1", "c2"] {
            let ok = s.expect(client, "txn_ok");
            assert_eq!(ok.body.to_value()["txn"][0], json!(["r", 7, null]));
        }
        assert_eq!(s.rt.node().store().get(&json!(7)), Some(&json!([1, 2])));
    }
}

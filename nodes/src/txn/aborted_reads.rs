//! `txn-aborted-reads`: [`super::single`] whose holder aborts some transactions after their
//! writes took effect. A planted bug: **G1a (aborted read)**, which read committed (Adya's
//! PL-2) and every stronger level forbid; read uncommitted (PL-1, which forbids only G0)
//! allows it, and the node has no G0 (one copy, transactions one at a time). Both
//! txn-rw-register and txn-list-append.
//!
//! **The defect.** `n0` runs each transaction in place and commits its writes, then, for every
//! `--abort-every N`-th transaction that writes (counted at `n0`, so the choice is
//! deterministic in the order transactions arrive), answers error 30 (txn-conflict) instead of
//! `txn_ok`, and does not undo the writes. Error 30 is definite: the client records the
//! transaction as failed, never having happened. Yet its writes stay in the store, and any
//! later read observes them: a committed transaction read state written by an aborted one.
//!
//! **What shows it.** Any read of a key after an aborted transaction wrote it and before a
//! later write replaced it (rw-register), or any later read of the list at all
//! (list-append: the aborted element stays in the list forever). The checker names it G1a
//! under `--consistency-models read-committed` and every stronger model; under
//! `read-uncommitted` the history is valid.
//!
//! The fix is `txn-single`: a transaction that does not commit must leave nothing behind (run
//! it against a buffer, and commit the buffer only with the `txn_ok`).

use crate::txn::single::{Commit, SingleCopy};

/// `--abort-every`'s default.
pub const ABORT_EVERY: u64 = 3;

/// The `txn-aborted-reads` node: aborts every `every`-th writing transaction, after it wrote.
pub fn aborted_reads(every: u64) -> SingleCopy {
    SingleCopy::new(Commit::AbortEvery {
        every: every.max(1),
    })
}

#[cfg(test)]
mod tests {
    use proto::ErrorCode;
    use serde_json::json;

    use super::*;
    use crate::script::Script;

    #[test]
    fn an_aborted_transactions_write_is_read_by_the_next_transaction() {
        let mut s = Script::start(aborted_reads(2), 1, &["n0"], "none");
        s.expect("c0", "init_ok");
        s.deliver(
            "c1",
            json!({"type": "txn", "msg_id": 1, "txn": [["append", 1, 1]]}),
        );
        s.expect("c1", "txn_ok");
        s.deliver(
            "c1",
            json!({"type": "txn", "msg_id": 2, "txn": [["append", 1, 2]]}),
        );
        let abort = s.expect("c1", "error");
        assert_eq!(abort.body.error_code(), Some(ErrorCode::TxnConflict));
        // Read-only transactions do not count.
        s.deliver(
            "c2",
            json!({"type": "txn", "msg_id": 3, "txn": [["r", 1, null]]}),
        );
        let read = s.expect("c2", "txn_ok");
        assert_eq!(
            read.body.to_value()["txn"],
            json!([["r", 1, [1, 2]]]),
            "the aborted append is visible"
        );
    }
}

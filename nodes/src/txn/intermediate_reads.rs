//! `txn-intermediate-reads`: [`super::replicated`] replicating each write micro-op as it runs,
//! not each key's final write at commit. A planted bug: **G1b (intermediate read)**, which read
//! committed (Adya's PL-2) forbids and read uncommitted allows. txn-rw-register only (appends
//! are answered with error 10, as by `txn-rc`).
//!
//! **The defect.** Everything is `txn-rc`'s (Lamport timestamps, last writer wins at every
//! replica, so no G0 and no G1c) except what leaves a transaction: every `w` is sent to every
//! peer in its own message, stamped with the transaction's timestamp and its position in the
//! transaction, including writes that a later micro-op of the same transaction overwrites.
//! Those go out at once, as the transaction runs; each key's final write goes out at commit,
//! one `--retry-ms` later (a store that streams its writes and ships the final values when it
//! commits). A replica keeps each write that is newer than what it holds. When a transaction
//! writes a key twice, `[w x 1, w x 2]`, a peer holds `x = 1` until `x = 2` arrives; a read
//! in between observes a value that was never the transaction's final one.
//!
//! **What shows it.** A transaction that writes one key twice, and a read of that key at
//! another node in the window between the arrivals of the two writes. The checker names it
//! G1b under read committed and stronger models; read uncommitted passes.
//!
//! The fix is `txn-rc`: buffer a transaction's writes and let only each key's final value
//! leave it, at commit.

use crate::txn::replicated::{ReplicatedConfig, ReplicatedTxn, Replication};

/// The `txn-intermediate-reads` node.
pub fn intermediate_reads(mut config: ReplicatedConfig) -> ReplicatedTxn {
    config.replication = Replication::EachWrite;
    ReplicatedTxn::new(config)
}

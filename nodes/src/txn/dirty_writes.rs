//! `txn-dirty-writes`: [`super::replicated`] with its replication stripped of timestamps. A
//! planted bug: **G0 (write cycle, "dirty write")**, which every isolation level forbids, read
//! uncommitted (Adya's PL-1) included. Totally available, both workloads; the cycle is plainest
//! in txn-list-append, whose reads show each key's order of appends.
//!
//! **The defect.** A node runs and commits a transaction locally, as `txn-rc` does, but sends
//! each write micro-op to its peers in its own message, with no timestamp, and a replica
//! applies each write the moment it arrives: a `w` replaces the key's value, an `append` adds
//! to the end of the key's list. The network delays every message independently, so the
//! writes of two transactions to two keys can arrive in one order for one key and in the other
//! order for the other, and a replica's own local transactions interleave with the writes that
//! arrive. Nothing orders one transaction's writes against another's consistently across keys,
//! which is exactly what last-writer-wins by transaction timestamp gave `txn-rc`.
//!
//! **What shows it.** `T1 = [append x 1, append y 1]` and `T2 = [append x 2, append y 2]` at
//! two nodes; a third replica (or either of the two, interleaving its own later transactions)
//! receives `T1`'s `x`, `T2`'s `x`, `T2`'s `y`, `T1`'s `y`, and reads `x = [1, 2]`,
//! `y = [2, 1]`: `T1 -ww-> T2` on `x`, `T2 -ww-> T1` on `y`, a write cycle (G0). Different
//! replicas also hold the same key's appends in different orders (Elle: incompatible order),
//! and in txn-rw-register the replicas need not converge.
//!
//! The fix is `txn-rc`: stamp every transaction with a Lamport timestamp and let the newest
//! stamp win at every replica, so that every key's version order is the timestamp order.

use crate::txn::replicated::{ReplicatedConfig, ReplicatedTxn, Replication};

/// The `txn-dirty-writes` node.
pub fn dirty_writes(mut config: ReplicatedConfig) -> ReplicatedTxn {
    config.replication = Replication::ArrivalOrder;
    ReplicatedTxn::new(config)
}

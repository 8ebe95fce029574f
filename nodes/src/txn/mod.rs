//! Transactional key-value stores for Maelstrom's txn-rw-register and txn-list-append
//! workloads (Gossip Glomers 6): `txn {txn: [[f, key, value], ...]}` runs the micro-ops in
//! order as one transaction and answers `txn_ok` with every read's value filled in.
//!
//! All of them run transactions with one engine, [`engine`]; they differ in where the data
//! lives and how writes reach the other copies, and so in the isolation level they give
//! (Adya's levels, as the course's "isolation levels" and Elle name them):
//!
//! | binary | module | how | isolation | workloads |
//! |---|---|---|---|---|
//! | `txn-single` | [`single`] | one copy at `n0`, transactions run one at a time, others forward | strict serializable | both |
//! | `txn-rc` | [`replicated`] | a copy per node, local commit, last-writer-wins replication by Lamport timestamp | read committed, totally available | rw-register |
//! | `txn-dirty-writes` | [`dirty_writes`] | `txn-rc`'s, each write replicated alone and applied in arrival order | none: G0 (write cycle) | both |
//! | `txn-intermediate-reads` | [`intermediate_reads`] | `txn-rc`'s, each write micro-op replicated as it runs | read uncommitted: G1b | rw-register |
//! | `txn-aborted-reads` | [`aborted_reads`] | `txn-single`'s, every n-th writing transaction aborted after its writes took effect | read uncommitted: G1a | both |
//! | `txn-lost-updates` | [`lost_updates`] | `txn-single`'s, reads now, writes applied later unchecked | read committed, not serializable: G-single (lost update) | both |
//!
//! [`courier`] carries replication messages reliably, one message per item.

pub mod aborted_reads;
pub mod courier;
pub mod dirty_writes;
pub mod engine;
pub mod intermediate_reads;
pub mod lost_updates;
pub mod replicated;
pub mod single;

//! Key-value stores built on the broadcast algorithms: the course's state-machine replication,
//! and the classic ways to get it wrong.
//!
//! All of them serve the lin-kv workload (`read {key}`, `write {key, value}`,
//! `cas {key, from, to}`, errors 20 and 22) with the same state machine, [`store::Store`];
//! they differ only in how operations reach it:
//!
//! - [`leader`] (`lin-kv-leader`): every op is forwarded to one leader that applies it.
//!   Linearizable while the leader lives.
//! - [`gossip`] (`kv-gossip`): local reads and writes, last-writer-wins replication by gossip.
//!   Eventually consistent, not linearizable.

pub mod leader;
pub mod store;

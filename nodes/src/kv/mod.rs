//! Key-value stores built on the broadcast algorithms: the course's state-machine replication,
//! and the classic ways to get it wrong.
//!
//! All of them serve the lin-kv workload (`read {key}`, `write {key, value}`,
//! `cas {key, from, to}`, errors 20 and 22) with the same state machine, [`store::Store`];
//! they differ only in how operations reach it:
//!
//! | binary | module | how | linearizable |
//! |---|---|---|---|
//! | `lin-kv-tob` | [`tob`] | every op, reads included, through total-order broadcast | yes |
//! | `lin-kv-leader` | [`leader`] | every op forwarded to one leader that applies it | yes, while the leader lives |
//! | `kv-gossip` | [`gossip`] | local reads and writes, last-writer-wins gossip, Lamport stamps | no: eventually consistent, keeps causally later writes |
//! | `kv-gossip-wall-clock` | [`gossip`] (`--stamps wall`) | the same, stamped by wall clocks | no: skewed clocks lose causally later writes |
//! | `kv-stale-reads` | [`stale_reads`] | writes through total order, reads from local state | no: stale reads |
//! | `lin-kv-forgets-on-restart` | [`forgets_on_restart`] | the leader's, persisting each write only when the next comes | no: a kill of the leader loses the last write |

pub mod forgets_on_restart;
pub mod gossip;
pub mod leader;
pub mod stale_reads;
pub mod store;
pub mod tob;

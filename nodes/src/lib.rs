//! The node library: sans-IO node programs and the drivers that run them.
//!
//! A node is a state machine ([`Node`]) that handles one event at a time and acts through its
//! [`Ctx`]: it sends messages, makes RPCs with timeouts, sets timers and writes to stable
//! storage ([`storage`]), and the driver carries those [`Effect`]s out. The same node runs as a
//! Maelstrom program on stdin/stdout ([`driver`], with its data directory on disk, [`disk`]),
//! under scripted tests ([`Runtime`]), and in a simulated cluster under virtual time ([`sim`]).
//!
//! The reference node programs live in `src/bin/`, their logic in the modules below.

pub mod broadcast;
pub mod catalog;
pub mod clock;
pub mod crdt;
pub mod ctx;
pub mod disk;
pub mod driver;
pub mod flags;
pub mod forward;
pub mod node;
pub mod replication;
pub mod runtime;
#[cfg(test)]
mod script;
pub mod sim;
pub mod storage;

pub mod echo;
pub mod failure_detector;
pub mod g_counter;
pub mod kafka;
pub mod kv;
pub mod time_sync;
pub mod txn;
pub mod unique_ids;
pub mod unique_ids_restart;

pub use ctx::{Ctx, Effect, WALL_CLOCK_EPOCH};
pub use node::{Node, TimerId};
pub use runtime::{Runtime, sends};
pub use storage::{Stable, Write};

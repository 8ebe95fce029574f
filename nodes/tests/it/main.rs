//! Integration tests of the node programs: scripted conversations through the real binaries,
//! and through the simulator.

mod binaries;
mod broadcast;
mod crdt;
mod kafka;
mod kv;
pub mod pipe;
mod txn;

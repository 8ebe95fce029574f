//! Integration tests of the harness.

pub mod agents;
mod bad_nodes;
mod cli;
mod compare;
mod compare_sweep;
mod compat;
mod crdt;
mod delivery;
pub mod harness;
mod hosts_netns;
mod interrupt;
mod kafka;
mod lifetime;
mod lin_kv;
mod pure;
mod report;
mod sim;
mod sim_broadcast;
mod storage;
mod time_sync;
mod txn;

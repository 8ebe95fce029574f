//! Integration tests of the harness.

pub mod agents;
mod bad_nodes;
mod byzantine;
mod cli;
mod clock_faults;
mod clocks;
mod compare;
mod compare_sweep;
mod compat;
mod crdt;
mod delivery;
mod failure_detector;
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
mod slo;
mod storage;
mod time_sync;
mod txn;

//! The harness: runs a cluster of Maelstrom node programs behind a simulated network, drives a
//! workload, injects faults, records everything and checks the result.

pub mod nemesis;
pub mod net;
pub mod check_cmd;
pub mod services;
pub mod process;
pub mod record;
pub mod store;
pub mod problems;
pub mod clients;

//! The harness: runs a cluster of Maelstrom node programs behind a simulated network, drives a
//! workload, injects faults, records everything and checks the result.

pub mod check_cmd;
pub mod check_txn_stream;
pub mod clients;
pub mod compare;
pub mod config;
pub mod determinism;
pub mod explore;
pub mod faketime;
pub mod lifetime;
pub mod named_arg;
pub mod nemesis;
pub mod net;
pub mod problems;
pub mod process;
pub mod progress;
pub mod record;
pub mod remote;
pub mod report;
pub mod results;
pub mod run;
pub mod schedule;
pub mod services;
pub mod simulation;
pub mod store;
pub mod story;

//! Integration tests of the harness.

mod bad_nodes;
mod cli;
mod compare;
mod compat;
pub mod harness;
mod interrupt;
mod lin_kv;
mod pure;
mod report;
mod storage;

//! Integration tests of the harness.

mod bad_nodes;
mod cli;
mod compat;
mod interrupt;
mod lin_kv;
pub mod harness;
mod pure;
mod report;

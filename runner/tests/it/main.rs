//! Integration tests of the harness.

mod bad_nodes;
mod cli;
mod compat;
mod interrupt;
pub mod harness;
mod pure;
mod report;

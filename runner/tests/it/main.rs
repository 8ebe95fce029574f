//! Integration tests of the harness.

mod bad_nodes;
mod compat;
pub mod harness;
mod pure;
mod report;

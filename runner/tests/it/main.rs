//! Integration tests of the harness.

mod bad_nodes;
pub mod harness;
mod pure;

//! Integration tests of the harness.

mod pure;

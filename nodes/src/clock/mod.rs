//! Logical clocks (the course's "Logical time" lecture): timestamps that order events by
//! happens-before instead of by physical time.
//!
//! - [`LamportClock`]: one counter; if `a` happens before `b` then `L(a) < L(b)`, and ties are
//!   broken by node id to get a total order (used by total-order broadcast).
//! - [`VectorClock`]: one counter per node; `V(a) < V(b)` exactly when `a` happens before `b`,
//!   and incomparable vectors mean concurrent events (used by causal broadcast).

pub mod lamport;
pub mod vector;

pub use lamport::LamportClock;
pub use vector::{Causality, VectorClock};

//! The simulated network the router sends every message through: the pure model of the
//! `netmodel` crate (latency, loss, duplication, partitions checked at delivery), re-exported
//! so the runner's code names it `crate::net`. The router classifies each peer itself (a
//! node, one of the [`crate::services`], or a client) and hands the model [`Endpoint`]s.

pub use netmodel::*;

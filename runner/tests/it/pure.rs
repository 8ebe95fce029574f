//! The runner's pure components: the simulated network, the nemesis schedule and the
//! services, each driven directly (no processes, no clock).

mod nemesis;
mod net;
mod services;

//! Real machines: the same nodes across several hosts, over a real network, with real faults.
//!
//! - `harness agent` ([`agent`]) runs on each host, starts that host's nodes and carries their
//!   messages to the other agents directly;
//! - `harness test --hosts` ([`controller`], and the router's `run/remote.rs`) keeps the
//!   clients, the services, the nemesis schedule, the journal, the history and the checkers,
//!   as in a run on one machine, and tells the agents what to do;
//! - every connection is authenticated and encrypted with a shared key ([`link`], [`key`]);
//! - partitions are cut in the kernel where the agent may ([`firewall`]);
//! - each agent's clock offset is measured as NTP measures it ([`clock`]), and the journal
//!   orders the hosts' events by corrected time.

pub mod agent;
pub mod channel;
pub mod clock;
pub mod controller;
pub mod firewall;
pub mod frame;
pub mod key;
pub mod link;

//! `pn-counter`: a PN-counter CRDT: increments and decrements per replica, gossiped,
//! merged by per-entry maximum. See `nodes::crdt::pn_counter`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).
use nodes::crdt::pn_counter::PnCounter;
use nodes::crdt::{Replica, ReplicaConfig};
use nodes::driver::reject_unknown_flags;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &ReplicaConfig::FLAGS);
    nodes::driver::run(Replica::<PnCounter>::new(ReplicaConfig::from_flags(&args)))
}

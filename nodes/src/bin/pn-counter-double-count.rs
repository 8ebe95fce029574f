//! `pn-counter-double-count`: the PN-counter whose merge adds the sender's own
//! counts; its reads go out of range. See `nodes::crdt::pn_counter_double_count`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).
use nodes::crdt::pn_counter_double_count::PnCounterDoubleCount;
use nodes::crdt::{Replica, ReplicaConfig};
use nodes::driver::reject_unknown_flags;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &ReplicaConfig::FLAGS);
    nodes::driver::run(Replica::<PnCounterDoubleCount>::new(
        ReplicaConfig::from_flags(&args),
    ))
}

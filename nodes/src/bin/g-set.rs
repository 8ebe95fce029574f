//! `g-set`: a grow-only set CRDT: local adds, gossip of the whole set, merge by union. See `nodes::crdt::g_set`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).
use nodes::crdt::g_set::GSet;
use nodes::crdt::{Replica, ReplicaConfig};
use nodes::driver::reject_unknown_flags;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &ReplicaConfig::FLAGS);
    nodes::driver::run(Replica::<GSet>::new(ReplicaConfig::from_flags(&args)))
}

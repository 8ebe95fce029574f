//! `g-set-lossy`: the grow-only set whose merge replaces its set by the peer's; loses
//! elements. See `nodes::crdt::g_set_lossy`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).
use nodes::crdt::g_set_lossy::GSetLossy;
use nodes::crdt::{Replica, ReplicaConfig};
use nodes::driver::reject_unknown_flags;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &ReplicaConfig::FLAGS);
    nodes::driver::run(Replica::<GSetLossy>::new(ReplicaConfig::from_flags(&args)))
}

//! `g-set`: a grow-only set CRDT: local adds, gossip of the whole set, merge by union. See `nodes::crdt::g_set`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("g-set")
}

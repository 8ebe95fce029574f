//! `kv-gossip-wall-clock`: `kv-gossip` stamping each write with the node's wall clock
//! (`kv-gossip --stamps wall`), a planted bug: when clocks are skewed, last-writer-wins keeps
//! a write over one that causally followed it. See `nodes::kv::gossip`.
//!
//! Flags: `--interval-ms N` (time between pushes of changed keys to every peer, default 100),
//! `--anti-entropy-ms N` (time between whole-state exchanges with a random peer, default 1000).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kv-gossip-wall-clock")
}

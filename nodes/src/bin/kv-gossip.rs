//! `kv-gossip`: local reads and writes, last-writer-wins replication by gossip; eventually
//! consistent, not linearizable. See `nodes::kv::gossip`.
//!
//! Flags: `--interval-ms N` (time between pushes of changed keys to every peer, default 100),
//! `--anti-entropy-ms N` (time between whole-state exchanges with a random peer, default 1000),
//! `--stamps lamport|wall` (what stamps a write: the Lamport clock, default, or the wall clock).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kv-gossip")
}

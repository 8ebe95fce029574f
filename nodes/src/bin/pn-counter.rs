//! `pn-counter`: a PN-counter CRDT: increments and decrements per replica, gossiped,
//! merged by per-entry maximum. See `nodes::crdt::pn_counter`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("pn-counter")
}

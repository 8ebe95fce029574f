//! `broadcast-total-lamport`: total order broadcast by Lamport timestamps. See
//! `nodes::broadcast::total_lamport`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-total-lamport")
}

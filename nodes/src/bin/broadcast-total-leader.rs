//! `broadcast-total-leader`: total order broadcast through the leader n0. See
//! `nodes::broadcast::total_leader`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-total-leader")
}

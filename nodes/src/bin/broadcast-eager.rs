//! `broadcast-eager`: eager reliable broadcast. See `nodes::broadcast::eager`.
//!
//! Flags: `--interval-ms N` (batch interval per peer, default 250).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-eager")
}

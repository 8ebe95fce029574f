//! `broadcast-causal-forgets`: causal broadcast whose messages leave out the latest delivery
//! from their dependencies. See `nodes::broadcast::causal_forgets`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-causal-forgets")
}

//! `broadcast-causal`: causal broadcast with vector clocks. See `nodes::broadcast::causal`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-causal")
}

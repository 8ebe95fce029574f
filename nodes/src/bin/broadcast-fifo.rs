//! `broadcast-fifo`: FIFO broadcast. See `nodes::broadcast::fifo`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-fifo")
}

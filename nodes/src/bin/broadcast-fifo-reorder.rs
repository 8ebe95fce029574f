//! `broadcast-fifo-reorder`: FIFO broadcast that jumps a gap of one; violates FIFO order when
//! links reorder an origin's messages. See `nodes::broadcast::fifo_reorder`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-fifo-reorder")
}

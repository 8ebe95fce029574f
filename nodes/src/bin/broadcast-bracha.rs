//! `broadcast-bracha`: Bracha's Byzantine-tolerant reliable broadcast. See
//! `nodes::broadcast::bracha`.
//!
//! Flags: `--faulty F|auto` (default auto: floor((n - 1) / 3)), `--retry-ms N` (default 1000).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-bracha")
}

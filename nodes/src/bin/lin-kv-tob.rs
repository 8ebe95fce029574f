//! `lin-kv-tob`: a linearizable key-value store by state-machine replication over total-order
//! broadcast by Lamport timestamps. See `nodes::kv::tob`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100), `--timeout-ms N` (how long an operation may wait to be
//! applied before the client gets an error, default 2000).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("lin-kv-tob")
}

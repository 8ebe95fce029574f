//! `lin-kv-tob`: a linearizable key-value store by state-machine replication over total-order
//! broadcast by Lamport timestamps. See `nodes::kv::tob`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100), `--timeout-ms N` (how long an operation may wait to be
//! applied before the client gets an error, default 2000).
use nodes::driver::reject_unknown_flags;
use nodes::kv::tob::{TobKv, TobKvConfig};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &TobKvConfig::FLAGS);
    nodes::driver::run(TobKv::new(TobKvConfig::from_flags(&args)))
}

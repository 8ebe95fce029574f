//! `kafka-replicated`: Kafka-style logs by state-machine replication over total-order broadcast
//! by Lamport timestamps, without services. See `nodes::kafka::replicated`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100), `--timeout-ms N` (how long a send, commit or list may
//! wait to be applied before the client gets an error, default 2000).
use nodes::driver::reject_unknown_flags;
use nodes::kafka::replicated::Replicated;
use nodes::kv::tob::TobKvConfig;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &TobKvConfig::FLAGS);
    nodes::driver::run(Replicated::new(TobKvConfig::from_flags(&args)))
}

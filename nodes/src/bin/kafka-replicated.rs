//! `kafka-replicated`: Kafka-style logs by state-machine replication over total-order broadcast
//! by Lamport timestamps, without services. See `nodes::kafka::replicated`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100), `--timeout-ms N` (how long a send, commit or list may
//! wait to be applied before the client gets an error, default 2000).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kafka-replicated")
}

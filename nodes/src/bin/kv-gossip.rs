//! `kv-gossip`: local reads and writes, last-writer-wins replication by gossip; eventually
//! consistent, not linearizable. See `nodes::kv::gossip`.
//!
//! Flags: `--interval-ms N` (time between pushes of changed keys to every peer, default 100),
//! `--anti-entropy-ms N` (time between whole-state exchanges with a random peer, default 1000).
use nodes::driver::{flag_ms, reject_unknown_flags};
use nodes::kv::gossip::{GossipKv, GossipKvConfig};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms", "anti-entropy-ms"]);
    let mut config = GossipKvConfig::default();
    config.interval = flag_ms(&args, "interval-ms", config.interval);
    config.anti_entropy = flag_ms(&args, "anti-entropy-ms", config.anti_entropy);
    nodes::driver::run(GossipKv::new(config))
}

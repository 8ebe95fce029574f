//! `kv-gossip`: local reads and writes, last-writer-wins replication by gossip; eventually
//! consistent, not linearizable. See `nodes::kv::gossip`.
//!
//! Flags: `--interval-ms N` (time between pushes of changed keys to every peer, default 100),
//! `--anti-entropy-ms N` (time between whole-state exchanges with a random peer, default 1000).
use std::time::Duration;

use nodes::driver::{flag, reject_unknown_flags};
use nodes::kv::gossip::{GossipKv, GossipKvConfig};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms", "anti-entropy-ms"]);
    let mut config = GossipKvConfig::default();
    let interval = flag(&args, "interval-ms", config.interval.as_millis() as u64);
    config.interval = Duration::from_millis(interval.max(1));
    let anti_entropy = flag(
        &args,
        "anti-entropy-ms",
        config.anti_entropy.as_millis() as u64,
    );
    config.anti_entropy = Duration::from_millis(anti_entropy.max(1));
    nodes::driver::run(GossipKv::new(config))
}

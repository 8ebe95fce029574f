//! `broadcast-gossip`: gossip along a spanning tree, with anti-entropy. See
//! `nodes::broadcast::gossip`.
//!
//! Flags: `--fanout N` (children per node in the push tree, default 24: a star for up to 25
//! nodes), `--interval-ms N` (push interval, default 150), `--anti-entropy-ms N` (time between
//! anti-entropy exchanges, default 2000).
use std::time::Duration;

use nodes::broadcast::Service;
use nodes::broadcast::gossip::{GossipConfig, GossipNode};
use nodes::driver::{flag, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["fanout", "interval-ms", "anti-entropy-ms"]);
    let defaults = GossipConfig::default();
    let ms = |name: &str, default: Duration| {
        Duration::from_millis(flag(&args, name, default.as_millis() as u64).max(1))
    };
    let config = GossipConfig {
        fanout: flag(&args, "fanout", defaults.fanout).max(1),
        interval: ms("interval-ms", defaults.interval),
        anti_entropy: ms("anti-entropy-ms", defaults.anti_entropy),
        ..defaults
    };
    nodes::driver::run(Service::new(GossipNode::new(config)))
}

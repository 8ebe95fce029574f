//! `broadcast-gossip`: gossip with batching and anti-entropy, along a spanning tree or to
//! random peers. See `nodes::broadcast::gossip`.
//!
//! Flags: `--peers tree|random` (where pushes go, default `tree`), `--fanout N` (children per
//! node in the push tree, default 24: a star for up to 25 nodes; or random peers per push,
//! default 3), `--interval-ms N` (push interval, default 150), `--anti-entropy-ms N` (time
//! between anti-entropy exchanges, default 2000).
use nodes::broadcast::Service;
use nodes::broadcast::gossip::{GossipConfig, GossipNode, Peers};
use nodes::driver::{flag, flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(
        &args,
        &["peers", "fanout", "interval-ms", "anti-entropy-ms"],
    );
    let defaults = GossipConfig::default();
    let peers: Peers = flag(&args, "peers", defaults.peers);
    let config = GossipConfig {
        peers,
        fanout: flag(&args, "fanout", peers.default_fanout()).max(1),
        interval: flag_ms(&args, "interval-ms", defaults.interval),
        anti_entropy: flag_ms(&args, "anti-entropy-ms", defaults.anti_entropy),
        ..defaults
    };
    nodes::driver::run(Service::new(GossipNode::new(config)))
}

//! `broadcast-gossip`: gossip with batching and anti-entropy, along a spanning tree or to
//! random peers. See `nodes::broadcast::gossip`.
//!
//! Flags: `--peers tree|random` (where pushes go, default `tree`), `--fanout N` (children per
//! node in the push tree, default 24: a star for up to 25 nodes; or random peers per push,
//! default 3), `--interval-ms N` (push interval, default 150), `--anti-entropy-ms N` (time
//! between anti-entropy exchanges, default 2000).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-gossip")
}

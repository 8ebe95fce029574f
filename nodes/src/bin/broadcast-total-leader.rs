//! `broadcast-total-leader`: total order broadcast through the leader n0. See
//! `nodes::broadcast::total_leader`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).
use nodes::broadcast::Service;
use nodes::broadcast::quorum::{QuorumConfig, Watermark};
use nodes::broadcast::total_leader::TotalLeader;
use nodes::driver::{flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let config = QuorumConfig::new(Watermark::Stable);
    let interval = flag_ms(&args, "interval-ms", config.link.interval);
    nodes::driver::run(Service::new(TotalLeader::new(
        config.with_interval(interval),
    )))
}

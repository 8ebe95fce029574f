//! `broadcast-total-leader`: total order broadcast through the leader n0. See
//! `nodes::broadcast::total_leader`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).
use std::time::Duration;

use nodes::broadcast::Service;
use nodes::broadcast::quorum::{QuorumConfig, Watermark};
use nodes::broadcast::total_leader::TotalLeader;
use nodes::driver::{flag, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let config = QuorumConfig::new(Watermark::Stable);
    let interval = flag(
        &args,
        "interval-ms",
        config.link.interval.as_millis() as u64,
    );
    let config = config.with_interval(Duration::from_millis(interval.max(1)));
    nodes::driver::run(Service::new(TotalLeader::new(config)))
}

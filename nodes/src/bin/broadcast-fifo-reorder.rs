//! `broadcast-fifo-reorder`: FIFO broadcast that jumps a gap of one; violates FIFO order when
//! links reorder an origin's messages. See `nodes::broadcast::fifo_reorder`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).
use nodes::broadcast::Service;
use nodes::broadcast::fifo_reorder::FifoReorder;
use nodes::broadcast::quorum::{QuorumConfig, Watermark};
use nodes::driver::{flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let config = QuorumConfig::new(Watermark::Stable);
    let interval = flag_ms(&args, "interval-ms", config.link.interval);
    nodes::driver::run(Service::new(FifoReorder::new(
        config.with_interval(interval),
    )))
}

//! `broadcast-causal-forgets`: causal broadcast whose messages leave out the latest delivery
//! from their dependencies. See `nodes::broadcast::causal_forgets`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 10).
use nodes::broadcast::Service;
use nodes::broadcast::causal_forgets::CausalForgets;
use nodes::broadcast::quorum::{QuorumConfig, Watermark};
use nodes::driver::{flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let config = QuorumConfig::new(Watermark::Committed);
    let interval = flag_ms(&args, "interval-ms", config.link.interval);
    nodes::driver::run(Service::new(CausalForgets::new(
        config.with_interval(interval),
    )))
}

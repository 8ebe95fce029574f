//! `broadcast-total-lamport`: total order broadcast by Lamport timestamps. See
//! `nodes::broadcast::total_lamport`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100).
use std::time::Duration;

use nodes::broadcast::Service;
use nodes::broadcast::total_lamport::{TotalLamport, TotalOrderConfig};
use nodes::driver::{flag, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms", "tick-ms"]);
    let mut config = TotalOrderConfig::default();
    let interval = flag(
        &args,
        "interval-ms",
        config.quorum.link.interval.as_millis() as u64,
    );
    config.quorum = config
        .quorum
        .with_interval(Duration::from_millis(interval.max(1)));
    let tick = flag(&args, "tick-ms", config.tick.as_millis() as u64);
    config.tick = Duration::from_millis(tick.max(1));
    nodes::driver::run(Service::new(TotalLamport::new(config)))
}

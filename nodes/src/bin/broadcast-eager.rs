//! `broadcast-eager`: eager reliable broadcast. See `nodes::broadcast::eager`.
//!
//! Flags: `--interval-ms N` (batch interval per peer, default 250).
use std::time::Duration;

use nodes::broadcast::Service;
use nodes::broadcast::eager::{Eager, EagerConfig};
use nodes::driver::{flag, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let mut config = EagerConfig::default();
    let interval = flag(
        &args,
        "interval-ms",
        config.link.interval.as_millis() as u64,
    );
    config.link.interval = Duration::from_millis(interval.max(1));
    nodes::driver::run(Service::new(Eager::new(config)))
}

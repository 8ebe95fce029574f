//! `broadcast-eager`: eager reliable broadcast. See `nodes::broadcast::eager`.
//!
//! Flags: `--interval-ms N` (batch interval per peer, default 250).
use nodes::broadcast::Service;
use nodes::broadcast::eager::{Eager, EagerConfig};
use nodes::driver::{flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms"]);
    let mut config = EagerConfig::default();
    config.link.interval = flag_ms(&args, "interval-ms", config.link.interval);
    nodes::driver::run(Service::new(Eager::new(config)))
}

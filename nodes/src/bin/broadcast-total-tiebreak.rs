//! `broadcast-total-tiebreak`: total order by Lamport timestamps whose ties are broken by local
//! arrival order; nodes disagree on concurrent broadcasts with one timestamp. See
//! `nodes::broadcast::total_tiebreak`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100).
use nodes::broadcast::Service;
use nodes::broadcast::total_lamport::TotalOrderConfig;
use nodes::broadcast::total_tiebreak::TotalTiebreak;
use nodes::driver::{flag_ms, reject_unknown_flags};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &["interval-ms", "tick-ms"]);
    let mut config = TotalOrderConfig::default();
    let interval = flag_ms(&args, "interval-ms", config.quorum.link.interval);
    config.quorum = config.quorum.with_interval(interval);
    config.tick = flag_ms(&args, "tick-ms", config.tick);
    nodes::driver::run(Service::new(TotalTiebreak::with_order(config)))
}

//! `kv-stale-reads`: writes through total-order broadcast, reads from local state; not
//! linearizable (stale reads). See `nodes::kv::stale_reads`.
//!
//! Flags: those of `lin-kv-tob` (`--interval-ms`, `--tick-ms`, `--timeout-ms`).
use nodes::driver::reject_unknown_flags;
use nodes::kv::stale_reads::StaleReadsKv;
use nodes::kv::tob::TobKvConfig;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    reject_unknown_flags(&args, &TobKvConfig::FLAGS);
    nodes::driver::run(StaleReadsKv::new(TobKvConfig::from_flags(&args)))
}

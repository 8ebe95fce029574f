//! `kv-stale-reads`: writes through total-order broadcast, reads from local state; not
//! linearizable (stale reads). See `nodes::kv::stale_reads`.
//!
//! Flags: those of `lin-kv-tob` (`--interval-ms`, `--tick-ms`, `--timeout-ms`).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kv-stale-reads")
}

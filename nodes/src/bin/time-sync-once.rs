//! `time-sync-once`: a planted bug, a time-sync node that synchronises once and claims to be
//! right ever after. See `nodes::time_sync::time_sync_once`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("time-sync-once")
}

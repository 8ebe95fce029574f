//! `unique-ids-restart`: ids from node id and an in-memory counter, with no incarnation; a
//! restarted node repeats them. See `nodes::unique_ids_restart`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::unique_ids_restart::unique_ids_restart())
}

//! `unique-ids-restart`: ids from node id and an in-memory counter, with no incarnation; a
//! restarted node repeats them. See `nodes::unique_ids_restart`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("unique-ids-restart")
}

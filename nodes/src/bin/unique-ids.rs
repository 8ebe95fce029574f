//! `unique-ids`: answers `generate` with an id unique across nodes and restarts. See
//! `nodes::unique_ids`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("unique-ids")
}

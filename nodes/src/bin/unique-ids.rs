//! `unique-ids`: answers `generate` with an id unique across nodes and restarts. See
//! `nodes::unique_ids`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::unique_ids::UniqueIds::default())
}

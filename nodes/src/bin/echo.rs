//! `echo`: answers `echo` with `echo_ok` of the same value. See `nodes::echo`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::echo::Echo)
}

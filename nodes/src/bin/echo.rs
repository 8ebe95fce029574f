//! `echo`: answers `echo` with `echo_ok` of the same value. See `nodes::echo`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("echo")
}

//! `failure-detector-one-clock`: the failure detector with one last-heard time for all peers
//! (a planted bug). See `nodes::failure_detector`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("failure-detector-one-clock")
}

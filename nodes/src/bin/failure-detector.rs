//! `failure-detector`: a heartbeat failure detector. See
//! `nodes::failure_detector`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("failure-detector")
}

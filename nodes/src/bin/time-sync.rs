//! `time-sync`: keeps a synchronised clock by polling the harness's time server, as an NTP
//! client does. See `nodes::time_sync`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("time-sync")
}

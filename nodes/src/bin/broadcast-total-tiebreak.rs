//! `broadcast-total-tiebreak`: total order by Lamport timestamps whose ties are broken by local
//! arrival order; nodes disagree on concurrent broadcasts with one timestamp. See
//! `nodes::broadcast::total_tiebreak`.
//!
//! Flags: `--interval-ms N` (batch interval of the links, default 50), `--tick-ms N` (at most
//! one tick per this long, default 100).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("broadcast-total-tiebreak")
}

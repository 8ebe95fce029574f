//! `g-set-lossy`: the grow-only set whose merge replaces its set by the peer's; loses
//! elements. See `nodes::crdt::g_set_lossy`.
//!
//! Flags: `--interval-ms N` (how often each node gossips its state, default 200).

fn main() -> std::process::ExitCode {
    nodes::catalog::main("g-set-lossy")
}

//! `g-counter-double-count`: a counter that forwards each add to the other nodes as a delta
//! and counts every forward it receives, duplicates included. See
//! `nodes::crdt::g_counter_double_count`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("g-counter-double-count")
}

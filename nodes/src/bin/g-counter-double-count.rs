//! `g-counter-double-count`: a counter that forwards each add to the other nodes as a delta
//! and counts every forward it receives, duplicates included. See
//! `nodes::crdt::g_counter_double_count`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::crdt::g_counter_double_count::GCounterDoubleCount::default())
}

//! `g-counter`: `add {delta}` and `read`, stored in the `seq-kv` service. See
//! `nodes::g_counter`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::g_counter::GCounter::default())
}

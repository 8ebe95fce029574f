//! `lin-kv-forgets-on-restart`: the single-leader store, but the leader persists each write
//! only when the next one arrives; a kill of the leader loses the last acknowledged write. See
//! `nodes::kv::forgets_on_restart`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::kv::forgets_on_restart::forgets_on_restart())
}

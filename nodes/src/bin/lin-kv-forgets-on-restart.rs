//! `lin-kv-forgets-on-restart`: the single-leader store, but the leader persists each write
//! only when the next one arrives; a kill of the leader loses the last acknowledged write. See
//! `nodes::kv::forgets_on_restart`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("lin-kv-forgets-on-restart")
}

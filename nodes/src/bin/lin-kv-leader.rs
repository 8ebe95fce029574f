//! `lin-kv-leader`: a linearizable key-value store where one leader applies every operation.
//! See `nodes::kv::leader`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("lin-kv-leader")
}

//! `lin-kv-leader`: a linearizable key-value store where one leader applies every operation.
//! See `nodes::kv::leader`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::kv::leader::LeaderKv::default())
}

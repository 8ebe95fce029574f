//! `kafka-lin-kv`: Kafka-style logs (`send`, `poll`, `commit_offsets`,
//! `list_committed_offsets`) kept in the `lin-kv` service. See `nodes::kafka::lin_kv`.
fn main() -> std::process::ExitCode {
    nodes::driver::reject_unknown_flags(&std::env::args().skip(1).collect::<Vec<_>>(), &[]);
    nodes::driver::run(nodes::kafka::lin_kv::LinKvLogs::default())
}

//! `kafka-lin-kv`: Kafka-style logs (`send`, `poll`, `commit_offsets`,
//! `list_committed_offsets`) kept in the `lin-kv` service. See `nodes::kafka::lin_kv`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kafka-lin-kv")
}

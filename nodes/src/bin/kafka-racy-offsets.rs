//! `kafka-racy-offsets`: Kafka-style logs where each node numbers messages itself, a broken
//! node the kafka checker catches (two messages at one offset). See `nodes::kafka::racy`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("kafka-racy-offsets")
}

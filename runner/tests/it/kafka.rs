//! The kafka nodes under the real harness (`harness test -w kafka`), with the Gossip Glomers
//! 5b shape (two nodes, two clients per node, 1000 ops/s asked) on short runs: the two correct
//! nodes are valid with and without partitions, and the broken one is caught, its anomaly
//! named in the summary and in results.json.

use serde_json::Value;

use crate::harness::{Run, assert_history_intact, harness_test, node_bin};

/// 5b's flags on a short run.
const GLOMERS_5B: [&str; 12] = [
    "--node-count",
    "2",
    "--concurrency",
    "2n",
    "--rate",
    "1000",
    "--time-limit",
    "5",
    "--recovery-time",
    "2",
    "--no-progress",
    "--seed",
];

/// `harness test -w kafka` of `bin` with 5b's flags, `seed` and `flags`.
fn run(bin: &str, seed: &str, flags: &[&str]) -> Run {
    let bin = node_bin(bin);
    let mut args = vec!["-w", "kafka", "--bin", bin.to_str().expect("utf-8 path")];
    args.extend(GLOMERS_5B);
    args.push(seed);
    args.extend(flags);
    harness_test(&args)
}

/// Partitions every 2 s on average: with two nodes each one cuts them apart.
const PARTITIONS: [&str; 4] = ["--nemesis", "partition", "--nemesis-interval", "2"];

fn count(run: &Run, f: &str, field: &str) -> u64 {
    run.results["stats"]["by_f"][f][field].as_u64().unwrap_or(0)
}

fn assert_valid(run: &Run) {
    assert_eq!(run.code, 0, "exit code\n{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["workload"]["valid"], true, "{}", run.stdout);
    assert_eq!(
        run.results["workload"]["error_types"],
        Value::from(Vec::<Value>::new())
    );
    assert!(count(run, "send", "ok_count") > 20, "{}", run.stdout);
    assert!(count(run, "poll", "ok_count") > 20, "{}", run.stdout);
    assert!(
        count(run, "commit_offsets", "ok_count") > 0,
        "{}",
        run.stdout
    );
    assert_history_intact(&run.history);
}

#[test]
fn kafka_lin_kv_keeps_one_log_per_key_with_and_without_partitions() {
    let steady = run("kafka-lin-kv", "5", &[]);
    assert_valid(&steady);
    assert!(
        steady.stdout.contains("kafka: valid"),
        "the summary names the check: {}",
        steady.stdout
    );
    let partitioned = run("kafka-lin-kv", "6", &PARTITIONS);
    assert_valid(&partitioned);
}

#[test]
fn kafka_replicated_stays_valid_through_partitions() {
    // Shorter batch and tick intervals than the defaults, so that sends, commits and lists,
    // each a round of the total order, are many enough in the healthy stretches of a short run.
    let mut flags = PARTITIONS.to_vec();
    flags.extend(["--", "--interval-ms", "10", "--tick-ms", "20"]);
    let partitioned = run("kafka-replicated", "6", &flags);
    assert_valid(&partitioned);
    assert!(
        partitioned.results["run"]["schedule"]["faults_done"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the partitions happened: {}",
        partitioned.results["run"]
    );
}

#[test]
fn kafka_racy_offsets_is_caught_with_two_messages_at_one_offset() {
    let run = run("kafka-racy-offsets", "5", &[]);
    assert_eq!(run.code, 1, "exit code\n{}\n{}", run.stdout, run.stderr);
    let types = run.results["workload"]["error_types"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        types.contains(&Value::from("inconsistent_offsets")),
        "{types:?}\n{}",
        run.stdout
    );
    let case = &run.results["workload"]["inconsistent_offsets"]["errs"][0];
    assert!(
        case["ops"].as_array().is_some_and(|ops| ops.len() >= 2),
        "{case}"
    );
    assert!(
        run.stdout.contains("what went wrong: ") && run.stdout.contains("different messages"),
        "{}",
        run.stdout
    );
    let headline = run.results["headline"].as_str().unwrap_or_default();
    assert!(headline.contains("offset"), "{headline}");
}

//! The CRDT nodes under the real harness (`harness test -w g-set` and `-w pn-counter`) with
//! partitions: the correct ones are valid once the partition heals, and each broken one is
//! caught with its anomaly named: the acknowledged elements the lossy g-set lost, and the
//! double-counting counter's final reads outside every possible total.
//!
//! Each run: 3 nodes, 50 ops/s for 3 s, a partition starting about every second (with seed 7,
//! one from 1.5 s to 2.8 s), 1 s of recovery, the nodes gossiping every 100 ms. And the correct
//! nodes keep what they acknowledged on stable storage: killing every node at once loses
//! nothing.

use checker::EventType;
use serde_json::Value;

use crate::harness::{Run, assert_history_intact, harness_test, node_bin};

/// `harness test -w workload` of `bin` under partitions.
fn run(workload: &str, bin: &str) -> Run {
    run_with(workload, bin, &["--nemesis", "partition", "--seed", "7"])
}

/// `harness test -w workload` of `bin` for 3 s with `faults` (and the seed).
fn run_with(workload: &str, bin: &str, faults: &[&str]) -> Run {
    let bin = node_bin(bin);
    let mut args = vec![
        "-w",
        workload,
        "--bin",
        bin.to_str().expect("utf-8 path"),
        "--node-count",
        "3",
        "--time-limit",
        "3",
        "--rate",
        "50",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "1",
        "--no-progress",
    ];
    args.extend_from_slice(faults);
    args.extend(["--", "--interval-ms", "100"]);
    harness_test(&args)
}

/// The run had a partition, and every node answered its final read.
fn assert_partitioned_and_read(run: &Run) {
    assert_history_intact(&run.history);
    assert!(
        run.history
            .iter()
            .any(|e| e.process.is_nemesis() && e.f == "start-partition"),
        "no partition in the run\n{}",
        run.stdout
    );
    let finals = run
        .history
        .iter()
        .filter(|e| e.kind == EventType::Ok && e.f == "read" && e.is_final)
        .count();
    assert_eq!(finals, 3, "one final read per node\n{}", run.stdout);
    assert!(run.problem_kinds().is_empty(), "{:?}", run.problem_kinds());
}

/// The values of the ok adds.
fn acknowledged_adds(run: &Run) -> Vec<&Value> {
    run.history
        .iter()
        .filter(|e| e.kind == EventType::Ok && e.f == "add")
        .map(|e| &e.value)
        .collect()
}

#[test]
fn g_set_is_valid_under_partitions() {
    let run = run("g-set", "g-set");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true, "{}", run.stdout);
    assert_partitioned_and_read(&run);
    let workload = &run.results["workload"];
    assert_eq!(workload["lost_count"], 0, "{}", run.stdout);
    assert!(
        workload["stable_count"].as_u64().unwrap_or(0) > 0,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("set-full: valid"), "{}", run.stdout);
}

#[test]
fn g_set_lossy_is_invalid_and_the_lost_elements_are_named() {
    let run = run("g-set", "g-set-lossy");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], false, "{}", run.stdout);
    assert_partitioned_and_read(&run);
    let workload = &run.results["workload"];
    let lost = workload["lost"].as_array().expect("lost elements listed");
    assert!(!lost.is_empty(), "{}", run.stdout);
    assert_eq!(workload["lost_count"], lost.len(), "{}", run.stdout);
    let acked = acknowledged_adds(&run);
    for element in lost {
        assert!(acked.contains(&element), "{element} was never acknowledged");
    }
    assert!(run.stdout.contains("set-full: invalid"), "{}", run.stdout);
    // The summary names them, and tells what became of the first.
    assert!(
        run.stdout.contains(&format!("lost: [{}", lost[0])),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("value {} (acknowledged at", lost[0])),
        "{}",
        run.stdout
    );
}

#[test]
fn pn_counter_is_valid_under_partitions() {
    let run = run("pn-counter", "pn-counter");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true, "{}", run.stdout);
    assert_partitioned_and_read(&run);
    let workload = &run.results["workload"];
    assert_eq!(workload["error_count"], 0, "{}", run.stdout);
    assert!(
        acknowledged_adds(&run)
            .iter()
            .any(|d| d.as_i64().is_some_and(|d| d < 0)),
        "no decrement was acknowledged"
    );
    assert!(run.stdout.contains("pn-counter: valid"), "{}", run.stdout);
}

#[test]
fn pn_counter_double_count_is_invalid_and_the_out_of_range_final_reads_are_named() {
    let run = run("pn-counter", "pn-counter-double-count");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], false, "{}", run.stdout);
    assert_partitioned_and_read(&run);
    let workload = &run.results["workload"];
    let errors = workload["errors"].as_array().expect("errors listed");
    assert!(!errors.is_empty(), "{}", run.stdout);
    // Each names the node, the value it read, and the possible totals it missed.
    let (lo, hi) = (
        workload["acceptable"][0][0].as_i64().expect("a range"),
        workload["acceptable"]
            .as_array()
            .and_then(|a| a.last())
            .expect("a range")[1]
            .as_i64()
            .expect("a range"),
    );
    for error in errors {
        let value = error["value"].as_i64().expect("an integer read");
        assert!(value < lo || value > hi, "{error} is within [{lo}, {hi}]");
        let node = error["node"].as_str().expect("a node");
        assert!(
            run.stdout.contains(&format!(
                "final read at {node} (event {}) returned {value}",
                error["index"]
            )),
            "{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("pn-counter: invalid"), "{}", run.stdout);
    assert!(run.stdout.contains("possible total"), "{}", run.stdout);
}

/// With seed 5, every node is killed at once at 0.36 s and again at 2.6 s: whatever was
/// acknowledged before a kill survives only on disk.
#[test]
fn the_crdt_nodes_lose_nothing_when_every_node_is_killed_at_once() {
    for (workload, bin) in [("g-set", "g-set"), ("pn-counter", "pn-counter")] {
        let run = run_with(
            workload,
            bin,
            &[
                "--nemesis",
                "kill",
                "--nemesis-targets",
                "all",
                "--seed",
                "5",
            ],
        );
        assert_eq!(run.code, 0, "{bin}: {}\n{}", run.stdout, run.stderr);
        assert_history_intact(&run.history);
        let first_kill = run
            .history
            .iter()
            .find(|e| e.process.is_nemesis() && e.f == "kill")
            .unwrap_or_else(|| panic!("{bin}: nothing was killed"));
        assert_eq!(
            first_kill.value.as_array().map(Vec::len),
            Some(3),
            "{bin}: {first_kill:?}"
        );
        let acked_before = run
            .history
            .iter()
            .filter(|e| e.kind == EventType::Ok && e.f == "add" && e.time < first_kill.time)
            .count();
        assert!(acked_before > 0, "{bin}: no add before the kill");
        let workload = &run.results["workload"];
        match bin {
            "g-set" => assert_eq!(workload["lost_count"], 0, "{}", run.stdout),
            _ => assert_eq!(workload["error_count"], 0, "{}", run.stdout),
        }
    }
}

//! The time-sync workload end to end (the course's 3.2, clock synchronisation): the harness
//! bends every node's clock as the workload starts, the `time-sync` node corrects it from the
//! `time-server` service, and the checker judges each node's synchronised clock against the
//! true time, naming the node whose clock is beyond the panic threshold.

use serde_json::Value;

use crate::harness::{Run, harness_test, node_bin};

/// The nodes of `run`'s time-sync result, by name.
fn nodes(run: &Run) -> &serde_json::Map<String, Value> {
    run.results["workload"]["nodes"]
        .as_object()
        .unwrap_or_else(|| panic!("no workload.nodes: {}{}", run.stdout, run.stderr))
}

/// Every node but the unfixed one said it was synchronised after the allowance and stayed
/// within the target; the unfixed one is named once, with an offset beyond the panic
/// threshold.
fn assert_synchronised_but_one(run: &Run) {
    let target = run.results["workload"]["target_skew_ms"].as_f64().unwrap();
    let unfixed = run.results["workload"]["unfixed"].as_array().unwrap();
    assert_eq!(unfixed.len(), 1, "{}", run.stdout);
    let lost = unfixed[0]["node"].as_str().unwrap();
    assert!(
        unfixed[0]["offset_s"].as_f64().unwrap().abs() >= 1000.0,
        "{}",
        run.stdout
    );
    assert!(
        unfixed[0]["why"].as_str().unwrap().contains("panicked"),
        "{}",
        run.stdout
    );
    for (name, node) in nodes(run) {
        if name == lost {
            assert_eq!(node["state"], "panicked", "{}", run.stdout);
            continue;
        }
        assert!(node["judged"].as_u64() > Some(0), "{name}: {}", run.stdout);
        let max = node["max_after_convergence_ms"].as_f64().unwrap();
        assert!(max <= target, "{name} {max} ms: {}", run.stdout);
    }
}

#[test]
fn time_sync_keeps_every_node_within_its_target_skew_and_names_the_node_it_cannot_fix() {
    for seed in ["1", "2", "3"] {
        let run = harness_test(&[
            "--sim",
            "-w",
            "time-sync",
            "--node",
            "time-sync",
            "--node-count",
            "5",
            "--time-limit",
            "8",
            "--rate",
            "20",
            "--latency",
            "10",
            "--latency-dist",
            "uniform",
            "--seed",
            seed,
        ]);
        assert_eq!(run.code, 0, "seed {seed}: {}{}", run.stdout, run.stderr);
        assert_synchronised_but_one(&run);
        // Offsets of all three kinds were given: a slew (< 125 ms), a step, a panic.
        let offsets: Vec<f64> = nodes(&run)
            .values()
            .map(|n| n["initial_offset_s"].as_f64().unwrap().abs())
            .collect();
        assert!(offsets.iter().any(|&o| o < 0.125), "{offsets:?}");
        assert!(
            offsets.iter().any(|&o| (0.125..1000.0).contains(&o)),
            "{offsets:?}"
        );
        assert!(run.stdout.contains("not fixed: "), "{}", run.stdout);
    }
}

#[test]
fn time_sync_resynchronises_after_every_clock_fault_of_the_nemesis() {
    for seed in ["4", "5"] {
        let run = harness_test(&[
            "--sim",
            "-w",
            "time-sync",
            "--node",
            "time-sync",
            "--node-count",
            "4",
            "--time-limit",
            "20",
            "--rate",
            "20",
            "--latency",
            "20",
            "--latency-dist",
            "uniform",
            "--nemesis",
            "clock",
            "--nemesis-interval",
            "2",
            "--unfixable",
            "0",
            "--seed",
            seed,
        ]);
        assert_eq!(run.code, 0, "seed {seed}: {}{}", run.stdout, run.stderr);
        let faults = run
            .history
            .iter()
            .filter(|e| e.process.is_nemesis() && e.f.starts_with("clock-"))
            .filter(|e| e.value.get("true_time_us").is_none())
            .count();
        assert!(faults >= 4, "seed {seed}: {faults} clock faults");
        assert!(
            run.results["workload"]["unfixed"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        for (name, node) in nodes(&run) {
            assert!(node["judged"].as_u64() > Some(0), "{name}: {}", run.stdout);
        }
    }
}

#[test]
fn a_node_process_corrects_the_clock_libfaketime_bent_and_panics_beyond_the_threshold() {
    if let Err(why) = runner::faketime::find_library() {
        println!("skipped: {why}");
        return;
    }
    let bin = node_bin("time-sync");
    let run = harness_test(&[
        "-w",
        "time-sync",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "6",
        "--rate",
        "30",
        "--target-skew-ms",
        "1000",
        "--seed",
        "9",
    ]);
    // Whatever the machine's load: the clocks were bent (the panicked node read more than
    // 1000 s off), and the others were corrected to well within a second.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_synchronised_but_one(&run);
}

#[test]
fn a_node_that_claims_synchronised_after_its_clock_moved_makes_the_run_invalid_and_is_named() {
    let run = harness_test(&[
        "--sim",
        "-w",
        "time-sync",
        "--node",
        "time-sync-once",
        "--node-count",
        "4",
        "--time-limit",
        "8",
        "--rate",
        "20",
        "--nemesis",
        "clock",
        "--nemesis-interval",
        "1",
        "--seed",
        "3",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let errors = run.results["workload"]["errors"].as_array().unwrap();
    let why = errors[0]["why"].as_str().unwrap();
    assert!(
        why.contains("said it was synchronised at") && why.contains("'s clock was"),
        "{why}"
    );
    assert!(
        run.results["headline"]
            .as_str()
            .is_some_and(|h| h.contains("beyond the target skew")),
        "{}",
        run.stdout
    );
}

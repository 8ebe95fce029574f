//! The failure detector (`-w failure-detector`, node `failure-detector`) under the simulator,
//! where time is virtual and one seed is one run: after a kill every other node suspects the
//! killed one within its timeout plus a heartbeat interval (the course's completeness), a
//! run without faults suspects nobody, a pause longer than the timeout makes the others
//! suspect a node that is up (no detector is perfect in partial synchrony) without making the
//! run invalid, and the planted bug that never suspects a crashed peer is caught with the
//! node it missed, and under latency spikes a fixed timeout keeps suspecting correct nodes
//! while one that grows after each false suspicion soon stops (◇P's eventual accuracy). One
//! short run with real processes checks that the binary serves the workload.
//!
//! Each simulated run: 5 nodes, 50 reads per second (about one per node every 100 ms), the
//! detector's defaults (heartbeat 100 ms, timeout 500 ms).

use checker::{EventType, Process};
use serde_json::Value;

use crate::harness::{Run, harness, harness_test, node_bin};

/// The detector's default timeout and heartbeat interval, in ms.
const TIMEOUT_MS: u64 = 500;
const HEARTBEAT_MS: u64 = 100;
/// The mean interval between two reads of one node: 5 nodes / 50 reads per second.
const READ_INTERVAL_MS: u64 = 100;

/// A simulated run of `node` for 20 s with `faults` every `interval` s on average.
fn sim(node: &str, faults: &str, interval: &str, seed: &str) -> Run {
    let mut args = vec![
        "--sim",
        "-w",
        "failure-detector",
        "--node",
        node,
        "--node-count",
        "5",
        "--time-limit",
        "20",
        "--rate",
        "50",
        "--recovery-time",
        "3",
        "--seed",
        seed,
        "--no-progress",
    ];
    if !faults.is_empty() {
        args.extend(["--nemesis", faults, "--nemesis-interval", interval]);
    }
    harness_test(&args)
}

/// The spans (start, end in ms) of the nemesis faults `start` .. `stop` of `node`.
fn fault_spans(run: &Run, start: &str, stop: &str) -> Vec<(String, u64, u64)> {
    let mut open: Vec<(String, u64)> = Vec::new();
    let mut spans = Vec::new();
    for e in run.history.iter().filter(|e| e.process == Process::NEMESIS) {
        let nodes: Vec<String> = e
            .value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        for node in nodes {
            if e.f == start {
                open.push((node, e.time / 1_000_000));
            } else if e.f == stop
                && let Some(i) = open.iter().position(|(n, _)| *n == node)
            {
                let (node, from) = open.remove(i);
                spans.push((node, from, e.time / 1_000_000));
            }
        }
    }
    spans
}

fn workload(run: &Run) -> &Value {
    &run.results["workload"]
}

#[test]
fn after_a_kill_every_other_node_suspects_the_killed_one_within_timeout_and_heartbeat() {
    let run = sim("failure-detector", "kill", "4", "1");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let w = workload(&run);
    assert!(w["kill_count"].as_u64() > Some(0), "{w}");
    let times: Vec<u64> = w["kills"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|k| k["observers"].as_array().unwrap().iter())
        .filter_map(|o| o["detected_after_ms"].as_u64())
        .collect();
    assert!(times.len() >= 4, "too few detections to judge: {w}");
    // The last heartbeat from the killed node arrived at most one interval before the kill, so
    // no suspicion comes before timeout - heartbeat; a read names it at most a read interval
    // (with margin, as clients are drawn at random) after timeout + heartbeat.
    let most = TIMEOUT_MS + HEARTBEAT_MS + 5 * READ_INTERVAL_MS;
    for t in &times {
        assert!(
            (TIMEOUT_MS - HEARTBEAT_MS..most).contains(t),
            "detection time {t} ms outside [{}, {most}) ms: {w}",
            TIMEOUT_MS - HEARTBEAT_MS
        );
    }
    let q = &w["detection_time_ms"];
    assert_eq!(q["1"].as_u64(), times.iter().max().copied(), "{q}");
    assert_eq!(w["missed_count"], 0);
    assert!(
        run.stdout.contains("failure-detector: valid: ")
            && run.stdout.contains("detection time min "),
        "{}",
        run.stdout
    );
}

#[test]
fn without_faults_no_node_is_suspected_and_the_run_is_valid() {
    let run = sim("failure-detector", "", "", "2");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let w = workload(&run);
    assert_eq!(w["valid"], true, "{w}");
    assert_eq!(w["false_suspicions"]["count"], 0, "{w}");
    assert_eq!(w["final_read_count"], 5, "{w}");
    assert_eq!(w["kill_count"], 0, "{w}");
}

#[test]
fn a_pause_longer_than_the_timeout_gives_false_suspicions_and_the_run_stays_valid() {
    let run = sim("failure-detector", "pause", "3", "1");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let long = fault_spans(&run, "pause", "resume")
        .into_iter()
        .filter(|(_, from, to)| to - from > TIMEOUT_MS + HEARTBEAT_MS + READ_INTERVAL_MS)
        .count();
    assert!(long > 0, "no pause longer than the timeout: {}", run.stdout);
    let w = workload(&run);
    let s = &w["false_suspicions"];
    assert!(s["during_pause"].as_u64() > Some(0), "{w}");
    assert!(s["longest_ms"].as_u64() > Some(TIMEOUT_MS), "{s}");
    assert_eq!(
        s["observer_paused"], 0,
        "a resumed node trusts its peers afresh: {s}"
    );
    assert_eq!(w["valid"], true, "{w}");
    assert!(
        run.stdout.contains("during a pause"),
        "the summary counts them: {}",
        run.stdout
    );
}

#[test]
fn a_detector_that_never_suspects_a_killed_peer_is_invalid_and_says_whom_it_missed() {
    let run = sim("failure-detector-one-clock", "kill", "4", "1");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let w = workload(&run);
    assert!(w["missed_count"].as_u64() > Some(0), "{w}");
    let headline = run.results["headline"].as_str().unwrap_or_default();
    assert!(headline.contains("missed detection"), "{headline}");
    let first = w["errors"][0].as_str().unwrap_or_default();
    assert!(
        first.contains(" was killed at ")
            && first.contains(" still did not suspect it at ")
            && first.contains(" s later"),
        "{first}"
    );
    assert!(run.stdout.contains(first), "{}", run.stdout);
    // Every kill of this run is shorter than a minute: with that bound nothing is missed yet.
    let history = run.dir.join("history.jsonl");
    let history = history.to_str().expect("utf-8 path");
    let (code, stdout, stderr) = harness(&["check", history, "--detection-bound-ms", "60000"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 missed (bound 60.0 s)"), "{stdout}");
}

#[test]
fn the_binary_answers_every_final_read_with_real_processes() {
    let bin = node_bin("failure-detector");
    let run = harness_test(&[
        "-w",
        "failure-detector",
        "--bin",
        bin.to_str().expect("utf-8 path"),
        "--node-count",
        "3",
        "--time-limit",
        "2",
        "--rate",
        "20",
        "--recovery-time",
        "1",
        "--no-progress",
    ]);
    // What holds on every schedule: the run completes and every node answers its final read
    // with a list of node ids (whether a slow machine made one suspect another is timing).
    assert_ne!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let finals: Vec<&Value> = run
        .history
        .iter()
        .filter(|e| e.is_final && e.kind == EventType::Ok && e.f == "suspect")
        .map(|e| &e.value)
        .collect();
    assert_eq!(finals.len(), 3, "{}", run.stdout);
    assert!(finals.iter().all(|v| v.is_array()), "{finals:?}");
}

/// A simulated run of the detector for 30 s without faults under exponential latencies (mean
/// 100 ms: now and then a heartbeat takes several times that), with `args` for the node.
fn latency_spikes(args: &[&str]) -> Run {
    let mut all = vec![
        "--sim",
        "-w",
        "failure-detector",
        "--node",
        "failure-detector",
        "--node-count",
        "5",
        "--time-limit",
        "30",
        "--rate",
        "50",
        "--latency",
        "100",
        "--latency-dist",
        "exponential",
        "--recovery-time",
        "5",
        "--seed",
        "3",
        "--no-progress",
        "--",
    ];
    all.extend_from_slice(args);
    harness_test(&all)
}

#[test]
fn under_latency_spikes_a_fixed_timeout_keeps_suspecting_wrongly_and_a_growing_one_soon_stops() {
    // The claim of ◇P: timeouts that grow after each false suspicion end up above the delays
    // the network actually has, so false suspicions stop; a fixed timeout below some of them
    // suspects correct nodes again and again.
    let fixed = latency_spikes(&["--timeout-ms", "150", "--grow-ms", "0"]);
    let growing = latency_spikes(&["--timeout-ms", "150", "--grow-ms", "100"]);
    let count = |run: &Run| {
        let s = &run.results["workload"]["false_suspicions"];
        assert_eq!(s["count"], s["other"], "no fault to blame: {s}");
        s["count"].as_u64().unwrap_or_default()
    };
    let (fixed_count, growing_count) = (count(&fixed), count(&growing));
    assert!(
        fixed_count > 10 * growing_count.max(1),
        "fixed {fixed_count}, growing {growing_count}"
    );
    assert_eq!(growing.code, 0, "{}", growing.stdout);
}

#[test]
fn the_detection_bound_must_be_positive_and_is_named_as_ignored_by_other_workloads() {
    let short = [
        "--sim",
        "--node-count",
        "2",
        "--time-limit",
        "1",
        "--recovery-time",
        "0",
        "--no-progress",
    ];
    let (code, _, stderr) = harness(&[
        "test",
        "--sim",
        "-w",
        "failure-detector",
        "--node",
        "failure-detector",
        "--detection-bound-ms",
        "0",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("--detection-bound-ms must be positive"),
        "{stderr}"
    );
    let mut args = vec![
        "-w",
        "echo",
        "--node",
        "echo",
        "--detection-bound-ms",
        "100",
    ];
    args.extend(short);
    let run = harness_test(&args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("--detection-bound-ms (not used by the echo workload)"),
        "{}",
        run.stdout
    );
}

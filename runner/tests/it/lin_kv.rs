//! The key-value nodes under the real harness (`harness test -w lin-kv`): state-machine
//! replication is linearizable, with and without partitions, and the two classic mistakes are
//! caught, with a report that names the stale read and the write it missed.
//!
//! The correct nodes are checked once without faults and once under a seed whose schedule holds
//! one long partition between two healthy stretches. The broken nodes' anomalies depend on
//! timing (which read lands on a lagging replica), so their test runs seeds in turn until a run
//! is invalid, at most three; every run must end valid or invalid, never unknown or broken.

use serde_json::Value;

use crate::harness::{Run, assert_history_intact, harness, harness_test, node_bin, test_node};

/// 50 ops/s from 10 clients, latency uniform in [0, 40] ms.
const STEADY: [&str; 8] = [
    "--rate",
    "50",
    "--concurrency",
    "2n",
    "--latency",
    "20",
    "--latency-dist",
    "uniform",
];

/// The seed of the partition runs: with `--time-limit 6 --nemesis-interval 2`, one partition
/// that splits the cluster, from 1.4 s to 4.2 s, and no fault before or after.
const PARTITION_SEED: &str = "137";
const PARTITION_FROM_MS: f64 = 1_400.0;
const PARTITION_TO_MS: f64 = 4_200.0;

/// `harness test -w lin-kv` of `bin` on 5 nodes with `seed` and `flags`.
fn run(bin: &str, seed: &str, flags: &[&str]) -> Run {
    let bin = node_bin(bin);
    let mut args = vec!["-w", "lin-kv", "--node-count", "5", "--no-progress"];
    args.extend(["--bin", bin.to_str().expect("utf-8 path"), "--seed", seed]);
    args.extend(flags);
    harness_test(&args)
}

/// The partition runs: [`PARTITION_SEED`]'s schedule, with twice [`STEADY`]'s clients and
/// rate. A stalled total order holds every client in an op until the heal, so only the
/// stretches before and after the partition (1.4 s and 1.8 s) complete ops; with 10 clients
/// at lin-kv-tob's 0.3 s per op, a run on a loaded machine could end without a single cas
/// succeeding (most find the key absent or holding another value), which makes the stats
/// checker's verdict invalid. 20 clients leave a margin.
const PARTITIONED: [&str; 14] = [
    "--rate",
    "100",
    "--concurrency",
    "4n",
    "--latency",
    "20",
    "--latency-dist",
    "uniform",
    "--time-limit",
    "6",
    "--nemesis",
    "partition",
    "--nemesis-interval",
    "2",
];

/// [`STEADY`] and `flags`.
fn steady<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut all = STEADY.to_vec();
    all.extend_from_slice(flags);
    all
}

fn count(run: &Run, f: &str, field: &str) -> u64 {
    run.results["stats"]["by_f"][f][field]
        .as_u64()
        .unwrap_or_else(|| panic!("stats.by_f.{f}.{field} in {}", run.results))
}

fn assert_linearizable(run: &Run) {
    assert_eq!(run.code, 0, "exit code\n{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true, "{}", run.stdout);
    assert_eq!(run.results["workload"]["valid"], true, "{}", run.stdout);
    assert!(run.stdout.contains("\nlinearizable\n"), "{}", run.stdout);
    assert!(run.problem_kinds().is_empty(), "{:?}", run.problem_kinds());
    assert_history_intact(&run.history);
    for f in ["read", "write", "cas"] {
        assert!(
            count(run, f, "ok_count") > 0,
            "no {f} succeeded: {}",
            run.stdout
        );
    }
}

/// The invocation and completion times (ms) of every op that completed ok.
fn ok_intervals(run: &Run) -> Vec<(f64, f64)> {
    let mut invoked = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for e in run.history.iter().filter(|e| !e.process.is_nemesis()) {
        let ms = e.time as f64 / 1e6;
        match e.kind {
            checker::EventType::Invoke => {
                invoked.insert(e.process.clone(), ms);
            }
            checker::EventType::Ok => {
                if let Some(at) = invoked.remove(&e.process) {
                    out.push((at, ms));
                }
            }
            _ => {
                invoked.remove(&e.process);
            }
        }
    }
    out
}

/// The times (ms) of every ok completion.
fn ok_times(run: &Run) -> Vec<f64> {
    run.history
        .iter()
        .filter(|e| e.kind == checker::EventType::Ok && !e.process.is_nemesis())
        .map(|e| e.time as f64 / 1e6)
        .collect()
}

fn partition_window(run: &Run) -> (f64, f64) {
    let at = |f: &str| {
        run.history
            .iter()
            .find(|e| e.process.is_nemesis() && e.f == f)
            .map(|e| e.time as f64 / 1e6)
            .unwrap_or_else(|| panic!("no {f} in the history"))
    };
    let (from, to) = (at("start-partition"), at("stop-partition"));
    // The schedule is the seed's, timed from the workload's start; history times count from
    // the harness's start, before the nodes' init, which takes as long as the machine's load
    // makes it. So the partition comes no earlier than scheduled, and lasts as scheduled.
    let scheduled = PARTITION_TO_MS - PARTITION_FROM_MS;
    assert!(
        from >= PARTITION_FROM_MS - 1.0 && ((to - from) - scheduled).abs() < 500.0,
        "partition from {from} to {to} ms; scheduled from {PARTITION_FROM_MS} to \
         {PARTITION_TO_MS} ms after the workload's start"
    );
    (from, to)
}

#[test]
fn lin_kv_tob_is_linearizable_without_faults() {
    let run = run("lin-kv-tob", "7", &steady(&["--time-limit", "4"]));
    assert_linearizable(&run);
    assert_eq!(run.results["stats"]["info_count"], 0, "{}", run.stdout);
}

#[test]
fn lin_kv_tob_stalls_under_a_partition_and_never_answers_wrongly() {
    let run = run("lin-kv-tob", PARTITION_SEED, &PARTITIONED);
    assert_linearizable(&run);
    let (from, to) = partition_window(&run);
    // Total order by Lamport timestamps delivers an op once every node has sent a later
    // timestamp: an op invoked while the cluster is split can never be ordered before the
    // heal, since the other side's clocks cannot be heard. (An op invoked before the split may
    // still complete during it on the majority side: every node's later timestamps reached it
    // before the cut, and its quorum layer needs only a majority.)
    let during: Vec<(f64, f64)> = ok_intervals(&run)
        .into_iter()
        .filter(|&(invoked, done)| invoked > from && done < to)
        .collect();
    assert!(
        during.is_empty(),
        "ops invoked and applied during the partition (invoked, ok) at {during:?} ms"
    );
    // Writes and cas caught by the stall timed out as info; they took effect after the heal
    // or not at all, and the history is still linearizable.
    assert!(
        run.results["stats"]["info_count"].as_u64() > Some(0),
        "{}",
        run.stdout
    );
    assert_eq!(count(&run, "read", "info_count"), 0, "a stalled read fails");
    assert!(
        ok_times(&run).iter().any(|&t| t > to),
        "service resumes after the heal"
    );
}

#[test]
fn lin_kv_leader_is_linearizable_without_faults() {
    let run = run("lin-kv-leader", "7", &steady(&["--time-limit", "4"]));
    assert_linearizable(&run);
}

#[test]
fn lin_kv_leader_is_linearizable_under_a_partition() {
    let run = run("lin-kv-leader", PARTITION_SEED, &PARTITIONED);
    assert_linearizable(&run);
    partition_window(&run);
}

/// The written value of a write or cas (`[key, value]`, `[key, [from, to]]`).
fn written(op: &Value) -> &Value {
    match op["f"].as_str() {
        Some("cas") => &op["value"][1][1],
        _ => &op["value"][1],
    }
}

/// `results.json` and stdout name a read that returned a value it could not have (or found
/// the key absent, error 20, after it was written), and the write it missed: one invoked
/// before the read, whose value the read did not return.
fn assert_names_a_read_and_the_write_it_missed(run: &Run) {
    let failure = &run.results["workload"]["failure"];
    let (read, missed) = if failure["op"]["f"] == "read" && failure["missed_write"].is_object() {
        (&failure["op"], &failure["missed_write"])
    } else {
        (&failure["witness"]["op"], &failure["witness"]["missed"][0])
    };
    assert_eq!(read["f"], "read", "{failure:#}");
    let absent = read["outcome"] == "fail"
        && read["error"]
            .as_str()
            .is_some_and(|error| error.starts_with("20 "));
    assert!(read["outcome"] == "ok" || absent, "{failure:#}");
    assert!(
        matches!(missed["f"].as_str(), Some("write" | "cas")),
        "{failure:#}"
    );
    assert!(
        missed["invoke_ms"].as_f64() < read["invoke_ms"].as_f64(),
        "{failure:#}"
    );
    assert_ne!(written(missed), &read["value"][1], "{failure:#}");
    let explanation = failure["explanation"].as_str().expect("an explanation");
    assert!(explanation.contains("missed"), "{explanation}");
    // On stdout: the explanation, and both ops with their intervals.
    assert!(run.stdout.contains(explanation), "{}", run.stdout);
    for op in [read, missed] {
        let events = format!("events {}..{}", op["index"], op["complete_index"]);
        assert!(run.stdout.contains(&events), "{events} in {}", run.stdout);
    }
}

/// Run `bin` with each seed in turn until a run is invalid and its report names a read and
/// the write it missed; every run must end valid or invalid.
fn caught(bin: &str, seeds: &[&str], extra: &[&str]) -> Run {
    let mut tried = Vec::new();
    for seed in seeds {
        let run = run(bin, seed, extra);
        assert!(
            run.code == 0 || run.code == 1,
            "{bin} seed {seed}: exit {}\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        assert!(run.problem_kinds().is_empty(), "{:?}", run.problem_kinds());
        assert_history_intact(&run.history);
        if run.code == 1 {
            assert_eq!(run.results["valid"], false);
            assert_eq!(run.results["workload"]["valid"], false, "{}", run.stdout);
            assert!(run.stdout.contains("not linearizable"), "{}", run.stdout);
            assert_names_a_read_and_the_write_it_missed(&run);
            return run;
        }
        tried.push(seed);
    }
    panic!("{bin} looked linearizable for seeds {tried:?}");
}

#[test]
fn kv_gossip_is_caught_reading_a_stale_value() {
    let run = caught(
        "kv-gossip",
        &["7", "8", "9"],
        &steady(&["--time-limit", "4"]),
    );
    // Gossip never waits for anyone: every op is answered, none times out.
    assert_eq!(run.results["stats"]["info_count"], 0);
}

#[test]
fn kv_stale_reads_is_caught_reading_a_stale_value() {
    // Replicas apply a write within milliseconds of its acknowledgement, as a rule (see
    // nodes::kv::stale_reads); a replica that lost a message stays behind until the link
    // retries, which message loss makes happen now and then.
    caught(
        "kv-stale-reads",
        &["22", "4", "1"],
        &[
            "--time-limit",
            "6",
            "--key-count",
            "2",
            "--rate",
            "100",
            "--concurrency",
            "4n",
            "--latency-dist",
            "exponential",
            "--latency",
            "30",
            "--nemesis",
            "loss",
            "--nemesis-interval",
            "1",
        ],
    );
}

/// A store that answers "key does not exist" (error 20) for a key whose write it acknowledged
/// has lost that write: error 20 is a definite answer, which observed the key absent as a
/// `read_ok` of `null` does, and is checked as such (Maelstrom drops it with the failed ops).
/// `forgetful_kv.py` keeps its keys in memory only and ignores its data directory, so each kill
/// takes them all. Whether a read of a key lands after a restart and before the key's next
/// write depends on timing, so seeds are run in turn until one is caught, at most three; every
/// run must end valid or invalid.
#[test]
fn a_store_that_forgets_acknowledged_writes_on_restart_and_answers_error_20_is_caught() {
    let bin = test_node("forgetful_kv.py");
    let mut tried = Vec::new();
    for seed in ["3", "4", "5"] {
        let run = harness_test(&[
            "-w",
            "lin-kv",
            "--bin",
            bin.to_str().unwrap(),
            "--node-count",
            "1",
            "--concurrency",
            "2",
            "--key-count",
            "1",
            "--rate",
            "40",
            "--time-limit",
            "6",
            "--nemesis",
            "kill",
            "--nemesis-targets",
            "all",
            "--nemesis-interval",
            "1",
            "--no-progress",
            "--seed",
            seed,
        ]);
        assert!(
            run.code == 0 || run.code == 1,
            "seed {seed}: exit {}\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        assert!(run.problem_kinds().is_empty(), "{:?}", run.problem_kinds());
        assert_history_intact(&run.history);
        if run.results["workload"]["valid"] != false {
            tried.push(seed);
            continue;
        }
        assert_eq!(run.code, 1);
        let failure = &run.results["workload"]["failure"];
        let read = if failure["witness"].is_object() {
            &failure["witness"]["op"]
        } else {
            &failure["op"]
        };
        assert_eq!(read["f"], "read", "{failure:#}");
        assert_eq!(read["outcome"], "fail", "{failure:#}");
        assert_eq!(read["error"], "20 key-does-not-exist", "{failure:#}");
        // The read is named in results.json, in the summary and in the headline.
        let explanation = failure["explanation"].as_str().expect("an explanation");
        assert!(
            explanation.contains("found the key absent (error 20, key-does-not-exist)"),
            "{explanation}"
        );
        assert!(run.stdout.contains(explanation), "{}", run.stdout);
        let headline = run.results["headline"].as_str().expect("a headline");
        assert!(headline.contains(explanation), "{headline}");
        // A kill came before the read; the history records it.
        let killed_before = run.history.iter().any(|e| {
            e.process.is_nemesis()
                && e.f == "kill"
                && (e.time as f64 / 1e6) < read["invoke_ms"].as_f64().unwrap()
        });
        assert!(killed_before, "{failure:#}");
        // harness check judges the run's own files the same way.
        let (code, stdout, stderr) = harness(&["check", run.dir.to_str().unwrap()]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(stdout.contains("found the key absent"), "{stdout}");
        return;
    }
    panic!("the forgetful store looked linearizable for seeds {tried:?}");
}

//! Stable storage under the harness (the course's fail-recovery model): every node has a data
//! directory that survives kill and restart; `wipe` empties it. A node that keeps its values
//! only in memory loses acknowledged values when a majority is killed, and the verdict says
//! so; the reference nodes, which persist what they acknowledge, lose nothing even when every
//! node is killed at once, and a restarted node's reads never go back.

use std::collections::BTreeMap;

use checker::{Event, EventType, Process};
use serde_json::Value;

use crate::harness::{Run, harness_test, node_bin, test_node};

fn broadcast(bin: &str, nemesis: &str, targets: &str, seed: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "-w",
        "broadcast",
        "--bin",
        bin,
        "--node-count",
        "5",
        "--time-limit",
        "8",
        "--rate",
        "20",
        "--latency",
        "10",
        "--nemesis",
        nemesis,
        "--nemesis-targets",
        targets,
        "--nemesis-interval",
        "2",
        "--recovery-time",
        "4",
        "--seed",
        seed,
    ];
    args.extend_from_slice(extra);
    harness_test(&args)
}

/// The nodes each nemesis event named, by `f`.
fn fault_events<'a>(run: &'a Run, f: &str) -> Vec<&'a Event> {
    run.history
        .iter()
        .filter(|e| e.process.is_nemesis() && e.f == f)
        .collect()
}

#[test]
fn a_node_that_keeps_values_only_in_memory_loses_acknowledged_values_when_a_majority_is_killed() {
    let bin = test_node("memory_only_broadcast.py");
    let run = broadcast(bin.to_str().unwrap(), "kill", "majority", "3", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.results["valid"], false);
    let kills = fault_events(&run, "kill");
    assert!(!kills.is_empty(), "the run killed nothing");
    for kill in &kills {
        assert_eq!(
            kill.value.as_array().map(Vec::len),
            Some(3),
            "a majority of 5"
        );
    }
    let lost = run.results["workload"]["lost"]
        .as_array()
        .expect("the lost values are named");
    assert!(!lost.is_empty(), "{}", run.results["workload"]);
    assert_eq!(
        run.results["workload"]["lost_count"].as_u64(),
        Some(lost.len() as u64)
    );
    // The story names the kill that took the values, in results.json and in the summary.
    let headline = run.results["headline"].as_str().unwrap_or_default();
    assert!(
        headline.contains("lost") && headline.contains("kill of"),
        "{headline}"
    );
    let story: Vec<&str> = run.results["story"]
        .as_array()
        .map(|lines| lines.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let lost_value = lost[0].get("element").unwrap_or(&lost[0]).to_string();
    assert!(
        story
            .iter()
            .any(|line| line.contains(&format!("value {lost_value}")) && line.contains("kill")),
        "{story:#?}"
    );
    assert!(run.stdout.contains(headline), "{}", run.stdout);
}

#[test]
fn the_reference_nodes_lose_nothing_when_every_node_is_killed_at_once() {
    for name in [
        "broadcast-eager",
        "broadcast-fifo",
        "broadcast-total-lamport",
    ] {
        let bin = node_bin(name);
        let ordering = match name {
            "broadcast-fifo" => "fifo",
            _ => "total",
        };
        let extra: &[&str] = if name == "broadcast-eager" {
            &[]
        } else {
            &["--ordering", ordering]
        };
        let run = broadcast(bin.to_str().unwrap(), "kill", "all", "5", extra);
        assert_eq!(run.code, 0, "{name}: {}", run.stdout);
        assert_eq!(run.results["workload"]["lost_count"], 0, "{name}");
        let every_node = fault_events(&run, "kill")
            .iter()
            .any(|e| e.value.as_array().map(Vec::len) == Some(5));
        assert!(every_node, "{name}: no kill of every node at once");
        assert_reads_never_go_back(&run, name);
        let log = std::fs::read_to_string(run.dir.join("node-logs/n0.log")).unwrap_or_default();
        assert!(
            log.contains("recovering"),
            "{name}: n0 never recovered from its disk: {log}"
        );
        // The data directories are in the run folder, one per node, with what was persisted.
        for node in ["n0", "n4"] {
            let data = run.dir.join("data").join(node);
            let files = std::fs::read_dir(&data)
                .unwrap_or_else(|e| panic!("{name}: {}: {e}", data.display()))
                .count();
            assert!(files > 0, "{name}: {node} persisted nothing");
        }
    }
}

/// Each node's ok reads, in invocation order, never lose a value an earlier read of the same
/// node showed, kills and restarts notwithstanding (stable storage).
fn assert_reads_never_go_back(run: &Run, name: &str) {
    let mut invoked: BTreeMap<u64, &Event> = BTreeMap::new();
    let mut last: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for event in &run.history {
        let Process::Client(p) = event.process else {
            continue;
        };
        if event.kind == EventType::Invoke {
            invoked.insert(p, event);
            continue;
        }
        if event.f != "read" || event.kind != EventType::Ok {
            continue;
        }
        let node = event.node.clone().unwrap_or_default();
        let values = event.value.as_array().cloned().unwrap_or_default();
        if let Some(before) = last.get(&node) {
            for v in before {
                assert!(
                    values.contains(v),
                    "{name}: {node} read {v} before, but not in its read completed at {} ns",
                    event.time
                );
            }
        }
        last.insert(node, values);
    }
    assert!(last.len() == 5, "{name}: reads at every node");
}

#[test]
fn a_wipe_restarts_a_node_with_an_empty_data_directory() {
    let bin = node_bin("broadcast-gossip");
    let run = broadcast(bin.to_str().unwrap(), "wipe", "one", "9", &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let wipes = fault_events(&run, "wipe");
    assert!(!wipes.is_empty(), "the run wiped nothing");
    let restarts = fault_events(&run, "restart");
    assert_eq!(wipes.len(), restarts.len(), "each wipe has its restart");
    assert_eq!(run.results["run"]["nemesis"], serde_json::json!(["wipe"]));
    assert_eq!(
        run.results["run"]["nemesis_targets"],
        serde_json::json!(["one"])
    );
    // A wiped node comes back as new: its driver found nothing on disk to recover (after a
    // kill it would have), and it caught up from its peers.
    let wiped = wipes[0].value[0].as_str().unwrap().to_owned();
    let log = std::fs::read_to_string(run.dir.join("node-logs").join(format!("{wiped}.log")))
        .unwrap_or_default();
    assert!(
        !log.contains("recovering"),
        "{wiped} recovered after a wipe: {log}"
    );
    assert_eq!(run.results["workload"]["lost_count"], 0);
}

#[test]
fn an_unknown_target_is_refused_with_the_valid_ones() {
    let bin = node_bin("broadcast-eager");
    let run = broadcast(bin.to_str().unwrap(), "kill", "most", "1", &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("unknown target \"most\" in --nemesis-targets"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("minority-third"), "{}", run.stderr);
}

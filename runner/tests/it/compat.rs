//! Compatibility: nodes written from the protocol in the style of other ecosystems run
//! unchanged, and the harness tells a correct broadcast from a broken one.

use std::path::Path;
use std::process::Command;

use crate::harness::{assert_history_intact, harness_test, node_bin, test_node};

#[test]
fn a_python_asyncio_node_with_ids_from_0_passes_echo_and_unique_ids() {
    let bin = test_node("asyncio_echo.py");
    for workload in ["echo", "unique-ids"] {
        let run = harness_test(&[
            "-w",
            workload,
            "--bin",
            bin.to_str().unwrap(),
            "--node-count",
            "3",
            "--time-limit",
            "3",
            "--rate",
            "30",
        ]);
        assert_eq!(run.code, 0, "{workload}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.results["valid"], true);
        assert_history_intact(&run.history);
        let ok = run
            .history
            .iter()
            .filter(|e| e.kind == checker::EventType::Ok)
            .count();
        assert!(ok >= 30, "{workload}: only {ok} ok ops");
    }
}

#[test]
fn an_echo_node_built_with_the_maelstrom_node_crate_passes() {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).expect("the target folder");
    let example_target = target.join("maelstrom-node-echo");
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/maelstrom-node-echo/Cargo.toml");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &example_target)
        .status()
        .expect("running cargo");
    assert!(
        status.success(),
        "building the maelstrom-node example failed"
    );
    let bin = example_target.join("debug/maelstrom-node-echo");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        "3",
        "--rate",
        "20",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true);
    assert!(
        run.history
            .iter()
            .filter(|e| e.kind == checker::EventType::Ok)
            .count()
            >= 20
    );
}

fn broadcast_with_partitions(bin: &Path, seed: &str) -> crate::harness::Run {
    harness_test(&[
        "-w",
        "broadcast",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "5",
        "--time-limit",
        "6",
        "--rate",
        "20",
        "--latency",
        "10",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "3",
        "--seed",
        seed,
    ])
}

#[test]
fn a_broadcast_node_that_drops_messages_to_a_neighbour_loses_values() {
    let run = broadcast_with_partitions(&test_node("lossy_broadcast.py"), "7");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.results["valid"], false);
    let lost = run.results["workload"]["lost_count"]
        .as_u64()
        .expect("lost_count");
    assert!(lost > 0, "{}", run.results["workload"]);
    // The failure is told: a headline for a table row, a sentence per lost value (who held
    // it, what the network did to its messages, which final reads lack it), and the window
    // the report's diagram shows.
    let headline = run.results["headline"].as_str().expect("a headline");
    assert!(
        headline.starts_with(&format!(
            "{lost} acknowledged value{} lost",
            if lost == 1 { "" } else { "s" }
        )),
        "{headline}"
    );
    let story: Vec<&str> = run.results["story"]
        .as_array()
        .expect("a story")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(story[0].starts_with("value "), "{story:?}");
    assert!(story[0].contains("was held by"), "{story:?}");
    assert!(story[0].contains("final read"), "{story:?}");
    let window = &run.results["story_window"];
    assert!(
        !window["message_ids"].as_array().unwrap().is_empty(),
        "{window}"
    );
    assert!(run.stdout.contains(&format!("what went wrong: {headline}")));
}

#[test]
fn a_correct_broadcast_node_loses_nothing_under_partitions() {
    let run = broadcast_with_partitions(&node_bin("broadcast-eager"), "7");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.results["valid"], true);
    assert_eq!(run.results["workload"]["lost_count"], 0);
    let partitions = run
        .history
        .iter()
        .filter(|e| e.f == "start-partition")
        .count();
    assert!(partitions > 0, "the run had no partition");
}

#[test]
fn a_reply_that_comes_after_the_client_gave_up_is_ignored_not_a_duplicate() {
    let bin = test_node("slow_echo.py");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "1",
        "--time-limit",
        "8",
        "--rate",
        "5",
        "--seed",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.problem_kinds().is_empty(),
        "{:?}",
        run.results["problems"]
    );
    let timed_out = run
        .history
        .iter()
        .filter(|e| {
            e.kind == checker::EventType::Fail
                && e.error.as_ref().is_some_and(|err| err.name == "timeout")
        })
        .count();
    assert_eq!(timed_out, 1, "the first echo timed out");
}

/// Maelstrom's raft demo proxies a client's request to the leader with the client's `src`, so
/// the leader's reply goes to the client: Maelstrom checks only that `src` names a member of
/// the network. Here the forward is accepted (a warning says it is routed more strictly than
/// Maelstrom routes it), journaled with the client's `src` and `via` the node that wrote it,
/// and travels the network between the two servers (latency applies).
#[test]
fn a_node_may_forward_a_clients_request_with_the_clients_src_and_the_reply_completes_the_op() {
    let bin = test_node("forwards_to_leader.py");
    let run = harness_test(&[
        "-w",
        "lin-kv",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--latency",
        "50",
        "--rate",
        "20",
        "--time-limit",
        "3",
        "--no-progress",
        "--seed",
        "5",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Accepted; named as a warning only, for the harness routes a forward more strictly than
    // Maelstrom (from the node that wrote it).
    assert_eq!(
        run.problem_kinds(),
        ["forwarded-src"],
        "{:?}",
        run.results["problems"]
    );
    for warning in run.problems("forwarded-src") {
        assert_eq!(warning["error"], false, "{warning}");
    }
    assert_eq!(run.results["valid"], true);
    assert_history_intact(&run.history);
    // Ops sent to the followers were answered by the leader.
    for follower in ["n1", "n2"] {
        assert!(
            run.history
                .iter()
                .any(|e| e.kind == checker::EventType::Ok && e.node.as_deref() == Some(follower)),
            "no op through {follower} completed"
        );
    }
    let events = checker::read_journal_file(&run.dir.join("messages.jsonl"))
        .unwrap()
        .items;
    let forwards: Vec<_> = events
        .iter()
        .filter(|e| e.event == checker::NetEventKind::Send && e.via.is_some())
        .collect();
    assert!(!forwards.is_empty(), "no forward journaled");
    for send in &forwards {
        assert!(checker::is_client(&send.src), "{send:?}");
        assert!(matches!(send.via.as_deref(), Some("n1" | "n2")), "{send:?}");
        assert_eq!(send.dest, "n0");
        // Server to server: the 50 ms latency applies, and every event of it says via.
        for fate in events
            .iter()
            .filter(|e| e.id == send.id && e.event != send.event)
        {
            assert_eq!(fate.via, send.via, "{fate:?}");
            if fate.event == checker::NetEventKind::Deliver {
                assert!(fate.time >= send.time + 50_000_000, "{send:?} {fate:?}");
            }
        }
    }
    // Forwards count as server messages.
    let servers = run.results["net"]["servers"]["send_count"]
        .as_u64()
        .unwrap();
    assert!(servers >= forwards.len() as u64, "{}", run.results["net"]);

    // A src that names nothing in the network is still a problem.
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--rate",
        "10",
        "--time-limit",
        "1",
        "--no-progress",
        "--",
        "--ghost",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let wrong = run.problems("wrong-src");
    assert_eq!(wrong.len(), 1, "{:?}", run.results["problems"]);
    assert!(
        wrong[0]["example"].as_str().unwrap().contains("\"ghost\""),
        "{}",
        wrong[0]["example"]
    );
}

/// A forward travels from the node that wrote it, so a partition between that node and the
/// leader drops it, although its `src` is a client (clients are never partitioned).
#[test]
fn a_partition_between_the_forwarding_node_and_the_leader_drops_the_forward() {
    let bin = test_node("forwards_to_leader.py");
    let mut tried = Vec::new();
    for seed in ["1", "2", "3", "4"] {
        let run = harness_test(&[
            "-w",
            "lin-kv",
            "--bin",
            bin.to_str().unwrap(),
            "--node-count",
            "3",
            "--rate",
            "30",
            "--time-limit",
            "4",
            "--nemesis",
            "partition",
            "--nemesis-interval",
            "1",
            "--recovery-time",
            "1",
            "--no-progress",
            "--seed",
            seed,
        ]);
        assert_eq!(run.code, 0, "seed {seed}: {}\n{}", run.stdout, run.stderr);
        let events = checker::read_journal_file(&run.dir.join("messages.jsonl"))
            .unwrap()
            .items;
        let partitioned: Vec<_> = events
            .iter()
            .filter(|e| e.via.is_some() && e.reason.as_deref() == Some("partition"))
            .collect();
        for drop in &partitioned {
            assert!(checker::is_client(&drop.src), "{drop:?}");
            assert!(matches!(drop.sender(), "n1" | "n2"), "{drop:?}");
            assert_eq!(drop.dest, "n0", "{drop:?}");
        }
        if !partitioned.is_empty() {
            return;
        }
        tried.push(seed);
    }
    panic!("no forward met a partition with seeds {tried:?}");
}

/// A request forwarded with the client's `src` to a service is answered by the service,
/// straight to the client, as in Maelstrom.
#[test]
fn a_request_forwarded_to_a_service_is_answered_by_the_service_to_the_client() {
    let bin = test_node("forwards_to_leader.py");
    let run = harness_test(&[
        "-w",
        "lin-kv",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--rate",
        "20",
        "--time-limit",
        "2",
        "--no-progress",
        "--seed",
        "3",
        "--",
        "--to-service",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.problem_kinds(),
        ["forwarded-src"],
        "{:?}",
        run.results["problems"]
    );
    assert_history_intact(&run.history);
    let events = checker::read_journal_file(&run.dir.join("messages.jsonl"))
        .unwrap()
        .items;
    let answered = events
        .iter()
        .filter(|e| {
            e.event == checker::NetEventKind::Deliver
                && e.src == "lin-kv"
                && checker::is_client(&e.dest)
        })
        .count();
    // No node answers a client: every op that completed ok was answered by lin-kv.
    let ok = run
        .history
        .iter()
        .filter(|e| e.kind == checker::EventType::Ok)
        .count();
    assert!(ok > 0, "{}", run.stdout);
    assert!(
        answered >= ok,
        "{answered} replies from lin-kv, {ok} ok ops"
    );
}

#[test]
fn no_message_reaches_a_node_before_it_has_answered_init() {
    let bin = test_node("slow_init.py");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "2",
        "--rate",
        "5",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.problem_kinds().is_empty(),
        "{:?}",
        run.results["problems"]
    );
    // The greetings were held, not lost: each peer answered one.
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    assert_eq!(journal.matches("\"hello_ok\"").count(), 2, "{journal}");
}

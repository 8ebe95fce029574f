//! Deliberately bad nodes (python scripts in tests/nodes/): the harness never hangs, names
//! the problem in results.json, and keeps the history whole.

use std::time::Duration;

use crate::harness::{assert_history_intact, harness_test, test_node};

/// Time limit, and the bound on a whole run: the workload, no recovery wait for echo, the
/// 5 s client timeout for ops in flight, and a few seconds of slack.
const LIMIT: &str = "2";
const BOUND: Duration = Duration::from_secs(2 + 5 + 5);

fn echo_run(script: &str, extra: &[&str]) -> crate::harness::Run {
    let bin = test_node(script);
    let mut args = vec![
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        LIMIT,
        "--rate",
        "20",
    ];
    args.extend_from_slice(extra);
    let run = harness_test(&args);
    assert!(
        run.elapsed < BOUND,
        "{script}: the run took {:?}\n{}",
        run.elapsed,
        run.stdout
    );
    assert_history_intact(&run.history);
    run
}

#[test]
fn malformed_lines_are_named_and_the_node_is_still_heard() {
    let run = echo_run("malformed.py", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let problems = run.problems("malformed-line");
    assert_eq!(problems.len(), 2, "{:?}", run.results["problems"]);
    assert!(problems[0]["count"].as_u64().unwrap() >= 2);
    let ok = run
        .history
        .iter()
        .filter(|e| e.kind == checker::EventType::Ok)
        .count();
    assert!(
        ok > 10,
        "valid replies after bad lines still count: {ok} ok"
    );
    assert_eq!(run.results["valid"], false);
}

#[test]
fn a_node_that_never_answers_init_stops_the_run_with_exit_3() {
    let bin = test_node("no_init_ok.py");
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        "2",
    ]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
    assert!(run.stdout.contains("did not answer init"), "{}", run.stdout);
    assert_eq!(run.problems("no-init-ok").len(), 2, "{:?}", run.results);
    assert_eq!(run.results["valid"], "unknown");
}

#[test]
fn a_node_that_exits_mid_test_is_named_and_its_ops_end() {
    let run = echo_run("exits_mid_test.py", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let exited = run.problems("exited");
    assert!(!exited.is_empty(), "{:?}", run.results["problems"]);
    assert!(
        exited[0]["example"]
            .as_str()
            .unwrap()
            .contains("exit code 1"),
        "{exited:?}"
    );
}

#[test]
fn sends_to_an_unknown_destination_are_dropped_and_named() {
    let run = echo_run("unknown_dest.py", &[]);
    assert_eq!(run.code, 1);
    let problems = run.problems("unknown-dest");
    assert!(!problems.is_empty());
    assert!(problems[0]["example"].as_str().unwrap().contains("n99"));
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    assert!(journal.contains(r#""reason":"unknown-dest""#));
}

#[test]
fn a_flooding_node_is_named_and_the_run_ends_in_time() {
    let run = echo_run("flood.py", &[]);
    assert_eq!(run.code, 1);
    let flood = run.problems("flood");
    assert!(!flood.is_empty(), "{:?}", run.problem_kinds());
    assert_eq!(flood[0]["error"], false, "a flood alone is a warning");
    assert!(!run.problems("reply-to-nobody").is_empty());
}

#[test]
fn a_node_that_never_reads_is_named_unresponsive() {
    let run = echo_run("never_reads.py", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        !run.problems("unresponsive").is_empty(),
        "{:?}",
        run.problem_kinds()
    );
    let timeouts = run
        .history
        .iter()
        .filter(|e| e.error.as_ref().is_some_and(|err| err.code == 0))
        .count();
    assert!(timeouts > 0, "ops to a node that never reads time out");
}

#[test]
fn message_id_zero_is_an_ordinary_id() {
    let run = echo_run("msg_id_zero.py", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.results["valid"], true);
    assert!(run.problem_kinds().is_empty());
}

#[test]
fn a_node_that_never_exits_is_killed_at_the_end() {
    let run = echo_run("never_exits.py", &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.problem_kinds().is_empty());
}

/// Maelstrom's client skips every reply but the one it waits for, so a second reply is named
/// as a warning and the first one counts: a node Maelstrom accepts is not failed here.
#[test]
fn a_second_reply_is_named_a_duplicate_and_skipped() {
    let run = echo_run("replies_twice.py", &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.results["valid"], true);
    let problems = run.problems("duplicate-reply");
    assert_eq!(problems.len(), 2, "{:?}", run.results["problems"]);
    assert!(problems.iter().all(|p| p["error"] == false), "{problems:?}");
    assert!(run.stdout.contains("replied twice"), "{}", run.stdout);
}

/// `harness check` and `harness report` read the run's own files.
fn assert_files_readable(run: &crate::harness::Run) {
    let dir = run.dir.to_str().unwrap();
    let (code, stdout, stderr) = crate::harness::harness(&["check", dir]);
    assert!(code == 0 || code == 1, "check: {code}\n{stdout}{stderr}");
    let (code, stdout, stderr) = crate::harness::harness(&["report", dir]);
    assert_eq!(code, 0, "report: {stdout}{stderr}");
    checker::read_journal_file(&run.dir.join("messages.jsonl")).expect("the journal reads");
}

#[test]
fn bodies_that_maelstrom_routes_are_routed_and_named_as_warnings() {
    let run = echo_run("odd_bodies.py", &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.results["valid"], true);
    for kind in ["no-body-type", "non-integer-id"] {
        // Each of the two nodes sent one.
        let problems = run.problems(kind);
        assert_eq!(problems.len(), 2, "{kind}: {:?}", run.results["problems"]);
        assert!(
            problems.iter().all(|p| p["error"] == false),
            "{kind} is a warning"
        );
    }
    assert!(run.stdout.contains("[warning]"), "{}", run.stdout);
    // The body nested 500 deep is routed and delivered (Maelstrom takes up to 1000 levels),
    // and kept in the journal as the string of its text.
    let events = checker::read_journal_file(&run.dir.join("messages.jsonl"))
        .unwrap()
        .items;
    let deep = events
        .iter()
        .find(|e| e.body.as_ref().is_some_and(|b| b.is_string()))
        .expect("the deep body, as a string");
    let text = deep.body.as_ref().unwrap().as_str().unwrap();
    assert!(
        text.starts_with(r#"{"type": "gossip", "v": [[[["#),
        "{text:.40}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.id == deep.id && e.event == checker::NetEventKind::Deliver),
        "the deep message was delivered"
    );
    assert_files_readable(&run);
}

#[test]
fn a_line_nested_deeper_than_maelstrom_reads_is_not_routed_and_fails_the_node() {
    let run = echo_run("odd_bodies.py", &["--", "--too-deep"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let problems = run.problems("too-deep");
    assert_eq!(problems.len(), 2, "{:?}", run.results["problems"]);
    assert_eq!(problems[0]["error"], true);
    assert!(
        problems[0]["example"]
            .as_str()
            .unwrap()
            .starts_with("a body nested 100001 deep: "),
        "{}",
        problems[0]["example"]
    );
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    assert!(!journal.contains(&"[".repeat(1000)), "not journaled");
    assert_files_readable(&run);
}

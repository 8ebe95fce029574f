//! Each workload's histories get the checks its module names, and `harness check` can tell
//! which workload a history is from its ops.

use checker::{Event, RunCheckOptions, Validity, parse_history};
use serde_json::{Value, json};
use workloads::{WORKLOADS, WorkloadKind, check_run};

/// A history from `(process, node, type, f, value)` rows, 1 ms apart; a trailing `F` on the
/// type marks a final read.
fn history(rows: &[(u64, &str, &str, &str, Value)]) -> Vec<Event> {
    let text: String = rows
        .iter()
        .enumerate()
        .map(|(i, (p, node, kind, f, value))| {
            let line = json!({
                "index": i, "time": (i as u64 + 1) * 1_000_000, "process": p, "node": node,
                "type": kind.trim_end_matches('F'), "f": f, "value": value,
                "final": kind.ends_with('F'),
            });
            format!("{line}\n")
        })
        .collect();
    parse_history("h", text.as_bytes()).unwrap()
}

#[test]
fn every_workload_is_named_once_and_recognised_from_its_ops() {
    assert_eq!(
        WORKLOADS.to_vec(),
        WorkloadKind::ALL.map(WorkloadKind::name).to_vec()
    );
    let cases = [
        ("echo", vec![(0, "n0", "invoke", "echo", json!("x"))]),
        (
            "unique-ids",
            vec![(0, "n0", "invoke", "generate", json!(null))],
        ),
        (
            "broadcast",
            vec![(0, "n0", "invoke", "broadcast", json!(1))],
        ),
        (
            "g-set",
            vec![
                (0, "n0", "invoke", "add", json!(1)),
                (0, "n0", "ok", "add", json!(1)),
                (1, "n1", "invoke", "read", json!(null)),
                (1, "n1", "ok", "read", json!([1])),
            ],
        ),
        ("g-set", vec![(0, "n0", "invoke", "add", json!("x"))]),
        (
            "g-counter",
            vec![
                (0, "n0", "invoke", "add", json!(3)),
                (1, "n1", "invoke", "read", json!(null)),
                (1, "n1", "ok", "read", json!(3)),
            ],
        ),
        (
            "pn-counter",
            vec![
                (0, "n0", "invoke", "add", json!(3)),
                (0, "n0", "ok", "add", json!(3)),
                (0, "n0", "invoke", "add", json!(-2)),
            ],
        ),
        (
            "failure-detector",
            vec![(0, "n0", "invoke", "suspect", json!(null))],
        ),
        (
            "time-sync",
            vec![(0, "n0", "invoke", "read_time", json!(null))],
        ),
    ];
    for (name, rows) in cases {
        let detected = WorkloadKind::detect(&history(&rows)).map(WorkloadKind::name);
        assert_eq!(detected, Some(name), "{rows:?}");
    }
    let kv = history(&[(0, "n0", "invoke", "write", json!([1, 2]))]);
    assert_eq!(WorkloadKind::detect(&kv), None, "lin-kv goes to --model");
}

#[test]
fn a_g_set_history_is_checked_by_set_full_with_add_in_place_of_broadcast() {
    let h = history(&[
        (0, "n0", "invoke", "add", json!(1)),
        (0, "n0", "ok", "add", json!(1)),
        (0, "n0", "invoke", "add", json!(2)),
        (0, "n0", "ok", "add", json!(2)),
        (1, "n1", "invoke", "read", json!(null)),
        (1, "n1", "ok", "read", json!([2, 1])),
        (0, "n0", "invokeF", "read", json!(null)),
        (0, "n0", "okF", "read", json!([1, 2])),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!([2])),
    ]);
    let results = check_run("g-set", &h, &RunCheckOptions::default());
    assert_eq!(results.valid, Validity::Invalid);
    let json = serde_json::to_value(&results).unwrap();
    let w = &json["workload"];
    assert_eq!(w["lost"], json!([1]), "{w}");
    assert_eq!(w["attempt_count"], 2);
    assert!(w["add_latencies"].is_object() && w.get("broadcast_latencies").is_none());
    let text = results.to_string();
    assert!(
        text.contains("set-full: invalid: 2 adds, 1 stable, 1 lost"),
        "{text}"
    );
    assert!(
        text.contains("add latency (invoke to add_ok), ms:"),
        "{text}"
    );
}

#[test]
fn a_pn_counter_history_is_checked_against_every_possible_total() {
    let h = history(&[
        (0, "n0", "invoke", "add", json!(-4)),
        (0, "n0", "ok", "add", json!(-4)),
        (1, "n1", "invoke", "add", json!(2)),
        (1, "n1", "info", "add", json!(2)),
        (0, "n0", "invokeF", "read", json!(null)),
        (0, "n0", "okF", "read", json!(-2)),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!(-8)),
    ]);
    let results = check_run("pn-counter", &h, &RunCheckOptions::default());
    assert_eq!(results.valid, Validity::Invalid);
    let json = serde_json::to_value(&results).unwrap();
    assert_eq!(json["workload"]["acceptable"], json!([[-4, -4], [-2, -2]]));
    assert_eq!(json["workload"]["errors"][0]["node"], "n1");
    assert!(results.to_string().starts_with("pn-counter: invalid"));
}

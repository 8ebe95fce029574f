//! Golden JSON results of hand-made histories, one per kind of violation, so that a change
//! to any checker's output is seen and reviewed.

use checker::RunCheckOptions;
use checker::broadcast::BroadcastHistory;
use checker::counter::check_counter;
use checker::echo::check_echo;
use checker::history::{Event, EventType, Process};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use checker::ordering::{OrderingMode, check_ordering};
use checker::set_full::set_full;
use checker::unique_ids::check_unique_ids;
use serde_json::{Value, json};
use workloads::check_run;

/// Events from `(process, node, type, f, value)`; index is the position, time 1 ms apart.
/// Process `-1` is the nemesis. A trailing `F` in the type marks a final read.
fn history(rows: &[(i64, &str, &str, &str, Value)]) -> Vec<Event> {
    rows.iter()
        .enumerate()
        .map(|(i, (p, node, kind, f, value))| Event {
            index: i as u64,
            time: (i as u64 + 1) * 1_000_000,
            process: if *p < 0 {
                Process::NEMESIS
            } else {
                Process::Client(*p as u64)
            },
            node: (!node.is_empty()).then(|| node.to_string()),
            kind: match kind.trim_end_matches('F') {
                "invoke" => EventType::Invoke,
                "ok" => EventType::Ok,
                "fail" => EventType::Fail,
                _ => EventType::Info,
            },
            f: f.to_string(),
            value: value.clone(),
            error: None,
            is_final: kind.ends_with('F'),
        })
        .collect()
}

#[test]
fn set_full_lost_element() {
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (1, "n0", "invoke", "read", json!(null)),
        (1, "n0", "ok", "read", json!([1])),
        (0, "n0", "invoke", "broadcast", json!(2)),
        (2, "n1", "invokeF", "read", json!(null)),
        (2, "n1", "okF", "read", json!([2])),
        (0, "n0", "ok", "broadcast", json!(2)),
    ]);
    let result = set_full(&BroadcastHistory::new(&h).unwrap(), false);
    insta::assert_json_snapshot!(result);
}

#[test]
fn set_full_duplicate_and_unexpected() {
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!([1, 7, 1])),
    ]);
    let result = set_full(&BroadcastHistory::new(&h).unwrap(), false);
    insta::assert_json_snapshot!(result);
}

#[test]
fn ordering_fifo_violation() {
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (0, "n0", "invoke", "broadcast", json!(2)),
        (0, "n0", "ok", "broadcast", json!(2)),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!([2, 1])),
    ]);
    insta::assert_json_snapshot!(check_ordering(
        &BroadcastHistory::new(&h).unwrap(),
        OrderingMode::Fifo
    ));
}

#[test]
fn ordering_causal_violation() {
    // n1 delivers 1 (broadcast at n0), then broadcasts 2; n2 delivers 2 without 1.
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (1, "n1", "invoke", "read", json!(null)),
        (1, "n1", "ok", "read", json!([1])),
        (1, "n1", "invoke", "broadcast", json!(2)),
        (1, "n1", "ok", "broadcast", json!(2)),
        (2, "n2", "invoke", "read", json!(null)),
        (2, "n2", "ok", "read", json!([2])),
    ]);
    let prepared = BroadcastHistory::new(&h).unwrap();
    assert_eq!(
        check_ordering(&prepared, OrderingMode::Fifo).violation_count,
        0
    );
    insta::assert_json_snapshot!(check_ordering(&prepared, OrderingMode::Causal));
}

#[test]
fn ordering_total_violation() {
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (1, "n1", "invoke", "broadcast", json!(2)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (1, "n1", "ok", "broadcast", json!(2)),
        (0, "n0", "invokeF", "read", json!(null)),
        (0, "n0", "okF", "read", json!([1, 2])),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!([2, 1])),
    ]);
    let prepared = BroadcastHistory::new(&h).unwrap();
    assert_eq!(
        check_ordering(&prepared, OrderingMode::Causal).violation_count,
        0
    );
    insta::assert_json_snapshot!(check_ordering(&prepared, OrderingMode::Total));
}

#[test]
fn ordering_extension_and_duplicate_violations() {
    // n0 forgets 2 between two reads of one incarnation; after a restart, forgetting is
    // allowed. n1 delivers 1 twice.
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (0, "n0", "invoke", "broadcast", json!(2)),
        (0, "n0", "ok", "broadcast", json!(2)),
        (1, "n0", "invoke", "read", json!(null)),
        (1, "n0", "ok", "read", json!([1, 2])),
        (1, "n0", "invoke", "read", json!(null)),
        (1, "n0", "ok", "read", json!([1])),
        (-1, "", "info", "kill", json!(["n0"])),
        (-1, "", "info", "restart", json!(["n0"])),
        (1, "n0", "invoke", "read", json!(null)),
        (1, "n0", "ok", "read", json!([])),
        (2, "n1", "invoke", "read", json!(null)),
        (2, "n1", "ok", "read", json!([1, 2, 1])),
    ]);
    insta::assert_json_snapshot!(check_ordering(
        &BroadcastHistory::new(&h).unwrap(),
        OrderingMode::Total
    ));
}

#[test]
fn linearizability_stale_read() {
    // The write of 2 completes before the last read begins, which still returns 1.
    let h = history(&[
        (0, "n0", "invoke", "write", json!(1)),
        (0, "n0", "ok", "write", json!(1)),
        (1, "n0", "invoke", "write", json!(2)),
        (2, "n1", "invoke", "read", json!(null)),
        (2, "n1", "ok", "read", json!(1)),
        (1, "n0", "ok", "write", json!(2)),
        (3, "n1", "invoke", "read", json!(null)),
        (3, "n1", "ok", "read", json!(1)),
    ]);
    let result = check_linearizable(&h, &LinOptions::new(ModelKind::CasRegister)).unwrap();
    insta::assert_json_snapshot!(result);
}

#[test]
fn linearizability_kv_with_pending_write() {
    // The cas from 3 can only succeed through the pending (info) write of 3: two states are
    // possible when the read of 5 on key x must take effect.
    let h = history(&[
        (0, "n0", "invoke", "write", json!(["x", 1])),
        (0, "n0", "ok", "write", json!(["x", 1])),
        (1, "n1", "invoke", "write", json!(["x", 3])),
        (1, "n1", "info", "write", json!(["x", 3])),
        (2, "n0", "invoke", "read", json!(["x", null])),
        (2, "n0", "ok", "read", json!(["x", 5])),
        (3, "n0", "invoke", "read", json!(["y", null])),
        (3, "n0", "ok", "read", json!(["y", null])),
    ]);
    let result = check_linearizable(&h, &LinOptions::new(ModelKind::Kv)).unwrap();
    insta::assert_json_snapshot!(result);
}

#[test]
fn mutex_double_acquire() {
    let h = history(&[
        (0, "n0", "invoke", "acquire", json!(null)),
        (0, "n0", "ok", "acquire", json!(null)),
        (1, "n0", "invoke", "acquire", json!(null)),
        (1, "n0", "ok", "acquire", json!(null)),
    ]);
    insta::assert_json_snapshot!(
        check_linearizable(&h, &LinOptions::new(ModelKind::Mutex)).unwrap()
    );
}

#[test]
fn unique_ids_duplicate() {
    let h = history(&[
        (0, "n0", "invoke", "generate", json!(null)),
        (0, "n0", "ok", "generate", json!("n0-1")),
        (1, "n1", "invoke", "generate", json!(null)),
        (1, "n1", "ok", "generate", json!("n0-1")),
        (2, "n1", "invoke", "generate", json!(null)),
        (2, "n1", "info", "generate", json!(null)),
    ]);
    insta::assert_json_snapshot!(check_unique_ids(&h).unwrap());
}

#[test]
fn counter_final_read_out_of_reach() {
    let h = history(&[
        (0, "n0", "invoke", "add", json!(5)),
        (0, "n0", "ok", "add", json!(5)),
        (1, "n1", "invoke", "add", json!(10)),
        (1, "n1", "info", "add", json!(10)),
        (2, "n1", "invoke", "add", json!(100)),
        (2, "n1", "fail", "add", json!(100)),
        (3, "n0", "invokeF", "read", json!(null)),
        (3, "n0", "okF", "read", json!(15)),
        (4, "n1", "invokeF", "read", json!(null)),
        (4, "n1", "okF", "read", json!(7)),
    ]);
    insta::assert_json_snapshot!(check_counter(&h).unwrap());
}

#[test]
fn echo_mismatch() {
    let h = history(&[
        (0, "n0", "invoke", "echo", json!("hello")),
        (0, "n0", "ok", "echo", json!("hullo")),
        (1, "n1", "invoke", "echo", json!("again")),
        (1, "n1", "ok", "echo", json!("again")),
    ]);
    insta::assert_json_snapshot!(check_echo(&h).unwrap());
}

#[test]
fn run_results_of_a_broadcast_run() {
    let h = history(&[
        (0, "n0", "invoke", "broadcast", json!(1)),
        (0, "n0", "ok", "broadcast", json!(1)),
        (1, "n1", "invoke", "read", json!(null)),
        (1, "n1", "ok", "read", json!([])),
        (0, "n0", "invokeF", "read", json!(null)),
        (0, "n0", "okF", "read", json!([1])),
        (1, "n1", "invokeF", "read", json!(null)),
        (1, "n1", "okF", "read", json!([1])),
    ]);
    let mut net = checker::stats::NetStats::default();
    for (src, dest) in [("c0", "n0"), ("n0", "n1"), ("n1", "n0"), ("n0", "c0")] {
        net.record(checker::NetEventKind::Send, src, dest);
        net.record(checker::NetEventKind::Deliver, src, dest);
    }
    net.record(checker::NetEventKind::Drop, "n0", "n1");
    let opts = RunCheckOptions {
        ordering: Some(OrderingMode::Causal),
        net: Some(net),
        ..RunCheckOptions::default()
    };
    let results = check_run("broadcast", &h, &opts);
    assert_eq!(results.valid, checker::Validity::Valid);
    insta::assert_json_snapshot!(results);
}

/// The isolation checker's whole result for a G-single (read skew) between two
/// transactions, with the real-time order strict-serializable adds.
#[test]
fn isolation_g_single_read_skew() {
    use checker::txn::{TxnKind, TxnOptions, check_txn};
    let events = history(&[
        (
            0,
            "n0",
            "invoke",
            "txn",
            json!([["append", "x", 1], ["append", "y", 1]]),
        ),
        (
            1,
            "n1",
            "invoke",
            "txn",
            json!([["r", "x", null], ["r", "y", null]]),
        ),
        (
            0,
            "n0",
            "ok",
            "txn",
            json!([["append", "x", 1], ["append", "y", 1]]),
        ),
        (
            1,
            "n1",
            "ok",
            "txn",
            json!([["r", "x", null], ["r", "y", [1]]]),
        ),
        (2, "n0", "invoke", "txn", json!([["r", "x", null]])),
        (2, "n0", "ok", "txn", json!([["r", "x", [1]]])),
    ]);
    let result = check_txn(&events, &TxnOptions::new(TxnKind::ListAppend)).unwrap();
    insta::assert_json_snapshot!(result);
}

//! Conformance with Elle: the histories of Elle's own test suite, restated in this harness's
//! history format, each with the verdict, the anomaly classes (Elle's `:anomaly-types`, that
//! is the anomalies found that the options prohibit, plus the unknown-verdict ones) and the
//! weakest models ruled out (`:not`) Elle's tests assert; for cycles, the edges of the cycle.
//!
//! Elle writes transactions in a shorthand ("ax1ry12": append 1 to x, read y = [1, 2]; for
//! registers "wx1rx_": write x = 1, read x = nil); so do these tests. Elle's histories of
//! completions without invocations become transactions invoked all at once and completed in
//! order ([`concurrent`]: no real-time order, as in Elle, where such ops have none); its
//! `pair`ed ops become invocations and completions in the order Elle lists them.
//!
//! Restated (from Elle's `test/elle/list_append_test.clj`): `graph-test` (edge sets),
//! `g1a-cases-test`, `g1b-cases-test`, `internal-cases-test`, every case of `checker-test`
//! (G0, G1a, G1b, G1c, G-single, G2, strong SI, strong session SI, G-nonadjacent-process,
//! contradictory read orders, dirty update, duplicated elements, internal), and
//! `unobserved-write-test`, `repeatable-read-test`, `G-nonadjacent-test`, `lost-update-test`,
//! `wr-process-test`, `rr-g-single-item-test`, `rr-g-nonadjacent-item-test`,
//! `future-read-test`. From `rw_register_test.clj`: `internal-cases-test`, `g1a-cases-test`,
//! `g1b-cases-test`, and the checker cases G0 (empty graph), G1a, G1b, G1c, internal, initial
//! state, wfr, and the serializable halves of the transaction-order cases. From
//! `core_test.clj`: `realtime-graph-test` and `process-graph-test`. From
//! `consistency_model_test.clj`: all of it, as unit tests in `checker/src/txn/models.rs`.
//!
//! Left out, and why: tests of Elle's internals with no counterpart here (`ww-graph-test`
//! and `wr-graph-test` on single analyzers, `ext-index-test`, `ext-key-graph-test`,
//! `transaction-graph->version-graphs-test`, `version-graphs->transaction-graphs-test`, the
//! rendering of files and plots); the register cases that need options Maelstrom does not
//! use (`:sequential-keys?`, `:linearizable-keys?`, `:transaction-order`: "G0" second half,
//! "G2-item", "cyclic version order", `scc-sort-bug-test`, `cyclic-versions-bug-test`);
//! `huge-scc-test` and `intermediate-sequential-extension-test` (they read history files of
//! Elle's repository); `unfindable-g-single` (its expected result is Elle's search timing
//! out, which this search does not); `type-sanity` (JSON has one integer type); and the
//! register `lost-update-test`, which Elle runs without writes-follow-reads (Maelstrom runs
//! with it, and then the two writers also form a G2-item cycle; see
//! [`register_lost_update_under_writes_follow_reads`]).
//!
//! One deviation: reads of a value no transaction wrote are `garbage-read` here (Elle ignores
//! them in registers); where an Elle register history reads such values, the comparison
//! leaves `garbage-read` and the `not` it brings aside.

use std::collections::BTreeSet;

use checker::history::{Event, EventType, Process};
use checker::txn::graph::{EdgeKind, EdgeList, realtime_edges};
use checker::txn::{
    Anomaly, ConsistencyModel, TxnHistory, TxnKind, TxnOptions, TxnResult, check_txn,
};
use checker::validity::Validity;
use serde_json::{Value, json};

const LA: TxnKind = TxnKind::ListAppend;
const RW: TxnKind = TxnKind::RwRegister;

/// Micro-ops from Elle's shorthand; an invocation's reads are null.
fn mops(kind: TxnKind, text: &str, completed: bool) -> Value {
    let mut out: Vec<(char, String, Option<Vec<i64>>, bool)> = Vec::new();
    for c in text.chars() {
        match c {
            'a' | 'w' | 'r' => out.push((c, String::new(), None, false)),
            'x' | 'y' | 'z' | 't' | 'u' => out.last_mut().expect("a micro-op").1 = c.to_string(),
            '_' => out.last_mut().expect("a micro-op").3 = true,
            d => {
                let m = out.last_mut().expect("a micro-op");
                m.2.get_or_insert_with(Vec::new)
                    .push(d.to_digit(10).expect("a digit") as i64);
            }
        }
    }
    Value::Array(
        out.into_iter()
            .map(|(f, k, digits, _)| match (f, kind) {
                ('a', _) => json!(["append", k, digits.map_or(0, |d| d[0])]),
                ('w', _) => json!(["w", k, digits.map_or(0, |d| d[0])]),
                (_, _) if !completed => json!(["r", k, null]),
                (_, TxnKind::ListAppend) => json!(["r", k, digits]),
                (_, TxnKind::RwRegister) => json!(["r", k, digits.map(|d| d[0])]),
            })
            .collect(),
    )
}

/// Events from rows `(txn, process, type, shorthand)`: "invoke", "ok", "fail", "info".
fn rows(kind: TxnKind, rows: &[(usize, u64, &str, &str)]) -> Vec<Event> {
    rows.iter()
        .enumerate()
        .map(|(i, &(_, process, t, text))| Event {
            index: i as u64,
            time: i as u64,
            process: Process::Client(process),
            node: None,
            kind: match t {
                "invoke" => EventType::Invoke,
                "ok" => EventType::Ok,
                "fail" => EventType::Fail,
                _ => EventType::Info,
            },
            f: "txn".to_owned(),
            value: mops(kind, text, t == "ok"),
            error: None,
            is_final: false,
        })
        .collect()
}

/// Transactions invoked all at once (one process each), then completed in order.
fn concurrent(kind: TxnKind, txns: &[(&str, &str)]) -> Vec<Event> {
    let mut r: Vec<(usize, u64, &str, &str)> = Vec::new();
    for (i, (_, text)) in txns.iter().enumerate() {
        r.push((i, i as u64, "invoke", text));
    }
    for (i, (t, text)) in txns.iter().enumerate() {
        r.push((i, i as u64, t, text));
    }
    rows(kind, &r)
}

/// Ok transactions one after another, each invoked after the last completed (Elle's
/// `(mapcat pair ...)`), each on its own process.
fn sequential(kind: TxnKind, txns: &[&str]) -> Vec<Event> {
    let mut r: Vec<(usize, u64, &str, &str)> = Vec::new();
    for (i, text) in txns.iter().enumerate() {
        r.push((i, i as u64, "invoke", text));
        r.push((i, i as u64, "ok", text));
    }
    rows(kind, &r)
}

/// Check with Elle's options: `models` (none: only `anomalies`).
fn check(kind: TxnKind, events: &[Event], models: &[&str], anomalies: &[&str]) -> TxnResult {
    let opts = TxnOptions {
        kind,
        models: models
            .iter()
            .map(|m| m.parse::<ConsistencyModel>().unwrap())
            .collect(),
        anomalies: anomalies
            .iter()
            .map(|a| a.parse::<Anomaly>().unwrap())
            .collect(),
    };
    check_txn(events, &opts).unwrap()
}

/// Elle's `:anomaly-types`: the prohibited anomalies found, and the unknown-verdict ones.
fn reported(r: &TxnResult) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = r
        .anomaly_types
        .iter()
        .filter(|a| r.prohibited_types.contains(a) || a.is_unknown())
        .map(|a| a.name())
        .collect();
    names.sort_unstable();
    names
}

/// Assert Elle's verdict, anomaly types and `:not`.
fn elle(r: &TxnResult, valid: Validity, types: &[&str], not: &[&str]) {
    assert_eq!(r.valid, valid, "{r}");
    let mut want = types.to_vec();
    want.sort_unstable();
    assert_eq!(reported(r), want, "{r}");
    if valid != Validity::Valid {
        let mut want: Vec<String> = not.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(r.not, want, "{r}");
    }
}

/// As [`elle`], leaving this checker's `garbage-read` aside (and the `not` it brings).
fn elle_but_garbage(r: &TxnResult, valid: Validity, types: &[&str]) {
    assert_eq!(r.valid, valid, "{r}");
    let got: Vec<&str> = reported(r)
        .into_iter()
        .filter(|a| *a != "garbage-read")
        .collect();
    let mut want = types.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{r}");
}

/// The edges of the first cycle of `anomaly`, as (from txn, to txn, kind), transactions
/// numbered by their order of invocation.
fn cycle(events: &[Event], r: &TxnResult, anomaly: &str) -> BTreeSet<(usize, usize, EdgeKind)> {
    let a: Anomaly = anomaly.parse().unwrap();
    let case = &r.anomalies[&a][0];
    let invokes: Vec<u64> = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke)
        .map(|e| e.index)
        .collect();
    let number = |name: &str| {
        let t = case.txns.iter().find(|t| t.name == name).unwrap();
        invokes.iter().position(|&i| i == t.invoke_index).unwrap()
    };
    case.steps
        .iter()
        .map(|s| (number(&s.from), number(&s.to), s.kind))
        .collect()
}

fn edges(list: &[(usize, usize, EdgeKind)]) -> BTreeSet<(usize, usize, EdgeKind)> {
    list.iter().copied().collect()
}

use EdgeKind::{Process as P, Realtime as Rt, Rw, Wr, Ww};
use Validity::{Invalid, Unknown, Valid};

/// The data dependencies of a history, as (from, to) pairs of txn numbers.
fn graph(kind: TxnKind, events: &[Event]) -> BTreeSet<(usize, usize)> {
    let h = TxnHistory::from_events(kind, events).unwrap();
    let opts = TxnOptions {
        kind,
        models: vec![ConsistencyModel::Serializable],
        anomalies: vec![],
    };
    let mut found = Default::default();
    let g = checker::txn::dependencies(&h, &opts, &mut found).unwrap();
    (0..g.len() as u32)
        .flat_map(|a| {
            g.out(a)
                .iter()
                .map(move |arc| (a as usize, arc.to as usize))
        })
        .collect()
}

// ---- list_append_test.clj: graph-test ----

#[test]
fn graph_of_elle_list_append_histories() {
    let g = |txns: &[&str]| {
        let list: Vec<(&str, &str)> = txns.iter().map(|t| ("ok", *t)).collect();
        graph(LA, &concurrent(LA, &list))
    };
    let set = |pairs: &[(usize, usize)]| pairs.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(g(&[]), set(&[]));
    assert_eq!(g(&["ax1"]), set(&[]));
    assert_eq!(g(&["rx"]), set(&[]));
    assert_eq!(g(&["ax1", "rx1"]), set(&[(0, 1)]));
    // read empty, append, read: the anti-dependency.
    assert_eq!(g(&["rx", "ax1", "rx1"]), set(&[(0, 1), (1, 2)]));
    // append, append, read: the write dependency.
    assert_eq!(g(&["ax2", "ax1", "rx12"]), set(&[(1, 0), (0, 2)]));
    // Adya, Liskov and O'Neil's serializable figure 3.
    assert_eq!(
        g(&["az1ax1ay1", "rx1ay2", "ry12az3", "rz13"]),
        set(&[(0, 1), (0, 2), (1, 2), (2, 3)])
    );
    // G0, G1c and G2 shapes.
    assert_eq!(
        g(&["ax1ay1", "ax2ay2", "rx12ry21"]),
        set(&[(0, 1), (0, 2), (1, 0), (1, 2)])
    );
    assert_eq!(
        g(&["ax1ry1", "ax2ay1", "rx12"]),
        set(&[(0, 1), (1, 2), (1, 0)])
    );
    assert_eq!(
        g(&["rxay1", "ryax1", "rx1ry1"]),
        set(&[(0, 1), (0, 2), (1, 0), (1, 2)])
    );
    // An info txn's nil read says nothing: no rw edge from it.
    let info = concurrent(
        LA,
        &[("info", "ax2ry"), ("ok", "ax1ay1"), ("ok", "rx12ry1")],
    );
    assert_eq!(graph(LA, &info), set(&[(0, 2), (1, 2), (1, 0)]));
    // One append and no read: its version order is still known.
    assert_eq!(g(&["rx", "ax1"]), set(&[(0, 1)]));
    // Two appends and no read: both come after the empty read.
    assert_eq!(g(&["rx", "ax1", "ax2"]), set(&[(0, 1), (0, 2)]));
    // Duplicate appends: the history is refused.
    let dup = concurrent(LA, &[("ok", "ax1ry"), ("ok", "ay2ax1")]);
    let err = check_txn(&dup, &TxnOptions::new(LA))
        .unwrap_err()
        .to_string();
    assert!(err.contains("appended to key \"x\" twice"), "{err}");
}

// ---- g1a-cases-test, g1b-cases-test, internal-cases-test ----

fn count(r: &TxnResult, a: &str) -> usize {
    r.anomaly_counts
        .get(&a.parse::<Anomaly>().unwrap())
        .copied()
        .unwrap_or(0)
}

#[test]
fn aborted_intermediate_and_internal_reads_as_elle_finds_them() {
    let h = concurrent(LA, &[("ok", "rx1ax2"), ("ok", "rx12ry3"), ("fail", "ax1")]);
    let r = check(LA, &h, &["read-committed"], &[]);
    assert_eq!(count(&r, "G1a"), 2, "{r}");
    let h = concurrent(
        LA,
        &[
            ("ok", "rx1"),
            ("ok", "rx12ry3"),
            ("ok", "ax1ax2"),
            ("ok", "rx123"),
        ],
    );
    let r = check(LA, &h, &["read-committed"], &[]);
    assert_eq!(count(&r, "G1b"), 1, "{r}");
    assert_eq!(r.anomalies[&Anomaly::G1b][0].txns[0].invoke_index, 0);
    let r = check(LA, &concurrent(LA, &[("ok", "ax1rx1ax2")]), &[], &["G1"]);
    assert_eq!(count(&r, "G1b"), 0, "{r}");

    let internal = |text: &str| {
        let r = check(LA, &concurrent(LA, &[("ok", text)]), &[], &["internal"]);
        (count(&r, "internal"), count(&r, "future-read"), r)
    };
    assert_eq!(internal("ry56ax3rx123ax4rx1234").0, 0);
    assert_eq!(internal("rxrx2").0, 1);
    for bad in ["rx12ax3rx12", "rx12ax3rx023", "rx12ax3rx1234", "rx12ax3rx1"] {
        let (n, _, r) = internal(bad);
        assert_eq!(n, 1, "{bad}: {r}");
        let expected = &r.anomalies[&Anomaly::Internal][0].expected;
        assert_eq!(expected, &Some(json!([1, 2, 3])), "{bad}");
    }
    for bad in ["ax3rx1234", "ax3rx"] {
        let (n, _, r) = internal(bad);
        assert_eq!(n, 1, "{bad}: {r}");
        let expected = &r.anomalies[&Anomaly::Internal][0].expected;
        assert_eq!(expected, &Some(json!(["...", 3])), "{bad}");
    }
    assert_eq!(internal("rx012ax1").1, 1);
    assert_eq!(internal("ax1rx01ax0ax3").1, 1);
}

// ---- checker-test ----

#[test]
fn g0_write_cycle() {
    let h = concurrent(
        LA,
        &[("ok", "ax1ay1"), ("ok", "ax2ay2"), ("ok", "rx12ry21")],
    );
    for asked in ["G0", "G1"] {
        let r = check(LA, &h, &[], &[asked]);
        elle(&r, Invalid, &["G0"], &["read-uncommitted"]);
        assert_eq!(cycle(&h, &r, "G0"), edges(&[(0, 1, Ww), (1, 0, Ww)]));
    }
    elle(&check(LA, &h, &[], &["G2"]), Valid, &[], &[]);
}

#[test]
fn g1a_aborted_read() {
    let h = concurrent(LA, &[("fail", "ax1"), ("ok", "rx1")]);
    let r = check(LA, &h, &["read-uncommitted"], &[]);
    elle(
        &r,
        Unknown,
        &["empty-transaction-graph"],
        &["read-committed"],
    );
    for models in [&["read-committed"], &["repeatable-read"]] {
        let r = check(LA, &h, models, &[]);
        elle(
            &r,
            Invalid,
            &["G1a", "empty-transaction-graph"],
            &["read-committed"],
        );
    }
    let r = check(LA, &h, &[], &["G2"]);
    elle(
        &r,
        Unknown,
        &["empty-transaction-graph"],
        &["read-committed"],
    );
}

#[test]
fn g1b_intermediate_read() {
    let h = sequential(LA, &["ax1ax2", "rx1"]);
    elle(&check(LA, &h, &[], &["G0"]), Valid, &[], &[]);
    elle(
        &check(LA, &h, &[], &["G1"]),
        Invalid,
        &["G1b"],
        &["read-committed"],
    );
    elle(
        &check(LA, &h, &[], &["G2"]),
        Invalid,
        &["G-single-item"],
        &["read-committed"],
    );
    let r = check(LA, &h, &["strict-serializable"], &[]);
    elle(&r, Invalid, &["G-single-item", "G1b"], &["read-committed"]);
    assert_eq!(
        cycle(&h, &r, "G-single-item"),
        edges(&[(1, 0, Rw), (0, 1, Wr)])
    );
}

#[test]
fn g1c_circular_information_flow() {
    let h = concurrent(LA, &[("ok", "ax1ry1"), ("ok", "ax2ay1"), ("ok", "rx12ry1")]);
    elle(&check(LA, &h, &[], &["G0"]), Valid, &[], &[]);
    let r = check(LA, &h, &[], &["G1"]);
    elle(&r, Invalid, &["G1c"], &["read-committed"]);
    assert_eq!(cycle(&h, &r, "G1c"), edges(&[(1, 0, Wr), (0, 1, Ww)]));
    elle(&check(LA, &h, &[], &["G2"]), Valid, &[], &[]);
}

#[test]
fn g_single_read_skew() {
    let h = concurrent(LA, &[("ok", "ax1ay1"), ("ok", "ax2ry"), ("ok", "rx12")]);
    elle(&check(LA, &h, &[], &["G0"]), Valid, &[], &[]);
    elle(&check(LA, &h, &[], &["G1"]), Valid, &[], &[]);
    for asked in ["G-single", "G2"] {
        let r = check(LA, &h, &[], &[asked]);
        elle(
            &r,
            Invalid,
            &["G-single-item"],
            &["consistent-view", "repeatable-read"],
        );
        assert_eq!(
            cycle(&h, &r, "G-single-item"),
            edges(&[(1, 0, Rw), (0, 1, Ww)])
        );
    }
}

#[test]
fn g2_anti_dependency_cycle() {
    let h = concurrent(LA, &[("ok", "ax1ry"), ("ok", "ay1rx")]);
    elle(&check(LA, &h, &[], &["G0"]), Valid, &[], &[]);
    elle(&check(LA, &h, &[], &["G1"]), Valid, &[], &[]);
    elle(&check(LA, &h, &["read-committed"], &[]), Valid, &[], &[]);
    for r in [
        check(LA, &h, &[], &["G2"]),
        check(LA, &h, &["serializable"], &[]),
        check(LA, &h, &["repeatable-read"], &[]),
    ] {
        elle(&r, Invalid, &["G2-item"], &["repeatable-read"]);
        assert_eq!(cycle(&h, &r, "G2-item"), edges(&[(0, 1, Rw), (1, 0, Rw)]));
    }
}

#[test]
fn strong_si_violation_is_a_realtime_g_single() {
    let h = rows(
        LA,
        &[
            (0, 0, "invoke", "ax1"),
            (0, 0, "ok", "ax1"),
            (1, 1, "invoke", "ax2"),
            (1, 1, "ok", "ax2"),
            (2, 2, "invoke", "rx"),
            (2, 2, "ok", "rx1"),
            (3, 3, "invoke", "rx"),
            (3, 3, "ok", "rx12"),
        ],
    );
    elle(&check(LA, &h, &[], &["G2"]), Valid, &[], &[]);
    elle(&check(LA, &h, &["serializable"], &[]), Valid, &[], &[]);
    let r = check(LA, &h, &["strict-serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G-single-item-realtime"],
        &["strong-snapshot-isolation"],
    );
    assert_eq!(
        cycle(&h, &r, "G-single-item-realtime"),
        edges(&[(2, 1, Rw), (1, 2, Rt)])
    );
}

#[test]
fn strong_session_si_violation_is_a_process_g_single() {
    let h = rows(
        LA,
        &[
            (0, 0, "invoke", "ax1"),
            (0, 0, "ok", "ax1"),
            (1, 1, "invoke", "ax2"),
            (1, 1, "ok", "ax2"),
            (2, 1, "invoke", "rx"),
            (2, 1, "ok", "rx1"),
            (3, 2, "invoke", "rx"),
            (3, 2, "ok", "rx12"),
        ],
    );
    elle(&check(LA, &h, &["serializable"], &[]), Valid, &[], &[]);
    let r = check(LA, &h, &["strong-session-snapshot-isolation"], &[]);
    elle(
        &r,
        Invalid,
        &["G-single-item-process"],
        &["strong-session-snapshot-isolation"],
    );
    assert_eq!(
        cycle(&h, &r, "G-single-item-process"),
        edges(&[(2, 1, Rw), (1, 2, P)])
    );
}

#[test]
fn g_nonadjacent_with_a_process_edge() {
    let h = rows(
        LA,
        &[
            (0, 0, "invoke", "rxrz"),
            (0, 0, "ok", "rxrz1"),
            (1, 1, "invoke", "ax1"),
            (1, 1, "ok", "ax1"),
            (2, 1, "invoke", "rz"),
            (2, 1, "ok", "rz"),
            (3, 2, "invoke", "az1"),
            (3, 2, "ok", "az1"),
        ],
    );
    elle(&check(LA, &h, &["serializable"], &[]), Valid, &[], &[]);
    let r = check(LA, &h, &["strong-session-snapshot-isolation"], &[]);
    elle(
        &r,
        Invalid,
        &["G-nonadjacent-item-process"],
        &["strong-session-snapshot-isolation"],
    );
    assert_eq!(
        cycle(&h, &r, "G-nonadjacent-item-process"),
        edges(&[(2, 3, Rw), (3, 0, Wr), (0, 1, Rw), (1, 2, P)])
    );
}

#[test]
fn contradictory_read_orders() {
    let h = concurrent(
        LA,
        &[
            ("ok", "ax1ry1"),
            ("ok", "ax2"),
            ("ok", "ax3ay1"),
            ("ok", "rx13"),
            ("ok", "rx123"),
        ],
    );
    let r = check(LA, &h, &[], &["G1"]);
    elle(
        &r,
        Invalid,
        &["G1c", "incompatible-order"],
        &["read-committed"],
    );
    assert_eq!(
        cycle(&h, &r, "G1c"),
        edges(&[(2, 0, Wr), (0, 1, Ww), (1, 2, Ww)])
    );
    let case = &r.anomalies[&Anomaly::IncompatibleOrder][0];
    assert_eq!(case.values, vec![json!([1, 3]), json!([1, 2, 3])]);
}

#[test]
fn dirty_updates() {
    let h = concurrent(LA, &[("fail", "ax1")]);
    elle(
        &check(LA, &h, &[], &["dirty-update"]),
        Unknown,
        &["empty-transaction-graph"],
        &[],
    );
    let h = concurrent(LA, &[("fail", "ax1"), ("ok", "ax2"), ("ok", "rx12")]);
    let r = check(LA, &h, &[], &["dirty-update"]);
    elle(&r, Invalid, &["dirty-update"], &["read-committed"]);
    assert_eq!(
        r.anomalies[&Anomaly::DirtyUpdate][0].values,
        vec![json!(1), json!(2)]
    );
    let h = concurrent(
        LA,
        &[
            ("fail", "ax1"),
            ("info", "ax2"),
            ("ok", "ax3"),
            ("ok", "rx123"),
        ],
    );
    let r = check(LA, &h, &[], &["dirty-update"]);
    elle(&r, Invalid, &["dirty-update"], &["read-committed"]);
    assert_eq!(
        r.anomalies[&Anomaly::DirtyUpdate][0].values,
        vec![json!(1), json!(2), json!(3)]
    );
}

#[test]
fn duplicated_elements() {
    let h = concurrent(LA, &[("ok", "ax1ry1"), ("ok", "ax2ay1"), ("ok", "rx121")]);
    let r = check(LA, &h, &["read-committed"], &[]);
    elle(
        &r,
        Invalid,
        &["G1c", "duplicate-elements"],
        &["read-uncommitted"],
    );
    assert_eq!(cycle(&h, &r, "G1c"), edges(&[(1, 0, Wr), (0, 1, Ww)]));
}

#[test]
fn internal_consistency_violation() {
    let h = concurrent(LA, &[("ok", "ax1ax2ax4"), ("ok", "ax3rx1234")]);
    let r = check(LA, &h, &[], &["internal"]);
    elle(&r, Invalid, &["internal"], &["read-uncommitted"]);
    assert_eq!(
        r.anomalies[&Anomaly::Internal][0].expected,
        Some(json!(["...", 3]))
    );
}

// ---- the other list-append deftests ----

#[test]
fn unobserved_writes_still_order_their_writers() {
    let h = rows(
        LA,
        &[
            (0, 0, "invoke", "ax1ay1"),
            (1, 1, "invoke", "ax2ay2"),
            (2, 2, "invoke", "ax3ay3"),
            (3, 3, "invoke", "rx12"),
            (4, 4, "invoke", "ry2"),
            (0, 0, "ok", "ax1ay1"),
            (1, 1, "ok", "ax2ay2"),
            (2, 2, "ok", "ax3ay3"),
            (3, 3, "ok", "rx12"),
            (4, 4, "ok", "ry2"),
        ],
    );
    let r = check(LA, &h, &["serializable"], &[]);
    elle(&r, Invalid, &["G-single-item", "G0"], &["read-uncommitted"]);
    assert_eq!(cycle(&h, &r, "G0"), edges(&[(1, 0, Ww), (0, 1, Ww)]));
}

#[test]
fn repeatable_read_forbids_write_skew() {
    let h = concurrent(LA, &[("ok", "rxay1"), ("ok", "ryax1")]);
    elle(&check(LA, &h, &["read-committed"], &[]), Valid, &[], &[]);
    let r = check(LA, &h, &["repeatable-read"], &[]);
    elle(&r, Invalid, &["G2-item"], &["repeatable-read"]);
}

#[test]
fn g_nonadjacent() {
    let h = sequential(LA, &["ax1", "rx1ry", "ay1", "ry1rx"]);
    let r = check(LA, &h, &["strict-serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G-nonadjacent-item"],
        &["snapshot-isolation", "repeatable-read"],
    );
    assert_eq!(
        cycle(&h, &r, "G-nonadjacent-item"),
        edges(&[(3, 0, Rw), (0, 1, Wr), (1, 2, Rw), (2, 3, Wr)])
    );
    let h = sequential(LA, &["rx5ay1", "ryaz2", "rzat3", "rt3au4", "ruax5"]);
    elle(
        &check(LA, &h, &["snapshot-isolation"], &[]),
        Valid,
        &[],
        &[],
    );
}

#[test]
fn lost_update() {
    let h = sequential(LA, &["ax0", "rx0ax1", "rx0ax2"]);
    let r = check(LA, &h, &["strict-serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G2-item", "lost-update"],
        &["update-atomic", "cursor-stability"],
    );
    assert_eq!(cycle(&h, &r, "G2-item"), edges(&[(2, 1, Rw), (1, 2, Rw)]));
    // Neither append is read: the explanation says why each still follows the read.
    let why = &r.anomalies[&Anomaly::G2Item][0].explanation;
    assert!(
        why.contains("which no read shows, so after every element read"),
        "{why}"
    );
    assert_eq!(r.anomalies[&Anomaly::LostUpdate][0].txns.len(), 2);
    let h = sequential(LA, &["rxax1ax2", "rx12"]);
    elle(
        &check(LA, &h, &["strict-serializable"], &[]),
        Valid,
        &[],
        &[],
    );
}

#[test]
fn wr_with_a_process_edge() {
    let h = rows(
        LA,
        &[
            (0, 1, "invoke", "rxay1"),
            (0, 1, "ok", "rx1ay1"),
            (1, 2, "invoke", "ry"),
            (1, 2, "ok", "ry1"),
            (2, 2, "invoke", "ax1"),
            (2, 2, "ok", "ax1"),
        ],
    );
    let r = check(LA, &h, &["strong-session-snapshot-isolation"], &[]);
    elle(
        &r,
        Invalid,
        &["G1c-process"],
        &["strong-session-read-committed"],
    );
    assert_eq!(
        cycle(&h, &r, "G1c-process"),
        edges(&[(2, 0, Wr), (0, 1, Wr), (1, 2, P)])
    );
}

#[test]
fn repeatable_read_g_single_and_g_nonadjacent_items() {
    let h = sequential(LA, &["ax1ay1", "rx1ry"]);
    let r = check(LA, &h, &["repeatable-read"], &[]);
    elle(
        &r,
        Invalid,
        &["G-single-item"],
        &["consistent-view", "repeatable-read"],
    );
    let h = sequential(LA, &["ax1at1", "rx1ry", "ay1az2", "rz2rt"]);
    let r = check(LA, &h, &["repeatable-read"], &[]);
    elle(
        &r,
        Invalid,
        &["G-nonadjacent-item"],
        &["repeatable-read", "snapshot-isolation"],
    );
    assert_eq!(
        cycle(&h, &r, "G-nonadjacent-item"),
        edges(&[(3, 0, Rw), (0, 1, Wr), (1, 2, Rw), (2, 3, Wr)])
    );
}

#[test]
fn future_read() {
    let h = rows(LA, &[(0, 0, "invoke", "rx1ax1"), (0, 0, "ok", "rx1ax1")]);
    let r = check(LA, &h, &["read-committed"], &[]);
    elle(
        &r,
        Invalid,
        &["empty-transaction-graph", "future-read"],
        &["read-committed"],
    );
}

// ---- rw_register_test.clj ----

#[test]
fn register_internal_aborted_and_intermediate_reads() {
    let one = |text: &str| check(RW, &concurrent(RW, &[("ok", text)]), &[], &["internal"]);
    assert_eq!(count(&one("ry2wx2rx2wx1rx1"), "internal"), 0);
    let r = one("rx1wx2rx1");
    assert_eq!(r.anomalies[&Anomaly::Internal][0].expected, Some(json!(2)));
    let r = one("rx_rx2");
    assert_eq!(
        r.anomalies[&Anomaly::Internal][0].expected,
        Some(Value::Null)
    );

    let g1 = |txns: &[(&str, &str)]| check(RW, &concurrent(RW, txns), &[], &["G1"]);
    assert_eq!(count(&g1(&[("ok", "wx1"), ("ok", "rx1")]), "G1a"), 0);
    assert_eq!(count(&g1(&[("ok", "rx2"), ("fail", "wx2")]), "G1a"), 1);
    assert_eq!(count(&g1(&[("ok", "wx1wx2"), ("ok", "rx_rx2")]), "G1b"), 0);
    assert_eq!(count(&g1(&[("ok", "rx2"), ("ok", "wx2wx1")]), "G1b"), 1);
}

#[test]
fn register_checker_cases() {
    // G0 without reads: nothing orders the writes.
    let h = sequential(RW, &["wx1wy2", "wx2wy1"]);
    elle(
        &check(RW, &h, &[], &["G0"]),
        Unknown,
        &["empty-transaction-graph"],
        &[],
    );
    // G1a.
    let h = concurrent(RW, &[("ok", "rx1"), ("fail", "wx1")]);
    let r = check(RW, &h, &[], &["G1"]);
    elle(
        &r,
        Invalid,
        &["G1a", "empty-transaction-graph"],
        &["read-committed"],
    );
    // G1b.
    let h = concurrent(RW, &[("ok", "wx1wx2"), ("ok", "rx1")]);
    elle(
        &check(RW, &h, &[], &["G0"]),
        Unknown,
        &["empty-transaction-graph"],
        &["read-committed"],
    );
    for r in [
        check(RW, &h, &[], &["G1"]),
        check(RW, &h, &["repeatable-read"], &[]),
    ] {
        elle(
            &r,
            Invalid,
            &["G1b", "empty-transaction-graph"],
            &["read-committed"],
        );
    }
    // The serializable halves of the transaction-order cases.
    let h = concurrent(RW, &[("ok", "rx_wy2"), ("ok", "wx3wy4")]);
    elle(&check(RW, &h, &["serializable"], &[]), Valid, &[], &[]);
    let h = concurrent(
        RW,
        &[
            ("ok", "wx1wy2wz3"),
            ("ok", "rx1wy5"),
            ("ok", "rz3wx4"),
            ("ok", "wz7wy8"),
        ],
    );
    elle(&check(RW, &h, &["serializable"], &[]), Valid, &[], &[]);
    // G1c.
    let h = concurrent(RW, &[("ok", "wx1ry1"), ("ok", "wy1rx1")]);
    elle(&check(RW, &h, &[], &["G0"]), Valid, &[], &[]);
    elle(&check(RW, &h, &["read-uncommitted"], &[]), Valid, &[], &[]);
    for r in [
        check(RW, &h, &[], &["G1"]),
        check(RW, &h, &["read-committed"], &[]),
        check(RW, &h, &["serializable"], &[]),
    ] {
        elle(&r, Invalid, &["G1c"], &["read-committed"]);
        assert_eq!(cycle(&h, &r, "G1c"), edges(&[(0, 1, Wr), (1, 0, Wr)]));
    }
    elle(&check(RW, &h, &[], &["G2"]), Valid, &[], &[]);
    // Internal (the reads of values no one wrote are also garbage here).
    let h = concurrent(RW, &[("ok", "rx1rx2")]);
    elle_but_garbage(
        &check(RW, &h, &[], &["internal"]),
        Invalid,
        &["empty-transaction-graph", "internal"],
    );
    // The initial state precedes every write.
    let h = rows(
        RW,
        &[
            (0, 0, "invoke", "rx_ry1"),
            (1, 1, "invoke", "wy1wx2"),
            (1, 1, "ok", "wy1wx2"),
            (0, 0, "ok", "rx_ry1"),
        ],
    );
    let r = check(RW, &h, &["serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G-single-item"],
        &["consistent-view", "repeatable-read"],
    );
    assert_eq!(
        cycle(&h, &r, "G-single-item"),
        edges(&[(0, 1, Rw), (1, 0, Wr)])
    );
    // Writes follow reads orders y: 1 < 2, so t2 read y before t1's write of 2.
    let h = concurrent(RW, &[("ok", "ry1wx1wy2"), ("ok", "rx1ry1")]);
    let r = check(RW, &h, &["serializable"], &[]);
    elle_but_garbage(&r, Invalid, &["G-single-item"]);
    assert_eq!(
        cycle(&h, &r, "G-single-item"),
        edges(&[(1, 0, Rw), (0, 1, Wr)])
    );
}

/// Elle's register `lost-update-test` under writes-follow-reads: both writers read 0 and
/// overwrote it, so each also anti-depends on the other.
#[test]
fn register_lost_update_under_writes_follow_reads() {
    let h = sequential(RW, &["wx0", "rx0wx1", "rx0wx2"]);
    let r = check(RW, &h, &["strict-serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G2-item", "lost-update"],
        &["update-atomic", "cursor-stability"],
    );
}

/// Not one of Elle's tests: writes-follow-reads orders that contradict each other are
/// `cyclic-versions` (here the two transactions also read each other's writes: G1c).
#[test]
fn register_writes_follow_reads_in_a_cycle_are_cyclic_versions() {
    let h = concurrent(
        RW,
        &[
            ("ok", "wx5"),
            ("ok", "rx5wx6"),
            ("ok", "rx6wx7"),
            ("ok", "rx7wx8"),
        ],
    );
    elle(&check(RW, &h, &["serializable"], &[]), Valid, &[], &[]);
    let h = concurrent(RW, &[("ok", "rx1wx2"), ("ok", "rx2wx1")]);
    let r = check(RW, &h, &["serializable"], &[]);
    elle(
        &r,
        Invalid,
        &["G1c", "cyclic-versions"],
        &["read-uncommitted"],
    );
}

// ---- core_test.clj: realtime-graph-test, process-graph-test ----

/// The real-time edges of empty transactions, events given as (txn, "i" or "o").
fn realtime(order: &[(usize, &str)]) -> BTreeSet<(usize, usize)> {
    let events: Vec<Event> = order
        .iter()
        .enumerate()
        .map(|(i, &(t, io))| Event {
            index: i as u64,
            time: i as u64,
            process: Process::Client(t as u64),
            node: None,
            kind: if io == "i" {
                EventType::Invoke
            } else {
                EventType::Ok
            },
            f: "txn".to_owned(),
            value: json!([]),
            error: None,
            is_final: false,
        })
        .collect();
    let h = TxnHistory::from_events(LA, &events).unwrap();
    // Transactions are numbered by invocation; name them by their process (a, b, ...).
    let name = |t: u32| h.txns[t as usize].process as usize;
    let mut list = EdgeList::default();
    realtime_edges(&h, &mut list);
    list.edges
        .iter()
        .map(|e| (name(e.from), name(e.to)))
        .collect()
}

#[test]
fn realtime_order_as_a_transitive_reduction() {
    let (a, b, c, d, e) = (0, 1, 2, 3, 4);
    let set = |pairs: &[(usize, usize)]| pairs.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(realtime(&[]), set(&[]));
    assert_eq!(realtime(&[(a, "i"), (a, "o")]), set(&[]));
    assert_eq!(
        realtime(&[(a, "i"), (a, "o"), (b, "i"), (b, "o")]),
        set(&[(a, b)])
    );
    assert_eq!(
        realtime(&[(a, "i"), (a, "o"), (b, "i"), (b, "o"), (c, "i"), (c, "o")]),
        set(&[(a, b), (b, c)])
    );
    assert_eq!(
        realtime(&[(a, "i"), (a, "o"), (b, "i"), (c, "i"), (c, "o"), (b, "o")]),
        set(&[(a, b), (a, c)])
    );
    assert_eq!(
        realtime(&[(a, "i"), (b, "i"), (a, "o"), (b, "o"), (c, "i"), (c, "o")]),
        set(&[(a, c), (b, c)])
    );
    assert_eq!(
        realtime(&[
            (a, "i"),
            (b, "i"),
            (b, "o"),
            (a, "o"),
            (c, "i"),
            (d, "i"),
            (c, "o"),
            (d, "o")
        ]),
        set(&[(a, c), (a, d), (b, c), (b, d)])
    );
    assert_eq!(
        realtime(&[
            (a, "i"),
            (a, "o"),
            (b, "i"),
            (d, "i"),
            (b, "o"),
            (c, "i"),
            (d, "o"),
            (c, "o"),
            (e, "i"),
            (e, "o")
        ]),
        set(&[(a, d), (a, b), (b, c), (c, e), (d, e)])
    );
}

#[test]
fn process_order_joins_each_process_s_ok_txns() {
    let h = rows(
        LA,
        &[
            (0, 1, "invoke", "ax1"),
            (0, 1, "ok", "ax1"),
            (1, 2, "invoke", "ay1"),
            (1, 2, "ok", "ay1"),
            (2, 2, "invoke", "ay2"),
            (2, 2, "ok", "ay2"),
            (3, 1, "invoke", "ax2"),
            (3, 1, "ok", "ax2"),
        ],
    );
    let th = TxnHistory::from_events(LA, &h).unwrap();
    let mut list = EdgeList::default();
    checker::txn::graph::process_edges(&th, &mut list);
    let got: BTreeSet<(u32, u32)> = list.edges.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(got, [(0, 3), (1, 2)].into_iter().collect());
}

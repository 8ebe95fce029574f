//! Bad input gives an error or a verdict, never a panic: arbitrary text to the readers, and
//! arbitrary (but parseable) events to every checker.

use checker::RunCheckOptions;
use checker::formats::{Format, parse_text};
use checker::history::{Event, EventType, Process};
use checker::ordering::OrderingMode;
use proptest::prelude::*;
use serde_json::{Value, json};
use workloads::{WORKLOADS, check_run};

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (0i64..4).prop_map(|v| json!(v)),
        Just(json!("s")),
        prop::collection::vec(0i64..4, 0..4).prop_map(|v| json!(v)),
        (0i64..3, 0i64..3).prop_map(|(k, v)| json!([k.to_string(), v])),
        (0i64..3, 0i64..3, 0i64..3).prop_map(|(k, a, b)| json!([k.to_string(), [a, b]])),
    ]
}

fn event() -> impl Strategy<Value = (i64, usize, usize, Value, bool)> {
    (-1i64..4, 0usize..4, 0usize..9, value(), any::<bool>())
}

const FS: [&str; 9] = [
    "read",
    "write",
    "cas",
    "broadcast",
    "add",
    "generate",
    "echo",
    "kill",
    "restart",
];

/// Events that pair up (each client alternates invocation and completion of one `f`), with
/// arbitrary values, so that every checker gets past the pairing and sees odd values.
fn events(raw: Vec<(i64, usize, usize, Value, bool)>) -> Vec<Event> {
    let mut open: std::collections::BTreeMap<u64, String> = std::collections::BTreeMap::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, (p, kind, f, value, is_final))| {
            let process = if p < 0 {
                Process::NEMESIS
            } else {
                Process::Client(p as u64)
            };
            let pending = if p < 0 {
                None
            } else {
                open.remove(&(p as u64))
            };
            let (kind, f) = match (p < 0, pending) {
                (true, _) => (EventType::Info, FS[f].to_owned()),
                (false, Some(f)) => (
                    [EventType::Ok, EventType::Fail, EventType::Info][kind % 3],
                    f,
                ),
                (false, None) => {
                    open.insert(p as u64, FS[f].to_owned());
                    (EventType::Invoke, FS[f].to_owned())
                }
            };
            Event {
                index: i as u64,
                time: i as u64 * 1000,
                process,
                node: Some(format!("n{}", i % 2)),
                kind,
                f,
                value,
                error: None,
                is_final,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn readers_never_panic(text in "[\\[\\]{}():;#_\"\\\\a-z0-9 ,.\\n-]{0,80}") {
        for format in [Format::Jsonl, Format::Edn, Format::PorcupineKv] {
            let _ = parse_text("fuzz", &text, format);
        }
        let _ = checker::edn::read_all(&text);
    }

    #[test]
    fn checkers_never_panic(raw in prop::collection::vec(event(), 0..24)) {
        let history = events(raw);
        for workload in WORKLOADS {
            for ordering in [None, Some(OrderingMode::Causal), Some(OrderingMode::Total)] {
                let opts = RunCheckOptions { ordering, ..RunCheckOptions::default() };
                let results = check_run(workload, &history, &opts);
                let _ = serde_json::to_string(&results).unwrap();
                let _ = results.to_string();
            }
        }
    }
}

/// A micro-op, well formed or not: reads of lists, numbers, strings; appends and writes;
/// wrong arity; unknown functions.
fn micro_op() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..3).prop_map(|k| json!(["r", k, null])),
        (0i64..3, prop::collection::vec(0i64..4, 0..4)).prop_map(|(k, v)| json!(["r", k, v])),
        (0i64..3, 0i64..4).prop_map(|(k, v)| json!(["r", k, v])),
        (0i64..3, 0i64..6).prop_map(|(k, v)| json!(["append", k, v])),
        (0i64..3, 0i64..6).prop_map(|(k, v)| json!(["w", k, v])),
        (0i64..3).prop_map(|k| json!(["w", k, null])),
        Just(json!(["r", 1])),
        Just(json!(["inc", 1, 1])),
        Just(json!([1, 1, 1])),
        Just(json!("r")),
        (0i64..3).prop_map(|k| json!([":r", [k], {"a": k}])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_isolation_checker_never_panics(
        raw in prop::collection::vec(
            (0u64..4, 0usize..4, prop::collection::vec(micro_op(), 0..4)),
            0..24,
        ),
    ) {
        use checker::txn::{TxnKind, TxnOptions, check_txn};
        let mut open = std::collections::BTreeSet::new();
        let history: Vec<Event> = raw
            .into_iter()
            .enumerate()
            .map(|(i, (p, kind, mops))| {
                let kind = if open.remove(&p) {
                    [EventType::Ok, EventType::Fail, EventType::Info, EventType::Ok][kind]
                } else {
                    open.insert(p);
                    EventType::Invoke
                };
                Event {
                    index: i as u64,
                    time: i as u64,
                    process: Process::Client(p),
                    node: None,
                    kind,
                    f: "txn".to_owned(),
                    value: Value::Array(mops),
                    error: None,
                    is_final: false,
                }
            })
            .collect();
        for kind in [TxnKind::ListAppend, TxnKind::RwRegister] {
            for models in [vec![], vec!["serializable".parse().unwrap()],
                           vec!["strong-session-snapshot-isolation".parse().unwrap()]] {
                let opts = TxnOptions { kind, models, anomalies: vec![] };
                if let Ok(r) = check_txn(&history, &opts) {
                    let _ = serde_json::to_string(&r).unwrap();
                    let _ = r.to_string();
                    let _ = r.story();
                }
            }
        }
    }
}

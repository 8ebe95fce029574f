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

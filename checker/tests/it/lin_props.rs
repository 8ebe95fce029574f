//! Property tests of the linearizability checker: a random sequential execution of a
//! cas-register, stretched into random overlapping intervals, is linearizable; the same with
//! one read changed to a value never written is not, and the failure names that read.

use checker::Validity;
use checker::history::{Event, EventType, Process};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

struct Op {
    process: u64,
    invoke: u64,
    point: u64,
    complete: u64,
    f: &'static str,
    input: Value,
    output: Value,
    kind: EventType,
}

/// A history of `processes` clients and about `ops` ops on keys `"a"` and `"b"` (lin-kv
/// values), every op taking effect at a random instant within its interval.
fn history(seed: u64, processes: usize, ops: usize) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut list = Vec::new();
    for p in 0..processes {
        let mut t = rng.random_range(0..20u64);
        for _ in 0..ops / processes + 1 {
            let invoke = t + rng.random_range(1..20);
            let point = invoke + rng.random_range(1..40);
            let complete = point + rng.random_range(1..40);
            t = complete;
            let key = if rng.random_bool(0.5) { "a" } else { "b" };
            let (f, input) = match rng.random_range(0..3) {
                0 => ("read", json!([key, null])),
                1 => ("write", json!([key, rng.random_range(0..4)])),
                _ => (
                    "cas",
                    json!([key, [rng.random_range(0..4), rng.random_range(0..4)]]),
                ),
            };
            list.push(Op {
                process: p as u64,
                invoke: invoke * 4,
                point: point * 4 + 1,
                complete: complete * 4 + 2,
                f,
                input,
                output: Value::Null,
                kind: EventType::Ok,
            });
        }
    }
    // Execute in the order of the instants at which the ops take effect.
    list.sort_by_key(|o| o.point);
    let mut state = std::collections::BTreeMap::<String, Value>::new();
    for op in &mut list {
        let key = op.input[0].as_str().unwrap_or("").to_owned();
        let current = state.get(&key).cloned().unwrap_or(Value::Null);
        match op.f {
            "read" => op.output = json!([key, current]),
            "write" => {
                state.insert(key, op.input[1].clone());
                op.output = op.input.clone();
            }
            _ => {
                if current == op.input[1][0] {
                    state.insert(key, op.input[1][1].clone());
                    op.output = op.input.clone();
                } else {
                    op.kind = EventType::Fail;
                    op.output = op.input.clone();
                }
            }
        }
        // Some writes end indefinite (they did take effect): they must stay pending.
        if op.f == "write" && rng.random_bool(0.15) {
            op.kind = EventType::Info;
        }
    }
    // Each process continues as a new one after an info, as clients do.
    let mut events: Vec<(u64, Event)> = Vec::new();
    for op in &list {
        let process = Process::Client(op.process);
        let event = |kind, value: &Value| Event {
            index: 0,
            time: 0,
            process: process.clone(),
            node: Some("n0".into()),
            kind,
            f: op.f.to_owned(),
            value: value.clone(),
            error: None,
            is_final: false,
        };
        events.push((op.invoke, event(EventType::Invoke, &op.input)));
        events.push((op.complete, event(op.kind, &op.output)));
    }
    events.sort_by_key(|(t, _)| *t);
    let mut renamed = std::collections::BTreeMap::<u64, u64>::new();
    let mut next_process = processes as u64;
    events
        .into_iter()
        .enumerate()
        .map(|(i, (t, mut e))| {
            let Process::Client(p) = e.process else {
                unreachable!()
            };
            let id = *renamed.entry(p).or_insert(p);
            e.process = Process::Client(id);
            if e.kind == EventType::Info {
                renamed.insert(p, next_process);
                next_process += 1;
            }
            e.index = i as u64;
            e.time = t;
            e
        })
        .collect()
}

fn kv() -> LinOptions {
    let mut opts = LinOptions::new(ModelKind::Kv);
    opts.threads = 2;
    opts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn stretched_sequential_executions_are_linearizable(seed in any::<u64>(), processes in 1usize..6, ops in 1usize..40) {
        let events = history(seed, processes, ops);
        let result = check_linearizable(&events, &kv()).unwrap();
        prop_assert_eq!(result.valid, Validity::Valid, "{}", result);
    }

    #[test]
    fn a_read_of_a_value_never_written_is_caught(seed in any::<u64>(), processes in 1usize..6, ops in 1usize..40, pick in any::<prop::sample::Index>()) {
        let mut events = history(seed, processes, ops);
        let reads: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.f == "read" && e.kind == EventType::Ok)
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!reads.is_empty());
        let at = reads[pick.index(reads.len())];
        let key = events[at].value[0].clone();
        events[at].value = json!([key, 99]);
        let result = check_linearizable(&events, &kv()).unwrap();
        prop_assert_eq!(result.valid, Validity::Invalid, "{}", result);
        let failure = result.failure.unwrap();
        prop_assert_eq!(failure.op.complete_index, Some(at as u64));
        prop_assert!(failure.states.iter().all(|s| s.state != json!(99)));
        prop_assert!(!failure.states.is_empty());
    }
}

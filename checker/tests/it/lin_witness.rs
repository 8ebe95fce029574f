//! Every invalid register verdict comes with a witness a person can check by hand, or, when
//! no few ops prove it, with the reason each state the object could have been in is excluded.
//!
//! Small random register and cas-register histories from a seed: a sequential execution
//! stretched into overlapping intervals (linearizable by construction), then broken on
//! purpose: a read answers another value the register held or will hold, a failed cas is
//! reported as a success, or two reads trade answers. The corruptions keep to values that
//! some op writes, so the plain "a value never written" witness rarely applies and the
//! subtler patterns (a value overwritten and read back, a write consumed by a cas, two reads
//! in an order no sequence of writes allows) come up.

use std::collections::BTreeMap;

use checker::Validity;
use checker::history::{Event, EventType, Process};
use checker::lin::{LinFailure, LinOptions, ModelKind, check_linearizable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// The shape of one random history.
#[derive(Debug, Clone, Copy)]
struct Shape {
    processes: usize,
    ops_per_process: usize,
    /// Values written are `1..=values`; the register starts at 0.
    values: u64,
    cas: bool,
}

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

/// A small register history of `shape` from `seed`, probably not linearizable.
fn register_history(seed: u64, shape: Shape) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ops = Vec::new();
    for process in 0..shape.processes as u64 {
        let mut t = rng.random_range(0..20u64);
        for _ in 0..shape.ops_per_process {
            let invoke = t + rng.random_range(1..6);
            let point = invoke + rng.random_range(0..20);
            let complete = point + rng.random_range(0..20);
            t = complete;
            let value = rng.random_range(1..=shape.values);
            let (f, input) = match rng.random_range(0..if shape.cas { 3 } else { 2 }) {
                0 => ("read", Value::Null),
                1 => ("write", json!(value)),
                _ => ("cas", json!([rng.random_range(0..=shape.values), value])),
            };
            ops.push(Op {
                process,
                invoke: invoke * 3,
                point: point * 3 + 1,
                complete: complete * 3 + 2,
                f,
                input,
                output: Value::Null,
                kind: EventType::Ok,
            });
        }
    }
    ops.sort_by_key(|o| o.point);
    let mut state = json!(0);
    let mut held = vec![json!(0)];
    for op in &mut ops {
        op.output = op.input.clone();
        match op.f {
            "read" => op.output = state.clone(),
            "write" => {
                state = op.input.clone();
                held.push(state.clone());
                if rng.random_bool(0.1) {
                    op.kind = EventType::Info;
                }
            }
            _ if op.input[0] == state => {
                state = op.input[1].clone();
                held.push(state.clone());
            }
            _ => op.kind = EventType::Fail,
        }
    }
    // Break it: one or two corruptions, each to a value the register held at some time.
    let reads: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].f == "read").collect();
    let failed: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].kind == EventType::Fail)
        .collect();
    for _ in 0..rng.random_range(1..=2) {
        match rng.random_range(0..3) {
            0 if !failed.is_empty() => {
                let i = failed[rng.random_range(0..failed.len())];
                ops[i].kind = EventType::Ok;
            }
            1 if reads.len() >= 2 => {
                let a = reads[rng.random_range(0..reads.len())];
                let b = reads[rng.random_range(0..reads.len())];
                let v = ops[a].output.clone();
                ops[a].output = ops[b].output.clone();
                ops[b].output = v;
            }
            _ if !reads.is_empty() => {
                let i = reads[rng.random_range(0..reads.len())];
                ops[i].output = held[rng.random_range(0..held.len())].clone();
            }
            _ => {}
        }
    }
    let mut events: Vec<(u64, Event)> = Vec::new();
    for op in &ops {
        let event = |kind, value: &Value| Event {
            index: 0,
            time: 0,
            process: Process::Client(op.process),
            node: Some(format!("n{}", op.process)),
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
    // After an info, a process goes on as a new one.
    let mut process_of: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next = shape.processes as u64;
    events
        .into_iter()
        .enumerate()
        .map(|(i, (t, mut e))| {
            if let Process::Client(p) = e.process {
                let now = *process_of.entry(p).or_insert(p);
                e.process = Process::Client(now);
                if e.kind == EventType::Info {
                    process_of.insert(p, next);
                    next += 1;
                }
            }
            e.index = i as u64;
            e.time = t * 100_000;
            e
        })
        .collect()
}

fn shape_of(seed: u64) -> Shape {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ba9e);
    Shape {
        processes: rng.random_range(2..=4),
        ops_per_process: rng.random_range(2..=5),
        values: rng.random_range(1..=3),
        cas: rng.random_bool(0.5),
    }
}

fn check(events: &[Event], cas: bool) -> Option<LinFailure> {
    let mut opts = LinOptions::new(if cas {
        ModelKind::CasRegister
    } else {
        ModelKind::Register
    });
    opts.initial = Some(json!(0));
    opts.threads = 1;
    let result = check_linearizable(events, &opts).unwrap();
    assert_ne!(result.valid, Validity::Unknown);
    result.failure
}

#[test]
fn every_invalid_random_register_history_has_a_witness_or_a_reason() {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut invalid = 0;
    let mut without = Vec::new();
    for seed in 0..2000u64 {
        let shape = shape_of(seed);
        let events = register_history(seed, shape);
        let Some(failure) = check(&events, shape.cas) else {
            continue;
        };
        invalid += 1;
        match &failure.witness {
            Some(w) => *kinds.entry(w.kind.to_owned()).or_default() += 1,
            None => {
                *kinds.entry("none".to_owned()).or_default() += 1;
                without.push((seed, failure));
            }
        }
    }
    println!("{invalid} invalid histories of 2000; witnesses by kind: {kinds:?}");
    for (seed, failure) in without.iter().take(40) {
        let shape = shape_of(*seed);
        println!("--- seed {seed} {shape:?}");
        for e in register_history(*seed, shape) {
            println!("{}", serde_json::to_string(&e).unwrap());
        }
        println!("{failure}");
    }
}

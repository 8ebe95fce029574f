//! Linearizability on generated lin-kv histories of growing concurrency: 2, 4, 8, 16 and 32
//! clients over 4 keys, the same number of ops at every level, so the time per op shows what
//! concurrency costs the search.
//!
//! A history is a random sequential execution of a key-value store (reads, writes and cas of
//! small values, so many states look alike), stretched into intervals: every client runs its
//! ops one after another, each op taking effect at a random instant between its invocation and
//! its completion, so the ops of different clients overlap and about as many ops are open at
//! once as there are clients. Such a history is linearizable by construction. The
//! non-linearizable variant changes one read, three quarters of the way through, to a value no
//! one wrote, so the search must exhaust every configuration reachable before it.
//!
//! The check runs on one thread (keys are checked one after another), without a budget.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use checker::Validity;
use checker::history::{Event, EventType, Process};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const KEYS: u64 = 4;
const OPS: usize = 2_048;
const CLIENTS: [usize; 5] = [2, 4, 8, 16, 32];

struct Op {
    client: u64,
    invoke: u64,
    point: u64,
    complete: u64,
    f: &'static str,
    input: Value,
    output: Value,
    kind: EventType,
}

/// A linearizable lin-kv history of `clients` clients and `ops` ops over [`KEYS`] keys.
fn history(seed: u64, clients: usize, ops: usize) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut list = Vec::with_capacity(ops);
    for client in 0..clients as u64 {
        let mut t = rng.random_range(0..50u64);
        for _ in 0..ops / clients {
            let invoke = t + rng.random_range(1..10);
            let point = invoke + rng.random_range(0..50);
            let complete = point + rng.random_range(0..50);
            t = complete;
            let key = rng.random_range(0..KEYS);
            let (f, input) = match rng.random_range(0..3) {
                0 => ("read", json!([key, null])),
                1 => ("write", json!([key, rng.random_range(0..5)])),
                _ => (
                    "cas",
                    json!([key, [rng.random_range(0..5), rng.random_range(0..5)]]),
                ),
            };
            // Distinct instants: invocations, then effects, then completions within a tick.
            list.push(Op {
                client,
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
    // Execute in the order of the instants at which the ops take effect.
    list.sort_by_key(|o| o.point);
    let mut state = BTreeMap::<u64, Value>::new();
    for op in &mut list {
        let key = op.input[0].as_u64().unwrap_or(0);
        let current = state.get(&key).cloned().unwrap_or(Value::Null);
        op.output = op.input.clone();
        match op.f {
            "read" => op.output = json!([key, current]),
            "write" => {
                state.insert(key, op.input[1].clone());
            }
            _ if current == op.input[1][0] => {
                state.insert(key, op.input[1][1].clone());
            }
            _ => op.kind = EventType::Fail,
        }
    }
    let mut events: Vec<(u64, Event)> = Vec::with_capacity(2 * list.len());
    for op in &list {
        let event = |kind, value: &Value| Event {
            index: 0,
            time: 0,
            process: Process::Client(op.client),
            node: Some(format!("n{}", op.client % 5)),
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
    events
        .into_iter()
        .enumerate()
        .map(|(i, (t, mut e))| {
            e.index = i as u64;
            e.time = t * 1000;
            e
        })
        .collect()
}

/// `events` with the ok read three quarters of the way through returning a value no one wrote.
fn broken(mut events: Vec<Event>) -> Vec<Event> {
    let reads: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].f == "read" && events[i].kind == EventType::Ok)
        .collect();
    let at = reads[reads.len() * 3 / 4];
    let key = events[at].value[0].clone();
    events[at].value = json!([key, 99]);
    events
}

fn options() -> LinOptions {
    let mut opts = LinOptions::new(ModelKind::Kv);
    opts.threads = 1;
    opts
}

fn lin(c: &mut Criterion) {
    let opts = options();
    for (name, valid) in [
        ("lin-kv 4 keys, linearizable", Validity::Valid),
        ("lin-kv 4 keys, one bad read", Validity::Invalid),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for clients in CLIENTS {
            let mut events = history(clients as u64, clients, OPS);
            if valid == Validity::Invalid {
                events = broken(events);
            }
            let result = check_linearizable(&events, &opts).expect("a well-formed history");
            assert_eq!(result.valid, valid, "{clients} clients: {result:?}");
            // The search's memo at its largest: a measure of its work that no noise blurs.
            println!(
                "{name}, {clients} clients: {} ops checked ({} failed cas dropped), \
                 memo peak {} KiB",
                result.op_count,
                result.failed_dropped,
                result.memo_peak_bytes / 1024
            );
            g.throughput(Throughput::Elements(OPS as u64));
            g.bench_with_input(
                BenchmarkId::new("clients", clients),
                &events,
                |b, events| b.iter(|| check_linearizable(black_box(events), &opts)),
            );
        }
        g.finish();
    }
}

criterion_group!(benches, lin);
criterion_main!(benches);

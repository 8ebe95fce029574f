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

use std::hint::black_box;
use std::time::Duration;

use checker::Validity;
use checker::history::{Event, EventType};
use checker::lin::{LinOptions, ModelKind, check_linearizable};
use checker::synth::{KvShape, kv_history};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use serde_json::json;

const KEYS: u64 = 4;
const OPS: usize = 2_048;
const CLIENTS: [usize; 5] = [2, 4, 8, 16, 32];

/// A linearizable lin-kv history of `clients` clients and `ops` ops over [`KEYS`] keys.
fn history(seed: u64, clients: usize, ops: usize) -> Vec<Event> {
    kv_history(
        seed,
        KvShape {
            clients,
            ops_per_client: ops / clients,
            keys: KEYS,
            values: 5,
            indefinite_writes: 0.0,
        },
    )
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

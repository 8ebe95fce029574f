//! The broadcast checkers on a 100k-op history: preparing it (`BroadcastHistory::new`: pairing
//! invocations and completions, interning every value read), set-full, and the FIFO, causal
//! and total ordering checks.
//!
//! The history comes from `checker::synth` (seed 42), built once outside the timed loop: a
//! correct total-order broadcast among 5 nodes and 10 clients, 100,000 client ops of which 0.2%
//! are reads (the shape of `bench-checker`'s `broadcast-100k`); with the 5 final reads the
//! reads list 10.7 million delivered messages, which every checker walks. Throughput is per
//! client op (100,005 of them).

use std::hint::black_box;
use std::time::Duration;

use checker::broadcast::BroadcastHistory;
use checker::ordering::{OrderingMode, check_ordering};
use checker::set_full::set_full;
use checker::synth::{BroadcastShape, broadcast_history};
use checker::{EventType, Validity};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const OPS: usize = 100_000;

fn broadcast(c: &mut Criterion) {
    let shape = BroadcastShape {
        nodes: 5,
        clients: 10,
        ops: OPS,
        read_fraction: 0.002,
        catch_up: 40,
    };
    let events = broadcast_history(42, shape);
    let ops = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke)
        .count();
    let h = BroadcastHistory::new(&events).expect("a well-formed history");
    assert_eq!(set_full(&h, false).valid, Validity::Valid);

    let mut g = c.benchmark_group("broadcast 100k ops");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(ops as u64));
    g.bench_function("prepare", |b| {
        b.iter(|| BroadcastHistory::new(black_box(&events)))
    });
    g.bench_function("set-full", |b| b.iter(|| set_full(black_box(&h), false)));
    for mode in [
        OrderingMode::Fifo,
        OrderingMode::Causal,
        OrderingMode::Total,
    ] {
        assert_eq!(check_ordering(&h, mode).valid, Validity::Valid);
        g.bench_function(format!("ordering {}", mode.name()), |b| {
            b.iter(|| check_ordering(black_box(&h), mode))
        });
    }
    g.finish();
}

criterion_group!(benches, broadcast);
criterion_main!(benches);

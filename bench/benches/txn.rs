//! The isolation checker on generated txn-list-append histories of 10k and 100k transactions
//! (10 clients, 8 active keys retired after 16 appends each, up to 4 micro-ops per txn, half
//! of them reads, 2% failed and 1% indefinite), checked against strict-serializable: reading
//! the events into compact transactions, inferring ww/wr/rw and real-time edges, and the
//! component search (which finds none: the histories are strict serializable by
//! construction). Throughput is in transactions.

use std::hint::black_box;
use std::time::Duration;

use checker::Validity;
use checker::synth::txn::{TxnShape, txn_history};
use checker::txn::{TxnKind, TxnOptions, check_txn};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

fn txn(c: &mut Criterion) {
    let opts = TxnOptions::new(TxnKind::ListAppend);
    let mut g = c.benchmark_group("txn-list-append, strict-serializable");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for txns in [10_000usize, 100_000] {
        let events = txn_history(42, TxnShape::list_append(txns));
        let result = check_txn(&events, &opts).expect("a well-formed history");
        assert_eq!(result.valid, Validity::Valid, "{result}");
        g.throughput(Throughput::Elements(txns as u64));
        g.bench_with_input(BenchmarkId::new("txns", txns), &events, |b, events| {
            b.iter(|| check_txn(black_box(events), &opts))
        });
    }
    g.finish();
}

criterion_group!(benches, txn);
criterion_main!(benches);

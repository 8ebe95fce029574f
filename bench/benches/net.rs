//! The runner's per-message pure work: the simulated network's routing decision and partition
//! check, and a service answering a request. The router does this for every message, within a
//! budget of 5 us of CPU per routed message for the whole harness.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use nodes::Runtime;
use proto::{Body, Message};
use runner::net::{Grudge, Latency, LatencyDist, Network};
use runner::services::{Service, ServiceKind};
use serde_json::json;

fn node_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

/// A network of 25 nodes with every fault on: exponential latency, loss, duplication and a
/// partition of the first node.
fn faulty_network() -> Network {
    let ids = node_ids(25);
    let latency = Latency::new(LatencyDist::Exponential, Duration::from_millis(10));
    let mut net = Network::new(&ids, latency, 1);
    net.set_loss(0.2).unwrap();
    net.set_duplicate(0.1).unwrap();
    let rest: BTreeSet<String> = ids[1..].iter().cloned().collect();
    net.partition(&Grudge::from([("n0".to_string(), rest)]))
        .unwrap();
    net
}

fn network(c: &mut Criterion) {
    let mut net = faulty_network();
    let mut t = 0u64;
    c.bench_function("net/route_ids node->node, all faults on", |b| {
        b.iter(|| {
            t += 1000;
            black_box(net.route_ids(black_box("n7"), black_box("n13"), t))
        })
    });
    c.bench_function("net/route_ids client->node", |b| {
        b.iter(|| black_box(net.route_ids(black_box("c12"), black_box("n3"), 5)))
    });
    c.bench_function("net/blocked_ids during a partition", |b| {
        b.iter(|| black_box(net.blocked_ids(black_box("n4"), black_box("n0"))))
    });
    let (src, dest) = (net.endpoint("n7"), net.endpoint("lin-kv"));
    c.bench_function("net/route by endpoint node->service", |b| {
        b.iter(|| black_box(net.route(black_box(src), black_box(dest), 0)))
    });
}

fn request(src: &str, dest: &str, body: serde_json::Value) -> Message {
    let body: Body = serde_json::from_value(body).expect("a body");
    Message::new(src, dest, body)
}

fn services(c: &mut Criterion) {
    for kind in [ServiceKind::LinKv, ServiceKind::SeqKv, ServiceKind::LwwKv] {
        let mut rt = Runtime::new(Service::new(kind), 1, 1);
        let init =
            json!({"type": "init", "msg_id": 0, "node_id": kind.id(), "node_ids": [kind.id()]});
        rt.handle_message(Duration::ZERO, request("c0", kind.id(), init));
        let write = request(
            "n1",
            kind.id(),
            json!({"type": "write", "msg_id": 1, "key": 3, "value": 4}),
        );
        let read = request(
            "n2",
            kind.id(),
            json!({"type": "read", "msg_id": 2, "key": 3}),
        );
        let mut now = Duration::ZERO;
        c.bench_function(&format!("services/{} write then read", kind.id()), |b| {
            b.iter(|| {
                now += Duration::from_micros(100);
                black_box(rt.handle_message(now, write.clone()));
                black_box(rt.handle_message(now, read.clone()))
            })
        });
    }
}

criterion_group!(benches, network, services);
criterion_main!(benches);

//! The runner's per-message pure work: the simulated network's routing decision and partition
//! check, the journal lines of a send and its delivery, and a service answering a request. The
//! router does this for every message, within a budget of 5 us of CPU per routed message for
//! the whole harness.
//!
//! `net/router path` strings together what the router does for one server-to-server message
//! besides moving bytes through the pipes and its timer queue: read the line's addresses
//! (`parse_route`), journal and count the send, ask the network for its fate, and at each
//! delivery ask whether a partition blocks it, then journal and count the delivery (or the
//! drop). The journal writes to `/dev/null`, so the bytes are formatted and buffered as in a
//! run but the kernel's copy into a file is left out.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use checker::NetEventKind;
use checker::stats::NetStats;
use criterion::{Criterion, criterion_group, criterion_main};
use nodes::Runtime;
use proto::{Body, Message, parse_route};
use runner::net::{Grudge, Latency, LatencyDist, Network};
use runner::record::Journal;
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
    let mut net = Network::new(&ids, latency, 1).with_services(runner::services::NAMES);
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

/// A gossip line between two nodes, as the router reads it from a node's stdout.
const PEER_LINE: &str = r#"{"src":"n7","dest":"n13","body":{"type":"push","msg_id":8812,"items":[{"id":["n7",1,4012],"value":91373},{"id":["n2",1,3977],"value":18226}],"acks":[["n13",1,57]]}}"#;

fn journal() -> Journal {
    Journal::create(Path::new("/dev/null")).expect("/dev/null opens for writing")
}

/// What the router does for one server-to-server message, pipes and timers aside: see the
/// module's documentation.
fn router_path(net: &mut Network, journal: &mut Journal, stats: &mut NetStats, id: u64, at: u64) {
    let Ok(route) = parse_route(black_box(PEER_LINE)) else {
        return;
    };
    let (src, dest) = (net.endpoint(&route.src), net.endpoint(&route.dest));
    journal.send(at, id, &route.src, None, &route.dest, route.body.get());
    stats.record(NetEventKind::Send, &route.src, &route.dest);
    let fate = net.route(src, dest, at);
    if fate.deliveries().next().is_none() {
        journal.drop(at, id, &route.src, None, &route.dest, "loss");
        stats.record(NetEventKind::Drop, &route.src, &route.dest);
    }
    for when in fate.deliveries() {
        if net.blocked(src, dest) {
            journal.drop(when, id, &route.src, None, &route.dest, "partition");
            stats.record(NetEventKind::Drop, &route.src, &route.dest);
        } else {
            journal.deliver(when, id, &route.src, None, &route.dest);
            stats.record(NetEventKind::Deliver, &route.src, &route.dest);
        }
    }
}

fn router(c: &mut Criterion) {
    let mut journal = journal();
    let mut id = 0u64;
    c.bench_function("net/journal send+deliver pair", |b| {
        b.iter(|| {
            id += 1;
            journal.send(id * 1000, id, "n7", None, "n13", black_box(PEER_LINE));
            journal.deliver(id * 1000 + 5_000_000, id, "n7", None, "n13");
        })
    });

    let mut stats = NetStats::default();
    let ids = node_ids(25);
    let latency = Latency::new(LatencyDist::Exponential, Duration::from_millis(10));
    let mut healthy = Network::new(&ids, latency, 1);
    let mut t = 0u64;
    c.bench_function("net/router path, healthy network", |b| {
        b.iter(|| {
            t += 1000;
            router_path(&mut healthy, &mut journal, &mut stats, t, t)
        })
    });
    let mut faulty = faulty_network();
    c.bench_function("net/router path, all faults on", |b| {
        b.iter(|| {
            t += 1000;
            router_path(&mut faulty, &mut journal, &mut stats, t, t)
        })
    });
    journal.finish().expect("the journal writes");
    black_box(stats);
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

fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = network, router, services
}
criterion_main!(benches);

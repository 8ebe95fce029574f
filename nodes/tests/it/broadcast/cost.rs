//! What broadcasting costs, measured in the simulator on the setup of the performance
//! comparison: 25 nodes, node-to-node latency uniform in [0, 200] ms (mean 100 ms), 100
//! client operations per second for 20 s (half broadcasts, half reads), 10 s of recovery, a
//! final read per node.
//!
//! Figures: server messages per client operation (final reads included, as the harness
//! counts them), and stable latency: from a broadcast's invocation until the last node
//! delivers the value. (The harness measures stable latency through reads, which adds the
//! time until the next read at each node; the simulator measures delivery itself.)

use std::time::Duration;

use nodes::broadcast::eager::Eager;
use nodes::broadcast::gossip::{GossipConfig, GossipNode, Peers};
use nodes::broadcast::{Algorithm, Service};
use nodes::sim::Cluster;
use proto::Payload;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// Measured figures of one run.
#[derive(Debug)]
pub struct Figures {
    /// Client operations, final reads included.
    pub ops: u64,
    /// Node-to-node messages sent while the clients ran and during recovery.
    pub messages: u64,
    pub latency_p50: Duration,
    pub latency_max: Duration,
    /// Broadcasts acknowledged but missing from some final read.
    pub lost: usize,
}

impl Figures {
    pub fn msgs_per_op(&self) -> f64 {
        self.messages as f64 / self.ops as f64
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages / {} operations = {:.2} msgs-per-op; stable latency p50 {} ms, max {} ms; {} lost",
            self.messages,
            self.ops,
            self.msgs_per_op(),
            self.latency_p50.as_millis(),
            self.latency_max.as_millis(),
            self.lost
        )
    }
}

pub fn measure<A: Algorithm + 'static>(
    seed: u64,
    nodes: usize,
    rate: u64,
    load: Duration,
    make: impl Fn() -> A + 'static,
) -> Figures {
    let mut cluster = Cluster::new(nodes, seed, Duration::from_millis(200), move |_| {
        Service::new(make())
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Let the nodes start before the clients do, as the harness does.
    cluster.run_for(Duration::from_secs(1));
    let sent_at_start = cluster.messages_sent;
    let ids: Vec<String> = (0..nodes).map(|i| format!("n{i}")).collect();
    let gap = Duration::from_secs(1) / rate as u32;
    let mut broadcasts: Vec<(u64, Duration, String, u64)> = Vec::new();
    let mut ops = 0u64;
    let end = cluster.now() + load;
    let mut value = 0u64;
    while cluster.now() < end {
        let node = &ids[rng.random_range(0..nodes)];
        let client = format!("c{}", rng.random_range(0..nodes));
        if rng.random_bool(0.5) {
            value += 1;
            let msg_id = cluster.request(
                &client,
                node,
                &Payload::Broadcast {
                    message: json!(value),
                },
            );
            broadcasts.push((value, cluster.now(), client, msg_id));
        } else {
            cluster.request(&client, node, &Payload::Read { key: None });
        }
        ops += 1;
        cluster.run_for(gap);
    }
    cluster.run_for(Duration::from_secs(10));
    ops += nodes as u64; // the final reads
    let messages = cluster.messages_sent - sent_at_start;

    let mut latencies = Vec::new();
    let mut lost = 0;
    for (value, invoked, client, msg_id) in &broadcasts {
        let acked = cluster
            .reply_to(client, *msg_id)
            .is_some_and(|r| r.body.payload == Payload::BroadcastOk);
        let mut last = Some(Duration::ZERO);
        for node in &ids {
            let log = cluster.node(node).map(|n| n.delivered());
            let at = log.and_then(|log| {
                log.values()
                    .iter()
                    .position(|v| v == &json!(value))
                    .map(|i| log.times()[i])
            });
            last = match (last, at) {
                (Some(l), Some(t)) => Some(l.max(t)),
                _ => None,
            };
        }
        match last {
            Some(at) => latencies.push(at.saturating_sub(*invoked)),
            None if acked => lost += 1,
            None => {}
        }
    }
    latencies.sort();
    Figures {
        ops,
        messages,
        latency_p50: latencies
            .get(latencies.len() / 2)
            .copied()
            .unwrap_or_default(),
        latency_max: latencies.last().copied().unwrap_or_default(),
        lost,
    }
}

#[test]
fn gossip_stays_within_its_message_and_latency_budget() {
    let figures = measure(1, 25, 100, Duration::from_secs(20), GossipNode::default);
    println!("broadcast-gossip, 25 nodes, 100 ops/s, 20 s: {figures}");
    assert_eq!(figures.lost, 0);
    assert!(figures.msgs_per_op() <= 3.0, "{figures:?}");
    assert!(
        figures.latency_p50 <= Duration::from_millis(400),
        "{figures:?}"
    );
    assert!(
        figures.latency_max <= Duration::from_millis(800),
        "{figures:?}"
    );
}

/// Eager broadcast moves n(n-1) copies of every value: simulating it at full size takes about
/// a minute in a debug build, so it runs on demand:
/// `cargo test --release -p nodes --test it eager_stays -- --ignored --nocapture`.
#[test]
#[ignore]
fn eager_stays_within_its_message_and_latency_budget() {
    let figures = measure(1, 25, 100, Duration::from_secs(20), Eager::default);
    println!("broadcast-eager, 25 nodes, 100 ops/s, 20 s: {figures}");
    assert_eq!(figures.lost, 0);
    assert!(figures.msgs_per_op() < 30.0, "{figures:?}");
    assert!(
        figures.latency_p50 < Duration::from_millis(400),
        "{figures:?}"
    );
    assert!(
        figures.latency_max < Duration::from_millis(600),
        "{figures:?}"
    );
}

/// The figures of every variant on the comparison's setup, printed; nothing acknowledged may
/// be lost. On demand (a minute or so in a release build):
/// `cargo test --release -p nodes --test it figures_of_every -- --ignored --nocapture`.
#[test]
#[ignore]
fn figures_of_every_variant() {
    use nodes::broadcast::causal::Causal;
    use nodes::broadcast::fifo::Fifo;
    use nodes::broadcast::total_lamport::TotalLamport;
    use nodes::broadcast::total_leader::TotalLeader;
    let load = Duration::from_secs(20);
    let rows = [
        ("broadcast-eager", measure(1, 25, 100, load, Eager::default)),
        (
            "broadcast-gossip",
            measure(1, 25, 100, load, GossipNode::default),
        ),
        (
            "  --peers random",
            measure(1, 25, 100, load, || {
                GossipNode::new(GossipConfig {
                    peers: Peers::Random,
                    fanout: Peers::Random.default_fanout(),
                    ..GossipConfig::default()
                })
            }),
        ),
        ("broadcast-fifo", measure(1, 25, 100, load, Fifo::default)),
        (
            "broadcast-causal",
            measure(1, 25, 100, load, Causal::default),
        ),
        (
            "broadcast-total-leader",
            measure(1, 25, 100, load, TotalLeader::default),
        ),
        (
            "broadcast-total-lamport",
            measure(1, 25, 100, load, TotalLamport::default),
        ),
    ];
    for (name, figures) in &rows {
        println!("{name:24} {figures}");
    }
    for (name, figures) in &rows {
        assert_eq!(figures.lost, 0, "{name}");
    }
}

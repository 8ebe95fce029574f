//! The simulated network: latency, partitions checked at delivery, loss and duplication rates,
//! and determinism from the seed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use runner::net::{Endpoint, Fate, Grudge, Latency, LatencyDist, Network};

fn nodes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

fn network(n: usize, dist: LatencyDist, mean_ms: u64, seed: u64) -> Network {
    Network::new(
        &nodes(n),
        Latency::new(dist, Duration::from_millis(mean_ms)),
        seed,
    )
}

/// Route `count` messages between nodes n0 -> n1 and count the fates.
fn rates(net: &mut Network, count: usize) -> (f64, f64) {
    let (a, b) = (net.endpoint("n0"), net.endpoint("n1"));
    let (mut lost, mut duplicated) = (0, 0);
    for i in 0..count {
        match net.route(a, b, i as u64) {
            Fate::Lost => lost += 1,
            Fate::Duplicate { .. } => duplicated += 1,
            Fate::Deliver { .. } => {}
        }
    }
    (lost as f64 / count as f64, duplicated as f64 / count as f64)
}

#[test]
fn loss_and_duplication_rates_are_close_to_p() {
    for p in [0.05, 0.2, 0.5, 0.9] {
        let mut net = network(3, LatencyDist::Uniform, 10, 99);
        net.set_loss(p).unwrap();
        let (lost, duplicated) = rates(&mut net, 100_000);
        assert!((lost - p).abs() < 0.01, "loss {p}: {lost}");
        assert_eq!(duplicated, 0.0);
        net.set_loss(0.0).unwrap();
        net.set_duplicate(p).unwrap();
        let (lost, duplicated) = rates(&mut net, 100_000);
        assert!((duplicated - p).abs() < 0.01, "duplicate {p}: {duplicated}");
        assert_eq!(lost, 0.0);
    }
}

#[test]
fn both_faults_at_once_duplicate_among_the_survivors() {
    let mut net = network(3, LatencyDist::Constant, 1, 5);
    net.set_loss(0.5).unwrap();
    net.set_duplicate(0.5).unwrap();
    let (lost, duplicated) = rates(&mut net, 100_000);
    assert!((lost - 0.5).abs() < 0.01, "{lost}");
    assert!((duplicated - 0.25).abs() < 0.01, "{duplicated}");
}

#[test]
fn node_links_have_the_mean_latency_and_client_links_none() {
    for dist in LatencyDist::ALL {
        let mut net = network(4, dist, 20, 3);
        let (mut sum, mut max) = (0f64, 0u64);
        let count = 100_000u64;
        for i in 0..count {
            let Fate::Deliver { at } = net.route_ids("n1", "n2", 1_000) else {
                panic!("no faults, yet not delivered once");
            };
            sum += (at - 1_000) as f64;
            max = max.max(at - 1_000);
            let to_client = net.route_ids("n3", &format!("c{i}"), 5);
            assert_eq!(to_client, Fate::Deliver { at: 5 });
        }
        let mean = sum / count as f64;
        assert!((mean / 20e6 - 1.0).abs() < 0.015, "{dist}: mean {mean}");
        match dist {
            LatencyDist::Constant => assert_eq!(max, 20_000_000),
            LatencyDist::Uniform => assert!(max <= 40_000_000),
            LatencyDist::Exponential => assert!(max > 40_000_000),
        }
    }
}

#[test]
fn partitions_are_checked_at_delivery() {
    let mut net = network(3, LatencyDist::Constant, 100, 1);
    let (n0, n1) = (net.endpoint("n0"), net.endpoint("n1"));
    // Sent before the partition, delivered during it: blocked.
    let fate = net.route(n0, n1, 0);
    assert_eq!(fate, Fate::Deliver { at: 100_000_000 });
    net.partition(&Grudge::from([(
        "n1".to_string(),
        BTreeSet::from(["n0".to_string()]),
    )]))
    .unwrap();
    assert!(net.blocked(n0, n1));
    // Sent during the partition, delivered after it heals: through.
    let _ = net.route(n0, n1, 1);
    net.heal_partition();
    assert!(!net.blocked(n0, n1));
}

#[test]
fn one_seed_and_one_call_sequence_give_one_answer() {
    let run = |seed: u64| {
        let mut net = network(5, LatencyDist::Exponential, 7, seed);
        net.set_loss(0.3).unwrap();
        net.set_duplicate(0.3).unwrap();
        (0..1000u64)
            .map(|i| net.route_ids(&format!("n{}", i % 5), &format!("n{}", (i + 1) % 5), i))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(17), run(17));
    assert_ne!(run(17), run(18));
}

#[test]
fn endpoints_of_other_ids_are_not_partitioned() {
    let mut net = network(2, LatencyDist::Constant, 1, 1);
    net.partition(&Grudge::from([(
        "n0".to_string(),
        BTreeSet::from(["n1".to_string()]),
    )]))
    .unwrap();
    assert_eq!(net.endpoint("n9"), Endpoint::Other);
    assert!(!net.blocked_ids("n9", "n0"));
    assert!(
        net.partition(&Grudge::from([("n9".to_string(), BTreeSet::new())]))
            .is_err()
    );
    assert!(
        net.blocked_ids("n1", "n0"),
        "a refused grudge leaves the old one"
    );
}

fn grudge_strategy() -> impl Strategy<Value = (usize, Grudge)> {
    (2usize..12).prop_flat_map(|n| {
        let cut = prop::collection::vec(prop::collection::vec(any::<bool>(), n), n);
        cut.prop_map(move |rows| {
            let mut grudge = Grudge::new();
            for (d, row) in rows.iter().enumerate() {
                let sources: BTreeSet<String> = row
                    .iter()
                    .enumerate()
                    .filter(|&(s, &cut)| cut && s != d)
                    .map(|(s, _)| format!("n{s}"))
                    .collect();
                if !sources.is_empty() {
                    grudge.insert(format!("n{d}"), sources);
                }
            }
            (n, grudge)
        })
    })
}

proptest! {
    #[test]
    fn a_partition_blocks_exactly_the_grudge((n, grudge) in grudge_strategy()) {
        let mut net = network(n, LatencyDist::Constant, 0, 1);
        net.partition(&grudge).unwrap();
        let empty = BTreeSet::new();
        let holds: BTreeMap<&String, &BTreeSet<String>> = grudge.iter().collect();
        for dest in nodes(n) {
            for src in nodes(n) {
                let expected = holds.get(&dest).copied().unwrap_or(&empty).contains(&src);
                prop_assert_eq!(net.blocked_ids(&src, &dest), expected, "{} -> {}", src, dest);
            }
            for other in ["lin-kv", "seq-kv", "lww-kv", "lin-tso", "c0", "c12"] {
                prop_assert!(!net.blocked_ids(other, &dest) && !net.blocked_ids(&dest, other));
            }
        }
        prop_assert_eq!(net.is_partitioned(), !grudge.is_empty());
    }
}

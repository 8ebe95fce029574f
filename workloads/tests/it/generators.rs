//! The generators: deterministic from the seed, with Maelstrom's op mixes and value patterns.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use workloads::{LinKvOptions, Op, WorkloadKind, WorkloadOptions, workload};

fn draw(kind: WorkloadKind, seed: u64, n: usize) -> Vec<Op> {
    let mut w = workload(kind, &WorkloadOptions::default());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| w.next_op(&mut rng)).collect()
}

fn share(ops: &[Op], f: &str) -> f64 {
    ops.iter().filter(|op| op.f == f).count() as f64 / ops.len() as f64
}

#[test]
fn one_seed_one_sequence() {
    for kind in WorkloadKind::ALL {
        assert_eq!(draw(kind, 11, 500), draw(kind, 11, 500), "{kind}");
    }
    assert_ne!(
        draw(WorkloadKind::LinKv, 11, 100),
        draw(WorkloadKind::LinKv, 12, 100)
    );
}

#[test]
fn every_generated_op_makes_a_request() {
    for kind in WorkloadKind::ALL {
        let w = workload(kind, &WorkloadOptions::default());
        for op in draw(kind, 3, 300) {
            assert!(w.request(&op).is_ok(), "{kind}: {op:?}");
        }
    }
}

#[test]
fn echo_values_are_maelstroms() {
    let ops = draw(WorkloadKind::Echo, 1, 2000);
    let mut seen = std::collections::BTreeSet::new();
    for op in &ops {
        assert_eq!(op.f, "echo");
        let text = op.value.as_str().unwrap();
        let n: u32 = text.strip_prefix("Please echo ").unwrap().parse().unwrap();
        assert!(n < 128);
        seen.insert(n);
    }
    assert!(seen.len() > 120, "the whole range is drawn: {}", seen.len());
}

#[test]
fn unique_ids_only_generates() {
    assert!(
        draw(WorkloadKind::UniqueIds, 1, 50)
            .iter()
            .all(|op| op.f == "generate" && op.value.is_null())
    );
}

#[test]
fn broadcast_is_half_reads_with_unique_increasing_values() {
    let ops = draw(WorkloadKind::Broadcast, 5, 10_000);
    let broadcasts: Vec<u64> = ops
        .iter()
        .filter(|op| op.f == "broadcast")
        .map(|op| op.value.as_u64().unwrap())
        .collect();
    // From a million up (Maelstrom counts from 0): see `workloads::broadcast::FIRST_VALUE`.
    let first = workloads::broadcast::FIRST_VALUE;
    assert_eq!(first, 1_000_000);
    assert_eq!(
        broadcasts,
        (first..first + broadcasts.len() as u64).collect::<Vec<_>>()
    );
    assert!(
        (share(&ops, "read") - 0.5).abs() < 0.02,
        "{}",
        share(&ops, "read")
    );
    assert!(
        ops.iter()
            .filter(|op| op.f == "read")
            .all(|op| op.value.is_null())
    );
}

#[test]
fn g_counter_is_a_third_small_adds() {
    let ops = draw(WorkloadKind::GCounter, 5, 12_000);
    assert!(
        (share(&ops, "add") - 1.0 / 3.0).abs() < 0.02,
        "{}",
        share(&ops, "add")
    );
    assert!((share(&ops, "read") - 2.0 / 3.0).abs() < 0.02);
    let mut deltas = BTreeMap::<i64, usize>::new();
    for op in ops.iter().filter(|op| op.f == "add") {
        *deltas.entry(op.value.as_i64().unwrap()).or_default() += 1;
    }
    assert_eq!(
        deltas.keys().copied().collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
}

#[test]
fn lin_kv_mixes_reads_writes_and_cas_over_few_keys_and_small_values() {
    let ops = draw(WorkloadKind::LinKv, 9, 12_000);
    assert!(
        (share(&ops, "read") - 0.5).abs() < 0.02,
        "{}",
        share(&ops, "read")
    );
    assert!(
        (share(&ops, "write") - 1.0 / 6.0).abs() < 0.02,
        "{}",
        share(&ops, "write")
    );
    assert!(
        (share(&ops, "cas") - 1.0 / 3.0).abs() < 0.02,
        "{}",
        share(&ops, "cas")
    );
    let small = |v: &Value| v.as_u64().is_some_and(|v| v < 5);
    let mut per_key = BTreeMap::<u64, usize>::new();
    for op in &ops {
        let pair = op.value.as_array().unwrap();
        *per_key.entry(pair[0].as_u64().unwrap()).or_default() += 1;
        match op.f.as_str() {
            "read" => assert!(pair[1].is_null()),
            "write" => assert!(small(&pair[1])),
            "cas" => assert!(pair[1].as_array().unwrap().iter().all(small)),
            other => panic!("unexpected f {other}"),
        }
    }
    assert!(per_key.values().all(|&n| n <= 100), "{per_key:?}");
    // About 12000 / 95 keys in all.
    assert!((110..=140).contains(&per_key.len()), "{}", per_key.len());
}

#[test]
fn lin_kv_options_bound_keys_and_values() {
    let options = WorkloadOptions {
        lin_kv: LinKvOptions {
            key_count: 1,
            ops_per_key: 10,
            max_value: 2,
        },
        ..WorkloadOptions::default()
    };
    let mut w = workload(WorkloadKind::LinKv, &options);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ops: Vec<Op> = (0..100).map(|_| w.next_op(&mut rng)).collect();
    // One key at a time: keys appear in runs of 9 or 10 ops, in order.
    let keys: Vec<u64> = ops.iter().map(|op| op.value[0].as_u64().unwrap()).collect();
    assert!(
        keys.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "{keys:?}"
    );
    for key in 0..*keys.last().unwrap() {
        let n = keys.iter().filter(|&&k| k == key).count();
        assert!((9..=10).contains(&n), "key {key}: {n}");
    }
    for op in ops.iter().filter(|op| op.f == "write") {
        assert!(op.value[1].as_u64().unwrap() < 2);
    }
}

#[test]
fn g_set_is_half_reads_with_unique_increasing_elements() {
    let ops = draw(WorkloadKind::GSet, 5, 10_000);
    let adds: Vec<u64> = ops
        .iter()
        .filter(|op| op.f == "add")
        .map(|op| op.value.as_u64().unwrap())
        .collect();
    assert_eq!(adds, (0..adds.len() as u64).collect::<Vec<_>>());
    assert!(
        (share(&ops, "read") - 0.5).abs() < 0.02,
        "{}",
        share(&ops, "read")
    );
}

#[test]
fn pn_counter_is_half_adds_of_deltas_from_minus_5_to_4() {
    let ops = draw(WorkloadKind::PnCounter, 5, 12_000);
    assert!(
        (share(&ops, "add") - 0.5).abs() < 0.02,
        "{}",
        share(&ops, "add")
    );
    let mut deltas = BTreeMap::<i64, usize>::new();
    for op in ops.iter().filter(|op| op.f == "add") {
        *deltas.entry(op.value.as_i64().unwrap()).or_default() += 1;
    }
    assert_eq!(
        deltas.keys().copied().collect::<Vec<_>>(),
        (-5..=4).collect::<Vec<_>>()
    );
}

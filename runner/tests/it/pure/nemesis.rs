//! The nemesis schedule: deterministic from the seed, well nested, never takes every node
//! down unless the target `all` is allowed, and each partition shape has the documented
//! structure.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use runner::nemesis::{
    Action, FaultKind, NemesisOptions, PartitionShape, ScheduledAction, Target, majority,
    minority_third, plan,
};
use runner::net::Grudge;

fn nodes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

fn all_faults(interval_s: u64, limit_s: u64) -> NemesisOptions {
    NemesisOptions::new(
        FaultKind::ALL.to_vec(),
        Duration::from_secs(interval_s),
        Duration::from_secs(limit_s),
    )
}

/// Check the invariants of a schedule; return the number of episodes per kind.
fn check(
    schedule: &[ScheduledAction],
    options: &NemesisOptions,
    n: usize,
) -> BTreeMap<FaultKind, usize> {
    let mut active: BTreeMap<u64, &ScheduledAction> = BTreeMap::new();
    let mut active_kinds: BTreeSet<FaultKind> = BTreeSet::new();
    let mut killed: BTreeSet<String> = BTreeSet::new();
    let mut paused: BTreeSet<String> = BTreeSet::new();
    let mut episodes: BTreeMap<FaultKind, usize> = BTreeMap::new();
    let mut last = Duration::ZERO;
    for step in schedule {
        assert!(step.at >= last, "time-ordered");
        assert!(step.at <= options.time_limit, "within the time limit");
        last = step.at;
        let kind = step.action.fault();
        if step.action.is_start() {
            assert!(active_kinds.insert(kind), "one {kind} at a time");
            assert!(
                active.insert(step.episode, step).is_none(),
                "episode numbers are unique"
            );
            *episodes.entry(kind).or_default() += 1;
            match &step.action {
                Action::Kill { nodes } | Action::Wipe { nodes } => {
                    for node in nodes {
                        assert!(!paused.contains(node) && killed.insert(node.clone()));
                    }
                }
                Action::Pause { nodes } => {
                    for node in nodes {
                        assert!(!killed.contains(node) && paused.insert(node.clone()));
                    }
                }
                Action::StartLoss { p } => assert_eq!(*p, options.loss),
                Action::StartDuplicate { p } => assert_eq!(*p, options.duplicate),
                Action::StartPartition { grudge, shape } => {
                    assert!(!grudge.is_empty(), "{shape} cuts something");
                }
                Action::StartClock { nodes, .. } => {
                    assert!(!nodes.is_empty() && nodes.len() <= n, "{nodes:?}");
                }
                _ => unreachable!(),
            }
            if !options.targets.contains(&Target::All) {
                assert!(killed.len() + paused.len() < n, "one node always up");
            }
        } else {
            let start = active
                .remove(&step.episode)
                .expect("a stop ends a started episode");
            assert!(active_kinds.remove(&kind));
            assert_eq!(start.action.fault(), kind);
            match (&start.action, &step.action) {
                (
                    Action::Kill { nodes: a },
                    Action::Restart {
                        nodes: b,
                        wiped: false,
                    },
                )
                | (
                    Action::Wipe { nodes: a },
                    Action::Restart {
                        nodes: b,
                        wiped: true,
                    },
                ) => {
                    assert_eq!(a, b);
                    for node in b {
                        killed.remove(node);
                    }
                }
                (Action::Pause { nodes: a }, Action::Resume { nodes: b }) => {
                    assert_eq!(a, b);
                    for node in b {
                        paused.remove(node);
                    }
                }
                (Action::StartLoss { p: a }, Action::StopLoss { p: b })
                | (Action::StartDuplicate { p: a }, Action::StopDuplicate { p: b }) => {
                    assert_eq!(a, b)
                }
                (Action::StartPartition { .. }, Action::StopPartition) => {}
                (Action::StartClock { nodes: a, .. }, Action::ResetClock { nodes: b }) => {
                    assert_eq!(a, b, "a reset sets right the clocks its fault bent");
                }
                (a, b) => panic!("{a:?} stopped by {b:?}"),
            }
        }
    }
    assert!(active.is_empty(), "nothing active at the end: {active:?}");
    episodes
}

#[test]
fn one_seed_one_schedule() {
    let options = all_faults(5, 120);
    let a = plan(&options, &nodes(5), 42).unwrap();
    assert_eq!(a, plan(&options, &nodes(5), 42).unwrap());
    assert_ne!(a, plan(&options, &nodes(5), 43).unwrap());
    assert!(a.len() > 20, "{}", a.len());
}

#[test]
fn schedules_are_well_nested_for_every_seed_and_size() {
    for n in 2..=9 {
        for seed in 0..40 {
            let options = all_faults(3, 60);
            let schedule = plan(&options, &nodes(n), seed).unwrap();
            check(&schedule, &options, n);
            let options = NemesisOptions {
                targets: Target::ALL.to_vec(),
                ..all_faults(3, 60)
            };
            let schedule = plan(&options, &nodes(n), seed).unwrap();
            check(&schedule, &options, n);
        }
    }
}

#[test]
fn faults_start_every_two_intervals_and_last_one_on_average() {
    // Per kind: start and stop gaps average `interval`, so a kind starts every 2 intervals.
    let options = NemesisOptions::new(
        vec![FaultKind::Loss],
        Duration::from_secs(10),
        Duration::from_secs(100_000),
    );
    let schedule = plan(&options, &nodes(3), 5).unwrap();
    let starts: Vec<Duration> = schedule
        .iter()
        .filter(|s| s.action.is_start())
        .map(|s| s.at)
        .collect();
    let expected = 100_000.0 / 20.0;
    assert!(
        (starts.len() as f64 / expected - 1.0).abs() < 0.05,
        "{} starts",
        starts.len()
    );
    let lengths: Vec<f64> = schedule
        .chunks(2)
        .map(|pair| (pair[1].at - pair[0].at).as_secs_f64())
        .collect();
    let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
    assert!((mean / 10.0 - 1.0).abs() < 0.05, "mean length {mean}");
    assert!(lengths.iter().all(|&l| l < 20.0));
}

#[test]
fn stops_past_the_limit_happen_at_the_limit() {
    let limit = Duration::from_secs(30);
    let mut clamped = 0;
    for seed in 0..200 {
        let options =
            NemesisOptions::new(vec![FaultKind::Partition], Duration::from_secs(10), limit);
        let schedule = plan(&options, &nodes(5), seed).unwrap();
        if let Some(last) = schedule.last() {
            assert!(!last.action.is_start());
            clamped += usize::from(last.at == limit);
        }
    }
    assert!(clamped > 20, "{clamped}");
}

#[test]
fn kills_and_pauses_never_take_every_node() {
    // Two nodes, both faults often: at most one node is ever down.
    let options = NemesisOptions::new(
        vec![FaultKind::Kill, FaultKind::Pause],
        Duration::from_millis(500),
        Duration::from_secs(600),
    );
    let schedule = plan(&options, &nodes(2), 9).unwrap();
    let episodes = check(&schedule, &options, 2);
    assert!(
        episodes[&FaultKind::Kill] > 50 && episodes[&FaultKind::Pause] > 50,
        "{episodes:?}"
    );
}

#[test]
fn partition_shapes_are_drawn_from_the_options() {
    let mut options = all_faults(1, 2000);
    options.faults = vec![FaultKind::Partition];
    let schedule = plan(&options, &nodes(5), 2).unwrap();
    let shapes: BTreeSet<PartitionShape> = schedule
        .iter()
        .filter_map(|s| match &s.action {
            Action::StartPartition { shape, .. } => Some(*shape),
            _ => None,
        })
        .collect();
    assert_eq!(shapes, PartitionShape::ALL.into_iter().collect());
    options.partition_shapes = vec![PartitionShape::Bridge];
    let schedule = plan(&options, &nodes(5), 2).unwrap();
    assert!(schedule.iter().all(|s| matches!(
        s.action,
        Action::StartPartition {
            shape: PartitionShape::Bridge,
            ..
        } | Action::StopPartition
    )));
}

/// For each node, the nodes it hears (itself included).
fn hears(grudge: &Grudge, ids: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let empty = BTreeSet::new();
    ids.iter()
        .map(|d| {
            let cut = grudge.get(d).unwrap_or(&empty);
            (
                d.clone(),
                ids.iter().filter(|s| !cut.contains(*s)).cloned().collect(),
            )
        })
        .collect()
}

/// The components of a complete grudge: groups of nodes that hear exactly each other.
fn components(grudge: &Grudge, ids: &[String]) -> Vec<usize> {
    let views = hears(grudge, ids);
    for (node, view) in &views {
        for other in view {
            assert_eq!(
                &views[other], view,
                "{node} and {other} see different components"
            );
        }
    }
    let mut sizes: Vec<usize> = views
        .values()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(BTreeSet::len)
        .collect();
    sizes.sort_unstable();
    sizes
}

proptest! {
    #[test]
    fn shapes_have_their_structure(n in 2usize..16, seed in any::<u64>()) {
        let ids = nodes(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for shape in PartitionShape::ALL {
            let grudge = shape.grudge(&ids, &mut rng);
            if n < shape.min_nodes() {
                prop_assert!(grudge.is_empty());
                continue;
            }
            prop_assert!(!grudge.is_empty());
            match shape {
                PartitionShape::One => prop_assert_eq!(components(&grudge, &ids), vec![1, n - 1]),
                PartitionShape::MinorityThird => {
                    let few = minority_third(n);
                    let mut expected = vec![few, n - few];
                    expected.sort_unstable();
                    prop_assert_eq!(components(&grudge, &ids), expected);
                }
                PartitionShape::Majority => {
                    prop_assert_eq!(components(&grudge, &ids), vec![n / 2, n - n / 2]);
                }
                PartitionShape::MajoritiesRing => {
                    let views = hears(&grudge, &ids);
                    for (node, view) in &views {
                        prop_assert!(view.len() >= majority(n), "{} sees {:?}", node, view);
                        prop_assert!(view.contains(node));
                    }
                    let distinct: BTreeSet<_> = views.values().collect();
                    if n <= 5 {
                        prop_assert_eq!(distinct.len(), n, "no two nodes see the same majority");
                    } else {
                        prop_assert!(distinct.len() > 1);
                        for (node, view) in &views {
                            for other in view {
                                prop_assert!(views[other].contains(node), "symmetric above 5");
                            }
                        }
                    }
                }
                PartitionShape::Bridge => {
                    let views = hears(&grudge, &ids);
                    let bridges: Vec<&String> =
                        views.iter().filter(|(_, v)| v.len() == n).map(|(k, _)| k).collect();
                    prop_assert_eq!(bridges.len(), 1);
                    let bridge = bridges[0].clone();
                    prop_assert!(views.values().all(|v| v.contains(&bridge)));
                    let rest: Vec<String> = ids.iter().filter(|i| **i != bridge).cloned().collect();
                    let mut without = grudge.clone();
                    without.remove(&bridge);
                    let sizes = components(&without, &rest);
                    let mut expected = vec![n / 2, n - n / 2 - 1];
                    expected.sort_unstable();
                    prop_assert_eq!(sizes, expected);
                }
            }
        }
    }
}

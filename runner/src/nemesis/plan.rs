//! Planning the schedule from the seed (see the module documentation of [`crate::nemesis`]).

use std::collections::BTreeSet;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    Action, ClockFault, FaultKind, NemesisError, NemesisOptions, PartitionShape, ScheduledAction,
    Target,
};

/// The ChaCha stream the nemesis draws from, apart from every other user of the run's seed.
const RNG_STREAM: u64 = 0x6e_65_6d;

/// One start and stop of one fault kind, before its targets are drawn.
#[derive(Debug, Clone, Copy)]
struct Episode {
    kind: FaultKind,
    start: u64,
    stop: u64,
}

/// The whole fault schedule of a run over `node_ids`, drawn from `seed`: time-ordered, every
/// start followed by its stop at or before the time limit. Empty when no fault is enabled.
pub fn plan(
    options: &NemesisOptions,
    node_ids: &[String],
    seed: u64,
) -> Result<Vec<ScheduledAction>, NemesisError> {
    let kinds: Vec<FaultKind> = FaultKind::ALL
        .into_iter()
        .filter(|k| k.is_scheduled() && options.faults.contains(k))
        .collect();
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let shapes = validate(options, &kinds, node_ids.len())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(RNG_STREAM);
    let episodes = flip_flops(&kinds, options, &mut rng);
    Ok(assign(&episodes, options, &shapes, node_ids, &mut rng))
}

/// Refuse what cannot be scheduled; return the partition shapes usable with `n` nodes.
fn validate(
    options: &NemesisOptions,
    kinds: &[FaultKind],
    n: usize,
) -> Result<Vec<PartitionShape>, NemesisError> {
    if options.interval.is_zero() {
        return Err(NemesisError::ZeroInterval);
    }
    let all_allowed = options.targets.contains(&Target::All);
    for &kind in kinds {
        let spares_a_node = kind.hits_nodes() && !all_allowed;
        if (kind == FaultKind::Partition || spares_a_node) && n < 2 {
            return Err(NemesisError::TooFewNodes(kind));
        }
        if kind.hits_nodes() && options.targets.iter().all(|t| t.size(n) == 0) {
            return Err(NemesisError::NoTarget {
                targets: Target::list(&options.targets),
                nodes: n,
            });
        }
        let p = match kind {
            FaultKind::Loss => options.loss,
            FaultKind::Duplicate => options.duplicate,
            _ => continue,
        };
        if !(0.0..=1.0).contains(&p) {
            return Err(NemesisError::BadProbability { fault: kind, p });
        }
    }
    let shapes: Vec<PartitionShape> = options
        .partition_shapes
        .iter()
        .copied()
        .filter(|s| s.min_nodes() <= n)
        .collect();
    if shapes.is_empty() && kinds.contains(&FaultKind::Partition) {
        let names: Vec<&str> = options.partition_shapes.iter().map(|s| s.name()).collect();
        return Err(NemesisError::NoShape {
            shapes: names.join(", "),
            nodes: n,
        });
    }
    Ok(shapes)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Each kind's alternating starts and stops, gaps uniform in `[0, 2 * interval)`, stops
/// clamped to the time limit.
fn flip_flops(kinds: &[FaultKind], options: &NemesisOptions, rng: &mut ChaCha8Rng) -> Vec<Episode> {
    let limit = nanos(options.time_limit);
    let span = nanos(options.interval).saturating_mul(2).max(1);
    let mut episodes = Vec::new();
    for &kind in kinds {
        let mut t: u64 = 0;
        loop {
            t = t.saturating_add(rng.random_range(0..span));
            if t >= limit {
                break;
            }
            let start = t;
            t = t.saturating_add(rng.random_range(0..span));
            episodes.push(Episode {
                kind,
                start,
                stop: t.min(limit),
            });
            if t >= limit {
                break;
            }
        }
    }
    episodes
}

/// Walk the episodes' starts and stops in time order, drawing each start's targets given what
/// is active then. At one instant: stops of earlier episodes, then starts, then the stops of
/// episodes that started at that same instant.
fn assign(
    episodes: &[Episode],
    options: &NemesisOptions,
    shapes: &[PartitionShape],
    node_ids: &[String],
    rng: &mut ChaCha8Rng,
) -> Vec<ScheduledAction> {
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(episodes.len() * 2);
    for (i, e) in episodes.iter().enumerate() {
        events.push((e.start, 1, i));
        events.push((e.stop, if e.stop == e.start { 2 } else { 0 }, i));
    }
    events.sort_unstable();

    let n = node_ids.len();
    // Nodes killed or paused, by index.
    let mut down: BTreeSet<usize> = BTreeSet::new();
    // Per episode: its number and the node indices it took, once started (None: skipped).
    let mut started: Vec<Option<(u64, Vec<usize>)>> = vec![None; episodes.len()];
    let mut next_episode = 0;
    let mut actions = Vec::new();
    let names = |idx: &[usize]| idx.iter().map(|&i| node_ids[i].clone()).collect::<Vec<_>>();

    for (at, phase, i) in events {
        let episode = episodes[i];
        let at_time = Duration::from_nanos(at);
        if phase == 1 {
            let mut taken = Vec::new();
            let action = match episode.kind {
                FaultKind::Partition => {
                    let shape = shapes[rng.random_range(0..shapes.len())];
                    let grudge = shape.grudge(node_ids, rng);
                    Action::StartPartition { shape, grudge }
                }
                FaultKind::Kill | FaultKind::Pause | FaultKind::Wipe => {
                    let Some(targets) = targets(n, &down, &options.targets, rng) else {
                        continue;
                    };
                    down.extend(targets.iter().copied());
                    taken = targets;
                    let nodes = names(&taken);
                    match episode.kind {
                        FaultKind::Kill => Action::Kill { nodes },
                        FaultKind::Wipe => Action::Wipe { nodes },
                        _ => Action::Pause { nodes },
                    }
                }
                FaultKind::Loss => Action::StartLoss { p: options.loss },
                FaultKind::Duplicate => Action::StartDuplicate {
                    p: options.duplicate,
                },
                FaultKind::Clock => {
                    // A clock runs whether its node is up or not: any node may be taken.
                    let Some(targets) = targets(n, &BTreeSet::new(), &options.targets, rng) else {
                        continue;
                    };
                    taken = targets;
                    Action::StartClock {
                        nodes: names(&taken),
                        fault: clock_fault(rng),
                    }
                }
                FaultKind::Byzantine => continue,
            };
            started[i] = Some((next_episode, taken));
            actions.push(ScheduledAction {
                at: at_time,
                episode: next_episode,
                action,
            });
            next_episode += 1;
        } else {
            let Some((number, taken)) = started[i].take() else {
                continue;
            };
            if episode.kind.hits_nodes() {
                for t in &taken {
                    down.remove(t);
                }
            }
            let action = match episode.kind {
                FaultKind::Partition => Action::StopPartition,
                FaultKind::Kill | FaultKind::Wipe => Action::Restart {
                    nodes: names(&taken),
                    wiped: episode.kind == FaultKind::Wipe,
                },
                FaultKind::Pause => Action::Resume {
                    nodes: names(&taken),
                },
                FaultKind::Loss => Action::StopLoss { p: options.loss },
                FaultKind::Duplicate => Action::StopDuplicate {
                    p: options.duplicate,
                },
                FaultKind::Clock => Action::ResetClock {
                    nodes: names(&taken),
                },
                FaultKind::Byzantine => continue,
            };
            actions.push(ScheduledAction {
                at: at_time,
                episode: number,
                action,
            });
        }
    }
    actions
}

/// What a clock fault does, drawn from `rng`: a step of 0.2 to 5 s either way (two in five),
/// a slew of 5% to 50% fast or slow, a strobe of 0.1 to 1 s every 50 to 200 ms, or a leap
/// second inserted or removed (one in five each).
fn clock_fault(rng: &mut ChaCha8Rng) -> ClockFault {
    let sign = |rng: &mut ChaCha8Rng| if rng.random_bool(0.5) { 1 } else { -1 };
    match rng.random_range(0..5) {
        0 | 1 => ClockFault::Step {
            delta_ms: sign(rng) * rng.random_range(200..=5_000),
        },
        2 => ClockFault::Slew {
            rate_ppm: sign(rng) * rng.random_range(50_000..=500_000),
        },
        3 => ClockFault::Strobe {
            delta_ms: sign(rng) * rng.random_range(100..=1_000),
            period_ms: rng.random_range(50..=200),
        },
        _ => ClockFault::Leap {
            insert: rng.random_bool(0.5),
        },
    }
}

/// The nodes a node fault takes, in node order: one of the `allowed` targets that takes at
/// least one node, drawn at random, taken among the nodes that are up; capped so that one node
/// stays up, except for the target `all`, which takes every node that is up. None when no node
/// can be spared.
fn targets(
    n: usize,
    down: &BTreeSet<usize>,
    allowed: &[Target],
    rng: &mut ChaCha8Rng,
) -> Option<Vec<usize>> {
    let sizes: Vec<(Target, usize)> = allowed
        .iter()
        .map(|&t| (t, t.size(n)))
        .filter(|&(_, k)| k > 0)
        .collect();
    if sizes.is_empty() {
        return None;
    }
    let (target, wanted) = sizes[rng.random_range(0..sizes.len())];
    let mut up: Vec<usize> = (0..n).filter(|i| !down.contains(i)).collect();
    let k = if target == Target::All {
        up.len()
    } else {
        wanted.min(up.len().saturating_sub(1))
    };
    if k == 0 {
        return None;
    }
    up.shuffle(rng);
    let mut chosen = up[..k].to_vec();
    chosen.sort_unstable();
    Some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    fn options(faults: &[FaultKind]) -> NemesisOptions {
        NemesisOptions::new(
            faults.to_vec(),
            Duration::from_secs(2),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn no_faults_no_schedule() {
        assert_eq!(plan(&options(&[]), &nodes(3), 1), Ok(vec![]));
    }

    #[test]
    fn byzantine_nodes_are_not_scheduled_and_leave_the_other_faults_schedule_as_it_was() {
        assert_eq!(
            plan(&options(&[FaultKind::Byzantine]), &nodes(3), 1),
            Ok(vec![])
        );
        assert_eq!(
            plan(
                &options(&[FaultKind::Kill, FaultKind::Byzantine]),
                &nodes(3),
                7
            ),
            plan(&options(&[FaultKind::Kill]), &nodes(3), 7)
        );
    }

    #[test]
    fn refusals_say_why() {
        let one = nodes(1);
        assert_eq!(
            plan(&options(&[FaultKind::Kill]), &one, 1),
            Err(NemesisError::TooFewNodes(FaultKind::Kill))
        );
        assert!(plan(&options(&[FaultKind::Loss]), &one, 1).is_ok());
        let mut o = options(&[FaultKind::Loss]);
        o.loss = 1.5;
        assert!(matches!(
            plan(&o, &one, 1),
            Err(NemesisError::BadProbability { .. })
        ));
        let mut o = options(&[FaultKind::Partition]);
        o.partition_shapes = vec![PartitionShape::MinorityThird];
        let err = plan(&o, &nodes(3), 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no partition shape among [minority-third] cuts anything among 3 nodes"
        );
        let mut o = options(&[FaultKind::Pause]);
        o.interval = Duration::ZERO;
        assert_eq!(plan(&o, &nodes(3), 1), Err(NemesisError::ZeroInterval));
    }

    #[test]
    fn targets_leave_one_node_up() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let usual = Target::DEFAULT;
        for _ in 0..200 {
            let t = targets(5, &BTreeSet::new(), &usual, &mut rng).unwrap();
            assert!((1..=3).contains(&t.len()), "{t:?}");
        }
        let down = BTreeSet::from([0, 1, 2]);
        for _ in 0..50 {
            assert_eq!(
                targets(5, &down, &usual, &mut rng).map(|t| t.len()),
                Some(1)
            );
        }
        assert_eq!(
            targets(5, &BTreeSet::from([0, 1, 2, 3]), &usual, &mut rng),
            None
        );
        assert_eq!(
            targets(2, &BTreeSet::new(), &usual, &mut rng).map(|t| t.len()),
            Some(1)
        );
    }

    #[test]
    fn the_target_all_takes_every_node_that_is_up() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let all = [Target::All];
        assert_eq!(
            targets(5, &BTreeSet::new(), &all, &mut rng),
            Some(vec![0, 1, 2, 3, 4])
        );
        assert_eq!(
            targets(5, &BTreeSet::from([1, 3]), &all, &mut rng),
            Some(vec![0, 2, 4])
        );
        assert_eq!(targets(3, &BTreeSet::from([0, 1, 2]), &all, &mut rng), None);
        let majority = [Target::Majority];
        for _ in 0..20 {
            assert_eq!(
                targets(5, &BTreeSet::new(), &majority, &mut rng).map(|t| t.len()),
                Some(3)
            );
        }
    }

    #[test]
    fn clock_faults_bend_the_clocks_of_nodes_up_or_down_and_reset_them() {
        let schedule = plan(
            &options(&[FaultKind::Clock, FaultKind::Kill]),
            &nodes(3),
            11,
        )
        .unwrap();
        let clocks: Vec<&ScheduledAction> = schedule
            .iter()
            .filter(|s| s.action.fault() == FaultKind::Clock)
            .collect();
        assert!(clocks.len() >= 4, "{clocks:?}");
        let mut open: Option<(u64, Vec<String>)> = None;
        for s in clocks {
            match &s.action {
                Action::StartClock { nodes, .. } => {
                    assert!(open.is_none(), "one clock fault at a time");
                    assert!((1..=2).contains(&nodes.len()), "{nodes:?}");
                    open = Some((s.episode, nodes.clone()));
                }
                Action::ResetClock { nodes } => {
                    let (episode, bent) = open.take().expect("a reset follows a fault");
                    assert_eq!((s.episode, nodes), (episode, &bent));
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(
            open.is_none(),
            "every bent clock is reset by the time limit"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let drawn: Vec<ClockFault> = (0..200).map(|_| clock_fault(&mut rng)).collect();
        for fault in &drawn {
            match *fault {
                ClockFault::Step { delta_ms } => {
                    assert!((200..=5_000).contains(&delta_ms.abs()))
                }
                ClockFault::Slew { rate_ppm } => {
                    assert!((50_000..=500_000).contains(&rate_ppm.abs()))
                }
                ClockFault::Strobe {
                    delta_ms,
                    period_ms,
                } => assert!((100..=1_000).contains(&delta_ms.abs()) && period_ms >= 50),
                ClockFault::Leap { .. } => {}
            }
        }
        for f in ["clock-step", "clock-slew", "clock-strobe", "clock-leap"] {
            assert!(drawn.iter().any(|d| d.f() == f), "{f} never drawn");
        }
    }

    #[test]
    fn a_kill_of_all_nodes_is_planned_only_when_asked_for() {
        let mut options = options(&[FaultKind::Kill, FaultKind::Wipe]);
        options.targets = vec![Target::All];
        let schedule = plan(&options, &nodes(3), 7).unwrap();
        assert!(
            schedule
                .iter()
                .any(|s| matches!(&s.action, Action::Kill { nodes } if nodes.len() == 3))
        );
        assert!(
            schedule
                .iter()
                .any(|s| matches!(&s.action, Action::Wipe { .. }))
        );
        options.targets = vec![Target::MinorityThird];
        assert_eq!(
            plan(&options, &nodes(3), 7),
            Err(NemesisError::NoTarget {
                targets: "minority-third".into(),
                nodes: 3
            })
        );
    }
}

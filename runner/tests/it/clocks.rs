//! Clock skew end to end (the course's 3.1 physical clocks, 3.3 Lamport clocks, 5.1
//! last-writer-wins): under `--nemesis clock`, a last-writer-wins store stamped by wall clocks
//! loses acknowledged writes that causally follow others, and the lww-register check says so
//! with the skew; the same store stamped by Lamport clocks loses none; and a node process's
//! wall clock really is bent (libfaketime).

use checker::clocks::ClockTimeline;
use checker::{EventType, Process};

use crate::harness::{harness, harness_test, scratch_store, test_node};

/// A simulated lww-register run of reference node `node` under clock faults with `seed`.
fn lww_run(node: &str, seed: u64) -> crate::harness::Run {
    let seed = seed.to_string();
    harness_test(&[
        "--sim",
        "-w",
        "lww-register",
        "--node",
        node,
        "--node-count",
        "3",
        "--time-limit",
        "10",
        "--rate",
        "30",
        "--nemesis",
        "clock",
        "--nemesis-interval",
        "2",
        "--seed",
        &seed,
    ])
}

/// "Lamport timestamps are consistent with causality; physical timestamps are not": a store
/// that resolves conflicts by wall-clock stamps keeps, under skew, a write over one that came
/// after it.
#[test]
fn a_store_stamped_by_skewed_wall_clocks_loses_a_causally_later_write_and_the_skew_is_named() {
    for seed in [2, 3, 5] {
        let run = lww_run("kv-gossip-wall-clock", seed);
        assert_eq!(run.code, 1, "seed {seed}: {}{}", run.stdout, run.stderr);
        let workload = &run.results["workload"];
        assert_eq!(workload["valid"], false, "seed {seed}");
        let lost = &workload["lost_writes"][0];
        assert!(workload["lost_write_count"].as_u64() >= Some(1));
        let why = lost["why"].as_str().unwrap_or_default();
        assert!(
            why.contains("came after") && why.contains("last-writer-wins kept the write"),
            "seed {seed}: {why}"
        );
        // The skew of a writer's clock, rebuilt from the history's clock events.
        let skew = lost["skew"].as_str().unwrap_or_default();
        assert!(
            skew.contains("'s clock was ") && skew.contains(" off at "),
            "seed {seed}: {skew}"
        );
        assert!(why.ends_with(skew), "seed {seed}: {why}");
        let headline = run.results["headline"].as_str().unwrap_or_default();
        assert!(
            headline.contains("lost an acknowledged write to a causally earlier one"),
            "seed {seed}: {headline}"
        );
        assert!(run.stdout.contains(skew), "{}", run.stdout);
    }
}

#[test]
fn the_same_store_stamped_by_lamport_clocks_loses_no_write_on_those_seeds_and_more() {
    for seed in 1..=10 {
        let run = lww_run("kv-gossip", seed);
        assert_eq!(run.code, 0, "seed {seed}: {}{}", run.stdout, run.stderr);
        let workload = &run.results["workload"];
        assert_eq!(workload["valid"], true, "seed {seed}");
        assert_eq!(workload["lost_write_count"], 0);
        assert_eq!(workload["causally_stale_read_count"], 0);
        assert!(workload["acknowledged_write_count"].as_u64() > Some(100));
        // Every key it wrote was read at the end on every node.
        assert_eq!(
            workload["final_read_count"].as_u64(),
            workload["key_count"].as_u64().map(|k| k * 3)
        );
    }
}

#[test]
fn compare_clocks_sets_the_lamport_store_beside_the_wall_clock_one_and_only_the_latter_is_caught() {
    let store = scratch_store();
    let store_arg = store.display().to_string();
    let (code, stdout, stderr) = harness(&[
        "compare", "--preset", "clocks", "--sim", "--seed", "1", "--store", &store_arg,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let line = |variant: &str, scenario: &str| {
        stdout
            .lines()
            .find(|l| {
                l.strip_prefix(&format!("{variant} "))
                    .is_some_and(|rest| rest.trim_start().starts_with(scenario))
            })
            .unwrap_or_else(|| panic!("no line for {variant} ({scenario}): {stdout}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // variant, scenario (one or two words), keeps causality, runs, caught, ...
    let lamport = line("kv-gossip", "clock");
    assert_eq!(&lamport[2..5], ["yes", "5", "0"], "{stdout}");
    let wall = line("kv-gossip-wall-clock", "clock");
    assert_eq!(&wall[2..4], ["no", "5"], "{stdout}");
    assert!(wall[4].parse::<u32>().unwrap() >= 3, "{stdout}");
    let calm = line("kv-gossip-wall-clock", "no faults");
    assert_eq!(&calm[3..6], ["no", "5", "0"], "{stdout}");
    assert!(
        stdout.contains("kv-gossip-wall-clock (clock): seed "),
        "{stdout}"
    );
}

/// A node process reads its wall clock through libfaketime: `wall_clock_ids.py` puts
/// `time.time()` in every id it makes, and the offset it shows follows the clock faults the
/// history records (whatever the schedule: only ops during which the node's clock stood still
/// are compared).
#[test]
fn a_node_process_reads_the_wall_clock_the_nemesis_bent() {
    if let Err(why) = runner::faketime::find_library() {
        println!("skipped: {why}");
        return;
    }
    let node = test_node("wall_clock_ids.py");
    let run = harness_test(&[
        "-w",
        "unique-ids",
        "--bin",
        node.to_str().unwrap(),
        "--node-count",
        "2",
        "--time-limit",
        "6",
        "--rate",
        "20",
        "--nemesis",
        "clock",
        "--nemesis-interval",
        "1.5",
        "--seed",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let clocks = ClockTimeline::of(&run.history);
    assert!(!clocks.is_empty(), "the schedule bends some clock");
    // Per op during which its node's clock stood still: (node, what the harness set the
    // clock's offset to, what the node's clock read minus the time of the reply).
    let mut open = std::collections::BTreeMap::new();
    let mut seen = Vec::new();
    for e in &run.history {
        let Process::Client(p) = e.process else {
            continue;
        };
        match e.kind {
            EventType::Invoke => {
                open.insert(p, e.time);
            }
            EventType::Ok => {
                let (Some(invoked), Some(node)) = (open.remove(&p), e.node.as_deref()) else {
                    continue;
                };
                let still = |t: u64| {
                    clocks
                        .clock_at(node, t)
                        .is_none_or(|c| !c.clock.is_moving())
                };
                let offset = clocks.offset_at(node, invoked);
                if e.time - invoked > 100_000_000
                    || offset != clocks.offset_at(node, e.time)
                    || !still(invoked)
                    || clocks.clock_at(node, invoked) != clocks.clock_at(node, e.time)
                {
                    continue;
                }
                let read: f64 = e
                    .value
                    .as_str()
                    .and_then(|id| id.rsplit('-').next())
                    .and_then(|w| w.parse().ok())
                    .unwrap_or_else(|| panic!("an id with a time: {}", e.value));
                seen.push((offset as f64 / 1e9, read - e.time as f64 / 1e9));
            }
            _ => {}
        }
    }
    // What a right clock reads minus the harness's time: the run's start, as a time of day.
    let mut base: Vec<f64> = seen
        .iter()
        .filter(|(o, _)| *o == 0.0)
        .map(|(_, r)| *r)
        .collect();
    base.sort_by(f64::total_cmp);
    let base = base[base.len() / 2];
    for (offset, read) in &seen {
        assert!(
            (read - base - offset).abs() < 0.1,
            "a clock set {offset:.3} s off read {:.3} s off",
            read - base
        );
    }
    assert!(
        seen.iter().any(|(o, _)| o.abs() >= 0.5),
        "some op ran while a clock was at least 0.5 s off: {seen:?}"
    );
}

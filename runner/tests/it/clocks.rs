//! Clock skew end to end (the course's 3.1 physical clocks, 3.3 Lamport clocks, 5.1
//! last-writer-wins): under `--nemesis clock`, a last-writer-wins store stamped by wall clocks
//! loses acknowledged writes that causally follow others, and the lww-register check says so
//! with the skew; the same store stamped by Lamport clocks loses none (that a node process's
//! wall clock really is bent is `clock_faults.rs`).

use crate::harness::{harness, harness_test, scratch_store};

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

//! The simulator (`harness test --sim`, `harness explore`) end to end, through the binary:
//! the same seed gives the same files byte for byte, a failing seed's replay command fails
//! the same way, exploration finds planted bugs and spares correct nodes, and the process
//! backend never calls invalid what the simulator, running the same node, calls valid.

use std::path::Path;

use crate::harness::{harness, harness_test, node_bin, scratch_store};

/// A lively simulated run: five nodes, every fault, random latencies.
const BUSY: &[&str] = &[
    "--sim",
    "-w",
    "broadcast",
    "--node",
    "broadcast-fifo",
    "--ordering",
    "fifo",
    "--node-count",
    "5",
    "--time-limit",
    "5",
    "--recovery-time",
    "3",
    "--rate",
    "40",
    "--latency",
    "20",
    "--latency-dist",
    "exponential",
    "--nemesis",
    "partition,kill,pause,loss,duplicate",
    "--nemesis-interval",
    "0.5",
    "--seed",
    "17",
];

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn one_seed_twice_gives_the_same_files_byte_for_byte() {
    let first = harness_test(BUSY);
    let second = harness_test(BUSY);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let faults = first.results["run"]["schedule"]["faults_done"].as_u64();
    assert!(faults > Some(5), "the run must see faults: {faults:?}");
    for file in ["history.jsonl", "messages.jsonl"] {
        let (a, b) = (read(&first.dir, file), read(&second.dir, file));
        assert!(a.len() > 1000, "{file} is nearly empty");
        assert!(a == b, "{file} differs between two runs of one seed");
    }
    // results.json too, once the wall-clock fields (kept in one place) are set aside, and the
    // command line, which names each run's own scratch store.
    let strip = |mut v: serde_json::Value| {
        let run = v["run"].as_object_mut().expect("run");
        run.remove("wall_clock").expect("run.wall_clock");
        run.remove("reproduce").expect("run.reproduce");
        serde_json::to_string_pretty(&v).unwrap()
    };
    assert_eq!(strip(first.results.clone()), strip(second.results.clone()));
}

#[test]
fn check_determinism_runs_twice_and_says_the_files_agree() {
    let store = scratch_store();
    let store_arg = store.display().to_string();
    let mut args = vec!["test", "--store", &store_arg, "--check-determinism"];
    args.extend_from_slice(BUSY);
    let (code, stdout, stderr) = harness(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "determinism: the two runs of seed 17 wrote the same history.jsonl, \
                         messages.jsonl, results.json"
        ),
        "{stdout}"
    );
}

#[test]
fn the_same_flags_with_another_seed_give_another_run() {
    let a = harness_test(BUSY);
    let mut other: Vec<&str> = BUSY.to_vec();
    *other.last_mut().unwrap() = "18";
    let b = harness_test(&other);
    assert_ne!(
        read(&a.dir, "messages.jsonl"),
        read(&b.dir, "messages.jsonl")
    );
}

/// Explore a planted bug; the printed commands, run again, fail with the same headline.
#[test]
fn a_failing_seeds_replay_command_fails_the_same_way() {
    let store = scratch_store();
    let store_arg = store.display().to_string();
    let (code, stdout, stderr) = harness(&[
        "explore",
        "-w",
        "broadcast",
        "--node",
        "broadcast-fifo-reorder",
        "--ordering",
        "fifo",
        "--seeds",
        "200",
        "--jobs",
        "2",
        "--store",
        &store_arg,
    ]);
    assert_eq!(code, 1, "the bug must be found: {stdout}{stderr}");
    let failure = stdout
        .lines()
        .find(|l| l.contains(" fails: "))
        .expect("a failure line");
    let headline = failure.split(" fails: ").nth(1).unwrap();
    assert!(headline.contains("FIFO order broken"), "{failure}");
    let replay = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: "))
        .expect("a replay line");
    let shrunk = stdout
        .lines()
        .skip_while(|l| !l.contains("the smallest failing command:"))
        .nth(1)
        .expect("a shrunk command")
        .trim()
        .to_owned();
    for command in [replay, shrunk.as_str()] {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        assert_eq!(words[0], "test", "{command}");
        let (code, out, err) = harness(&words);
        assert_eq!(code, 1, "{command} must fail again: {out}{err}");
        if command == replay {
            assert!(
                out.contains(headline),
                "the replay must fail the same way: {headline}\n{out}"
            );
        } else {
            assert!(out.contains("FIFO order broken"), "{out}");
        }
    }
    // The shrunk run is no bigger than the one found.
    let number = |command: &str, flag: &str| -> f64 {
        let words: Vec<&str> = command.split_whitespace().collect();
        let at = words.iter().position(|w| *w == flag).unwrap();
        words[at + 1].parse().unwrap()
    };
    for flag in ["--node-count", "--time-limit"] {
        assert!(number(&shrunk, flag) <= number(replay, flag), "{flag}");
    }
}

#[test]
fn exploration_of_correct_nodes_raises_no_alarm() {
    for (workload, node, ordering) in [
        ("broadcast", "broadcast-causal", Some("causal")),
        ("lin-kv", "lin-kv-tob", None),
    ] {
        let store = scratch_store();
        let store_arg = store.display().to_string();
        let mut args = vec![
            "explore", "-w", workload, "--node", node, "--seeds", "60", "--jobs", "2", "--store",
            &store_arg,
        ];
        if let Some(ordering) = ordering {
            args.extend(["--ordering", ordering]);
        }
        let (code, stdout, stderr) = harness(&args);
        assert_eq!(code, 0, "{node}: {stdout}{stderr}");
        assert!(stdout.contains("60 seeds in"), "{stdout}");
        assert!(stdout.contains("no failure"), "{stdout}");
    }
}

#[test]
fn shards_split_the_seeds_without_overlap() {
    // Shard 1 of 3 from seed 10 takes seeds 11, 14, 17, ...: the bug found there is at one of
    // them, and the replay command names it.
    let store = scratch_store();
    let store_arg = store.display().to_string();
    let (code, stdout, _) = harness(&[
        "explore",
        "-w",
        "unique-ids",
        "--node",
        "unique-ids-restart",
        "--seed",
        "10",
        "--shard",
        "1/3",
        "--seeds",
        "300",
        "--no-shrink",
        "--store",
        &store_arg,
    ]);
    assert_eq!(code, 1, "{stdout}");
    let replay = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: "))
        .unwrap();
    let seed: u64 = replay.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        seed >= 11 && (seed - 11).is_multiple_of(3),
        "seed {seed} is not in shard 1/3"
    );
    let (code, _, stderr) = harness(&["explore", "-w", "echo", "--node", "echo", "--shard", "3/3"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("--shard takes I/K"), "{stderr}");
}

#[test]
fn bad_simulator_flags_are_one_line_each() {
    for (args, says) in [
        (
            vec!["test", "--sim", "-w", "echo", "--node", "nope"],
            "no node named \"nope\"",
        ),
        (
            vec!["test", "--sim", "-w", "echo"],
            "--sim needs one --node",
        ),
        (
            vec![
                "test", "--sim", "-w", "echo", "--node", "echo", "--", "--x", "1",
            ],
            "echo: unknown argument \"--x\"",
        ),
        (
            vec!["test", "-w", "echo"],
            "give either --bin PROGRAM or --sim",
        ),
    ] {
        let (code, stdout, stderr) = harness(&args);
        assert_eq!(code, 3, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// The two backends run the same node code and check with the same checkers: on the same
/// short test, a correct node is valid in both, and what the process backend calls invalid,
/// the simulator calls invalid too on the same node (here: never, as the nodes are correct).
#[test]
fn the_process_backend_and_the_simulator_agree_on_correct_nodes() {
    for (workload, node, extra) in [
        (
            "broadcast",
            "broadcast-total-lamport",
            &["--ordering", "total"][..],
        ),
        ("lin-kv", "lin-kv-leader", &[][..]),
        ("g-counter", "g-counter", &[][..]),
    ] {
        let common = [
            "-w",
            workload,
            "--node-count",
            "3",
            "--time-limit",
            "3",
            "--recovery-time",
            "2",
            "--rate",
            "20",
            "--nemesis",
            "partition",
            "--nemesis-interval",
            "1",
            "--seed",
            "5",
        ];
        let bin = node_bin(node);
        let bin = bin.display().to_string();
        let mut process: Vec<&str> = vec!["--bin", &bin];
        process.extend(common);
        process.extend(extra);
        let mut sim: Vec<&str> = vec!["--sim", "--node", node];
        sim.extend(common);
        sim.extend(extra);
        let (p, s) = (harness_test(&process), harness_test(&sim));
        assert_eq!(p.code, 0, "process backend, {node}: {}", p.stdout);
        assert_eq!(s.code, 0, "simulator, {node}: {}", s.stdout);
        assert_eq!(s.results["run"]["backend"], "sim");
        assert_eq!(p.results["run"]["backend"], "process");
    }
}

/// A planted bug the simulator finds on a seed is a node bug, not a simulator artefact: the
/// history it wrote is judged the same by `harness check`, which knows nothing of backends.
#[test]
fn a_simulated_history_is_judged_the_same_by_harness_check() {
    let run = harness_test(&[
        "--sim",
        "-w",
        "lin-kv",
        "--node",
        "kv-stale-reads",
        "--node-count",
        "3",
        "--rate",
        "40",
        "--concurrency",
        "6",
        "--latency",
        "30",
        "--latency-dist",
        "uniform",
        "--time-limit",
        "5",
        "--seed",
        "4",
    ]);
    assert_eq!(
        run.results["workload"]["valid"], false,
        "seed 4 shows the stale read: {}",
        run.stdout
    );
    let dir = run.dir.display().to_string();
    let (_, stdout, stderr) = harness(&["check", "--workload", "lin-kv", "--json", &dir]);
    let checked: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    assert_eq!(
        checked.get("workload").unwrap_or(&checked)["valid"],
        run.results["workload"]["valid"],
        "harness check and the run disagree: {stdout}"
    );
}

/// A node that panics in the simulator is a crashed node: named as a problem, the run invalid,
/// the harness unharmed.
#[test]
fn a_simulated_node_that_panics_is_a_crashed_node() {
    struct Panicky;
    impl nodes::Node for Panicky {
        fn on_message(&mut self, ctx: &mut nodes::Ctx, msg: proto::Message) {
            if msg.body.kind() == "read" {
                panic!("cannot read today");
            }
            ctx.not_supported(&msg);
        }
    }
    let store = scratch_store();
    let run = runner::simulation::Simulation::new("broadcast")
        .node("panicky", || Panicky)
        .node_count(2)
        .time_limit(2.0)
        .recovery_time(1.0)
        .rate(20.0)
        .seed(1)
        .store(&store)
        .run()
        .expect("the run runs");
    assert!(!run.valid());
    let problems = run.outcome.results["problems"].as_array().unwrap().clone();
    assert!(
        problems.iter().any(|p| p["kind"] == "exited"
            && p["example"]
                .as_str()
                .unwrap_or("")
                .contains("panicked: cannot read today")),
        "{problems:?}"
    );
}

/// Planted bugs that a fault shows on every schedule are caught by both backends on the same
/// flags: the simulator is not kinder, and the process backend not harsher.
#[test]
fn both_backends_catch_planted_bugs_that_every_schedule_shows() {
    for (workload, node, fault) in [
        ("unique-ids", "unique-ids-restart", "kill"),
        ("g-counter", "g-counter-double-count", "duplicate"),
    ] {
        let common = [
            "-w",
            workload,
            "--node-count",
            "3",
            "--rate",
            "50",
            "--time-limit",
            "4",
            "--recovery-time",
            "2",
            "--nemesis",
            fault,
            "--nemesis-interval",
            "1",
            "--seed",
            "2",
        ];
        let bin = node_bin(node).display().to_string();
        let mut process: Vec<&str> = vec!["--bin", &bin];
        process.extend(common);
        let mut sim: Vec<&str> = vec!["--sim", "--node", node];
        sim.extend(common);
        let (p, s) = (harness_test(&process), harness_test(&sim));
        assert_eq!(s.code, 1, "simulator, {node}: {}", s.stdout);
        assert_eq!(p.code, 1, "process backend, {node}: {}", p.stdout);
        assert_eq!(s.results["workload"]["valid"], false);
        assert_eq!(p.results["workload"]["valid"], false);
    }
}

/// A node that never lets virtual time move (a timer for now, set again at every timer) would
/// hang the simulator: the run stops as a livelock, and says so.
#[test]
fn a_node_that_never_lets_time_move_is_stopped_as_a_livelock() {
    struct Spinner;
    impl nodes::Node for Spinner {
        fn on_init(&mut self, ctx: &mut nodes::Ctx) {
            ctx.set_timer(std::time::Duration::ZERO);
        }
        fn on_message(&mut self, ctx: &mut nodes::Ctx, msg: proto::Message) {
            ctx.not_supported(&msg);
        }
        fn on_timer(&mut self, ctx: &mut nodes::Ctx, _: nodes::TimerId) {
            ctx.set_timer(std::time::Duration::ZERO);
        }
    }
    let store = scratch_store();
    let run = runner::simulation::Simulation::new("echo")
        .node("spinner", || Spinner)
        .node_count(1)
        .time_limit(1.0)
        .seed(1)
        .store(&store)
        .run()
        .expect("the run ends");
    assert_eq!(run.outcome.exit_code, 3, "{}", run.headline());
    let aborted = run.outcome.results["run"]["aborted"]
        .as_str()
        .unwrap_or_default();
    assert!(
        aborted.starts_with("livelock: 1000000 events at"),
        "{aborted}"
    );
}

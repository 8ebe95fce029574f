//! Byzantine nodes (`--nemesis byzantine --byzantine N`) and the n ≥ 3f + 1 bound of the
//! course's fail-arbitrary model: Bracha's broadcast stays correct with one liar among four,
//! eager broadcast does not, and Bracha itself breaks with one liar among three. All runs are
//! simulated: one seed, the same run on any machine.

use serde_json::Value;

use crate::harness::{Run, harness, harness_test};

/// A simulated broadcast run of `node` on `n` nodes, one of them Byzantine, with `extra`
/// flags (and node arguments after `--`).
fn byzantine_run(node: &str, n: usize, seed: u64, extra: &[&str]) -> Run {
    byzantine_run_with(node, n, seed, "byzantine", extra)
}

/// [`byzantine_run`] with the faults `nemesis` (byzantine among them).
fn byzantine_run_with(node: &str, n: usize, seed: u64, nemesis: &str, extra: &[&str]) -> Run {
    let (n, seed) = (n.to_string(), seed.to_string());
    let mut args = vec![
        "-w",
        "broadcast",
        "--sim",
        "--node",
        node,
        "--node-count",
        &n,
        "--time-limit",
        "4",
        "--rate",
        "10",
        "--latency",
        "20",
        "--recovery-time",
        "3",
        "--nemesis",
        nemesis,
        "--nemesis-interval",
        "1",
        "--byzantine",
        "1",
        "--seed",
        &seed,
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    harness_test(&args)
}

/// The `byzantine-alter` events of a run's history, by how.
fn alterations(run: &Run, how: &str) -> usize {
    run.history
        .iter()
        .filter(|e| e.f == "byzantine-alter" && e.value["how"] == how)
        .count()
}

#[test]
fn bracha_with_four_nodes_and_one_equivocating_node_is_valid_on_every_seed() {
    // The course's claim: with n >= 3f + 1, Bracha's correct nodes agree on each broadcast,
    // deliver a correct origin's value unaltered, and deliver every acknowledged value.
    for seed in 1..=4 {
        let run = byzantine_run("broadcast-bracha", 4, seed, &[]);
        assert_eq!(run.code, 0, "seed {seed}: {}", run.stdout);
        assert_eq!(run.results["byzantine"]["valid"], Value::Bool(true));
        assert!(
            alterations(&run, "equivocate") > 0 && alterations(&run, "forge") > 0,
            "seed {seed}: the Byzantine node lied"
        );
        let stable = run.results["workload"]["stable_count"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            stable > 0,
            "seed {seed}: broadcasts of correct origins were delivered"
        );
    }
}

#[test]
fn bracha_with_one_liar_among_four_stays_valid_under_loss_and_partitions() {
    // Reliable links from fair-loss ones: each message is sent again until acknowledged.
    for seed in 1..=4 {
        let run = byzantine_run_with("broadcast-bracha", 4, seed, "byzantine,loss,partition", &[]);
        assert_eq!(run.code, 0, "seed {seed}: {}", run.stdout);
    }
}

#[test]
fn eager_broadcast_with_one_byzantine_node_among_four_is_invalid_and_names_the_liar() {
    let run = byzantine_run("broadcast-eager", 4, 1, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.results["byzantine"]["valid"], Value::Bool(false));
    let liar = run.results["byzantine"]["byzantine_nodes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let headline = run.results["headline"].as_str().unwrap_or_default();
    assert!(
        headline.contains(&format!("{liar} (Byzantine)")) && headline.contains("a version of"),
        "{headline}"
    );
    assert!(
        run.stdout.contains(&format!("{liar} (Byzantine)")),
        "{}",
        run.stdout
    );
}

#[test]
fn bracha_with_three_nodes_told_f_1_stalls_on_some_seed() {
    // n = 3 = 3f: the echo quorum ceil((n + f + 1) / 2) = 3 needs the liar's echo too.
    let stalled = (1..=4).any(|seed| {
        let run = byzantine_run("broadcast-bracha", 3, seed, &["--", "--faulty", "1"]);
        run.code == 1
            && run.results["headline"]
                .as_str()
                .is_some_and(|h| h.starts_with("not live"))
    });
    assert!(
        stalled,
        "one Byzantine node among three should stop Bracha told f = 1"
    );
}

#[test]
fn bracha_with_three_nodes_and_its_default_f_breaks_agreement_or_integrity_on_some_seed() {
    // At n = 3 the default f is floor(2 / 3) = 0: one READY delivers, and the liar's does.
    let broken = (1..=4).any(|seed| {
        let run = byzantine_run("broadcast-bracha", 3, seed, &[]);
        run.results["byzantine"]["valid"] == Value::Bool(false)
    });
    assert!(
        broken,
        "one Byzantine node among three should break Bracha's safety"
    );
}

#[test]
fn every_alteration_is_in_the_journal_and_the_history_and_check_rejudges_the_run() {
    let run = byzantine_run("broadcast-eager", 4, 2, &[]);
    let start: Vec<&checker::Event> = run.history.iter().filter(|e| e.f == "byzantine").collect();
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].value.as_array().map(Vec::len), Some(1));
    let altered = run
        .history
        .iter()
        .filter(|e| e.f == "byzantine-alter")
        .count();
    let journal = std::fs::read_to_string(run.dir.join("messages.jsonl")).unwrap();
    let noted = journal
        .lines()
        .filter(|l| l.contains("\"byzantine\":"))
        .count();
    assert!(altered > 0);
    assert_eq!(altered, noted, "one journal note per history event");
    for e in run.history.iter().filter(|e| e.f == "byzantine-alter") {
        for change in e.value["changes"].as_array().unwrap() {
            let (original, made) = (change[0].as_u64().unwrap(), change[1].as_u64().unwrap());
            assert!((1_000_000..101_000_000).contains(&original), "{e:?}");
            assert!(made >= checker::byzantine::FIRST_FRESH_VALUE, "{e:?}");
        }
    }
    let (code, stdout, _) = harness(&["check", run.dir.to_str().unwrap()]);
    assert_eq!(
        code, 1,
        "harness check judges from the files alone: {stdout}"
    );
    assert!(stdout.contains("(Byzantine)"), "{stdout}");
}

#[test]
fn the_same_seed_gives_byte_identical_files_with_byzantine_nodes() {
    let run = byzantine_run_with(
        "broadcast-bracha",
        4,
        3,
        "byzantine,loss",
        &["--check-determinism"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("wrote the same"), "{}", run.stdout);
}

#[test]
fn byzantine_flags_that_do_not_fit_are_usage_errors() {
    let eager = crate::harness::node_bin("broadcast-eager");
    let eager = eager.to_str().unwrap();
    for (flags, says) in [
        (&["--byzantine", "1"][..], "needs --nemesis byzantine"),
        (&["--nemesis", "byzantine"][..], "needs --byzantine N"),
        (
            &["--nemesis", "byzantine", "--byzantine", "0"][..],
            "at least 1",
        ),
        (
            &["--nemesis", "byzantine", "--byzantine", "3"][..],
            "at most 2 of the 3 nodes",
        ),
        (
            &[
                "--nemesis",
                "byzantine",
                "--byzantine",
                "1",
                "--hosts",
                "localhost",
                "--key-file",
                "/dev/null",
            ][..],
            "does not work with --hosts",
        ),
    ] {
        let mut args = vec![
            "test",
            "-w",
            "broadcast",
            "--bin",
            eager,
            "--node-count",
            "3",
        ];
        args.extend_from_slice(flags);
        let (code, _, stderr) = harness(&args);
        assert_eq!(code, 3, "{flags:?}: {stderr}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
    }
    let (code, _, stderr) = harness(&[
        "test",
        "-w",
        "broadcast",
        "--bin",
        eager,
        "--nemesis",
        "lies",
    ]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("byzantine"),
        "the valid faults are listed: {stderr}"
    );
}

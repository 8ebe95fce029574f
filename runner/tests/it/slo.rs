//! `--slo PERCENT%@LATENCY[/WINDOW]`: a service-level objective judged per client and window
//! (the course's definition: "99.9% of requests in a day get a response within 200 ms"), in
//! the simulator so that every latency is the same on every machine.

use crate::harness::harness_test;

fn lin_kv_leader(extra: &[&str]) -> crate::harness::Run {
    let mut args = vec![
        "--sim",
        "-w",
        "lin-kv",
        "--node",
        "lin-kv-leader",
        "--node-count",
        "3",
        "--time-limit",
        "6",
        "--rate",
        "20",
        "--latency",
        "10",
        "--seed",
        "4",
    ];
    args.extend_from_slice(extra);
    harness_test(&args)
}

#[test]
fn an_objective_a_healthy_cluster_meets_is_met_and_charted() {
    let run = lin_kv_leader(&["--slo", "99%@500ms/2s"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let slo = &run.results["slo"];
    assert_eq!(slo["objective"], "99%@500ms/2s");
    assert_eq!(slo["missed"], 0);
    assert!(
        slo["windows"].as_u64().unwrap() >= 9,
        "3 clients x 3 windows: {slo}"
    );
    assert!(
        run.stdout.contains("SLO 99%@500ms/2s: met"),
        "{}",
        run.stdout
    );
    let page = std::fs::read_to_string(run.dir.join("report.html")).unwrap();
    assert!(page.contains(r#"id="slo-chart""#));
}

#[test]
fn a_partition_makes_a_tight_objective_fail_and_the_story_names_the_window_and_the_fault() {
    let run = lin_kv_leader(&[
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1.5",
        "--slo",
        "99.9%@50ms/2s",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let slo = &run.results["slo"];
    assert!(slo["missed"].as_u64().unwrap() >= 1, "{slo}");
    assert_eq!(slo["valid"], false);
    let headline = run.results["headline"].as_str().unwrap();
    assert!(
        headline.contains("service-level objective was missed")
            && headline.contains("worst: the client of n"),
        "{headline}"
    );
    assert!(
        slo["faults_in_worst"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "the worst window falls during a partition: {slo}"
    );
}

#[test]
fn a_malformed_objective_is_refused_with_how_to_write_one() {
    let run = lin_kv_leader(&["--slo", "99@500ms"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stderr.contains("e.g. 99%@500ms"), "{}", run.stderr);
}

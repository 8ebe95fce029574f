//! `harness compare` end to end: two variants under one short scenario, the table on stdout,
//! `compare.json` and `compare.html` in the store, and the arguments given to every node.

use std::process::Command;

use serde_json::Value;

use crate::harness::{node_bin, scratch_store};

#[test]
fn two_variants_side_by_side_with_their_files() {
    let store = scratch_store();
    let bins = [node_bin("broadcast-eager"), node_bin("broadcast-fifo")];
    let bins = format!("{},{}", bins[0].display(), bins[1].display());
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["compare", "--preset", "faults", "--only", "partitions"])
        .args(["--node-count", "3"])
        .args(["--time-limit", "4", "--recovery-time", "2", "--seed", "7"])
        .args(["--bins", &bins, "--store"])
        .arg(&store)
        .args(["--", "--interval-ms", "40"])
        .output()
        .expect("running harness compare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "comparing 2 variant(s) over 1 scenario(s), seed 7, every node run with: --interval-ms 40"
        ),
        "{stdout}"
    );
    let row = |variant: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(variant))
            .unwrap_or_else(|| panic!("no row for {variant}: {stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // variant, msgs per op and per broadcast, copies per broadcast, p50 and max of the
    // broadcast, visibility and stable latencies, lost, dup, fifo, causal, total, valid; under
    // the scenario's name.
    assert!(stdout.contains("scenario: partitions"), "{stdout}");
    let fifo = row("broadcast-fifo");
    assert_eq!(fifo.len(), 16, "{fifo:?}");
    assert_eq!(fifo[10], "0", "lost: {fifo:?}");
    assert_eq!(fifo[12], "ok*", "the promised order is marked: {fifo:?}");
    assert_eq!(fifo[15], "valid");
    assert_eq!(row("broadcast-eager")[15], "valid");
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 120,
            "wider than 120 columns: {line}"
        );
    }
    assert!(
        !stdout.contains("why not valid"),
        "no line of why when every run is valid: {stdout}"
    );

    let dir = store.join("compare/latest");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(
        json["node_args"],
        serde_json::json!(["--interval-ms", "40"])
    );
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["variant"], "broadcast-fifo");
    assert_eq!(rows[1]["promises"], "fifo");
    assert_eq!(rows[1]["fifo"], true);
    assert_eq!(rows[1]["lost"], 0);
    assert!(rows[1]["msgs_per_broadcast"].as_f64().unwrap() > 0.0);
    for latency in ["broadcast", "visibility", "stable"] {
        assert!(
            rows[1]["latencies"][latency]["max_ms"].is_number(),
            "{latency}: {}",
            rows[1]
        );
    }
    // Each row points at an ordinary run folder with its own files and report.
    for row in rows {
        let run = std::path::PathBuf::from(row["run_dir"].as_str().unwrap());
        for file in [
            "history.jsonl",
            "messages.jsonl",
            "results.json",
            "report.html",
        ] {
            assert!(run.join(file).is_file(), "{}: no {file}", run.display());
        }
    }
    // store/latest points at a run folder (the last run: every run was valid), which is what
    // `harness report` and `make report-check` open.
    let latest = std::fs::canonicalize(store.join("latest")).unwrap();
    assert!(
        latest.join("history.jsonl").is_file(),
        "{}",
        latest.display()
    );
    let last = std::fs::canonicalize(rows[1]["run_dir"].as_str().unwrap()).unwrap();
    assert_eq!(latest, last);
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(
        html.contains("broadcast-fifo") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("Every node program ran with: --interval-ms 40."));
    assert!(html.contains(
        "<figcaption>Copies per broadcast: how many times each value crossed a link</figcaption>"
    ));
    // Each row links to its run's report, relative to the compare folder.
    for row in rows {
        let run = std::path::PathBuf::from(row["run_dir"].as_str().unwrap());
        let name = run.file_name().unwrap().to_string_lossy().to_string();
        let link = format!("../../broadcast/{name}/report.html");
        assert!(html.contains(&format!("href='{link}'")), "{link}: {html}");
        assert!(
            dir.join(&link).is_file(),
            "{link} does not open from the compare folder"
        );
    }
}

/// `make test-broadcast` on a few seeds: every reference algorithm valid in every scenario
/// (partitions; kills of majorities and of every node; pauses; loss and duplication;
/// everything at once), every time. The README gives the figures of a 20-seed run.
#[test]
fn test_broadcast_is_valid_for_every_algorithm_and_fault_on_several_seeds() {
    // Ten runs at a time, not all thirty: the test binaries are unoptimised and other tests
    // run beside this one.
    for seed in ["1", "2"] {
        let store = scratch_store();
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args([
                "compare", "--preset", "faults", "--jobs", "10", "--seed", seed,
            ])
            .arg("--store")
            .arg(&store)
            .output()
            .expect("running harness compare");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "seed {seed}:\n{stdout}");
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(store.join("compare/latest/compare.json")).unwrap(),
        )
        .unwrap();
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 30, "6 algorithms, 5 scenarios");
        for row in rows {
            assert_eq!(row["valid"], true, "seed {seed}: {row}");
            assert_eq!(row["lost"], 0, "seed {seed}: {row}");
        }
    }
}

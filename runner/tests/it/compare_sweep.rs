//! Copies per broadcast and `harness compare --sweep`: unbatched eager reliable broadcast sends
//! exactly n(n-1) copies of each value without faults, gossip about n; a sweep runs every
//! variant at every value and draws the figures against it; the frontier preset marks the runs
//! no other beats, with the Gossip Glomers limits.

use std::process::Command;

use serde_json::Value;

use crate::harness::{harness, harness_test, node_bin, scratch_store};

/// `harness compare --store STORE ARGS`: exit code, stdout, and `compare.json`.
fn compare(store: &std::path::Path, args: &[&str]) -> (i32, String, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("compare")
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("running harness compare");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json = std::fs::read_to_string(store.join("compare/latest/compare.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no compare.json:\n{stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), stdout, json)
}

#[test]
fn unbatched_eager_sends_exactly_n_n_minus_1_copies_and_gossip_about_n() {
    let store = scratch_store();
    let (code, stdout, json) = compare(
        &store,
        &[
            "--sim",
            "--bins",
            "broadcast-eager,broadcast-gossip",
            "--only",
            "no faults",
            "--sweep",
            "node-count=3,5,8",
            "--time-limit",
            "3",
            "--rate",
            "10",
            "--recovery-time",
            "2",
            "--seed",
            "5",
            "--",
            "--interval-ms",
            "0",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("broadcast-eager (unbatched) node-count=8"),
        "the textbook variant is named so: {stdout}"
    );
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "2 variants at 3 node counts");
    for row in rows {
        let n = row["node_count"].as_f64().unwrap();
        let copies = row["copies_per_broadcast"].as_f64().unwrap();
        let envelopes = row["msgs_per_broadcast"].as_f64().unwrap();
        assert_eq!(row["valid"], true, "{row}");
        match row["program"].as_str().unwrap() {
            // Every node relays every value once to every other, one message per copy; no
            // copy is retried without faults.
            "broadcast-eager" => {
                assert_eq!(copies, n * (n - 1.0), "{row}");
                assert!(envelopes >= copies, "one message per copy at least: {row}");
            }
            // Along the tree, one copy per edge (n - 1) plus the origin's `store`, and now and
            // then an anti-entropy delta: about n, far under n(n-1) from 5 nodes on.
            _ => {
                assert!(copies >= n - 1.0 && copies < 1.5 * n, "{row}");
            }
        }
        assert_eq!(
            row["settings"],
            serde_json::json!([["node-count", (n as u64).to_string()]])
        );
    }
    assert_eq!(
        json["sweeps"],
        serde_json::json!([{"param": "node-count", "values": ["3", "5", "8"]}])
    );
    let html = std::fs::read_to_string(store.join("compare/latest/compare.html")).unwrap();
    for piece in [
        "<h2>Against node-count</h2>",
        "Copies per broadcast: how many times each value crossed a link",
        "n(n-1): eager, every node to every other",
        "n log2 n",
        "<polyline",
        "<h2>Frontier</h2>",
    ] {
        assert!(html.contains(piece), "{piece}");
    }
    assert!(
        !html.contains("<figcaption>Server messages per client op</figcaption>"),
        "a sweep is drawn against the swept value, not one bar per run"
    );
}

#[test]
fn the_same_seed_gives_the_same_simulated_sweep_and_bad_sweeps_are_refused() {
    let args = [
        "--sim",
        "--bins",
        "broadcast-gossip",
        "--only",
        "no faults",
        "--sweep",
        "interval-ms=0,200",
        "--sweep",
        "peers=tree,random",
        "--node-count",
        "6",
        "--time-limit",
        "3",
        "--recovery-time",
        "3",
        "--rate",
        "20",
        "--seed",
        "9",
    ];
    let figures = |json: &Value| -> Vec<String> {
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r["variant"], r["msgs_per_op"], r["copies_per_broadcast"], r["latencies"]
                )
            })
            .collect()
    };
    let (a, b) = (scratch_store(), scratch_store());
    let (code, stdout, first) = compare(&a, &args);
    assert_eq!(code, 0, "{stdout}");
    let (_, _, second) = compare(&b, &args);
    assert_eq!(figures(&first), figures(&second));
    let labels: Vec<&str> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "broadcast-gossip (unbatched) interval-ms=0 peers=tree",
            "broadcast-gossip (unbatched) interval-ms=0 peers=random",
            "broadcast-gossip interval-ms=200 peers=tree",
            "broadcast-gossip interval-ms=200 peers=random",
        ]
    );
    // Unbatched, each push carries one value: more messages than batched, for the same copies
    // (give or take anti-entropy).
    let msgs = |i: usize| first["rows"][i]["msgs_per_op"].as_f64().unwrap();
    assert!(msgs(0) > msgs(2), "{:?}", figures(&first));

    for (sweep, says) in [
        ("node-count=0", "positive integer"),
        ("fanout", "PARAM=V1,V2"),
    ] {
        let (code, _, stderr) = harness(&["compare", "--sim", "--sweep", sweep]);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains(says), "{sweep}: {stderr}");
    }
    let (code, _, stderr) = harness(&[
        "compare",
        "--sim",
        "--bins",
        "broadcast-eager",
        "--args-for",
        "broadcast-gossip=--fanout 2",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(
            "--args-for broadcast-gossip: no such program among the variants (broadcast-eager)"
        ),
        "{stderr}"
    );
    let (_, _, stderr) = harness(&["compare", "--sim", "--bins", "no-such-node"]);
    assert!(
        stderr.contains("\"no-such-node\" is none of: ") && stderr.contains("broadcast-gossip"),
        "{stderr}"
    );
}

#[test]
fn the_frontier_preset_marks_the_runs_no_other_beats_with_the_glomers_limits() {
    let store = scratch_store();
    let (code, stdout, json) = compare(
        &store,
        &[
            "--preset",
            "frontier",
            "--sim",
            "--sweep",
            "interval-ms=100,400",
            "--node-count",
            "10",
            "--time-limit",
            "4",
            "--rate",
            "40",
            "--recovery-time",
            "3",
            "--seed",
            "3",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "broadcast-gossip at two intervals");
    // A longer interval batches more: fewer messages, later visibility.
    let figure = |i: usize, f: &str| rows[i][f].as_f64().unwrap();
    assert!(
        figure(1, "msgs_per_op") < figure(0, "msgs_per_op"),
        "{json}"
    );
    let html = std::fs::read_to_string(store.join("compare/latest/compare.html")).unwrap();
    assert!(html.contains("<h2>Frontier</h2>"), "{html}");
    assert!(html.contains("Glomers 3d median 400 ms"), "{html}");
    assert!(
        html.contains("broadcast-gossip interval-ms=400: "),
        "the cheaper run is on the frontier: {html}"
    );
}

#[test]
fn a_real_run_counts_copies_in_results_and_harness_check_counts_the_same_from_the_journal() {
    let bin = node_bin("broadcast-eager");
    let run = harness_test(&[
        "-w",
        "broadcast",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "4",
        "--time-limit",
        "3",
        "--rate",
        "10",
        "--seed",
        "11",
        "--",
        "--interval-ms",
        "0",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let servers = &run.results["net"]["servers"];
    let copies = servers["copy_count"].as_u64().unwrap();
    // Every value reaches every node, and each node relays it to the 3 others: at least
    // n(n-1) = 12 copies (more only if a copy had to be sent again).
    let per_broadcast = servers["copies_per_broadcast"].as_f64().unwrap();
    assert!(per_broadcast >= 12.0, "{servers}");
    assert!(
        run.stdout.contains("copies of each broadcast value"),
        "{}",
        run.stdout
    );
    let values: Vec<u64> = run
        .history
        .iter()
        .filter(|e| e.f == "broadcast" && e.kind == checker::EventType::Invoke)
        .map(|e| e.value.as_u64().unwrap())
        .collect();
    assert!(
        values.iter().all(|v| *v >= 1_000_000),
        "broadcast values start at a million: {values:?}"
    );
    let (code, stdout, _) = harness(&[
        "check",
        run.dir.join("history.jsonl").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(checked["net"]["servers"]["copy_count"], copies, "{stdout}");
}

#[test]
fn arguments_for_one_variant_reach_its_nodes_alone_and_name_it() {
    let store = scratch_store();
    let (code, stdout, json) = compare(
        &store,
        &[
            "--sim",
            "--bins",
            "broadcast-eager,broadcast-gossip",
            "--args-for",
            "broadcast-gossip=--interval-ms 300 --anti-entropy-ms 4000",
            "--only",
            "no faults",
            "--node-count",
            "4",
            "--time-limit",
            "2",
            "--recovery-time",
            "2",
            "--rate",
            "10",
            "--seed",
            "2",
            "--",
            "--interval-ms",
            "50",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows[0]["variant"], "broadcast-eager");
    assert_eq!(
        rows[0]["node_args"],
        serde_json::json!(["--interval-ms", "50"])
    );
    assert_eq!(
        rows[1]["variant"],
        "broadcast-gossip --interval-ms 300 --anti-entropy-ms 4000"
    );
    // After the common arguments, so its own interval wins.
    assert_eq!(
        rows[1]["node_args"],
        serde_json::json!([
            "--interval-ms",
            "50",
            "--interval-ms",
            "300",
            "--anti-entropy-ms",
            "4000"
        ])
    );
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(rows[1]["run_dir"].as_str().unwrap()).join("results.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(results["run"]["args"], rows[1]["node_args"]);
}

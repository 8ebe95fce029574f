//! The transactional workloads end to end, through the binary and the simulator: the
//! reference stores meet the models they claim, every planted isolation bug is caught with its
//! anomaly named in the summary, results.json and report.html, and `harness check` reads
//! transactional histories in JSON lines and in Jepsen's EDN.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::{ScratchDir, harness, harness_test, scratch_store};

/// A simulated two-node run of `node` on `workload` against `models`, with random latencies
/// (so that replication races with clients), then `extra`.
fn sim_run(node: &str, workload: &str, models: &str, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec![
        "--sim",
        "--node",
        node,
        "-w",
        workload,
        "--consistency-models",
        models,
        "--node-count",
        "2",
        "--time-limit",
        "3",
        "--rate",
        "100",
        "--latency",
        "20",
        "--latency-dist",
        "exponential",
        "--seed",
        "2",
    ];
    args.extend_from_slice(extra);
    harness_test(&args)
}

fn anomaly_types(run: &crate::harness::Run) -> Vec<String> {
    run.results["workload"]["anomaly_types"]
        .as_array()
        .unwrap_or_else(|| panic!("no anomaly_types: {}", run.results["workload"]))
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_reference_stores_meet_the_models_they_claim_under_faults() {
    let faults = ["--nemesis", "partition,kill", "--nemesis-interval", "1"];
    for (node, workload, models) in [
        ("txn-single", "txn-list-append", "strict-serializable"),
        ("txn-single", "txn-rw-register", "strict-serializable"),
        ("txn-rc", "txn-rw-register", "read-committed"),
    ] {
        let run = sim_run(node, workload, models, &faults);
        assert_eq!(
            run.code, 0,
            "{node} {workload}:\n{}{}",
            run.stdout, run.stderr
        );
        let w = &run.results["workload"];
        assert_eq!(w["valid"], Value::Bool(true), "{node}: {w}");
        assert!(w["ok_count"].as_u64() > Some(100), "{node}: {w}");
        assert_eq!(w["prohibited_types"], serde_json::json!([]), "{node}: {w}");
        assert!(
            run.stdout.contains(&format!(
                "isolation ({workload}, checked against {models}): valid"
            )),
            "{}",
            run.stdout
        );
        assert!(run.results["run"]["schedule"]["faults_done"].as_u64() > Some(1));
    }
}

#[test]
fn txn_rc_is_read_committed_and_not_serializable() {
    let run = sim_run("txn-rc", "txn-rw-register", "serializable", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let types = anomaly_types(&run);
    assert!(
        types
            .iter()
            .any(|t| t == "G2-item" || t.starts_with("G-single")),
        "{types:?}"
    );
    assert!(
        run.stdout
            .contains("isolation (txn-rw-register, checked against serializable): invalid"),
        "{}",
        run.stdout
    );
    // The first case is a cycle, told edge by edge and drawn in the report.
    let first = &run.results["workload"]["anomalies"][&types[0]][0];
    let steps = first["steps"].as_array().expect("steps");
    assert!(steps.len() >= 2, "{first}");
    for step in steps {
        assert!(
            ["ww", "wr", "rw"].contains(&step["kind"].as_str().unwrap()),
            "{step}"
        );
        assert!(
            step["explanation"].as_str().unwrap().contains("key "),
            "{step}"
        );
    }
    let explanation = first["explanation"].as_str().unwrap();
    assert!(explanation.contains("T1 < T2"), "{explanation}");
    let headline = run.results["headline"].as_str().expect("a headline");
    assert!(
        headline.starts_with("isolation anomalies (checked against serializable): "),
        "{headline}"
    );
    let report = std::fs::read_to_string(run.dir.join("report.html")).unwrap();
    assert!(report.contains(r#"<svg class="cycle""#), "no cycle drawn");
    assert!(report.contains(&format!("<h3>{}</h3>", types[0])));
}

#[test]
fn each_planted_isolation_bug_is_caught_with_its_anomaly_named() {
    for (node, workload, models, anomaly) in [
        (
            "txn-dirty-writes",
            "txn-list-append",
            "read-uncommitted",
            "G0",
        ),
        (
            "txn-aborted-reads",
            "txn-rw-register",
            "read-committed",
            "G1a",
        ),
        (
            "txn-intermediate-reads",
            "txn-rw-register",
            "read-committed",
            "G1b",
        ),
        (
            "txn-lost-updates",
            "txn-list-append",
            "serializable",
            "G-single",
        ),
    ] {
        let run = sim_run(node, workload, models, &[]);
        assert_eq!(run.code, 1, "{node}:\n{}{}", run.stdout, run.stderr);
        let types = anomaly_types(&run);
        assert!(
            types.iter().any(|t| t.starts_with(anomaly)),
            "{node}: {types:?}"
        );
        let prohibited = &run.results["workload"]["prohibited_types"];
        assert!(
            prohibited
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t.as_str().unwrap().starts_with(anomaly)),
            "{node}: {prohibited}"
        );
        assert!(
            run.stdout.contains(&format!("  {anomaly}")),
            "{node}: the summary names {anomaly}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn the_transaction_flags_shape_the_generator() {
    let run = harness_test(&[
        "--sim",
        "--node",
        "txn-single",
        "-w",
        "txn-list-append",
        "--time-limit",
        "2",
        "--rate",
        "200",
        "--max-txn-length",
        "2",
        "--key-count",
        "3",
        "--max-writes-per-key",
        "2",
        "--seed",
        "5",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mut appends = std::collections::BTreeMap::<u64, u64>::new();
    for event in run
        .history
        .iter()
        .filter(|e| e.kind == checker::EventType::Invoke)
    {
        let txn = event.value.as_array().unwrap();
        assert!((1..=2).contains(&txn.len()), "{}", event.value);
        for m in txn.iter().filter(|m| m[0] == "append") {
            *appends.entry(m[1].as_u64().unwrap()).or_default() += 1;
        }
    }
    assert!(appends.values().all(|&n| n <= 2), "{appends:?}");
    assert!(
        appends.len() > 20,
        "fresh keys replace full ones: {appends:?}"
    );
    let (code, _, stderr) = harness(&[
        "test",
        "--sim",
        "--node",
        "txn-single",
        "-w",
        "txn-list-append",
        "--consistency-models",
        "serialisable",
    ]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("unknown consistency model \"serialisable\""),
        "{stderr}"
    );
    // Sizes that would exhaust memory or time are refused, with the bound.
    for (flag, value, expected) in [
        (
            "--key-count",
            "0",
            "--key-count must be between 1 and 100000, not 0",
        ),
        (
            "--key-count",
            "1000000",
            "--key-count must be between 1 and 100000",
        ),
        (
            "--max-writes-per-key",
            "1000000000",
            "--max-writes-per-key must be at most 100000",
        ),
        (
            "--max-txn-length",
            "20000",
            "--max-txn-length must be at most 10000",
        ),
    ] {
        let (code, _, stderr) = harness(&[
            "test",
            "--sim",
            "--node",
            "txn-single",
            "-w",
            "txn-list-append",
            flag,
            value,
        ]);
        assert_eq!(code, 3, "{flag} {value}: {stderr}");
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
    }
}

/// A list-append history in which two transactions each read what the other appended: G1c.
const G1C_EDN: &str = r#"; two clients, each reads the other's append
[{:process 0, :type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]]}
 {:process 1, :type :invoke, :f :txn, :value [[:append :y 1] [:r :x nil]]}
 {:process 0, :type :ok, :f :txn, :value [[:append :x 1] [:r :y [1]]]}
 {:process 1, :type :ok, :f :txn, :value [[:append :y 1] [:r :x [1]]]}]
"#;

/// `text` in a file `name` of a fresh folder, which goes when the returned guard does.
fn write_file(name: &str, text: &str) -> (ScratchDir, PathBuf) {
    let dir = scratch_store();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn harness_check_reads_transactions_in_edn_and_json_lines() {
    let (_edn_dir, edn) = write_file("g1c.edn", G1C_EDN);
    let edn = edn.to_str().unwrap();
    // The workload is detected from the ops; the default model is strict-serializable.
    let (code, stdout, stderr) = harness(&["check", edn]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("txn-list-append"), "{stdout}");
    assert!(stdout.contains("G1c"), "{stdout}");
    // Read uncommitted allows G1c.
    let (code, stdout, _) = harness(&[
        "check",
        edn,
        "--workload",
        "txn-list-append",
        "--consistency-models",
        "read-uncommitted",
    ]);
    assert_eq!(code, 0, "{stdout}");
    // A history of another workload says the flag does not apply to it.
    let (_echo_dir, echo) = write_file(
        "echo.jsonl",
        r#"{"process":0,"type":"invoke","f":"echo","value":"a"}
{"process":0,"type":"ok","f":"echo","value":"a"}
"#,
    );
    let (code, stdout, _) = harness(&[
        "check",
        echo.to_str().unwrap(),
        "--consistency-models",
        "serializable",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("warning: --consistency-models applies to the transactional workloads"),
        "{stdout}"
    );
    // The same history as JSON lines, without index or time, checked with --json: pure JSON.
    let (_jsonl_dir, jsonl) = write_file(
        "g1c.jsonl",
        r#"{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
{"process":1,"type":"invoke","f":"txn","value":[["append","y",1],["r","x",null]]}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1]]]}
{"process":1,"type":"ok","f":"txn","value":[["append","y",1],["r","x",[1]]]}
"#,
    );
    let (code, stdout, stderr) = harness(&[
        "check",
        jsonl.to_str().unwrap(),
        "--workload",
        "txn-list-append",
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("--json prints only JSON");
    let text = json.to_string();
    assert!(text.contains("\"G1c\""), "{text}");
}

#[test]
fn a_transactional_history_streamed_by_harness_check_gets_the_results_of_the_whole_history() {
    let run = sim_run("txn-rc", "txn-rw-register", "serializable", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let history = run.dir.join("history.jsonl");
    let (code, stdout, stderr) = harness(&[
        "check",
        history.to_str().unwrap(),
        "--consistency-models",
        "serializable",
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let streamed: Value = serde_json::from_str(&stdout).unwrap();
    let opts = checker::RunCheckOptions {
        consistency_models: checker::txn::parse_models("serializable").unwrap(),
        ..Default::default()
    };
    let whole =
        serde_json::to_value(workloads::check_run("txn-rw-register", &run.history, &opts)).unwrap();
    assert_eq!(streamed["workload"], whole["workload"]);
    assert_eq!(streamed["stats"], whole["stats"]);
    assert_eq!(streamed["history"]["events"], run.history.len());
    assert_eq!(
        streamed["history"]["streamed"], true,
        "{}",
        streamed["history"]
    );

    // A history the streaming path does not expect is read the ordinary way, which says what
    // is wrong with it.
    let (_mixed_dir, mixed) = write_file(
        "mixed.jsonl",
        r#"{"index":0,"process":0,"type":"invoke","f":"txn","value":[["r",1,null]]}
{"process":0,"type":"ok","f":"txn","value":[["r",1,null]]}
"#,
    );
    let (code, _, stderr) = harness(&["check", mixed.to_str().unwrap(), "--json"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("has no index, though others have one"),
        "{stderr}"
    );
}

//! The command line: bad flags get one clear line and exit 3; `harness check` reads a
//! recorded history; a node that will not start is a run that could not run.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::harness::{harness, harness_test, node_bin, scratch_store, test_node};

/// Run `harness` in `dir` with `args`: exit code, stdout, stderr.
fn harness_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("running harness");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A short echo run's flags (one second, 10 ops/s).
const SHORT: [&str; 6] = [
    "--time-limit",
    "1",
    "--rate",
    "10",
    "--no-progress",
    "--seed",
];

#[test]
fn bad_flags_get_one_line_and_exit_3() {
    let echo = node_bin("echo");
    let echo = echo.to_str().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (&["test", "--bogus"], "--bogus"),
        (
            &["test", "-w", "nope", "--bin", echo],
            "unknown workload \"nope\"",
        ),
        (
            &["test", "-w", "echo", "--bin", "/no/such/node"],
            "no such file",
        ),
        (
            &["test", "-w", "echo", "--bin", echo, "--concurrency", "0n"],
            "--concurrency",
        ),
        (
            &["test", "-w", "echo", "--bin", echo, "--nemesis", "fire"],
            "unknown fault \"fire\"",
        ),
        (
            &["test", "-w", "echo", "--bin", echo, "--rate", "fast"],
            "--rate",
        ),
        (&["frob"], "frob"),
        (
            &["check", "/no/such/history.jsonl"],
            "/no/such/history.jsonl",
        ),
        (&["report", "/no/such/run"], "no such run folder"),
        (&["report", "/"], "not a run folder"),
        (
            &["compare", "--preset", "nope"],
            "unknown --preset \"nope\"",
        ),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = harness(args);
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn help_exits_0() {
    let (code, stdout, _) = harness(&["test", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("--nemesis-interval"));
}

#[test]
fn a_node_that_will_not_start_is_exit_3_with_a_reason() {
    let run = harness_test(&["-w", "echo", "--bin", "/bin/false", "--node-count", "2"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stdout.contains("exited during init"), "{}", run.stdout);
}

#[test]
fn a_node_program_that_cannot_be_started_is_exit_3_and_its_run_folder_says_why() {
    // Executable, so --bin is accepted, but its interpreter does not exist: each node exits
    // at once with exec's code 127.
    let bin = std::env::temp_dir().join(format!("no-interpreter-{}.py", std::process::id()));
    std::fs::write(&bin, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = harness_test(&["-w", "echo", "--bin", bin.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bin);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let why = "exited during init (exit code 127)";
    assert!(run.stdout.contains(why), "{}", run.stdout);
    let node_log = std::fs::read_to_string(run.dir.join("node-logs/n1.log")).unwrap();
    assert!(
        node_log.contains("cannot start") && node_log.contains("No such file or directory"),
        "{node_log}"
    );
    let (code, stdout, _) = harness(&["check", run.dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("incomplete run: it was stopped early (n") && stdout.contains(why),
        "{stdout}"
    );
}

#[test]
fn check_reads_the_history_of_a_run_and_exits_like_test() {
    let bin = node_bin("g-counter");
    let run = harness_test(&[
        "-w",
        "g-counter",
        "--bin",
        bin.to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "2",
        "--rate",
        "20",
        "--recovery-time",
        "1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let history = run.dir.join("history.jsonl");
    let (code, stdout, stderr) = harness(&["check", history.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A history with a line that does not parse: an error naming file, line and reason.
    let broken = std::env::temp_dir().join(format!("broken-{}.jsonl", std::process::id()));
    let mut text = std::fs::read_to_string(&history).unwrap();
    text.push_str("{not json\n");
    std::fs::write(&broken, text).unwrap();
    let (code, _, stderr) = harness(&["check", broken.to_str().unwrap()]);
    let _ = std::fs::remove_file(&broken);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(broken.to_str().unwrap()), "{stderr}");
}

#[test]
fn a_bare_bin_name_is_the_file_of_that_name_in_the_current_folder_as_in_maelstrom() {
    let echo = node_bin("echo");
    let folder = echo.parent().unwrap();
    let store = scratch_store();
    let store_arg = store.to_str().unwrap();
    let mut args = vec!["test", "-w", "echo", "--bin", "echo", "--store", store_arg];
    args.extend(SHORT);
    args.push("4");
    let (code, stdout, stderr) = harness_in(folder, &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.join("latest/results.json")).unwrap())
            .unwrap();
    assert_eq!(
        results["run"]["bin"],
        echo.canonicalize().unwrap().to_str().unwrap()
    );

    // A bare name that is not in the current folder is not looked for in PATH.
    let (code, _, stderr) = harness_in(folder, &["test", "-w", "echo", "--bin", "sh"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--bin sh: no such file"), "{stderr}");
    assert!(stderr.contains("not in PATH"), "{stderr}");

    // A file that is not executable, and a folder, are refused before anything runs.
    let plain = std::env::temp_dir().join(format!("plain-{}.py", std::process::id()));
    std::fs::write(&plain, "#!/usr/bin/env python3\n").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let plain_arg = plain.to_str().unwrap();
    let (code, _, stderr) = harness(&["test", "-w", "echo", "--bin", plain_arg]);
    let _ = std::fs::remove_file(&plain);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("not executable (chmod +x"), "{stderr}");
    let (code, _, stderr) = harness(&["test", "-w", "echo", "--bin", "/tmp"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("a folder, not a program"), "{stderr}");
}

#[test]
fn every_flag_of_maelstrom_test_is_accepted_and_those_without_effect_are_named() {
    let echo = node_bin("echo");
    let mut args = vec![
        "-w",
        "echo",
        "--bin",
        echo.to_str().unwrap(),
        "--nodes",
        "a1, b2",
        "-n",
        "c-3",
        "--username",
        "admin",
        "--password",
        "secret",
        "--ssh-private-key",
        "/no/key",
        "--strict-host-key-checking",
        "--no-ssh",
        "--leave-db-running",
        "--logging-json",
        "--consistency-models",
        "read-committed, serializable",
        "--max-txn-length",
        "4",
        "--max-writes-per-key",
        "16",
        "--key-count",
        "3",
        "--log-net-send",
        "--log-net-recv",
        "--log-stderr",
        "--availability",
        "0.5",
        "--topology",
        "line",
    ];
    args.extend(SHORT);
    args.push("5");
    let run = harness_test(&args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // --nodes and --node name the nodes.
    assert_eq!(
        run.results["run"]["node_ids"],
        serde_json::json!(["a1", "b2", "c-3"])
    );
    assert!(run.dir.join("node-logs/c-3.log").is_file());
    // The rest are named, with why, in results.json and on one line of the summary.
    let ignored: Vec<&str> = run.results["run"]["ignored_flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert_eq!(
        ignored,
        [
            "--consistency-models",
            "--max-txn-length",
            "--max-writes-per-key",
            "--username",
            "--password",
            "--ssh-private-key",
            "--strict-host-key-checking",
            "--no-ssh",
            "--leave-db-running",
            "--logging-json",
        ]
    );
    let line: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("flags ignored here: "))
        .collect();
    assert_eq!(line.len(), 1, "{}", run.stdout);
    assert!(
        line[0].contains("--max-writes-per-key (not used by the echo workload)"),
        "{}",
        line[0]
    );
    assert!(!run.stdout.contains("secret"), "{}", run.stdout);

    // Their values are checked as Maelstrom checks them.
    let echo = echo.to_str().unwrap();
    for (flag, value, expected) in [
        ("--max-txn-length", "0", "--max-txn-length must be positive"),
        ("--test-count", "0", "--test-count must be positive"),
        (
            "--consistency-models",
            "serialisable",
            "unknown consistency model \"serialisable\"",
        ),
        ("--nodes", "n1,n1", "node \"n1\" is named twice"),
        ("--nodes", "n1,c2", "node name \"c2\" is taken"),
    ] {
        let (code, _, stderr) = harness(&["test", "-w", "echo", "--bin", echo, flag, value]);
        assert_eq!(code, 3, "{flag} {value}: {stderr}");
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
    }
}

#[test]
fn nodes_are_n1_to_n5_by_default_and_node_count_overrides_the_node_list() {
    let echo = node_bin("echo");
    let mut args = vec!["-w", "echo", "--bin", echo.to_str().unwrap()];
    args.extend(SHORT);
    args.push("6");
    let run = harness_test(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.results["run"]["node_ids"],
        serde_json::json!(["n1", "n2", "n3", "n4", "n5"])
    );
    // The Jepsen node list: the file's names, then --nodes, then each --node.
    let file = std::env::temp_dir().join(format!("nodes-{}.txt", std::process::id()));
    std::fs::write(&file, " alpha\nbeta \n\n").unwrap();
    let mut listed = args.clone();
    listed.extend(["--nodes-file", file.to_str().unwrap(), "--node", "gamma"]);
    let run = harness_test(&listed);
    let _ = std::fs::remove_file(&file);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.results["run"]["node_ids"],
        serde_json::json!(["alpha", "beta", "gamma"])
    );
    args.extend(["--nodes", "x,y", "--node-count", "2"]);
    let run = harness_test(&args);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.results["run"]["node_ids"],
        serde_json::json!(["n0", "n1"])
    );
    assert_eq!(run.results["run"]["ignored_flags"][0]["flag"], "--nodes");
    assert!(
        run.stdout
            .contains("flags ignored here: --nodes (overridden by --node-count, as in Maelstrom)"),
        "{}",
        run.stdout
    );
}

#[test]
fn test_count_runs_the_test_with_one_seed_each_and_stops_at_the_first_that_is_not_valid() {
    let echo = node_bin("echo");
    let mut args = vec![
        "-w",
        "echo",
        "--bin",
        echo.to_str().unwrap(),
        "--node-count",
        "1",
    ];
    args.extend(SHORT);
    args.extend(["40", "--test-count", "3"]);
    let run = harness_test(&args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (i, seed) in ["40", "41", "42"].iter().enumerate() {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("  run {} of 3, seed {seed}: valid  ", i + 1)))
            .unwrap_or_else(|| panic!("no line for run {}: {}", i + 1, run.stdout));
        let folder = line.rsplit("  ").next().unwrap();
        let results = std::fs::read_to_string(Path::new(folder).join("results.json")).unwrap();
        let results: serde_json::Value = serde_json::from_str(&results).unwrap();
        assert_eq!(results["run"]["seed"], seed.parse::<u64>().unwrap());
        assert_eq!(results["run"]["test_count"]["run"], i + 1);
        // Each run's reproduce line is that run alone.
        let reproduce = results["run"]["reproduce"].as_str().unwrap();
        assert!(!reproduce.contains("--test-count"), "{reproduce}");
        assert!(reproduce.contains(&format!("--seed {seed}")), "{reproduce}");
    }
    assert!(run.stdout.contains("overall: valid"), "{}", run.stdout);

    // A node that is never valid: the first run fails, the others do not start.
    let bad = test_node("unknown_dest.py");
    let mut args = vec![
        "-w",
        "echo",
        "--bin",
        bad.to_str().unwrap(),
        "--node-count",
        "1",
    ];
    args.extend(SHORT);
    args.extend(["40", "--test-count", "3"]);
    let run = harness_test(&args);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("  run 1 of 3, seed 40: invalid  "),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("run 2 of 3"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "stopped at the first run that is not valid, as Jepsen does: 2 run(s) not started"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("overall: invalid"), "{}", run.stdout);
}

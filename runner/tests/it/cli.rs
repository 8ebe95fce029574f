//! The command line: bad flags get one clear line and exit 3; `harness check` reads a
//! recorded history; a node that will not start is a run that could not run.

use crate::harness::{harness, harness_test, node_bin};

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
fn a_node_program_that_cannot_be_executed_is_exit_3_and_its_run_folder_says_why() {
    let bin = std::env::temp_dir().join(format!("not-executable-{}.py", std::process::id()));
    std::fs::write(&bin, "#!/usr/bin/env python3\n").unwrap();
    let run = harness_test(&["-w", "echo", "--bin", bin.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bin);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let why = format!("cannot start {}: Permission denied", bin.display());
    assert!(run.stderr.contains(&why), "{}", run.stderr);
    assert!(run.dir.join("INCOMPLETE").is_file());
    let (code, stdout, _) = harness(&["check", run.dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "incomplete run: the harness could not run it ({why}"
        )),
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

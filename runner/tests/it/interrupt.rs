//! Ctrl-C: the harness stops, kills every node process group, and still writes what it has.

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::node_bin;

/// Pids of the processes whose parent is `parent` (from /proc).
fn children_of(parent: u32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the command name (which is in parentheses): state, ppid, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn ctrl_c_kills_every_node_and_keeps_the_files() {
    let store = std::env::temp_dir().join(format!("harness-int-{}", std::process::id()));
    let bin = node_bin("broadcast-eager");
    let mut harness = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "test",
            "-w",
            "broadcast",
            "--node-count",
            "4",
            "--time-limit",
            "60",
            "--bin",
        ])
        .arg(&bin)
        .arg("--store")
        .arg(&store)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut nodes = Vec::new();
    while Instant::now() < deadline {
        nodes = children_of(harness.id());
        if nodes.len() >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(nodes.len(), 4, "the harness started its nodes");
    std::thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(harness.id() as i32), Signal::SIGINT).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = harness.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the harness did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(3));
    for pid in nodes {
        assert!(
            kill(Pid::from_raw(pid), None).is_err(),
            "node process {pid} survived the harness"
        );
    }
    let results = std::fs::read_to_string(store.join("latest/results.json")).unwrap();
    assert!(results.contains("\"interrupted\": true"), "{results}");
    assert!(store.join("latest/history.jsonl").exists());
    let _ = std::fs::remove_dir_all(&store);
}

/// The highest rate asked for is capped, so the run keeps to its time limit and a SIGTERM
/// is honoured at once however many invocations are due.
#[test]
fn a_rate_the_harness_cannot_generate_is_capped_with_one_line_and_sigterm_still_stops_the_run() {
    let store = std::env::temp_dir().join(format!("harness-rate-{}", std::process::id()));
    let bin = node_bin("echo");
    let run = |time_limit: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
        cmd.args(["test", "-w", "echo", "--node-count", "2", "--rate", "2e8"])
            .args(["--time-limit", time_limit, "--no-progress", "--bin"])
            .arg(&bin)
            .arg("--store")
            .arg(&store);
        cmd
    };
    let start = Instant::now();
    let out = run("2").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Two seconds of workload, ops in flight, the checks: nowhere near the minutes an
    // uncapped rate took.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let capped = "--rate 200000000 is more than the harness can generate: capped at 100000 ops/s";
    assert_eq!(stdout.matches(capped).count(), 2, "{stdout}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.join("latest/results.json")).unwrap())
            .unwrap();
    assert_eq!(results["run"]["rate"], 100_000.0);
    assert_eq!(results["run"]["rate_requested"], 2e8);

    let mut harness = run("60")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    kill(Pid::from_raw(harness.id() as i32), Signal::SIGTERM).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = harness.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the harness did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(3));
    let _ = std::fs::remove_dir_all(&store);
}

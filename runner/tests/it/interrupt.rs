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

//! Running the real `harness` binary from tests: where node programs are, a scratch store per
//! run, and checks on what a run left behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use checker::{Event, EventType, Process};
use serde_json::Value;

/// The folder of the python test nodes.
pub fn test_node(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/nodes")
        .join(name)
}

/// A node program of the `nodes` crate, built if it is not there yet.
pub fn node_bin(name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/it-xxxx -> target/<profile>/
    let dir = exe.parent().and_then(Path::parent).expect("target folder");
    let path = dir.join(name);
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() {
        let release = dir.file_name().is_some_and(|d| d == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "nodes", "--bin", name]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build");
        assert!(status.success(), "cargo build of {name} failed");
    }
    path
}

/// Run `harness` with `args` (any subcommand): its exit code, stdout and stderr.
pub fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .output()
        .expect("running harness");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a run of `harness test` left.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub dir: PathBuf,
    pub results: Value,
    pub history: Vec<Event>,
    /// The scratch store holding `dir`; removed when the run is dropped, unless the test failed.
    pub store: ScratchDir,
}

impl Run {
    /// The problems of `kind` recorded for any node.
    pub fn problems(&self, kind: &str) -> Vec<&Value> {
        self.results["problems"]
            .as_array()
            .map(|a| a.iter().filter(|p| p["kind"] == kind).collect())
            .unwrap_or_default()
    }

    /// Every problem kind recorded.
    pub fn problem_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.results["problems"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        kinds.dedup();
        kinds
    }
}

/// Run `harness test` with `args` in a fresh store; `--store` is added (before `args`, which
/// may end with `-- ARGS` for the nodes).
pub fn harness_test(args: &[&str]) -> Run {
    harness_test_in(&[], args)
}

/// [`harness_test`] run through `prefix` (such as `ip netns exec NS`).
pub fn harness_test_in(prefix: &[&str], args: &[&str]) -> Run {
    let store = scratch_store();
    let start = Instant::now();
    let mut cmd = match prefix.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(env!("CARGO_BIN_EXE_harness"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_harness")),
    };
    let output = cmd
        .arg("test")
        .arg("--store")
        .arg(&store)
        .args(args)
        .output()
        .expect("running harness");
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let dir = store.join("latest");
    let results = std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let history = checker::read_history_file(&dir.join("history.jsonl")).unwrap_or_default();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout,
        stderr,
        elapsed,
        dir,
        results,
        history,
        store,
    }
}

/// A fresh, empty folder for a store, unique to this test process and call; removed when
/// dropped, unless the test failed (then its path is printed, to look at).
pub fn scratch_store() -> ScratchDir {
    static COUNTER: Mutex<u32> = Mutex::new(0);
    let mut n = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    let dir = std::env::temp_dir().join(format!("harness-it-{}-{}", std::process::id(), *n));
    let _ = std::fs::remove_dir_all(&dir);
    ScratchDir(dir)
}

/// A scratch folder of one test: see [`scratch_store`].
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ScratchDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("run files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The history is whole: indices count up from 0, times never go back, and every client
/// process has at most one op open at a time, each completion following its invoke.
pub fn assert_history_intact(history: &[Event]) {
    let mut open: std::collections::BTreeMap<u64, &Event> = Default::default();
    let mut last_time = 0;
    for (i, event) in history.iter().enumerate() {
        assert_eq!(event.index, i as u64, "index out of order at {event:?}");
        assert!(
            event.time + 50_000_000 >= last_time,
            "time went back at {event:?}"
        );
        last_time = last_time.max(event.time);
        let Process::Client(p) = event.process else {
            continue;
        };
        match event.kind {
            EventType::Invoke => {
                assert!(
                    open.insert(p, event).is_none(),
                    "process {p} invoked twice: {event:?}"
                );
            }
            _ => {
                let invoke = open
                    .remove(&p)
                    .unwrap_or_else(|| panic!("completion without invoke: {event:?}"));
                assert_eq!(invoke.f, event.f, "completion of another op: {event:?}");
            }
        }
    }
}

//! No node process outlives the harness, however it ends; a run the harness did not finish
//! says so. The nodes are `tests/nodes/lingers.py`: echo nodes that ignore the end of their
//! input and SIGTERM, record their pids, and (with `--daemons`) start sleepers that leave
//! their process group.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::{ScratchDir, harness_test, scratch_store, test_node};

/// A process, named by its pid and its start time (so that a reused pid is not taken for it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc {
    pid: i32,
    start: String,
}

impl Proc {
    /// Running (a zombie has ended: its parent, or init, has only not reaped it yet).
    fn alive(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        !matches!(fields.first(), Some(&"Z" | &"X")) && fields.get(19) == Some(&&*self.start)
    }
}

/// One line of the file `lingers.py` writes.
#[derive(Debug, Clone)]
struct Record {
    /// `node`, `daemon` or `survivor`.
    what: String,
    node: String,
    proc: Proc,
    /// For a daemon: `child`, `orphan` or `stray`.
    kind: String,
}

/// What the test started: the harness and the processes the nodes recorded, SIGKILLed when the
/// test ends, passed or failed; the scratch folders, removed when it passed.
struct Scratch {
    dir: ScratchDir,
    store: PathBuf,
    harness: Option<Child>,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = scratch_store();
        std::fs::create_dir_all(&dir).unwrap();
        Scratch {
            store: dir.join("store"),
            dir,
            harness: None,
        }
    }

    fn records(&self) -> Vec<Record> {
        let text = std::fs::read_to_string(self.dir.join("pids")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                Some(Record {
                    what: words.first()?.to_string(),
                    node: words.get(1)?.to_string(),
                    proc: Proc {
                        pid: words.get(2)?.parse().ok()?,
                        start: words.get(3).unwrap_or(&"").to_string(),
                    },
                    kind: words.get(4).unwrap_or(&"").to_string(),
                })
            })
            .collect()
    }

    fn of(&self, what: &str) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|r| r.what == what)
            .collect()
    }

    /// Start `harness test` with lingers.py nodes in the background.
    fn start(&mut self, nodes: &str, extra: &[&str]) {
        let child = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["test", "-w", "echo", "--node-count", nodes, "--bin"])
            .arg(test_node("lingers.py"))
            .arg("--store")
            .arg(&self.store)
            .args(extra)
            .arg("--")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("running harness");
        self.harness = Some(child);
    }

    /// Wait (at most `limit`) until `n` nodes have recorded their pids.
    fn wait_for_nodes(&self, n: usize, limit: Duration) -> Vec<Proc> {
        let deadline = Instant::now() + limit;
        loop {
            let nodes = self.of("node");
            if nodes.len() >= n {
                return nodes.into_iter().map(|r| r.proc).collect();
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} nodes started within {limit:?}",
                nodes.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL the harness and reap it.
    fn kill_harness(&mut self) {
        let harness = self.harness.as_mut().expect("the harness was started");
        kill(Pid::from_raw(harness.id() as i32), Signal::SIGKILL).unwrap();
        let status = harness.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }

    /// The folder of the newest run.
    fn latest(&self) -> PathBuf {
        self.store.join("latest")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(harness) = &mut self.harness
            && harness.try_wait().ok().flatten().is_none()
        {
            let _ = harness.kill();
            let _ = harness.wait();
        }
        for record in self.records() {
            if record.proc.alive() {
                let _ = kill(Pid::from_raw(record.proc.pid), Signal::SIGKILL);
            }
        }
    }
}

/// Wait (at most `limit`) until none of `procs` runs; the ones still running.
fn wait_until_gone(procs: &[Proc], limit: Duration) -> Vec<Proc> {
    let deadline = Instant::now() + limit;
    loop {
        let alive: Vec<Proc> = procs.iter().filter(|p| p.alive()).cloned().collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run the harness binary with `args`.
fn harness(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .output()
        .expect("running harness")
}

/// A run of three lingering nodes whose harness is SIGKILLed once they all run.
fn killed_run() -> (Scratch, Vec<Proc>) {
    let mut scratch = Scratch::new();
    scratch.start("3", &["--time-limit", "60", "--rate", "20"]);
    let nodes = scratch.wait_for_nodes(3, Duration::from_secs(30));
    // Let some ops and messages be recorded.
    std::thread::sleep(Duration::from_millis(500));
    scratch.kill_harness();
    (scratch, nodes)
}

#[test]
fn a_harness_killed_with_sigkill_takes_its_nodes_with_it() {
    let (_scratch, nodes) = killed_run();
    assert_eq!(nodes.len(), 3);
    let survivors = wait_until_gone(&nodes, Duration::from_secs(10));
    assert!(
        survivors.is_empty(),
        "node processes outlived the SIGKILLed harness: {survivors:?}"
    );
}

#[test]
fn a_run_cut_short_by_sigkill_is_marked_incomplete_and_its_verdict_is_unknown() {
    let (scratch, _) = killed_run();
    let run = scratch.latest();
    assert!(run.join("INCOMPLETE").is_file(), "the marker stays");
    assert!(!run.join("results.json").exists());
    let history = run.join("history.jsonl");
    for target in [&run, &history] {
        let out = harness(&[Path::new("check"), target]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "check {target:?}: {stdout}");
        assert!(
            stdout.contains("\nincomplete run: the harness stopped before the end"),
            "{stdout}"
        );
        assert!(
            stdout.contains("valid: unknown (incomplete run;"),
            "{stdout}"
        );
    }
    let out = harness(&[Path::new("report"), &run]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("incomplete run: the harness stopped before the end"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("Not a pass: the run did not finish."));
}

#[test]
fn descendants_that_leave_their_node_s_process_group_die_with_it() {
    let scratch = Scratch::new();
    let pids = scratch.dir.to_str().unwrap();
    // Seed 4 kills and restarts nodes within the 3 s, so incarnations are killed mid-run.
    let run = harness_test(&[
        "-w",
        "echo",
        "--bin",
        test_node("lingers.py").to_str().unwrap(),
        "--node-count",
        "3",
        "--time-limit",
        "3",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "1",
        "--seed",
        "4",
        "--",
        pids,
        "--daemons",
    ]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    let restarts = run.history.iter().filter(|e| e.f == "restart").count();
    assert!(
        restarts > 0,
        "seed 4 no longer kills and restarts a node within 3 s: choose a seed that does"
    );
    let nodes = scratch.of("node");
    assert!(nodes.len() > 3, "a restarted node records itself again");
    let daemons = scratch.of("daemon");
    for kind in ["child", "orphan", "stray"] {
        assert_eq!(
            daemons.iter().filter(|d| d.kind == kind).count(),
            nodes.len(),
            "every incarnation started a {kind}: {daemons:?}"
        );
    }
    // Killing a node killed what it had started, before it came back.
    let survivors = scratch.of("survivor");
    assert!(
        survivors.is_empty(),
        "a restarted node found its earlier incarnation's sleepers alive: {survivors:?}"
    );
    // And the end of the run killed the rest.
    let procs: Vec<Proc> = nodes
        .iter()
        .chain(&daemons)
        .map(|r| r.proc.clone())
        .collect();
    let left = wait_until_gone(&procs, Duration::from_secs(5));
    let left: Vec<_> = daemons
        .iter()
        .chain(&nodes)
        .filter(|r| left.contains(&r.proc))
        .map(|r| format!("{} {} of {}", r.what, r.kind, r.node))
        .collect();
    assert!(left.is_empty(), "outlived the run: {left:?}");
}

#[test]
fn the_trampoline_arms_the_parent_death_signal_and_becomes_the_node_program() {
    let me = std::process::id().to_string();
    // PR_GET_PDEATHSIG is prctl option 2.
    let script = "import ctypes, os, sys\n\
                  sig = ctypes.c_int()\n\
                  ctypes.CDLL(None).prctl(2, ctypes.byref(sig))\n\
                  print(sig.value, os.getpid(), os.getpgid(0), os.environ['NODE_VAR'], sys.argv[1:])";
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.args(["__exec-node", &me, "python3", "-c", script, "a", "--b"])
        .env("NODE_VAR", "kept")
        .stdout(std::process::Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // The same process (and group) as the one started, with SIGKILL (9) as its parent-death
    // signal, its environment and its arguments.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("9 {pid} {pid} kept ['a', '--b']\n")
    );
}

#[test]
fn the_trampoline_starts_no_node_once_its_harness_is_gone_and_refuses_bad_input() {
    let scratch = Scratch::new();
    let started = scratch.dir.join("started");
    // Its parent is not pid 1: as if the harness had died before the signal was armed.
    let status = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["__exec-node", "1", "/bin/sh", "-c"])
        .arg(format!("touch {}", started.display()))
        .status()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(!started.exists(), "the node program was started");
    let me = std::process::id().to_string();
    for (args, code, says) in [
        (
            vec!["__exec-node"],
            3,
            "usage: harness __exec-node PARENT-PID PROGRAM",
        ),
        (vec!["__exec-node", "x", "/bin/true"], 3, "usage"),
        (vec!["__exec-node", &me], 3, "usage"),
        (
            vec!["__exec-node", &me, "/nonexistent/node"],
            127,
            "cannot start /nonexistent/node: No such file",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "stdout is the node's: {args:?}");
    }
}

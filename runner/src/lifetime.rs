//! No node process outlives the harness: the lifetime of node processes and of what they start.
//!
//! Three mechanisms, each covering what the one before cannot:
//!
//! - **Process groups.** Each node is the leader of its own process group; killing a node
//!   (the nemesis, a node that exits or never answers `init`, the end of the run, Ctrl-C,
//!   SIGTERM, a panic) SIGKILLs the whole group ([`crate::process`]).
//! - **A parent-death signal.** The `harness` binary starts every node through itself: a
//!   hidden subcommand, [`EXEC_NODE`] (`harness __exec-node PID PROGRAM ARGS...`), arms
//!   `PR_SET_PDEATHSIG` = SIGKILL, checks that its parent is still the harness (pid `PID`: if
//!   the harness died before the signal was armed, the node is never started), and `exec`s the
//!   node program with its arguments, keeping the process, its stdin, stdout and stderr, its
//!   process group and its environment. So when the harness dies, however it dies (SIGKILL
//!   included), the kernel SIGKILLs every node process. The signal fires when the *thread* that
//!   started the node ends, so a node must be started by the thread that owns it for its whole
//!   life: the router thread of its run (one per run, also when several runs share a process).
//! - **A child subreaper.** The harness marks itself `PR_SET_CHILD_SUBREAPER`, so a node's
//!   descendant that left the node's process group (`setsid`) and outlived its parent is
//!   re-parented to the harness instead of to init. When a node is killed (by the nemesis, or
//!   at the end of the run) its descendants are killed and reaped too: the ones found under the
//!   node just before it is killed, and the ones already re-parented to the harness that carry
//!   the node's tag, [`NODE_TAG_ENV`] (every node incarnation gets its own, and children
//!   inherit their environment). Only those are touched, so runs one after another (or side
//!   by side on threads) never kill each other's processes. At the end of a run that is the
//!   only one in the process, any other process re-parented to the harness (a descendant that
//!   both left its node's tree and cleared its environment) is killed and reaped too, so no
//!   zombie is left.
//!
//! The limit: the parent-death signal is the node's own; a node's descendants do not inherit
//! it. When the harness itself is SIGKILLed, its nodes die, but a descendant of a node that
//! ignores the end of its input (which it shares with the node, or has closed) lives on,
//! re-parented to init or to the nearest subreaper above the harness.
//!
//! A process that uses the `runner` library without calling [`enable`] (an integration test,
//! the bench crate) starts node programs directly: the process groups and the killing of a
//! node's descendants still work, but there is no parent-death signal and no subreaper, so
//! nodes may outlive such a process when it is SIGKILLed, and descendants that escaped a node
//! before it was killed are not found. Such a binary gets the whole guarantee by doing what
//! `harness` does: call [`exec_node_if_asked`] first thing in `main`, then [`enable`].

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getppid};

/// The hidden subcommand that starts a node program with the parent-death signal armed.
pub const EXEC_NODE: &str = "__exec-node";

/// The environment variable that tags a node incarnation and everything it starts:
/// `<harness pid>-<serial>`, unique within the harness process.
pub const NODE_TAG_ENV: &str = "HARNESS_NODE_TAG";

/// How long killing a node's descendants may take before the harness gives up on the rest (a
/// process stuck in the kernel can take long to die) and says so.
const SWEEP_LIMIT: Duration = Duration::from_secs(2);

/// The harness binary to start nodes through, once [`enable`] found it.
static TRAMPOLINE: OnceLock<PathBuf> = OnceLock::new();
/// Whether this process is a child subreaper.
static SUBREAPER: AtomicBool = AtomicBool::new(false);
/// The serial of the next node tag.
static NEXT_TAG: AtomicU64 = AtomicU64::new(0);
/// The node processes alive in this process, and the runs in progress.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    nodes: BTreeSet::new(),
    runs: 0,
});

struct Registry {
    /// Pids of the node processes started and not yet reaped.
    nodes: BTreeSet<i32>,
    /// Runs in progress ([`RunGuard`]s alive).
    runs: usize,
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// In `main`, before anything else: when this process was started as [`EXEC_NODE`], become
/// the node program (this returns only if that failed, with the exit code to end with);
/// otherwise `None`.
pub fn exec_node_if_asked() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new(EXEC_NODE)) {
        return None;
    }
    Some(exec_node(args))
}

/// `harness __exec-node PID PROGRAM [ARGS...]`: arm the parent-death signal, check that the
/// parent is still `PID`, and exec `PROGRAM`. It writes only to stderr (the node's log): its
/// stdout is the node's protocol channel.
fn exec_node(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let parent = args
        .next()
        .and_then(|pid| pid.to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid > 0);
    let (Some(parent), Some(program)) = (parent, args.next()) else {
        eprintln!(
            "harness {EXEC_NODE}: usage: harness {EXEC_NODE} PARENT-PID PROGRAM [ARGS...] \
             (harness test starts its nodes this way)"
        );
        return ExitCode::from(3);
    };
    if let Err(err) = prctl::set_pdeathsig(Signal::SIGKILL) {
        eprintln!(
            "harness {EXEC_NODE}: cannot set the parent-death signal ({err}); starting anyway"
        );
    }
    if getppid() != Pid::from_raw(parent) {
        // The harness died before the signal was armed: the node goes as it would have.
        let _ = nix::sys::signal::raise(Signal::SIGKILL);
        return ExitCode::FAILURE;
    }
    let err = Command::new(&program).args(args).exec();
    eprintln!(
        "harness {EXEC_NODE}: cannot start {}: {err}",
        Path::new(&program).display()
    );
    ExitCode::from(127)
}

/// Start node programs through this binary (which must call [`exec_node_if_asked`] at the
/// start of `main`) and make this process a child subreaper. What cannot be done is said (a
/// warning) and left out: the process groups still hold.
pub fn enable() {
    // /proc/self/exe is this very binary even if its file was replaced or removed since.
    let exe = Path::new("/proc/self/exe");
    let exe = if exe.exists() {
        Ok(exe.to_owned())
    } else {
        std::env::current_exe()
    };
    match exe {
        Ok(exe) => {
            let _ = TRAMPOLINE.set(exe);
        }
        Err(err) => tracing::warn!(
            "cannot find the harness binary ({err}): node processes are started directly, \
             without a parent-death signal"
        ),
    }
    match prctl::set_child_subreaper(true) {
        Ok(()) => SUBREAPER.store(true, Ordering::Relaxed),
        Err(err) => tracing::warn!(
            "cannot become a child subreaper ({err}): descendants that leave a node's process \
             group are killed only if found under the node"
        ),
    }
}

/// The command that starts node program `bin` (through the harness binary once [`enable`]d,
/// else directly), with its tag in the environment; and that tag. A program that cannot be
/// started is an error here, as it would be when spawned directly, rather than a node that
/// exits with code 127 at once.
pub(crate) fn node_command(bin: &Path) -> io::Result<(Command, String)> {
    let tag = format!(
        "{}-{}",
        std::process::id(),
        NEXT_TAG.fetch_add(1, Ordering::Relaxed)
    );
    let mut cmd = match TRAMPOLINE.get() {
        Some(exe) => {
            startable(bin)?;
            let mut cmd = Command::new(exe);
            cmd.arg(EXEC_NODE)
                .arg(std::process::id().to_string())
                .arg(bin);
            cmd
        }
        None => Command::new(bin),
    };
    cmd.env(NODE_TAG_ENV, &tag);
    Ok((cmd, tag))
}

/// Whether `bin`, a path (a bare name is looked up in `PATH` by exec), is a file this process
/// may execute.
fn startable(bin: &Path) -> io::Result<()> {
    if bin.components().count() < 2 {
        return Ok(());
    }
    if bin.is_dir() {
        return Err(io::Error::from(nix::errno::Errno::EACCES));
    }
    nix::unistd::access(bin, nix::unistd::AccessFlags::X_OK).map_err(io::Error::from)
}

/// Start a node process and register it, so that no sweep takes it for an orphan.
pub(crate) fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut registry = registry();
    let child = cmd.spawn()?;
    registry.nodes.insert(child.id() as i32);
    Ok(child)
}

/// The node process `pid` has been reaped.
pub(crate) fn forget(pid: u32) {
    registry().nodes.remove(&(pid as i32));
}

/// One line of the process table.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    zombie: bool,
    /// Start time in clock ticks since boot: with the pid, it names one process.
    start: u64,
}

fn read_proc(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (in parentheses, and it may hold anything).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(Proc {
        pid,
        ppid: fields.get(1)?.parse().ok()?,
        zombie: matches!(*fields.first()?, "Z" | "X"),
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Every process, by pid.
fn process_table() -> BTreeMap<i32, Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, read_proc(pid)?)))
        .collect()
}

/// Whether process `pid`'s environment holds `NODE_TAG_ENV=tag` for one of `tags`.
fn has_tag(pid: i32, tags: &[&str]) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let prefix = format!("{NODE_TAG_ENV}=");
    environ
        .split(|&b| b == 0)
        .filter_map(|var| var.strip_prefix(prefix.as_bytes()))
        .any(|tag| tags.iter().any(|t| t.as_bytes() == tag))
}

/// Add to `known` every process whose parent is in it (the same process: same start time).
fn add_descendants(table: &BTreeMap<i32, Proc>, known: &mut BTreeMap<i32, u64>) {
    loop {
        let found: Vec<(i32, u64)> = table
            .values()
            .filter(|p| !known.contains_key(&p.pid))
            .filter(|p| {
                known.get(&p.ppid).is_some_and(|&start| {
                    table
                        .get(&p.ppid)
                        .is_some_and(|parent| parent.start == start)
                })
            })
            .map(|p| (p.pid, p.start))
            .collect();
        if found.is_empty() {
            return;
        }
        known.extend(found);
    }
}

/// Which processes re-parented to this one a sweep takes as its own.
#[derive(Debug, Clone, Copy)]
enum Adopt<'a> {
    /// Those that carry one of these node tags.
    Tagged(&'a [&'a str]),
    /// All that are not node processes.
    All,
}

/// The descendants of node processes, found just before they are killed. (One look at the
/// process table reads every process's `stat`: to kill many nodes at once, look once.)
#[derive(Debug, Default)]
pub(crate) struct Lineage {
    /// Pid to start time.
    known: BTreeMap<i32, u64>,
}

impl Lineage {
    /// The processes under the processes `pids` now.
    pub(crate) fn of(pids: &[u32]) -> Lineage {
        let table = process_table();
        let nodes: BTreeMap<i32, u64> = pids
            .iter()
            .filter_map(|&pid| table.get(&(pid as i32)))
            .map(|p| (p.pid, p.start))
            .collect();
        let mut known = nodes.clone();
        add_descendants(&table, &mut known);
        known.retain(|pid, _| !nodes.contains_key(pid));
        Lineage { known }
    }

    /// SIGKILL each of them (once its node's group is killed: those that left the group).
    pub(crate) fn kill(&self) {
        for (&pid, &start) in &self.known {
            if read_proc(pid).is_some_and(|p| p.start == start && !p.zombie) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }

    /// Once the nodes are reaped: kill and reap their descendants, the ones found before and
    /// the ones re-parented to this process that carry one of the nodes' `tags`, until none is
    /// left.
    pub(crate) fn sweep(self, tags: &[&str]) {
        sweep(self.known, Adopt::Tagged(tags));
    }
}

/// Kill the processes of `known` (and their descendants, and those `adopt` takes among the
/// processes re-parented to this one), and reap the ones that are this process's children,
/// until none is left or [`SWEEP_LIMIT`] has passed.
fn sweep(mut known: BTreeMap<i32, u64>, adopt: Adopt<'_>) {
    let me = std::process::id() as i32;
    let subreaper = SUBREAPER.load(Ordering::Relaxed);
    let deadline = Instant::now() + SWEEP_LIMIT;
    let mut pause = Duration::from_micros(200);
    loop {
        let table = process_table();
        if subreaper {
            // Under the lock, so that a node being started is never taken for an orphan.
            let registry = registry();
            for p in table.values() {
                if p.ppid != me || registry.nodes.contains(&p.pid) || known.contains_key(&p.pid) {
                    continue;
                }
                let take = match adopt {
                    Adopt::All => true,
                    Adopt::Tagged(tag) => has_tag(p.pid, tag),
                };
                if take {
                    known.insert(p.pid, p.start);
                }
            }
        }
        add_descendants(&table, &mut known);
        let mut left = 0;
        for p in table.values() {
            if known.get(&p.pid) != Some(&p.start) {
                continue;
            }
            if !p.zombie {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
                left += 1;
            } else if p.ppid == me {
                if waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG)).is_err() {
                    left += 1;
                }
            } else if known.contains_key(&p.ppid) {
                // Its parent is dying too: it will be re-parented, then reaped.
                left += 1;
            }
            // Otherwise a zombie of another parent (init, when this is no subreaper): not ours.
        }
        if left == 0 {
            return;
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                "{left} process(es) descended from node processes still not gone after {} s",
                SWEEP_LIMIT.as_secs()
            );
            return;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A run in progress in this process. At its end ([`RunGuard::sweep_strays`]), if it is the
/// only one, whatever is still re-parented to the harness is killed and reaped.
#[derive(Debug)]
pub(crate) struct RunGuard(());

impl RunGuard {
    pub(crate) fn begin() -> RunGuard {
        registry().runs += 1;
        RunGuard(())
    }

    /// Once this run's nodes are killed: if no other run is in progress and this process is a
    /// subreaper, kill and reap every process re-parented to it that is not a node process.
    /// Those are descendants of this run's nodes (an earlier run swept its own at its end).
    pub(crate) fn sweep_strays(&self) {
        if SUBREAPER.load(Ordering::Relaxed) && registry().runs == 1 {
            sweep(BTreeMap::new(), Adopt::All);
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        registry().runs -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether process `pid` (started at `start`) is still running (a zombie is not).
    fn alive(pid: i32, start: u64) -> bool {
        read_proc(pid).is_some_and(|p| p.start == start && !p.zombie)
    }

    #[test]
    fn the_process_table_names_this_process_and_its_parent() {
        let me = read_proc(std::process::id() as i32).expect("this process is in /proc");
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
        assert!(!me.zombie && me.start > 0);
        assert!(process_table().contains_key(&me.pid));
    }

    /// Processes to SIGKILL when a test ends, passed or failed: (pid, start time).
    struct Cleanup(Vec<(i32, u64)>);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            for &(pid, start) in &self.0 {
                if alive(pid, start) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
    }

    /// The session of process `pid`.
    fn session(pid: i32) -> Option<i32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(3)?
            .parse()
            .ok()
    }

    #[test]
    fn a_descendant_that_left_the_process_group_is_killed_with_its_node() {
        // The node starts a child in a session of its own, then waits on its input.
        let (mut cmd, tag) = node_command(Path::new("/bin/sh")).unwrap();
        cmd.args(["-c", "setsid sleep 60 & echo $!; exec cat"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .process_group(0);
        assert!(tag.starts_with(&format!("{}-", std::process::id())));
        let mut node = spawn(&mut cmd).unwrap();
        let node_pid = node.id() as i32;
        let mut cleanup = Cleanup(vec![(node_pid, read_proc(node_pid).unwrap().start)]);
        let mut line = String::new();
        let mut stdout = io::BufReader::new(node.stdout.take().unwrap());
        io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let escaped: i32 = line.trim().parse().unwrap();
        let start = read_proc(escaped).expect("the child runs").start;
        cleanup.0.push((escaped, start));
        let deadline = Instant::now() + Duration::from_secs(10);
        while session(escaped) != Some(escaped) {
            assert!(Instant::now() < deadline, "the child never left the group");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Its environment is read from /proc, which is empty while it execs `sleep`: wait.
        while !has_tag(escaped, &[&tag]) {
            assert!(Instant::now() < deadline, "children inherit the node's tag");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!has_tag(escaped, &["1-1"]));
        let lineage = Lineage::of(&[node.id()]);
        assert!(lineage.known.contains_key(&escaped), "{lineage:?}");
        let _ = nix::sys::signal::killpg(Pid::from_raw(node_pid), Signal::SIGKILL);
        lineage.kill();
        node.wait().unwrap();
        forget(node.id());
        lineage.sweep(&[&tag]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(escaped, start) {
            assert!(
                Instant::now() < deadline,
                "the escaped child survived its node"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

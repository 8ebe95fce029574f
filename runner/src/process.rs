//! The process backend: each node a child process in its own process group, driven by the
//! router's single `poll(2)` loop.
//!
//! A node's stdout and stdin are non-blocking pipes. The router reads whatever a node wrote,
//! splits it into lines (a line longer than [`MAX_LINE`] is cut and reported) and stamps each
//! with the time it was read. Messages for a node go into that node's own bounded output
//! queue, written when the pipe has room: a paused or stuck node that stops reading fills
//! its queue, further messages to it are dropped (and reported), and the router never blocks.
//! The queue counts the bytes queued and the bytes the pipe took, so the router knows when
//! the pipe has taken a message's whole line ([`NodeProcess::send`], [`NodeProcess::taken`]).
//! No thread is involved, so a message costs a few system calls shared with every other
//! message read or written in the same turn of the loop, and no thread wake-ups.
//!
//! stderr goes straight to `node-logs/<id>.log` (with `--log-stderr`, through a thread that
//! also copies it to the harness's stderr). Killing, pausing and resuming signal the whole
//! process group, so a node that forks helpers is handled whole; killing also kills and reaps
//! the node's descendants that left its group. Dropping a [`NodeProcess`] kills it. No node
//! process outlives the harness, however the harness ends: [`crate::lifetime`] says how, and
//! what the limit is.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::thread;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::lifetime;

/// Longest line a node may write; the rest of a longer line is discarded and reported.
pub const MAX_LINE: usize = 8 << 20;

/// How a node's output arrived, line by line.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// A whole line, without its newline.
    Line(String),
    /// A line longer than [`MAX_LINE`]: its first bytes are dropped with the rest, and this
    /// says how long it was.
    Oversized(usize),
}

/// How to start node programs.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub bin: PathBuf,
    pub args: Vec<String>,
    pub log_dir: PathBuf,
    /// Each node's data directory is `data_dir/<id>`, named to it in `HARNESS_DATA_DIR`.
    pub data_dir: PathBuf,
    pub log_stderr: bool,
    /// Bytes a node's output queue may hold before messages to it are dropped.
    pub queue_bytes: usize,
    pub seed: u64,
    /// Under `--nemesis clock`: each node's wall clock, bent through libfaketime.
    pub fake_time: Option<crate::faketime::FakeTime>,
}

/// Why a message could not be queued for a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// The node is not reading its input and its queue is full.
    Full,
    /// The node's stdin is closed (it exited, or its input was ended).
    Closed,
}

/// One running incarnation of a node program.
#[derive(Debug)]
pub struct NodeProcess {
    pub node: usize,
    pub incarnation: u32,
    child: Child,
    pgid: Pid,
    /// The incarnation's tag, inherited by what it starts ([`lifetime::NODE_TAG_ENV`]).
    tag: String,
    /// How it ended, once it was killed.
    ended: Option<String>,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    /// Bytes read but not yet a whole line.
    partial: Vec<u8>,
    /// How many bytes of the current over-long line were discarded.
    discarding: Option<usize>,
    /// Queued output and how much of it is already written.
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes ever queued, and ever taken by the pipe.
    queued_total: u64,
    taken_total: u64,
    queue_bytes: usize,
    /// Whether the router is waiting for room in this node's stdin (kept by the router).
    pub watched_for_write: bool,
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> std::io::Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(std::io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(std::io::Error::from)?;
    Ok(())
}

impl Launcher {
    /// Node `id`'s data directory, created if missing, as an absolute path.
    pub fn node_data(&self, id: &str) -> std::io::Result<PathBuf> {
        let dir = self.data_dir.join(id);
        std::fs::create_dir_all(&dir)?;
        std::path::absolute(&dir)
    }

    /// Empty node `id`'s data directory (a replaced disk). The node must not be running.
    pub fn wipe_data(&self, id: &str) -> std::io::Result<()> {
        let dir = self.data_dir.join(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(&dir)
    }

    /// Start incarnation `incarnation` of node `node` (id `id`).
    pub fn spawn(&self, node: usize, id: &str, incarnation: u32) -> std::io::Result<NodeProcess> {
        std::fs::create_dir_all(&self.log_dir)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{id}.log")))?;
        let data = self.node_data(id)?;
        let cannot_start = |e: std::io::Error| {
            std::io::Error::new(
                e.kind(),
                format!("cannot start {}: {e}", self.bin.display()),
            )
        };
        let (mut cmd, tag) = lifetime::node_command(&self.bin).map_err(cannot_start)?;
        cmd.args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .env(
                nodes::driver::SEED_ENV,
                node_seed(self.seed, node, incarnation).to_string(),
            )
            .env(nodes::storage::DATA_DIR_ENV, &data)
            .process_group(0);
        if let Some(clocks) = &self.fake_time {
            cmd.envs(clocks.env(id)?);
        }
        if self.log_stderr {
            cmd.stderr(Stdio::piped());
        } else {
            cmd.stderr(Stdio::from(log.try_clone()?));
        }
        let mut child = lifetime::spawn(&mut cmd).map_err(cannot_start)?;
        let pgid = Pid::from_raw(child.id() as i32);
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdin = child.stdin.take().expect("stdin is piped");
        set_nonblocking(stdout.as_fd())?;
        set_nonblocking(stdin.as_fd())?;
        if let Some(stderr) = child.stderr.take() {
            let prefix = format!("{id}: ");
            thread::Builder::new()
                .name(format!("{id}-stderr"))
                .spawn(move || tee_stderr(stderr, log, &prefix))?;
        }
        Ok(NodeProcess {
            node,
            incarnation,
            child,
            pgid,
            tag,
            ended: None,
            stdin: Some(stdin),
            stdout: Some(stdout),
            partial: Vec::with_capacity(4096),
            discarding: None,
            out: Vec::with_capacity(4096),
            out_pos: 0,
            queued_total: 0,
            taken_total: 0,
            queue_bytes: self.queue_bytes,
            watched_for_write: false,
        })
    }
}

/// The seed a node's incarnation gets in `HARNESS_SEED`: the run's seed mixed with the node
/// index and the incarnation, so restarts draw fresh numbers, reproducibly.
pub fn node_seed(seed: u64, node: usize, incarnation: u32) -> u64 {
    let mut h = seed ^ 0x51_7c_c1_b7_27_22_0a_95;
    for x in [node as u64, u64::from(incarnation)] {
        h = (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
    }
    h
}

/// Split `bytes` into lines, appending whole lines (or over-long reports) to `lines`; what is
/// left without a newline stays in `partial`. `discarding` tracks an over-long line in progress.
fn split_lines(
    bytes: &[u8],
    partial: &mut Vec<u8>,
    discarding: &mut Option<usize>,
    lines: &mut Vec<Output>,
) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk, newline) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        rest = &rest[chunk.len() + usize::from(newline)..];
        if let Some(skipped) = discarding {
            *skipped += chunk.len();
            if newline {
                lines.push(Output::Oversized(*skipped));
                *discarding = None;
            }
            continue;
        }
        if partial.len() + chunk.len() > MAX_LINE {
            *discarding = Some(partial.len() + chunk.len());
            partial.clear();
            if newline {
                lines.push(Output::Oversized(discarding.take().unwrap_or_default()));
            }
            continue;
        }
        if !newline {
            partial.extend_from_slice(chunk);
            continue;
        }
        // A whole line: straight from the read buffer when nothing was pending, so that the
        // common case costs one exact allocation.
        let whole: std::borrow::Cow<'_, [u8]> = if partial.is_empty() {
            chunk.into()
        } else {
            partial.extend_from_slice(chunk);
            std::mem::take(partial).into()
        };
        if whole.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match std::str::from_utf8(&whole) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&whole).into_owned(),
        };
        lines.push(Output::Line(text));
    }
}

impl NodeProcess {
    /// The fd to poll for output, while stdout is open.
    pub fn stdout_fd(&self) -> Option<BorrowedFd<'_>> {
        self.stdout.as_ref().map(AsFd::as_fd)
    }

    /// The fd to poll for room, while output is waiting.
    pub fn stdin_fd(&self) -> Option<BorrowedFd<'_>> {
        if self.out_pos < self.out.len() {
            self.stdin.as_ref().map(AsFd::as_fd)
        } else {
            None
        }
    }

    /// The node's stdin, while open, whatever is queued.
    pub fn stdin_handle(&self) -> Option<BorrowedFd<'_>> {
        self.stdin.as_ref().map(AsFd::as_fd)
    }

    /// Read what the node has written (until the pipe is empty or `buf` was filled short of
    /// full, which means it is empty now), appending its lines to `lines`. Returns false once
    /// stdout is closed (the node exited or closed it); what it wrote before is still
    /// returned, and a last line without a newline counts as a line.
    pub fn read_available(&mut self, lines: &mut Vec<Output>, buf: &mut [u8]) -> bool {
        let Some(stdout) = self.stdout.as_mut() else {
            return false;
        };
        loop {
            match stdout.read(buf) {
                Ok(0) => {
                    split_lines(b"\n", &mut self.partial, &mut self.discarding, lines);
                    self.stdout = None;
                    return false;
                }
                Ok(n) => {
                    split_lines(&buf[..n], &mut self.partial, &mut self.discarding, lines);
                    if n < buf.len() {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.stdout = None;
                    return false;
                }
            }
        }
    }

    /// Queue one line for the node's stdin. It is written by [`NodeProcess::flush`]; the pipe
    /// has taken it whole once [`NodeProcess::taken`] reaches the offset returned.
    pub fn send(&mut self, line: &str) -> Result<u64, QueueError> {
        if self.stdin.is_none() {
            return Err(QueueError::Closed);
        }
        if self.out.len() - self.out_pos + line.len() + 1 > self.queue_bytes {
            return Err(QueueError::Full);
        }
        if self.out_pos > 0 && self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        self.out.extend_from_slice(line.as_bytes());
        self.out.push(b'\n');
        self.queued_total += line.len() as u64 + 1;
        Ok(self.queued_total)
    }

    /// Write as much queued output as the pipe takes now. A broken pipe closes stdin.
    pub fn flush(&mut self) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        while self.out_pos < self.out.len() {
            match stdin.write(&self.out[self.out_pos..]) {
                Ok(0) => break,
                Ok(n) => {
                    self.out_pos += n;
                    self.taken_total += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.stdin = None;
                    break;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > 1 << 20 {
                self.out.shrink_to(4096);
            }
        } else if self.out_pos > 1 << 20 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Bytes the node's stdin pipe has taken since the process started (the offset that
    /// [`NodeProcess::send`] returns is reached once a line is taken whole).
    pub fn taken(&self) -> u64 {
        self.taken_total
    }

    /// Whether the node's stdin is open: it may still take what is queued.
    pub fn input_open(&self) -> bool {
        self.stdin.is_some()
    }

    /// End the node's input (close its stdin), dropping what is still queued.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Send `signal` to the node's process group.
    pub fn signal(&self, signal: Signal) {
        if let Err(err) = killpg(self.pgid, signal)
            && err != nix::errno::Errno::ESRCH
        {
            tracing::warn!("signalling node {} with {signal}: {err}", self.node);
        }
    }

    /// SIGKILL the process group and the node's descendants that left it, and reap them all.
    /// Returns how the node ended.
    pub fn kill(&mut self) -> String {
        kill_all(std::slice::from_mut(self));
        self.ended.clone().unwrap_or_default()
    }

    /// If the process has exited, how.
    pub fn try_exit_status(&mut self) -> Option<String> {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => describe_status(status),
            Ok(None) => return None,
            Err(err) => format!("unknown ({err})"),
        };
        lifetime::forget(self.pid());
        Some(status)
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // No node process outlives the harness, whatever path leads here; helpers it forked
        // go with it, even when it is gone already.
        self.kill();
    }
}

impl NodeProcess {
    /// Kill the node now (SIGKILL of its process group, its pipes closed) and leave the rest
    /// of [`NodeProcess::kill`], reaping it and hunting down what it started outside its
    /// group, to a background thread: both look at the whole process table, which takes
    /// seconds on a loaded machine, and a nemesis kill must not stall the run meanwhile.
    /// [`wait_for_disposals`] waits until that work is done.
    pub fn kill_soon(mut self) {
        self.stdin = None;
        self.stdout = None;
        if self.ended.is_none() {
            self.signal(Signal::SIGKILL);
        }
        disposals().send(self);
    }
}

/// The background thread that finishes [`NodeProcess::kill_soon`], and how many processes it
/// still has to finish.
struct Disposals {
    queue: std::sync::Mutex<std::sync::mpsc::Sender<NodeProcess>>,
    pending: std::sync::Mutex<usize>,
    done: std::sync::Condvar,
}

impl Disposals {
    fn send(&self, process: NodeProcess) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(std::sync::mpsc::SendError(process)) = queue.send(process) {
            // The thread is gone (it cannot be, but never leave a process behind): here.
            drop(queue);
            drop(process);
            self.finished();
        }
    }

    fn finished(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.done.notify_all();
        }
    }
}

fn disposals() -> &'static Disposals {
    static DISPOSALS: std::sync::OnceLock<Disposals> = std::sync::OnceLock::new();
    DISPOSALS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<NodeProcess>();
        let spawned = thread::Builder::new().name("reaper".into()).spawn(move || {
            for process in rx {
                drop(process);
                disposals().finished();
            }
        });
        if let Err(err) = spawned {
            tracing::error!("cannot start the reaper thread: {err}; killing in place");
        }
        Disposals {
            queue: std::sync::Mutex::new(tx),
            pending: std::sync::Mutex::new(0),
            done: std::sync::Condvar::new(),
        }
    })
}

/// Wait until every process given to [`NodeProcess::kill_soon`] is reaped and its descendants
/// are gone (the end of a run).
pub fn wait_for_disposals() {
    let d = disposals();
    let mut pending = d.pending.lock().unwrap_or_else(|e| e.into_inner());
    while *pending > 0 {
        pending = d.done.wait(pending).unwrap_or_else(|e| e.into_inner());
    }
}

/// [`NodeProcess::kill`] several nodes at once (the end of a run): one look at the process
/// table for all of them.
pub fn kill_all(processes: &mut [NodeProcess]) {
    for p in processes.iter_mut() {
        p.stdin = None;
        p.stdout = None;
    }
    let live: Vec<&mut NodeProcess> = processes.iter_mut().filter(|p| p.ended.is_none()).collect();
    if live.is_empty() {
        return;
    }
    // Found before anything dies, while they still hang under their nodes.
    let pids: Vec<u32> = live.iter().map(|p| p.pid()).collect();
    let lineage = lifetime::Lineage::of(&pids);
    for p in &live {
        p.signal(Signal::SIGKILL);
    }
    lineage.kill();
    let mut tags = Vec::with_capacity(live.len());
    for p in live {
        let status = match p.child.wait() {
            Ok(status) => describe_status(status),
            Err(err) => format!("unknown ({err})"),
        };
        lifetime::forget(p.pid());
        p.ended = Some(status);
        tags.push(p.tag.as_str());
    }
    lineage.sweep(&tags);
}

/// "exit code 0", "killed by SIGKILL", ...
pub fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(signal) => format!("killed by {signal}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => "ended".to_owned(),
    }
}

fn tee_stderr(stderr: impl Read, log: File, prefix: &str) {
    let mut log = BufWriter::new(log);
    for line in BufReader::new(stderr).split(b'\n') {
        let Ok(line) = line else { break };
        let _ = log.write_all(&line);
        let _ = log.write_all(b"\n");
        let _ = log.flush();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(prefix.as_bytes());
        let _ = err.write_all(&line);
        let _ = err.write_all(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(chunks: &[&[u8]]) -> Vec<Output> {
        let (mut partial, mut discarding, mut lines) = (Vec::new(), None, Vec::new());
        for chunk in chunks {
            split_lines(chunk, &mut partial, &mut discarding, &mut lines);
        }
        lines
    }

    #[test]
    fn lines_split_across_reads_are_joined_and_blank_lines_skipped() {
        let lines = split_all(&[b"{\"a\"", b":1}\n\n  \n{\"b\":2}\n{\"c\""]);
        assert_eq!(
            lines,
            vec![
                Output::Line("{\"a\":1}".into()),
                Output::Line("{\"b\":2}".into())
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_and_reported() {
        let long = vec![b'x'; MAX_LINE + 10];
        let lines = split_all(&[&long[..MAX_LINE / 2], &long[MAX_LINE / 2..], b"\nshort\n"]);
        assert_eq!(
            lines,
            vec![
                Output::Oversized(MAX_LINE + 10),
                Output::Line("short".into())
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_kept_lossily() {
        let lines = split_all(&[b"a\xffb\n"]);
        assert_eq!(lines, vec![Output::Line("a\u{fffd}b".into())]);
    }

    #[test]
    fn node_seeds_differ_by_node_and_incarnation() {
        let seeds = [
            node_seed(1, 0, 1),
            node_seed(1, 1, 1),
            node_seed(1, 0, 2),
            node_seed(2, 0, 1),
        ];
        for (i, a) in seeds.iter().enumerate() {
            for b in &seeds[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(node_seed(1, 0, 1), node_seed(1, 0, 1));
    }

    #[test]
    fn a_real_process_echoes_through_the_queues_and_a_full_queue_refuses() {
        let launcher = Launcher {
            bin: PathBuf::from("/bin/cat"),
            args: vec![],
            log_dir: std::env::temp_dir().join(format!("process-test-{}", std::process::id())),
            data_dir: std::env::temp_dir()
                .join(format!("process-test-data-{}", std::process::id())),
            log_stderr: false,
            queue_bytes: 64,
            seed: 1,
            fake_time: None,
        };
        let mut p = launcher.spawn(0, "n0", 1).unwrap();
        assert_eq!(p.send("hello"), Ok(6));
        assert_eq!(p.send(&"x".repeat(100)), Err(QueueError::Full));
        assert_eq!(p.taken(), 0, "nothing is taken before it is written");
        p.flush();
        assert_eq!(p.queued(), 0);
        assert_eq!(p.taken(), 6, "the pipe took the whole line");
        assert_eq!(p.send("again"), Ok(12));
        let (mut lines, mut buf) = (Vec::new(), vec![0u8; 4096]);
        for _ in 0..200 {
            p.read_available(&mut lines, &mut buf);
            if !lines.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(lines, vec![Output::Line("hello".into())]);
        p.close_input();
        assert!(!p.input_open());
        assert_eq!(
            p.taken(),
            6,
            "what was queued when the input closed is never taken"
        );
        assert_eq!(p.send("more"), Err(QueueError::Closed));
        let mut closed = false;
        for _ in 0..200 {
            if !p.read_available(&mut lines, &mut buf) {
                closed = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(closed, "cat exits at end of input");
        assert_eq!(p.kill(), "exit code 0");
        let _ = std::fs::remove_dir_all(&launcher.log_dir);
        let _ = std::fs::remove_dir_all(&launcher.data_dir);
    }
}

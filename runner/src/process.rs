//! The process backend: each node a child process in its own process group.
//!
//! A node's stdout is read line by line on its own thread and handed to the router with the
//! time it arrived; its stdin is written by its own thread from a bounded queue, so a paused
//! or stuck node that stops reading can never block the router (when the queue is full the
//! router drops the message and says so); its stderr goes to `node-logs/<id>.log` (and, with
//! `--log-stderr`, to the harness's stderr too). Killing, pausing and resuming signal the
//! whole process group, so a node that forks helpers is handled whole.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Longest line a node may write; the rest of a longer line is discarded and reported.
pub const MAX_LINE: usize = 8 << 20;

/// What the node threads tell the router.
#[derive(Debug)]
pub enum NodeOutput {
    /// A line from the node's stdout (without its newline), and when it arrived (ns since the
    /// run started).
    Line {
        node: usize,
        incarnation: u32,
        line: String,
        at: u64,
    },
    /// A line longer than [`MAX_LINE`] was cut.
    Oversized {
        node: usize,
        incarnation: u32,
        bytes: usize,
    },
    /// The node's stdout closed: it exited (or closed it).
    Closed { node: usize, incarnation: u32 },
}

/// How to start node programs.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub bin: PathBuf,
    pub args: Vec<String>,
    pub log_dir: PathBuf,
    pub log_stderr: bool,
    pub queue_len: usize,
    pub start: Instant,
    pub seed: u64,
}

/// Why a message could not be queued for a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// The node is not reading its input and the queue is full.
    Full,
    /// The node's stdin is closed (it exited).
    Closed,
}

/// One running incarnation of a node program.
#[derive(Debug)]
pub struct NodeProcess {
    pub node: usize,
    pub incarnation: u32,
    child: Child,
    pgid: Pid,
    input: Option<Sender<String>>,
}

impl Launcher {
    /// Start incarnation `incarnation` of node `node` (id `id`). Its output goes to `out`.
    pub fn spawn(
        &self,
        node: usize,
        id: &str,
        incarnation: u32,
        out: &Sender<NodeOutput>,
    ) -> std::io::Result<NodeProcess> {
        std::fs::create_dir_all(&self.log_dir)?;
        let log_path = self.log_dir.join(format!("{id}.log"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .env(
                nodes::driver::SEED_ENV,
                node_seed(self.seed, node, incarnation).to_string(),
            )
            .process_group(0);
        if self.log_stderr {
            cmd.stderr(Stdio::piped());
        } else {
            cmd.stderr(Stdio::from(log.try_clone()?));
        }
        let mut child = cmd.spawn().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot start {}: {e}", self.bin.display()),
            )
        })?;
        let pgid = Pid::from_raw(child.id() as i32);
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdin = child.stdin.take().expect("stdin is piped");
        if let Some(stderr) = child.stderr.take() {
            let prefix = format!("{id}: ");
            thread::Builder::new()
                .name(format!("{id}-stderr"))
                .spawn(move || tee_stderr(stderr, log, &prefix))?;
        }
        let (tx, rx) = crossbeam_channel::bounded(self.queue_len);
        thread::Builder::new()
            .name(format!("{id}-stdin"))
            .spawn(move || write_stdin(stdin, rx))?;
        let out = out.clone();
        let start = self.start;
        thread::Builder::new()
            .name(format!("{id}-stdout"))
            .spawn(move || read_stdout(stdout, out, node, incarnation, start))?;
        Ok(NodeProcess {
            node,
            incarnation,
            child,
            pgid,
            input: Some(tx),
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

impl NodeProcess {
    /// Queue one line for the node's stdin without blocking.
    pub fn send(&self, line: String) -> Result<(), QueueError> {
        let Some(input) = &self.input else {
            return Err(QueueError::Closed);
        };
        match input.try_send(line) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(QueueError::Full),
            Err(TrySendError::Disconnected(_)) => Err(QueueError::Closed),
        }
    }

    /// Close the node's stdin (end of input) once what is queued is written.
    pub fn close_input(&mut self) {
        self.input = None;
    }

    /// Send `signal` to the node's process group.
    pub fn signal(&self, signal: Signal) {
        if let Err(err) = killpg(self.pgid, signal)
            && err != nix::errno::Errno::ESRCH
        {
            tracing::warn!("signalling node {} with {signal}: {err}", self.node);
        }
    }

    /// SIGKILL the process group and reap the process. Returns how it ended.
    pub fn kill(&mut self) -> String {
        self.input = None;
        self.signal(Signal::SIGKILL);
        match self.child.wait() {
            Ok(status) => describe_status(status),
            Err(err) => format!("unknown ({err})"),
        }
    }

    /// If the process has exited, how.
    pub fn try_exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe_status(status)),
            Ok(None) => None,
            Err(err) => Some(format!("unknown ({err})")),
        }
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // No node process outlives the harness: whatever path leads here.
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill();
        }
    }
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

fn write_stdin(stdin: ChildStdin, queue: Receiver<String>) {
    let mut out = BufWriter::with_capacity(64 << 10, stdin);
    while let Ok(line) = queue.recv() {
        if out.write_all(line.as_bytes()).is_err() || out.write_all(b"\n").is_err() {
            return;
        }
        // Write whatever else is already queued, then flush once.
        while let Ok(line) = queue.try_recv() {
            if out.write_all(line.as_bytes()).is_err() || out.write_all(b"\n").is_err() {
                return;
            }
        }
        if out.flush().is_err() {
            return;
        }
    }
    // The router closed the queue: end of input for the node.
    let _ = out.flush();
}

fn read_stdout(
    stdout: impl Read,
    out: Sender<NodeOutput>,
    node: usize,
    incarnation: u32,
    start: Instant,
) {
    let mut reader = BufReader::with_capacity(64 << 10, stdout);
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        match read_line_capped(&mut reader, &mut line) {
            Ok(Some(overflow)) if overflow > 0 => {
                let _ = out.send(NodeOutput::Oversized {
                    node,
                    incarnation,
                    bytes: line.len() + overflow,
                });
            }
            Ok(Some(_)) => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let at = start.elapsed().as_nanos() as u64;
                let text = match String::from_utf8(std::mem::take(&mut line)) {
                    Ok(text) => text,
                    Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
                };
                line = Vec::with_capacity(1024);
                if out
                    .send(NodeOutput::Line {
                        node,
                        incarnation,
                        line: text,
                        at,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    let _ = out.send(NodeOutput::Closed { node, incarnation });
}

/// Read one line into `line` (without the newline), keeping at most [`MAX_LINE`] bytes.
/// Returns None at end of input with nothing read, else how many bytes were discarded.
fn read_line_capped(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<usize>> {
    let mut discarded = 0;
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(discarded));
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        let keep = chunk.len().min(room);
        line.extend_from_slice(&chunk[..keep]);
        discarded += chunk.len() - keep;
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(discarded));
        }
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

/// Where a node's log goes.
pub fn log_path(log_dir: &Path, id: &str) -> PathBuf {
    log_dir.join(format!("{id}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_reported() {
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\nshort\n");
        let mut reader = BufReader::with_capacity(4096, &data[..]);
        let mut line = Vec::new();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), Some(10));
        assert_eq!(line.len(), MAX_LINE);
        line.clear();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), Some(0));
        assert_eq!(line, b"short");
        line.clear();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), None);
    }

    #[test]
    fn a_last_line_without_newline_is_read() {
        let mut reader = BufReader::new(&b"tail"[..]);
        let mut line = Vec::new();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), Some(0));
        assert_eq!(line, b"tail");
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
}

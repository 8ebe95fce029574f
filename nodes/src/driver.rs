//! The stdin/stdout driver: runs a [`Node`] as a Maelstrom node program.
//!
//! One thread reads stdin line by line; the main thread runs a single-threaded event loop that
//! handles each line and each due timer in order, and writes every outgoing message as one line
//! ending in `\n`. Logs go to stderr through `tracing` (`RUST_LOG` filters them). At end of
//! input the driver writes what is pending and exits 0.
//!
//! **Stable storage.** When the environment variable `HARNESS_DATA_DIR` names a directory, the
//! node's stable logs live there ([`crate::disk`]): the driver reads them back at start and
//! hands them to the node ([`crate::Ctx::take_recovered`]). The effects of a turn of the loop
//! are carried out as a *group commit*: the driver handles every line already waiting (up to
//! [`GROUP`]) and the timers due, writes every [`Effect::Persist`] of the group, syncs the disk
//! once, and only then writes the group's messages. So no message leaves before the writes of
//! its own event, or of any earlier one, are durable, and one sync serves many events. A write
//! that fails ends the program (exit code 1): a node that cannot keep its promises must crash,
//! not carry on. Without the variable, persist effects are dropped and the node runs without
//! stable storage.
//!
//! The rng seed comes from the `HARNESS_SEED` environment variable when set (the harness sets
//! it from the run's seed), otherwise from the wall clock.

use std::io::{BufRead, BufWriter, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::ctx::Effect;
use crate::disk::Disk;
use crate::node::Node;
use crate::runtime::Runtime;
use crate::storage::{DATA_DIR_ENV, Stable};

/// The environment variable the driver reads its rng seed from.
pub const SEED_ENV: &str = "HARNESS_SEED";

/// At most this many waiting lines are handled in one group commit.
pub const GROUP: usize = 64;

enum Input {
    Line(String),
    End,
}

/// Install the stderr logger for a node program.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The data directory from the environment, opened, with what it holds; `None` without one.
fn open_storage() -> Result<Option<(Disk, Stable)>, String> {
    let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) else {
        tracing::info!("{DATA_DIR_ENV} is not set: no stable storage, state is lost on a crash");
        return Ok(None);
    };
    let dir = std::path::PathBuf::from(dir);
    match Disk::open(&dir) {
        Ok((disk, stable)) => {
            if !stable.is_empty() {
                tracing::info!(
                    "recovering {} bytes of stable storage from {}",
                    stable.bytes(),
                    dir.display()
                );
            }
            Ok(Some((disk, stable)))
        }
        Err(err) => Err(format!(
            "cannot open the data directory {} ({DATA_DIR_ENV}): {err}",
            dir.display()
        )),
    }
}

/// Run `node` on stdin/stdout until end of input. Returns the process exit code.
pub fn run<N: Node>(node: N) -> std::process::ExitCode {
    init_logging();
    let incarnation = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ (u64::from(std::process::id()) << 40);
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(incarnation);
    let (disk, stable) = match open_storage() {
        Ok(Some((disk, stable))) => (Some(disk), stable),
        Ok(None) => (None, Stable::new()),
        Err(err) => {
            tracing::error!("{err}");
            return std::process::ExitCode::from(1);
        }
    };
    let mut runtime = Runtime::new(node, seed, incarnation).recovering(stable);

    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_stdin(tx))
        .expect("spawning the stdin reader thread");

    let start = Instant::now();
    let stdout = std::io::stdout();
    let mut out = Out {
        stdout: BufWriter::new(stdout.lock()),
        disk,
    };
    loop {
        let first = match runtime.next_deadline() {
            None => rx.recv().unwrap_or(Input::End),
            Some(deadline) => {
                let wait = deadline.saturating_sub(start.elapsed());
                match rx.recv_timeout(wait) {
                    Ok(input) => input,
                    Err(RecvTimeoutError::Timeout) => {
                        runtime.set_wall_clock(wall_clock());
                        let effects = runtime.advance(start.elapsed());
                        if out.carry_out(effects).is_err() {
                            return std::process::ExitCode::from(1);
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => Input::End,
                }
            }
        };
        let (effects, ended) = handle_group(&mut runtime, &rx, first, start);
        if out.carry_out(effects).is_err() {
            return std::process::ExitCode::from(1);
        }
        if ended {
            tracing::info!("end of input; exiting");
            let _ = out.stdout.flush();
            return std::process::ExitCode::SUCCESS;
        }
    }
}

/// The system's wall clock, as time since the Unix epoch (before the epoch: the epoch). Under
/// the harness's clock faults this is the skewed clock (libfaketime bends this call only;
/// the monotonic clock that times the node's timers is left alone).
fn wall_clock() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Handle `first` and every line already waiting (at most [`GROUP`]), with the timers due
/// before each: one group commit. Returns the effects in order, and whether input ended.
fn handle_group<N: Node>(
    runtime: &mut Runtime<N>,
    rx: &Receiver<Input>,
    first: Input,
    start: Instant,
) -> (Vec<crate::Effect>, bool) {
    let mut effects = Vec::new();
    let mut next = Some(first);
    let mut handled = 0;
    while let Some(input) = next.take() {
        match input {
            Input::Line(line) => {
                runtime.set_wall_clock(wall_clock());
                effects.extend(runtime.advance(start.elapsed()));
                effects.extend(runtime.handle_line(start.elapsed(), &line));
            }
            Input::End => return (effects, true),
        }
        handled += 1;
        if handled < GROUP {
            next = match rx.try_recv() {
                Ok(input) => Some(input),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Input::End),
            };
        }
    }
    (effects, false)
}

/// Where effects go: stdout, and the data directory when there is one.
struct Out<W: Write> {
    stdout: W,
    disk: Option<Disk>,
}

impl<W: Write> Out<W> {
    /// Carry out `effects`: the writes to stable storage first, made durable, then the
    /// messages. An error ends the program.
    fn carry_out(&mut self, effects: Vec<Effect>) -> std::io::Result<()> {
        if let Some(disk) = &mut self.disk {
            for effect in &effects {
                if let Effect::Persist(write) = effect
                    && let Err(err) = disk.write(write)
                {
                    tracing::error!(
                        "writing to stable storage in {}: {err}; stopping",
                        disk.dir().display()
                    );
                    return Err(err);
                }
            }
            if disk.has_unsynced()
                && let Err(err) = disk.sync()
            {
                tracing::error!(
                    "syncing stable storage in {}: {err}; stopping",
                    disk.dir().display()
                );
                return Err(err);
            }
        }
        write_effects(&mut self.stdout, &effects)
    }
}

fn read_stdin(tx: mpsc::Sender<Input>) {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).into_owned();
                if line.trim().is_empty() {
                    continue;
                }
                if tx.send(Input::Line(line)).is_err() {
                    return;
                }
            }
            Err(err) => {
                tracing::error!("reading stdin: {err}");
                break;
            }
        }
    }
    let _ = tx.send(Input::End);
}

fn write_effects(out: &mut impl Write, effects: &[Effect]) -> std::io::Result<()> {
    let mut wrote = false;
    for effect in effects {
        if let Effect::Send(msg) = effect {
            let line = proto::to_line(msg);
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            wrote = true;
        }
    }
    if wrote && let Err(err) = out.flush() {
        tracing::error!("writing stdout: {err}");
        return Err(err);
    }
    Ok(())
}

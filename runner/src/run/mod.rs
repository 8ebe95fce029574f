//! `harness test`: the run itself.
//!
//! One thread, the router, owns everything that decides, in parts both backends share: the
//! clock (real, or virtual under `--sim`) and the timed events (`run/timers.rs`), the recorder
//! (journal, history, network counts, problems: `run/recorder.rs`), the workload driver (clients,
//! op schedule, nemesis plan, phase), the network model and the services. Where the nodes run
//! is a host (`run/host.rs`): a process, whose pipes the process backend watches with epoll (its
//! `ProcessIo`), or an in-process runtime the simulator's loop (`run/sim.rs`) hands lines to. The
//! process backend waits for the next line or the next timed event, whichever comes first, so
//! it never blocks on a node; the simulator jumps from one event to the next.
//!
//! Phases: start every node and `init` it (10 s), send `topology`; run the workload and the
//! nemesis for `--time-limit`; heal every fault; wait `--recovery-time`; one final op per node
//! (retried until it succeeds or 5 s pass); stop every node (SIGKILL of its process group, and
//! of its descendants that left it: see [`crate::lifetime`]); check; write `results.json`;
//! print the summary.

use std::time::{Duration, Instant};

use ::nodes::{Effect, Runtime};
use anyhow::Context;
use checker::{ErrorInfo, EventType, Process};
use std::os::fd::{AsFd, OwnedFd};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use proto::{Body, Message, Payload, parse_route};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde_json::Value;
use workloads::{CLIENT_TIMEOUT, Completion, Op, Outcome};

use crate::clients::{Clients, Ended, ReplyTarget};
use crate::config::TestConfig;
use crate::nemesis::{self, Action as NemesisAction, NemesisOptions, ScheduledAction};
use crate::net::{Endpoint, Fate, Latency, Network};
use crate::problems::ProblemKind;
use crate::process::{Launcher, NodeProcess, Output, QueueError};
use crate::progress::Progress;
use crate::record::{HistoryWriter, Journal, OpEvent};
use crate::results::{self, RunReport};
use crate::schedule::OpSchedule;
use crate::services;
use crate::store::RunDir;
use host::{Host, MakeNode, SimHost};
use timers::{Timed, Timers};

mod clocks;
mod cluster;
mod faults;
mod host;
mod hosting;
mod ops;
mod phases;
mod recorder;
mod remote;
mod sim;
mod sim_logs;
mod timers;

pub use host::MakeNode as NodeFactory;
pub use sim::panic_text;

/// How long a node has to answer `init` (and `topology`).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many bytes of messages may wait for a node that is not reading its input.
pub const NODE_QUEUE_BYTES: usize = 32 << 20;
pub use crate::problems::FLOOD_LINES_PER_SEC;
/// The most timed events handled in one turn of the event loop, before it reads the nodes'
/// output and the signal pipe again.
const TIMED_BATCH: usize = 4096;
/// The epoll key of the signal pipe (node pipes use `node << 1 | is_stdin`, the agents'
/// wake-up pipe `u64::MAX - 1`).
const SIGNAL_KEY: u64 = u64::MAX;
/// The harness's own client id, for `init` and `topology`.
pub const SETUP_CLIENT: &str = "c0";

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Node(usize),
    Service(usize),
    Client,
}

impl Dest {
    fn endpoint(self) -> Endpoint {
        match self {
            Dest::Node(i) => Endpoint::Node(i),
            Dest::Service(_) => Endpoint::Service,
            Dest::Client => Endpoint::Client,
        }
    }
}

/// Where a routed message comes from: a node or a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Node(usize),
    Service(usize),
}

impl Peer {
    fn endpoint(self) -> Endpoint {
        match self {
            Peer::Node(i) => Endpoint::Node(i),
            Peer::Service(_) => Endpoint::Service,
        }
    }
}

/// Who a message delivered to a node is from, for the journal.
#[derive(Debug, Clone, Copy)]
enum From<'a> {
    Peer(Peer),
    Client(&'a str),
    /// A line written by `via` with another member's id as its `src` (a forward).
    Forwarded {
        via: Peer,
        src: &'a str,
    },
}

/// Who a message waiting for a node's pipe is from.
#[derive(Debug)]
enum Sender {
    Peer(Peer),
    Client(Box<str>),
    Forwarded { via: Peer, src: Box<str> },
}

/// A message in a node's input queue, not yet taken whole by its stdin pipe: delivered once
/// it is, dropped as `queued` if it never is.
#[derive(Debug)]
struct Pending {
    /// The incarnation whose queue holds it.
    incarnation: u32,
    /// The pipe has taken the whole line once it has taken this many bytes.
    end: u64,
    id: u64,
    src: Sender,
    /// The line, kept only for `--log-net-recv`.
    line: Option<Box<str>>,
}

/// What only the process backend has: node processes are started, watched and read here.
struct ProcessIo {
    launcher: Launcher,
    /// Every pipe the router waits on: node stdouts, node stdins with output waiting, signals.
    epoll: Epoll,
    /// Lines read in one turn of the loop (kept to reuse its allocation).
    lines: Vec<Output>,
    /// Where node output is read into.
    read_buf: Vec<u8>,
}

/// What the router's `now` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// Real time since the run started (the process backend).
    Real,
    /// The simulator's virtual time, in nanoseconds: it moves only from one event to the next.
    Virtual(u64),
}

/// The simulator's own state (`--sim`).
struct Simulated {
    make: MakeNode,
    /// Each node's stable storage: a kill keeps it, a wipe empties it.
    disks: Vec<::nodes::Stable>,
    /// Events handled since virtual time last moved (a node that never lets it move is a
    /// livelock, and the run stops).
    same_instant: u64,
    /// Each running node's next timer, earliest first, and each node's entry in it.
    deadlines: std::collections::BTreeSet<(u64, usize)>,
    deadline_of: Vec<Option<u64>>,
}

/// The lifecycle of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    /// Started; `init` sent, not yet answered.
    Starting,
    Up,
    Paused,
    /// Killed by the nemesis.
    Killed,
    /// Exited by itself, or never answered init.
    Dead,
}

impl NodeState {
    /// Whether messages queued for the node are written to its input. A paused node is handed
    /// nothing (it could not read it), and a starting one nothing but its `init` until it has
    /// answered: every node is initialised before any other traffic reaches it, as the
    /// protocol contract says, even a node that handles messages on several threads.
    fn takes_input(self) -> bool {
        !matches!(self, NodeState::Paused | NodeState::Starting)
    }
}

struct NodeSlot {
    id: String,
    /// The running node: a process, or a simulated node.
    host: Option<Host>,
    incarnation: u32,
    state: NodeState,
    /// Killed by a wipe: its data directory was emptied.
    wiped: bool,
    /// Its output lines, counted for floods.
    flood: crate::problems::FloodWindow,
    /// Client requests sent to this node while it ran (less those a crash cut off), replies
    /// it sent to clients, and client requests it forwarded to another node with the client's
    /// `src` (which that node answers).
    requests: u64,
    replies: u64,
    forwards: u64,
    /// Messages queued for it and not yet taken by its pipe, oldest first.
    pending: std::collections::VecDeque<Pending>,
}

/// What a harness request (`init`, `topology`) was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Init,
    Topology,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for every node's `init_ok` / `topology_ok`.
    Starting,
    Workload,
    /// No final ops: waiting for the ops still in flight to end.
    Draining,
    Recovery,
    Final,
    Done,
}

/// The router and everything it owns.
pub struct Router {
    config: TestConfig,
    /// When the run started, for its wall-clock duration.
    start: Instant,
    /// What `now` is: real time since the start, or the simulator's virtual time.
    clock: Clock,
    /// Under `--sim`: what makes the nodes, and each node's stable storage.
    sim: Option<Simulated>,
    dir: RunDir,
    /// The process backend's own: launcher, epoll, read buffers (None under `--sim`).
    io: Option<ProcessIo>,
    /// Under `--hosts`: the agents the nodes run on.
    remote: Option<remote::RemoteRun>,
    /// Read end of the pipe the signal handlers write to.
    interrupts: OwnedFd,
    /// The signal handlers of this run, removed when it ends (so that many runs in one
    /// process, as `harness explore` makes, do not pile them up).
    _signals: SignalHandlers,
    /// The harness's CPU time (user, system) when the cluster stopped.
    run_cpu: (f64, f64),
    run_sleeps: u64,
    nodes: Vec<NodeSlot>,
    /// Each node's index in `nodes`, by its id.
    node_by_id: FxHashMap<String, usize>,
    /// This run among the runs of the process, for killing what its nodes left behind.
    lifetime: crate::lifetime::RunGuard,
    services: Vec<(String, Runtime<services::Service>)>,
    network: Network,
    /// Every node's wall clock, as the clock nemesis bent it.
    clocks: clocks::NodeClocks,
    /// `--nemesis byzantine`: the Byzantine nodes and the lies their messages tell.
    byzantine: Option<nemesis::Byzantine>,
    /// The router's timed events.
    timers: Timers,
    next_setup_msg: u64,
    setups: FxHashMap<u64, (usize, u32, Setup)>,
    /// The journal, the history, the network counts and the problems.
    rec: recorder::Recorder,
    /// The clients, their op schedule, the nemesis plan and the run's phase.
    driver: WorkloadDriver,
    abort: Option<String>,
    interrupted: bool,
    progress: Progress,
}

/// The workload driver: what the clients do and when, what the nemesis does and when, and
/// which phase the run is in. Both backends drive their nodes with it.
struct WorkloadDriver {
    /// The client ops, drawn from the seed apart from timing.
    ops: OpSchedule,
    /// Ops invoked later than planned because every client was busy.
    ops_late: u64,
    /// Fault actions carried out.
    faults_done: u64,
    /// Which idle client invokes the next op (this depends on timing).
    rng: ChaCha8Rng,
    clients: Clients,
    owed_invoke: bool,
    plan: Vec<ScheduledAction>,
    active_faults: Vec<String>,
    phase: Phase,
    workload_start: u64,
    counts: results::OpCounts,
}

/// The seed of run `index` (from 0) of a `--test-count`: the first run's seed plus `index`, so
/// that each run is reproduced alone with `--seed`.
pub fn repetition_seed(seed: u64, index: u64) -> u64 {
    seed.wrapping_add(index)
}

/// `harness test --test-count N`: run the test up to `count` times, run `i` (from 0) with
/// [`repetition_seed`], each in its own folder with its own summary, stopping at the first run
/// that is not valid, as Jepsen's test command does; then list each run (its seed, verdict and
/// folder). The exit code is the first run's that was not valid (0 when all were).
pub fn run_tests(config: TestConfig, count: u64) -> anyhow::Result<u8> {
    if count <= 1 {
        return run_test(config).map(|outcome| outcome.exit_code);
    }
    let mut lines = Vec::new();
    let mut code = 0;
    for index in 0..count {
        let mut this = config.clone();
        this.seed = repetition_seed(config.seed, index);
        this.repetition = Some((index + 1, count));
        if !this.quiet {
            println!("run {} of {count}, seed {}", index + 1, this.seed);
        }
        let seed = this.seed;
        let (verdict, folder, exit) = match run_test(this) {
            Ok(outcome) => {
                let verdict = if outcome.exit_code == 3 {
                    "could not run".to_owned()
                } else {
                    outcome.valid.to_string()
                };
                (
                    verdict,
                    outcome.dir.display().to_string(),
                    outcome.exit_code,
                )
            }
            Err(err) => {
                eprintln!("harness: {err:#}");
                (format!("could not run: {err:#}"), String::new(), 3)
            }
        };
        lines.push(format!(
            "  run {} of {count}, seed {seed}: {verdict}  {folder}",
            index + 1
        ));
        if exit != 0 {
            code = exit;
            if index + 1 < count {
                lines.push(format!(
                    "  stopped at the first run that is not valid, as Jepsen does: {} run(s) not \
                     started",
                    count - index - 1
                ));
            }
            break;
        }
    }
    if !config.quiet {
        println!();
        println!("test-count {count}:");
        for line in &lines {
            println!("{}", line.trim_end());
        }
        println!(
            "overall: {}",
            match code {
                0 => "valid",
                1 => "invalid",
                2 => "unknown",
                _ => "could not run",
            }
        );
    }
    Ok(code)
}

/// Run a test to the end and return the process exit code.
pub fn run_test(config: TestConfig) -> anyhow::Result<results::RunOutcome> {
    let dir = RunDir::create(&config.store, config.workload.name())
        .with_context(|| format!("creating the store folder under {}", config.store.display()))?;
    // Until results.json is written whole, the folder says the run has not finished.
    let in_progress = dir
        .begin()
        .with_context(|| format!("marking {} as in progress", dir.dir.display()))?;
    if !config.quiet {
        println!(
            "harness test -w {} with {} node(s), seed {}; files in {}",
            config.workload,
            config.node_ids.len(),
            config.seed,
            dir.dir.display()
        );
        if let Some(line) = config.rate_capped() {
            println!("{line}");
        }
    }
    let outcome = Router::new(config, dir).and_then(|mut router| router.run());
    if let Err(err) = &outcome {
        in_progress.could_not_run(&format!("{err:#}"));
    }
    outcome
}

impl Router {
    fn new(config: TestConfig, dir: RunDir) -> anyhow::Result<Self> {
        let start = Instant::now();
        let (interrupts, signals) = install_signal_handlers()?;
        let io = if config.sim.is_some() {
            None
        } else {
            let epoll =
                Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).context("creating an epoll set")?;
            epoll
                .add(
                    &interrupts,
                    EpollEvent::new(EpollFlags::EPOLLIN, SIGNAL_KEY),
                )
                .context("watching the signal pipe")?;
            let fake_time = if config.faults.contains(&nemesis::FaultKind::Clock)
                || config.workload.bends_clocks()
            {
                if config.remote.is_some() {
                    anyhow::bail!(
                        "--nemesis clock and the {} workload cannot bend the clocks of nodes on \
                         agents (--hosts) yet; run them on this machine, or under --sim",
                        workloads::WorkloadKind::TimeSync
                    );
                }
                let lib = crate::faketime::find_library().map_err(anyhow::Error::msg)?;
                Some(crate::faketime::FakeTime {
                    lib,
                    dir: dir.dir.join("clocks"),
                })
            } else {
                None
            };
            let launcher = Launcher {
                fake_time,
                bin: config.bin.clone(),
                args: config.args.clone(),
                log_dir: dir.node_logs(),
                data_dir: dir.data(),
                log_stderr: config.log_stderr,
                queue_bytes: NODE_QUEUE_BYTES,
                seed: config.seed,
            };
            Some(ProcessIo {
                launcher,
                epoll,
                lines: Vec::new(),
                read_buf: vec![0; 64 << 10],
            })
        };
        let remote = remote::RemoteRun::connect(&config, &dir, start)?;
        if let (Some(remote), Some(io)) = (&remote, &io) {
            io.epoll
                .add(
                    &remote.agents.wake,
                    EpollEvent::new(EpollFlags::EPOLLIN, remote::REMOTE_KEY),
                )
                .context("watching the agents")?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let network = Network::new(
            &config.node_ids,
            Latency::new(config.latency_dist, config.latency),
            config.seed,
        );
        let plan = nemesis::plan(
            &NemesisOptions {
                targets: config.nemesis_targets.clone(),
                ..NemesisOptions::new(
                    config.faults.clone(),
                    config.nemesis_interval,
                    config.time_limit,
                )
            },
            &config.node_ids,
            config.seed,
        )?;
        let services = services::NAMES
            .iter()
            .map(|name| {
                let service = services::service(name).expect("a known service");
                // The time server makes no random choice, so it draws no seed: every later
                // draw from the run's seed is what it was before the service existed.
                let seed = match service.kind() {
                    services::ServiceKind::TimeServer => 0,
                    _ => rng.random(),
                };
                ((*name).to_owned(), Runtime::new(service, seed, 1))
            })
            .collect();
        let ops = OpSchedule::new(
            workloads::workload(config.workload, &config.workload_options),
            config.rate,
            config.seed,
        );
        let clients = Clients::new(config.clients, config.node_ids.len());
        let nodes = config
            .node_ids
            .iter()
            .map(|id| NodeSlot {
                id: id.clone(),
                host: None,
                incarnation: 0,
                state: NodeState::Dead,
                wiped: false,
                flood: crate::problems::FloodWindow::default(),
                requests: 0,
                replies: 0,
                forwards: 0,
                pending: std::collections::VecDeque::new(),
            })
            .collect();
        let progress = Progress::new(config.progress, config.time_limit);
        let sim = config.sim.as_ref().map(|program| Simulated {
            make: program.make.clone(),
            disks: vec![::nodes::Stable::new(); config.node_ids.len()],
            same_instant: 0,
            deadlines: std::collections::BTreeSet::new(),
            deadline_of: vec![None; config.node_ids.len()],
        });
        let clocks = clocks::NodeClocks::new(
            &config.node_ids,
            io.as_ref().and_then(|io| io.launcher.fake_time.clone()),
        );
        Ok(Router {
            clocks,
            rec: recorder::Recorder::new(
                Journal::create(&dir.messages())?,
                HistoryWriter::create(&dir.history())?,
                config.workload == workloads::WorkloadKind::Broadcast,
            ),
            io,
            remote,
            interrupts,
            _signals: signals,
            run_cpu: (0.0, 0.0),
            run_sleeps: 0,
            node_by_id: config
                .node_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect(),
            nodes,
            lifetime: crate::lifetime::RunGuard::begin(),
            services,
            network,
            byzantine: (config.byzantine > 0).then(|| {
                nemesis::Byzantine::new(config.node_ids.len(), config.byzantine, config.seed)
            }),
            timers: Timers::default(),
            next_setup_msg: 1,
            setups: FxHashMap::default(),
            driver: WorkloadDriver {
                ops,
                ops_late: 0,
                faults_done: 0,
                rng,
                clients,
                owed_invoke: false,
                plan,
                active_faults: Vec::new(),
                phase: Phase::Starting,
                workload_start: 0,
                counts: results::OpCounts::default(),
            },
            abort: None,
            interrupted: false,
            progress,
            clock: if sim.is_some() {
                Clock::Virtual(0)
            } else {
                Clock::Real
            },
            sim,
            config,
            start,
            dir,
        })
    }

    /// Nanoseconds since the run started: real, or virtual under the simulator.
    fn now(&self) -> u64 {
        match self.clock {
            Clock::Real => self.start.elapsed().as_nanos() as u64,
            Clock::Virtual(now) => now,
        }
    }

    fn schedule(&mut self, at: u64, what: Timed) {
        self.timers.schedule(at, what);
    }

    fn run(&mut self) -> anyhow::Result<results::RunOutcome> {
        // Start every node and initialise the services.
        for name in services::NAMES {
            self.init_service(name);
        }
        if let Some(byzantine) = &self.byzantine {
            let names: Vec<Value> = byzantine
                .nodes()
                .into_iter()
                .map(|i| Value::String(self.nodes[i].id.clone()))
                .collect();
            self.record_fault("byzantine", Value::Array(names));
        }
        for node in 0..self.nodes.len() {
            if let Err(err) = self.start_node(node) {
                self.stop_all();
                anyhow::bail!("{err}");
            }
        }
        if self.sim.is_some() {
            self.sim_loop();
        } else {
            self.event_loop();
        }
        // CPU of running the cluster (routing every message, clients, faults, journal and
        // history), before the checkers and the report.
        self.run_cpu = results::cpu_seconds();
        self.run_sleeps = results::sleeps();
        self.stop_all();
        self.finish()
    }

    fn event_loop(&mut self) {
        let mut last_flush = 0u64;
        while self.driver.phase != Phase::Done {
            let now = self.now();
            // Timed events that are due, in time order; at most a bounded batch before the
            // loop looks at the nodes and the signals again, however far behind it is.
            let mut batch = 0;
            while batch < TIMED_BATCH
                && let Some((at, what)) = self.timers.pop_due(now)
            {
                batch += 1;
                self.on_timed(at, what);
                if self.driver.phase == Phase::Done {
                    return;
                }
            }
            self.run_services(now);
            self.remote_tick(now);
            if now >= last_flush + 100_000_000 {
                last_flush = now;
                self.rec.journal.flush();
                self.progress.update(
                    Duration::from_nanos(now),
                    &self.driver.counts,
                    self.rec.net.all.send_count,
                    &self.driver.active_faults,
                );
            }
            let next_timer = self.timers.next_at();
            let next_service = self.next_service_deadline();
            let wake = [next_timer, next_service, Some(last_flush + 100_000_000)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + 100_000_000);
            for node in 0..self.nodes.len() {
                let slot = &mut self.nodes[node];
                if let Some(process) = slot.host.as_mut().and_then(Host::process_mut)
                    && slot.state.takes_input()
                {
                    process.flush();
                }
                self.settle(node);
            }
            let wait = wake.saturating_sub(self.now());
            self.wait_for_io(wait);
        }
    }

    /// Make the epoll set follow node `node`'s pipes: its stdout while open, its stdin while
    /// output waits for room (and the node takes input).
    fn watch(&mut self, node: usize) {
        let slot = &mut self.nodes[node];
        let takes_input = slot.state.takes_input();
        let (Some(process), Some(io)) = (
            slot.host.as_mut().and_then(Host::process_mut),
            self.io.as_ref(),
        ) else {
            return;
        };
        let want_write = process.stdin_fd().is_some() && takes_input;
        if want_write != process.watched_for_write {
            let key = (node as u64) << 1 | 1;
            let result = match (want_write, process.stdin_fd()) {
                (true, Some(fd)) => io.epoll.add(fd, EpollEvent::new(EpollFlags::EPOLLOUT, key)),
                _ => match process.stdin_handle() {
                    Some(fd) => io.epoll.delete(fd),
                    None => Ok(()),
                },
            };
            if let Err(err) = result {
                tracing::debug!("epoll for the input of node {node}: {err}");
            }
            process.watched_for_write = want_write;
        }
    }

    /// Wait up to `wait_ns` for node output, room in a node's input, or a signal, and handle
    /// what came.
    fn wait_for_io(&mut self, wait_ns: u64) {
        for node in 0..self.nodes.len() {
            self.watch(node);
        }
        let mut events = [EpollEvent::empty(); 64];
        // Round up, so a deadline is never waited for as 0 ms too early and spun on.
        let ms = wait_ns.div_ceil(1_000_000).min(1000) as u16;
        let Some(io) = self.io.as_ref() else { return };
        let ready = match io.epoll.wait(&mut events, EpollTimeout::from(ms)) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => return,
            Err(err) => {
                tracing::error!("epoll: {err}");
                return;
            }
        };
        for event in &events[..ready] {
            let key = event.data();
            if key == SIGNAL_KEY {
                let mut buf = [0u8; 16];
                let _ = nix::unistd::read(self.interrupts.as_fd(), &mut buf);
                self.interrupted = true;
                self.abort = Some("interrupted by a signal".to_owned());
                self.driver.phase = Phase::Done;
                return;
            }
            if key == remote::REMOTE_KEY {
                self.on_agents();
                continue;
            }
            let node = (key >> 1) as usize;
            if key & 1 == 0 && node < self.nodes.len() {
                self.read_node(node);
            }
            // Room in a node's input: the loop flushes every queue before it waits again.
        }
    }
}

impl Router {
    /// The index of the node named `id`, if there is one.
    fn node_of(&self, id: &str) -> Option<usize> {
        self.node_by_id.get(id).copied()
    }

    /// True if `id` names a member of the network: a node, a service, or a client the
    /// harness has had (the only check Maelstrom makes of a line's `src`; Maelstrom forgets a
    /// client once it is closed, the harness keeps it, so a late forward is no error).
    fn is_member(&self, id: &str) -> bool {
        self.node_of(id).is_some()
            || services::NAMES.contains(&id)
            || id == SETUP_CLIENT
            || self.driver.clients.known(id)
    }
}

/// Signal handlers installed for one run; dropping this removes them.
pub(crate) struct SignalHandlers(Vec<signal_hook::SigId>);

impl Drop for SignalHandlers {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Make SIGINT, SIGTERM and SIGHUP write a byte to a pipe the router polls, and return its
/// read end: the run then stops, kills every node and still writes what it has.
pub(crate) fn install_signal_handlers() -> anyhow::Result<(OwnedFd, SignalHandlers)> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let (read, write) = nix::unistd::pipe().context("creating the signal pipe")?;
    for fd in [read.as_fd(), write.as_fd()] {
        let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    }
    let mut handlers = SignalHandlers(Vec::new());
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        handlers.0.push(
            signal_hook::low_level::pipe::register(signal, write.try_clone()?)
                .context("installing signal handlers")?,
        );
    }
    Ok((read, handlers))
}

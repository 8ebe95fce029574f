//! `harness test`: the run itself.
//!
//! One thread, the router, owns everything that decides: the simulated network, the services,
//! the clients, the nemesis schedule, the history and the journal. Node processes talk to it
//! through their reader threads (lines, with the time they arrived) and their bounded writer
//! queues. The router waits for the next line or the next timed event (a delivery, a client
//! invoke or timeout, a fault, a phase change), whichever comes first, so it never blocks on a
//! node.
//!
//! Phases: start every node and `init` it (10 s), send `topology`; run the workload and the
//! nemesis for `--time-limit`; heal every fault; wait `--recovery-time`; one final op per node
//! (retried until it succeeds or 5 s pass); stop every node (SIGKILL of its process group);
//! check; write `results.json`; print the summary.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use anyhow::Context;
use checker::{ErrorInfo, EventType, NetEventKind, Process};
use crossbeam_channel::{Receiver, Sender};
use nix::sys::signal::Signal;
use nodes::{Effect, Runtime};
use proto::{Body, Message, Payload, parse_header};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde_json::Value;
use workloads::{CLIENT_TIMEOUT, Completion, Op, Outcome, Workload};

use crate::clients::{Clients, ReplyTarget};
use crate::config::TestConfig;
use crate::nemesis::{self, Action as NemesisAction, NemesisOptions, ScheduledAction};
use crate::net::{Endpoint, Fate, Latency, Network};
use crate::problems::{ProblemKind, Problems};
use crate::process::{Launcher, NodeOutput, NodeProcess, QueueError};
use crate::progress::Progress;
use crate::record::{HistoryWriter, Journal, OpEvent};
use crate::results::{self, RunReport};
use crate::services;
use crate::store::RunDir;

/// How long a node has to answer `init` (and `topology`).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many messages may wait for a node that is not reading its input.
pub const NODE_QUEUE: usize = 100_000;
/// Lines per second above which a node is said to flood its stdout.
pub const FLOOD_LINES_PER_SEC: u64 = 10_000;
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

/// Something that happens at a time.
#[derive(Debug)]
enum Timed {
    /// Deliver a message (the whole line) that was put on the wire.
    Deliver {
        id: u64,
        src: Box<str>,
        dest: Dest,
        dest_name: Box<str>,
        line: String,
    },
    /// The next client op is due (the `--rate` schedule).
    Invoke,
    /// A client's op has waited [`CLIENT_TIMEOUT`].
    ClientTimeout { client: usize, seq: u64 },
    /// A final op is retried after a failure.
    RetryFinal { client: usize },
    /// The next nemesis action.
    Nemesis(usize),
    /// A node's `init` (or `topology`) went unanswered.
    SetupTimeout {
        node: usize,
        incarnation: u32,
        msg_id: u64,
    },
    /// The workload's time is up: heal and wait for recovery.
    EndWorkload,
    /// Recovery is over: the final ops.
    FinalOps,
    /// Give up on final ops still outstanding.
    FinalDeadline,
}

#[derive(Debug)]
struct Scheduled {
    at: u64,
    seq: u64,
    what: Timed,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
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

struct NodeSlot {
    id: String,
    process: Option<NodeProcess>,
    incarnation: u32,
    state: NodeState,
    window_start: u64,
    window_lines: u64,
    /// Client requests sent to this node, and replies it sent to clients.
    requests: u64,
    replies: u64,
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
    start: Instant,
    dir: RunDir,
    launcher: Launcher,
    outputs_tx: Sender<NodeOutput>,
    outputs: Receiver<NodeOutput>,
    interrupts: Receiver<i32>,
    nodes: Vec<NodeSlot>,
    services: Vec<(String, Runtime<services::Service>)>,
    network: Network,
    timers: BinaryHeap<Reverse<Scheduled>>,
    timer_seq: u64,
    next_message: u64,
    next_setup_msg: u64,
    setups: FxHashMap<u64, (usize, u32, Setup)>,
    journal: Journal,
    history: HistoryWriter,
    problems: Problems,
    net_stats: crate::interim::NetStats,
    workload: Box<dyn Workload>,
    rng: ChaCha8Rng,
    clients: Clients,
    owed_invoke: bool,
    plan: Vec<ScheduledAction>,
    active_faults: Vec<String>,
    phase: Phase,
    workload_start: u64,
    abort: Option<String>,
    interrupted: bool,
    progress: Progress,
    counts: results::OpCounts,
}

/// Run a test to the end and return the process exit code.
pub fn run_test(config: TestConfig) -> anyhow::Result<u8> {
    let dir = RunDir::create(&config.store, config.workload.name())
        .with_context(|| format!("creating the store folder under {}", config.store.display()))?;
    println!(
        "harness test -w {} with {} node(s), seed {}; files in {}",
        config.workload,
        config.node_ids.len(),
        config.seed,
        dir.dir.display()
    );
    let mut router = Router::new(config, dir)?;
    router.run()
}

impl Router {
    fn new(config: TestConfig, dir: RunDir) -> anyhow::Result<Self> {
        let start = Instant::now();
        let (outputs_tx, outputs) = crossbeam_channel::bounded(65_536);
        let (interrupt_tx, interrupts) = crossbeam_channel::bounded(4);
        install_signal_handlers(interrupt_tx)?;
        let launcher = Launcher {
            bin: config.bin.clone(),
            args: config.args.clone(),
            log_dir: dir.node_logs(),
            log_stderr: config.log_stderr,
            queue_len: NODE_QUEUE,
            start,
            seed: config.seed,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let network = Network::new(
            &config.node_ids,
            Latency::new(config.latency_dist, config.latency),
            config.seed,
        );
        let plan = nemesis::plan(
            &NemesisOptions::new(
                config.faults.clone(),
                config.nemesis_interval,
                config.time_limit,
            ),
            &config.node_ids,
            config.seed,
        )?;
        let services = services::NAMES
            .iter()
            .map(|name| {
                let service = services::service(name).expect("a known service");
                ((*name).to_owned(), Runtime::new(service, rng.random(), 1))
            })
            .collect();
        let workload = workloads::workload(config.workload, &config.workload_options);
        let clients = Clients::new(config.clients, config.node_ids.len());
        let nodes = config
            .node_ids
            .iter()
            .map(|id| NodeSlot {
                id: id.clone(),
                process: None,
                incarnation: 0,
                state: NodeState::Dead,
                window_start: 0,
                window_lines: 0,
                requests: 0,
                replies: 0,
            })
            .collect();
        let progress = Progress::new(config.progress, config.time_limit);
        Ok(Router {
            journal: Journal::create(&dir.messages())?,
            history: HistoryWriter::create(&dir.history())?,
            launcher,
            outputs_tx,
            outputs,
            interrupts,
            nodes,
            services,
            network,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            next_message: 0,
            next_setup_msg: 1,
            setups: FxHashMap::default(),
            problems: Problems::default(),
            net_stats: crate::interim::NetStats::default(),
            workload,
            rng,
            clients,
            owed_invoke: false,
            plan,
            active_faults: Vec::new(),
            phase: Phase::Starting,
            workload_start: 0,
            abort: None,
            interrupted: false,
            progress,
            counts: results::OpCounts::default(),
            config,
            start,
            dir,
        })
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn schedule(&mut self, at: u64, what: Timed) {
        self.timer_seq += 1;
        self.timers.push(Reverse(Scheduled {
            at,
            seq: self.timer_seq,
            what,
        }));
    }

    fn run(&mut self) -> anyhow::Result<u8> {
        // Start every node and initialise the services.
        for name in services::NAMES {
            self.init_service(name);
        }
        for node in 0..self.nodes.len() {
            if let Err(err) = self.start_node(node) {
                self.stop_all();
                anyhow::bail!("{err}");
            }
        }
        self.event_loop();
        self.stop_all();
        self.finish()
    }

    fn event_loop(&mut self) {
        let mut last_flush = 0u64;
        while self.phase != Phase::Done {
            let now = self.now();
            // Timed events that are due, in time order.
            while let Some(Reverse(next)) = self.timers.peek() {
                if next.at > now {
                    break;
                }
                let Reverse(item) = self.timers.pop().expect("peeked");
                self.on_timed(item.at, item.what);
                if self.phase == Phase::Done {
                    return;
                }
            }
            self.run_services(now);
            if now >= last_flush + 100_000_000 {
                last_flush = now;
                self.journal.flush();
                self.progress.update(
                    Duration::from_nanos(now),
                    &self.counts,
                    self.net_stats.all_sends(),
                    &self.active_faults,
                );
            }
            let next_timer = self.timers.peek().map(|Reverse(s)| s.at);
            let next_service = self.next_service_deadline();
            let wake = [next_timer, next_service, Some(last_flush + 100_000_000)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + 100_000_000);
            let deadline = self.start + Duration::from_nanos(wake);
            crossbeam_channel::select! {
                recv(self.outputs) -> output => {
                    if let Ok(output) = output {
                        self.on_output(output);
                        // Drain what else is ready before looking at timers again.
                        for _ in 0..256 {
                            match self.outputs.try_recv() {
                                Ok(output) => self.on_output(output),
                                Err(_) => break,
                            }
                        }
                    }
                }
                recv(self.interrupts) -> signal => {
                    let signal = signal.unwrap_or(2);
                    self.interrupted = true;
                    self.abort = Some(format!("interrupted by signal {signal}"));
                    self.phase = Phase::Done;
                }
                default(deadline.saturating_duration_since(Instant::now())) => {}
            }
        }
    }

    // ---- nodes ----

    fn start_node(&mut self, node: usize) -> anyhow::Result<()> {
        let slot = &mut self.nodes[node];
        slot.incarnation += 1;
        let process = self
            .launcher
            .spawn(node, &slot.id, slot.incarnation, &self.outputs_tx)?;
        slot.process = Some(process);
        slot.state = NodeState::Starting;
        let node_ids = self.config.node_ids.clone();
        let id = slot.id.clone();
        let incarnation = slot.incarnation;
        self.send_setup(
            node,
            incarnation,
            Setup::Init,
            Payload::Init {
                node_id: id,
                node_ids,
            },
        );
        Ok(())
    }

    fn send_setup(&mut self, node: usize, incarnation: u32, setup: Setup, payload: Payload) {
        let msg_id = self.next_setup_msg;
        self.next_setup_msg += 1;
        self.setups.insert(msg_id, (node, incarnation, setup));
        let msg = Message::new(
            SETUP_CLIENT,
            self.nodes[node].id.clone(),
            Body {
                msg_id: Some(msg_id),
                in_reply_to: None,
                payload,
            },
        );
        let now = self.now();
        self.client_send(now, node, &msg);
        self.schedule(
            now + INIT_TIMEOUT.as_nanos() as u64,
            Timed::SetupTimeout {
                node,
                incarnation,
                msg_id,
            },
        );
    }

    /// Send a message from a client (or the harness) to a node: no latency, no partition.
    fn client_send(&mut self, now: u64, node: usize, msg: &Message) {
        let line = proto::to_line(msg);
        let id = self.next_message;
        self.next_message += 1;
        let body = serde_json::to_string(&msg.body).unwrap_or_default();
        self.journal.send(now, id, &msg.src, &msg.dest, &body);
        self.net_stats
            .record(NetEventKind::Send, &msg.src, &msg.dest);
        if self.config.log_net_send {
            eprintln!("send {line}");
        }
        self.deliver_to_node(now, id, &msg.src, node, line);
    }

    fn deliver_to_node(&mut self, now: u64, id: u64, src: &str, node: usize, line: String) {
        let slot = &self.nodes[node];
        let dest = slot.id.clone();
        let accepting = matches!(
            slot.state,
            NodeState::Up | NodeState::Paused | NodeState::Starting
        );
        let result = match (&slot.process, accepting) {
            (Some(process), true) => process.send(line.clone()),
            _ => Err(QueueError::Closed),
        };
        match result {
            Ok(()) => {
                self.journal.deliver(now, id, src, &dest);
                self.net_stats.record(NetEventKind::Deliver, src, &dest);
                if self.config.log_net_recv {
                    eprintln!("recv {line}");
                }
            }
            Err(QueueError::Full) => {
                self.drop_message(now, id, src, &dest, "backlog");
                self.problems
                    .record(&dest, ProblemKind::InputBacklog, now, || {
                        format!("input queue of {NODE_QUEUE} messages full")
                    });
            }
            Err(QueueError::Closed) => self.drop_message(now, id, src, &dest, "node-down"),
        }
    }

    fn drop_message(&mut self, now: u64, id: u64, src: &str, dest: &str, reason: &str) {
        self.journal.drop(now, id, src, dest, reason);
        self.net_stats.record(NetEventKind::Drop, src, dest);
    }

    fn on_output(&mut self, output: NodeOutput) {
        match output {
            NodeOutput::Line {
                node,
                incarnation,
                line,
                at,
            } => {
                if self.nodes[node].incarnation != incarnation {
                    return;
                }
                self.count_line(node, at);
                self.on_node_line(node, at, line);
            }
            NodeOutput::Oversized {
                node,
                incarnation,
                bytes,
            } => {
                if self.nodes[node].incarnation == incarnation {
                    let now = self.now();
                    let id = self.nodes[node].id.clone();
                    self.problems
                        .record(&id, ProblemKind::OversizedLine, now, || {
                            format!("a line of {bytes} bytes")
                        });
                }
            }
            NodeOutput::Closed { node, incarnation } => self.on_closed(node, incarnation),
        }
    }

    fn count_line(&mut self, node: usize, at: u64) {
        let slot = &mut self.nodes[node];
        if at >= slot.window_start + 1_000_000_000 {
            slot.window_start = at;
            slot.window_lines = 0;
        }
        slot.window_lines += 1;
        if slot.window_lines == FLOOD_LINES_PER_SEC {
            let id = slot.id.clone();
            self.problems.record(&id, ProblemKind::Flood, at, || {
                format!("more than {FLOOD_LINES_PER_SEC} lines within one second")
            });
        }
    }

    fn on_closed(&mut self, node: usize, incarnation: u32) {
        let now = self.now();
        let slot = &mut self.nodes[node];
        if slot.incarnation != incarnation {
            return;
        }
        if matches!(slot.state, NodeState::Killed | NodeState::Dead) || self.phase == Phase::Done {
            return;
        }
        let status = slot
            .process
            .as_mut()
            .map(|p| {
                // Give the process a moment to be reaped after closing its stdout.
                for _ in 0..50 {
                    if let Some(status) = p.try_exit_status() {
                        return status;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                "closed its stdout".to_owned()
            })
            .unwrap_or_default();
        slot.state = NodeState::Dead;
        if let Some(mut process) = slot.process.take() {
            process.kill();
        }
        let id = slot.id.clone();
        self.problems
            .record(&id, ProblemKind::Exited, now, || status.clone());
        if self.phase == Phase::Starting {
            self.abort = Some(format!("{id} exited during init ({status})"));
            self.phase = Phase::Done;
        }
    }

    fn classify(&self, dest: &str) -> Option<Dest> {
        if let Some(i) = node_index(dest).filter(|&i| i < self.nodes.len()) {
            return Some(Dest::Node(i));
        }
        if checker::is_client(dest) {
            return Some(Dest::Client);
        }
        self.services
            .iter()
            .position(|(name, _)| name == dest)
            .map(Dest::Service)
    }

    fn on_node_line(&mut self, node: usize, at: u64, line: String) {
        let (src, dest, body, kind, in_reply_to) = match parse_header(&line) {
            Ok((route, body)) => (
                route.src.into_owned(),
                route.dest.into_owned(),
                route.body.get().to_owned(),
                body.kind.into_owned(),
                body.in_reply_to,
            ),
            Err(err) => {
                let id = self.nodes[node].id.clone();
                self.problems
                    .record(&id, ProblemKind::MalformedLine, at, || {
                        format!("{}: {}", err.reason, line)
                    });
                return;
            }
        };
        let own = self.nodes[node].id.clone();
        if src != own {
            self.problems
                .record(&own, ProblemKind::WrongSrc, at, || line.clone());
        }
        let _ = kind;
        let id = self.next_message;
        self.next_message += 1;
        self.journal.send(at, id, &own, &dest, &body);
        self.net_stats.record(NetEventKind::Send, &own, &dest);
        if self.config.log_net_send {
            eprintln!("send {line}");
        }
        match self.classify(&dest) {
            None => {
                self.drop_message(at, id, &own, &dest, "unknown-dest");
                self.problems
                    .record(&own, ProblemKind::UnknownDest, at, || line.clone());
            }
            Some(Dest::Client) => {
                self.journal.deliver(at, id, &own, &dest);
                self.net_stats.record(NetEventKind::Deliver, &own, &dest);
                self.on_client_reply(node, at, &dest, in_reply_to, &line);
            }
            Some(target) => self.route(at, id, own, target, dest, line),
        }
    }

    /// Put a server-to-server message through the simulated network.
    fn route(
        &mut self,
        at: u64,
        id: u64,
        src: String,
        dest: Dest,
        dest_name: String,
        line: String,
    ) {
        let from = self.endpoint_of(&src);
        let fate = self.network.route(from, dest.endpoint(), at);
        if fate == Fate::Lost {
            self.drop_message(at, id, &src, &dest_name, "loss");
            return;
        }
        let times: Vec<u64> = fate.deliveries().collect();
        let last = times.len() - 1;
        let mut line = Some(line);
        for (i, when) in times.into_iter().enumerate() {
            let copy = if i == last {
                line.take().unwrap_or_default()
            } else {
                line.clone().unwrap_or_default()
            };
            self.schedule(
                when,
                Timed::Deliver {
                    id,
                    src: src.clone().into(),
                    dest,
                    dest_name: dest_name.clone().into(),
                    line: copy,
                },
            );
        }
    }

    fn endpoint_of(&self, id: &str) -> Endpoint {
        match self.classify(id) {
            Some(dest) => dest.endpoint(),
            None => Endpoint::Other,
        }
    }

    fn deliver(&mut self, now: u64, id: u64, src: &str, dest: Dest, dest_name: &str, line: String) {
        let from = self.endpoint_of(src);
        if self.network.blocked(from, dest.endpoint()) {
            self.drop_message(now, id, src, dest_name, "partition");
            return;
        }
        match dest {
            Dest::Node(node) => self.deliver_to_node(now, id, src, node, line),
            Dest::Service(service) => {
                self.journal.deliver(now, id, src, dest_name);
                self.net_stats.record(NetEventKind::Deliver, src, dest_name);
                match proto::parse_line(&line) {
                    Ok(msg) => {
                        let effects = self.services[service]
                            .1
                            .handle_message(Duration::from_nanos(now), msg);
                        self.service_effects(now, service, effects);
                    }
                    Err(err) => {
                        // The node's line parsed as a route header but not as a message.
                        if let Some(node) = node_index(src).filter(|&i| i < self.nodes.len()) {
                            let node_id = self.nodes[node].id.clone();
                            self.problems
                                .record(&node_id, ProblemKind::MalformedLine, now, || {
                                    format!("{}: {}", err.reason, line)
                                });
                        }
                    }
                }
            }
            Dest::Client => {}
        }
    }

    // ---- services ----

    fn init_service(&mut self, name: &str) {
        let Some(index) = self.services.iter().position(|(n, _)| n == name) else {
            return;
        };
        let mut ids: Vec<String> = vec![name.to_owned()];
        ids.extend(self.config.node_ids.iter().cloned());
        let init = Message::new(
            SETUP_CLIENT,
            name,
            Body {
                msg_id: Some(0),
                in_reply_to: None,
                payload: Payload::Init {
                    node_id: name.to_owned(),
                    node_ids: ids,
                },
            },
        );
        // The service's init_ok goes nowhere: the harness hosts it.
        let _ = self.services[index].1.handle_message(Duration::ZERO, init);
    }

    fn next_service_deadline(&self) -> Option<u64> {
        self.services
            .iter()
            .filter_map(|(_, rt)| rt.next_deadline())
            .map(|d| d.as_nanos() as u64)
            .min()
    }

    fn run_services(&mut self, now: u64) {
        for service in 0..self.services.len() {
            if self.services[service]
                .1
                .next_deadline()
                .is_some_and(|d| d.as_nanos() as u64 <= now)
            {
                let effects = self.services[service].1.advance(Duration::from_nanos(now));
                self.service_effects(now, service, effects);
            }
        }
    }

    fn service_effects(&mut self, now: u64, service: usize, effects: Vec<Effect>) {
        let name = self.services[service].0.clone();
        for effect in effects {
            let Effect::Send(msg) = effect else { continue };
            let line = proto::to_line(&msg);
            let id = self.next_message;
            self.next_message += 1;
            let body = serde_json::to_string(&msg.body).unwrap_or_default();
            self.journal.send(now, id, &name, &msg.dest, &body);
            self.net_stats.record(NetEventKind::Send, &name, &msg.dest);
            match self.classify(&msg.dest) {
                Some(Dest::Node(node)) => self.route(
                    now,
                    id,
                    name.clone(),
                    Dest::Node(node),
                    msg.dest.clone(),
                    line,
                ),
                _ => self.drop_message(now, id, &name, &msg.dest, "unknown-dest"),
            }
        }
    }

    // ---- clients ----

    fn on_client_reply(
        &mut self,
        node: usize,
        at: u64,
        client_id: &str,
        in_reply_to: Option<u64>,
        line: &str,
    ) {
        let node_id = self.nodes[node].id.clone();
        if client_id == SETUP_CLIENT {
            self.on_setup_reply(node, at, in_reply_to, line);
            return;
        }
        self.nodes[node].replies += 1;
        match self.clients.target(client_id, in_reply_to) {
            ReplyTarget::Completes(index) => {
                let body = match proto::parse_line(line) {
                    Ok(msg) => msg.body,
                    Err(err) => {
                        self.problems
                            .record(&node_id, ProblemKind::MalformedLine, at, || {
                                format!("{}: {}", err.reason, line)
                            });
                        return;
                    }
                };
                let op = match self.clients.clients[index].state {
                    crate::clients::ClientState::Busy { ref op, .. } => op.clone(),
                    _ => return,
                };
                let completion = self.workload.complete(&op, &body);
                if completion
                    .error
                    .as_ref()
                    .is_some_and(|e| e.name == workloads::MALFORMED_REPLY)
                {
                    self.problems
                        .record(&node_id, ProblemKind::BadReply, at, || {
                            format!(
                                "{}: {}",
                                completion
                                    .error
                                    .as_ref()
                                    .map(|e| e.text.as_str())
                                    .unwrap_or(""),
                                line
                            )
                        });
                }
                self.complete_op(index, at, &op, completion);
            }
            ReplyTarget::Duplicate => {
                self.problems
                    .record(&node_id, ProblemKind::DuplicateReply, at, || {
                        line.to_owned()
                    })
            }
            ReplyTarget::Late => {}
            ReplyTarget::Nobody => {
                self.problems
                    .record(&node_id, ProblemKind::ReplyToNobody, at, || line.to_owned())
            }
        }
    }

    fn invoke(&mut self, index: usize, op: Op) {
        let now = self.now();
        let client = &self.clients.clients[index];
        let (process, node, is_final) = (client.process, client.node, client.is_final);
        let request = match self.workload.request(&op) {
            Ok(request) => request,
            Err(err) => {
                tracing::error!("workload made an op it cannot send: {err}");
                return;
            }
        };
        let (msg_id, seq) = self.clients.invoke(index, op.clone());
        let node_id = self.nodes[node].id.clone();
        self.history.append(OpEvent {
            time: now,
            process: Process::Client(process),
            node: Some(&node_id),
            kind: EventType::Invoke,
            f: &op.f,
            value: op.value.clone(),
            error: None,
            is_final,
        });
        self.counts.invoked += 1;
        let msg = Message::new(
            self.clients.clients[index].id.clone(),
            node_id,
            Body {
                msg_id: Some(msg_id),
                in_reply_to: None,
                payload: request,
            },
        );
        self.nodes[node].requests += 1;
        self.client_send(now, node, &msg);
        self.schedule(
            now + CLIENT_TIMEOUT.as_nanos() as u64,
            Timed::ClientTimeout { client: index, seq },
        );
    }

    fn complete_op(&mut self, index: usize, at: u64, op: &Op, completion: Completion) {
        let client = &self.clients.clients[index];
        let (process, node, is_final) = (client.process, client.node, client.is_final);
        let node_id = self.nodes[node].id.clone();
        let kind = match completion.outcome {
            Outcome::Ok => EventType::Ok,
            Outcome::Fail => EventType::Fail,
            Outcome::Info => EventType::Info,
        };
        self.counts.record(completion.outcome);
        self.history.append(OpEvent {
            time: at,
            process: Process::Client(process),
            node: Some(&node_id),
            kind,
            f: &op.f,
            value: completion.value.clone(),
            error: completion.error.as_ref().map(|e| ErrorInfo {
                code: e.code,
                name: e.name.clone(),
                text: e.text.clone(),
            }),
            is_final,
        });
        self.clients.complete(index, &completion);
        if is_final {
            if completion.outcome == Outcome::Fail && at < self.final_deadline() {
                self.schedule(at + 100_000_000, Timed::RetryFinal { client: index });
            } else {
                self.clients.clients[index].state = crate::clients::ClientState::Done;
                self.check_final_done();
            }
        } else if self.phase == Phase::Draining {
            self.check_drained();
        } else if self.phase == Phase::Workload && self.owed_invoke {
            self.owed_invoke = false;
            let op = self.workload.next_op(&mut self.rng);
            self.invoke(index, op);
        }
    }

    fn final_deadline(&self) -> u64 {
        (self.config.time_limit + self.config.recovery_time + CLIENT_TIMEOUT).as_nanos() as u64
    }

    fn check_drained(&mut self) {
        if self.phase == Phase::Draining && !self.clients.any_busy() {
            self.phase = Phase::Done;
        }
    }

    fn check_final_done(&mut self) {
        if self.phase == Phase::Final
            && self
                .clients
                .clients
                .iter()
                .filter(|c| c.is_final)
                .all(|c| matches!(c.state, crate::clients::ClientState::Done))
        {
            self.phase = Phase::Done;
        }
    }

    // ---- setup ----

    fn on_setup_reply(&mut self, node: usize, at: u64, in_reply_to: Option<u64>, line: &str) {
        let node_id = self.nodes[node].id.clone();
        let Some((target, incarnation, setup)) = in_reply_to.and_then(|r| self.setups.remove(&r))
        else {
            self.problems
                .record(&node_id, ProblemKind::ReplyToNobody, at, || line.to_owned());
            return;
        };
        if target != node || incarnation != self.nodes[node].incarnation {
            return;
        }
        let kind = proto::parse_line(line)
            .map(|m| m.body.kind().to_owned())
            .unwrap_or_default();
        match setup {
            Setup::Init => {
                if kind != "init_ok" {
                    self.problems
                        .record(&node_id, ProblemKind::BadInitReply, at, || line.to_owned());
                }
                if self.nodes[node].state == NodeState::Starting {
                    self.nodes[node].state = NodeState::Up;
                }
                if self.workload.sends_topology() {
                    let topology =
                        workloads::topology::build(self.config.topology, &self.config.node_ids);
                    self.send_setup(
                        node,
                        incarnation,
                        Setup::Topology,
                        Payload::Topology { topology },
                    );
                }
            }
            Setup::Topology => {
                if kind != "topology_ok" {
                    self.problems
                        .record(&node_id, ProblemKind::BadTopologyReply, at, || {
                            line.to_owned()
                        });
                }
            }
        }
        if self.phase == Phase::Starting && self.setups.is_empty() {
            self.begin_workload();
        }
    }

    fn begin_workload(&mut self) {
        let now = self.now();
        self.phase = Phase::Workload;
        self.progress.begin(self.config.time_limit);
        // Times are relative to the workload's start from here on.
        let base = now;
        let limit = self.config.time_limit.as_nanos() as u64;
        for i in 0..self.plan.len() {
            let at = base + self.plan[i].at.as_nanos() as u64;
            self.schedule(at, Timed::Nemesis(i));
        }
        self.workload_start = base;
        if self.config.rate > 0.0 {
            let gap = self.next_gap();
            self.schedule(base + gap, Timed::Invoke);
        }
        self.schedule(base + limit, Timed::EndWorkload);
    }

    fn next_gap(&mut self) -> u64 {
        // Jepsen's stagger: uniform in [0, 2/rate], so the mean rate is `rate`.
        let mean = 1e9 / self.config.rate;
        (self.rng.random::<f64>() * 2.0 * mean) as u64
    }
}

impl Router {
    fn on_timed(&mut self, at: u64, what: Timed) {
        match what {
            Timed::Deliver {
                id,
                src,
                dest,
                dest_name,
                line,
            } => self.deliver(at, id, &src, dest, &dest_name, line),
            Timed::Invoke => {
                if self.phase != Phase::Workload {
                    return;
                }
                let idle: Vec<usize> = self.clients.idle().collect();
                if idle.is_empty() {
                    // Every client is busy: the next one to finish invokes at once.
                    self.owed_invoke = true;
                } else {
                    let index = idle[self.rng.random_range(0..idle.len())];
                    let op = self.workload.next_op(&mut self.rng);
                    self.invoke(index, op);
                }
                let gap = self.next_gap();
                self.schedule(at + gap, Timed::Invoke);
            }
            Timed::ClientTimeout { client, seq } => {
                let Some(op) = self.clients.busy_with(client, seq).cloned() else {
                    return;
                };
                let completion = self.workload.timeout(&op);
                let now = self.now();
                self.complete_op(client, now, &op, completion);
            }
            Timed::RetryFinal { client } => {
                if self.phase == Phase::Final
                    && let Some(op) = self.workload.final_op()
                {
                    self.invoke(client, op);
                }
            }
            Timed::Nemesis(i) => {
                if self.phase == Phase::Workload {
                    let action = self.plan[i].action.clone();
                    self.apply_fault(&action);
                }
            }
            Timed::SetupTimeout {
                node,
                incarnation,
                msg_id,
            } => {
                let Some((_, _, setup)) = self.setups.remove(&msg_id) else {
                    return;
                };
                if self.nodes[node].incarnation != incarnation {
                    return;
                }
                let now = self.now();
                let id = self.nodes[node].id.clone();
                match setup {
                    Setup::Init => {
                        self.problems.record(&id, ProblemKind::NoInitOk, now, || {
                            format!("no init_ok within {} s", INIT_TIMEOUT.as_secs())
                        });
                        if self.phase == Phase::Starting {
                            // Every node still waiting has had the same time to answer.
                            let waiting: Vec<String> = self
                                .setups
                                .values()
                                .filter(|(_, _, s)| *s == Setup::Init)
                                .map(|(n, _, _)| self.nodes[*n].id.clone())
                                .collect();
                            for other in waiting {
                                self.problems
                                    .record(&other, ProblemKind::NoInitOk, now, || {
                                        format!("no init_ok within {} s", INIT_TIMEOUT.as_secs())
                                    });
                            }
                            self.abort = Some(format!(
                                "{id} did not answer init within {} s",
                                INIT_TIMEOUT.as_secs()
                            ));
                            self.phase = Phase::Done;
                            return;
                        }
                        // A restarted node that never came up stays down.
                        self.nodes[node].state = NodeState::Dead;
                        if let Some(mut process) = self.nodes[node].process.take() {
                            process.kill();
                        }
                    }
                    Setup::Topology => {
                        self.problems
                            .record(&id, ProblemKind::BadTopologyReply, now, || {
                                format!("no topology_ok within {} s", INIT_TIMEOUT.as_secs())
                            });
                    }
                }
                if self.phase == Phase::Starting && self.setups.is_empty() {
                    self.begin_workload();
                }
            }
            Timed::EndWorkload => {
                if self.workload.final_op().is_none() {
                    // Nothing to read at the end: stop once the ops in flight are over.
                    self.phase = Phase::Draining;
                    self.check_drained();
                    let limit = CLIENT_TIMEOUT.as_nanos() as u64 + 1_000_000_000;
                    self.schedule(at + limit, Timed::FinalDeadline);
                    return;
                }
                self.phase = Phase::Recovery;
                self.heal_everything();
                let recovery = self.config.recovery_time.as_nanos() as u64;
                self.schedule(at + recovery, Timed::FinalOps);
            }
            Timed::FinalOps => self.begin_final(at),
            Timed::FinalDeadline => {
                if matches!(self.phase, Phase::Final | Phase::Draining) {
                    self.phase = Phase::Done;
                }
            }
        }
    }

    fn begin_final(&mut self, at: u64) {
        self.phase = Phase::Final;
        let Some(_) = self.workload.final_op() else {
            self.phase = Phase::Done;
            return;
        };
        for node in 0..self.nodes.len() {
            let index = self.clients.add_final(node);
            let op = self.workload.final_op().expect("checked");
            self.invoke(index, op);
        }
        // Retries of failed final ops stop at the final deadline; an op invoked just before
        // it still gets its full client timeout.
        let deadline = self.final_deadline().max(at) + CLIENT_TIMEOUT.as_nanos() as u64;
        self.schedule(deadline + 1_000_000_000, Timed::FinalDeadline);
    }

    // ---- faults ----

    fn record_fault(&mut self, f: &str, value: Value) {
        let now = self.now();
        self.history.append(OpEvent {
            time: now,
            process: Process::NEMESIS,
            node: None,
            kind: EventType::Info,
            f,
            value,
            error: None,
            is_final: false,
        });
    }

    fn apply_fault(&mut self, action: &NemesisAction) {
        let (f, value) = (action.f(), action.value());
        match action {
            NemesisAction::StartPartition { grudge, shape } => {
                if let Err(err) = self.network.partition(grudge) {
                    tracing::error!("partition names an unknown node: {err}");
                }
                self.set_active("partition", Some(shape.name()));
            }
            NemesisAction::StopPartition => {
                self.network.heal_partition();
                self.set_active("partition", None);
            }
            NemesisAction::Kill { nodes } => {
                for id in nodes {
                    if let Some(node) = node_index(id).filter(|&i| i < self.nodes.len()) {
                        let slot = &mut self.nodes[node];
                        if matches!(slot.state, NodeState::Killed | NodeState::Dead) {
                            continue;
                        }
                        slot.state = NodeState::Killed;
                        if let Some(mut process) = slot.process.take() {
                            process.kill();
                        }
                    }
                }
                self.set_active("kill", Some(&nodes.join(",")));
            }
            NemesisAction::Restart { nodes } => {
                for id in nodes {
                    if let Some(node) = node_index(id).filter(|&i| i < self.nodes.len())
                        && self.nodes[node].state == NodeState::Killed
                        && let Err(err) = self.start_node(node)
                    {
                        let now = self.now();
                        self.problems.record(id, ProblemKind::Exited, now, || {
                            format!("could not restart: {err}")
                        });
                    }
                }
                self.set_active("kill", None);
            }
            NemesisAction::Pause { nodes } => {
                for id in nodes {
                    if let Some(node) = node_index(id).filter(|&i| i < self.nodes.len()) {
                        let slot = &mut self.nodes[node];
                        if let (Some(process), NodeState::Up | NodeState::Starting) =
                            (&slot.process, slot.state)
                        {
                            process.signal(Signal::SIGSTOP);
                            slot.state = NodeState::Paused;
                        }
                    }
                }
                self.set_active("pause", Some(&nodes.join(",")));
            }
            NemesisAction::Resume { nodes } => {
                for id in nodes {
                    if let Some(node) = node_index(id).filter(|&i| i < self.nodes.len()) {
                        self.resume(node);
                    }
                }
                self.set_active("pause", None);
            }
            NemesisAction::StartLoss { p } => {
                let _ = self.network.set_loss(*p);
                self.set_active("loss", Some(&format!("{p}")));
            }
            NemesisAction::StopLoss { .. } => {
                let _ = self.network.set_loss(0.0);
                self.set_active("loss", None);
            }
            NemesisAction::StartDuplicate { p } => {
                let _ = self.network.set_duplicate(*p);
                self.set_active("duplicate", Some(&format!("{p}")));
            }
            NemesisAction::StopDuplicate { .. } => {
                let _ = self.network.set_duplicate(0.0);
                self.set_active("duplicate", None);
            }
        }
        self.record_fault(f, value);
    }

    fn resume(&mut self, node: usize) {
        let slot = &mut self.nodes[node];
        if slot.state == NodeState::Paused {
            if let Some(process) = &slot.process {
                process.signal(Signal::SIGCONT);
            }
            slot.state = NodeState::Up;
        }
    }

    fn set_active(&mut self, fault: &str, detail: Option<&str>) {
        self.active_faults
            .retain(|f| f.split(' ').next() != Some(fault));
        if let Some(detail) = detail {
            self.active_faults.push(format!("{fault} {detail}"));
        }
    }

    /// At the end of the workload: stop every fault that is still on.
    fn heal_everything(&mut self) {
        let mut actions = Vec::new();
        if self.network.is_partitioned() {
            actions.push(NemesisAction::StopPartition);
        }
        if self.network.loss() > 0.0 {
            actions.push(NemesisAction::StopLoss {
                p: self.network.loss(),
            });
        }
        if self.network.duplicate() > 0.0 {
            actions.push(NemesisAction::StopDuplicate {
                p: self.network.duplicate(),
            });
        }
        let paused: Vec<String> = self
            .nodes
            .iter()
            .filter(|s| s.state == NodeState::Paused)
            .map(|s| s.id.clone())
            .collect();
        if !paused.is_empty() {
            actions.push(NemesisAction::Resume { nodes: paused });
        }
        let killed: Vec<String> = self
            .nodes
            .iter()
            .filter(|s| s.state == NodeState::Killed)
            .map(|s| s.id.clone())
            .collect();
        if !killed.is_empty() {
            actions.push(NemesisAction::Restart { nodes: killed });
        }
        for action in actions {
            self.apply_fault(&action);
        }
        self.active_faults.clear();
    }

    // ---- the end ----

    fn stop_all(&mut self) {
        self.phase = Phase::Done;
        for slot in &mut self.nodes {
            if let Some(mut process) = slot.process.take() {
                process.kill();
            }
        }
        self.progress.finish();
    }

    fn finish(&mut self) -> anyhow::Result<u8> {
        let now = self.now();
        for slot in &self.nodes {
            if slot.requests > 0 && slot.replies == 0 {
                let requests = slot.requests;
                self.problems
                    .record(&slot.id, ProblemKind::Unresponsive, now, || {
                        format!("{requests} client requests, no reply")
                    });
            }
        }
        let history = std::mem::replace(
            &mut self.history,
            HistoryWriter::create(&self.dir.dir.join(".history-closed"))?,
        );
        let _ = std::fs::remove_file(self.dir.dir.join(".history-closed"));
        let events = history.finish().context("writing history.jsonl")?;
        let journal = std::mem::replace(
            &mut self.journal,
            Journal::create(&self.dir.dir.join(".messages-closed"))?,
        );
        let _ = std::fs::remove_file(self.dir.dir.join(".messages-closed"));
        journal.finish().context("writing messages.jsonl")?;
        let report = RunReport {
            config: &self.config,
            dir: &self.dir,
            events: &events,
            net: &self.net_stats,
            problems: self.problems.list(),
            abort: self.abort.clone(),
            interrupted: self.interrupted,
            duration: self.start.elapsed(),
        };
        results::write_and_summarise(&report)
    }
}

/// `n12` -> 12.
fn node_index(id: &str) -> Option<usize> {
    let digits = id.strip_prefix('n')?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits.parse().ok()
}

fn install_signal_handlers(tx: Sender<i32>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(signal).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

//! `harness agent`: runs on each host of a multi-machine run, starts that host's node
//! processes, and carries their messages host to host.
//!
//! A controller (`harness test --hosts`) connects, says which nodes this host runs and where
//! the other agents are; the agents link up with each other (every link authenticated and
//! encrypted with the shared key: `remote/link.rs`). Then:
//!
//! - a line a node writes to another node goes straight to that node's agent, after the
//!   latency, loss and duplication the run asks for (drawn by the sending agent from the same
//!   network model the simulator uses), and is checked against the partition where it is
//!   delivered; the controller only hears that it was sent, delivered or dropped, for the
//!   journal;
//! - a line to a client, a service, or anything the agent does not route itself goes to the
//!   controller, which treats it as it treats a local node's line;
//! - the controller's lines for a node (client requests, service replies, `init`) are written
//!   to its input, and the agent says when the node's pipe has taken them;
//! - kill, pause, resume, wipe and restart act on the real processes (SIGKILL of the process
//!   group, SIGSTOP, SIGCONT, emptying the data folder, starting a new incarnation);
//! - while a partition cuts this host off from another one entirely, the link between the
//!   two agents is cut in the kernel too (`remote/firewall.rs`), when the agent runs as root.
//!
//! The agent runs only the programs it was started to `--allow`; a peer without the key
//! gets nothing and is logged; a malformed or oversized frame closes its connection only.
//! One run at a time: when it ends (the controller says stop, or its connection drops) the
//! agent kills every node, removes every rule, and waits for the next controller. Ctrl-C does
//! the same and exits.

use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use checker::NetEventKind;
use crossbeam_channel::{Receiver, Sender};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signal::Signal;
use proto::parse_route;
use rustc_hash::FxHashMap;

use super::channel::{Channel, Incoming, drain, wake_pipe};
use super::firewall::Firewall;
use super::frame::{Frame, Hello, NetChange, NetEvent, Setup, VERSION, wall_ns};
use super::key::Key;
use super::link::{self, Link, LinkError};
use crate::net::{Endpoint, Fate, Latency, Network};
use crate::process::{Launcher, NodeProcess, Output, QueueError};

/// `harness agent`.
#[derive(clap::Args, Debug, Clone)]
pub struct AgentArgs {
    /// Where to listen for the controller and the other agents: ADDR:PORT, an address of this
    /// host (0.0.0.0 for all of them; mind the firewall of a shared network).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The shared key (64 hexadecimal digits; `--new-key` writes one); `-` reads it from
    /// standard input, and the agent then stops when its standard input closes (as when the
    /// controller started it over SSH and ends).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// A node program this agent may run; repeat for several. A controller asking for any
    /// other program is refused.
    #[arg(long = "allow", value_name = "PROGRAM")]
    pub allow: Vec<PathBuf>,
    /// Where the nodes' data folders and logs go during a run [default: a folder in the
    /// system's temporary folder]. A run's folder is removed when its logs have been sent.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Never touch the firewall: partitions are messages the agents drop, also as root.
    #[arg(long)]
    pub no_firewall: bool,
    /// Write a fresh random key to FILE (readable by its owner only) and exit.
    #[arg(long, value_name = "FILE")]
    pub new_key: Option<PathBuf>,
}

/// At most this many connections may be in their handshake at once.
const MAX_HANDSHAKES: usize = 64;

/// Counts a handshake thread out when it ends.
struct Done(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The epoll keys that are not nodes.
const WAKE_KEY: u64 = u64::MAX;
const SIGNAL_KEY: u64 = u64::MAX - 1;
/// Journal ids of messages an agent routes: agent `a`'s are `(a + 1) * ID_SPACE + n`, apart
/// from the controller's (below `ID_SPACE`) and from each other's, and exact in JavaScript.
pub const ID_SPACE: u64 = 1_000_000_000_000;

type LinkId = u64;

/// What the agent's threads tell its main loop.
enum Event {
    Controller(Box<Link>),
    Peer {
        run: String,
        agent: usize,
        link: Box<Link>,
    },
    Frame {
        link: LinkId,
        frame: Box<Frame>,
        received: u64,
    },
    Closed {
        link: LinkId,
        why: String,
    },
    StdinClosed,
}

/// Wakes the main loop from another thread (a byte down a pipe it polls).
#[derive(Clone)]
struct Waker(Arc<OwnedFd>);

impl Waker {
    fn wake(&self) {
        let _ = nix::unistd::write(self.0.as_fd(), &[1]);
    }
}

/// Sends events to the main loop and wakes it.
#[derive(Clone)]
struct Events {
    tx: Sender<Event>,
    waker: Waker,
}

impl Events {
    fn send(&self, event: Event) {
        let _ = self.tx.send(event);
        self.waker.wake();
    }
}

/// Start the threads of `link`, as link `id`: what it says becomes events of the main loop.
fn spawn_link(link: Link, id: LinkId, events: &Events, name: &str) -> Option<Channel> {
    let events = events.clone();
    let spawned = Channel::spawn(link, name, move |incoming| {
        events.send(match incoming {
            Incoming::Frame(frame, received) => Event::Frame {
                link: id,
                frame,
                received,
            },
            Incoming::Closed(why) => Event::Closed { link: id, why },
        })
    });
    match spawned {
        Ok(channel) => Some(channel),
        Err(err) => {
            eprintln!("harness agent: cannot start the threads of a link: {err}");
            None
        }
    }
}

fn hello_bytes(hello: &Hello) -> Vec<u8> {
    serde_json::to_vec(hello).expect("hellos serialize")
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into())
}

/// `harness agent`: serve runs until Ctrl-C (or, with the key on standard input, until it
/// closes).
pub fn run(args: &AgentArgs) -> anyhow::Result<u8> {
    if let Some(path) = &args.new_key {
        Key::create_file(path)?;
        println!(
            "wrote a new key to {}; copy it to every host of the run (scp), keep it private",
            path.display()
        );
        return Ok(0);
    }
    let Some(listen) = &args.listen else {
        bail!("harness agent needs --listen ADDR:PORT (or --new-key FILE)");
    };
    let Some(key_file) = &args.key_file else {
        bail!("harness agent needs --key-file FILE, the key the controller and agents share");
    };
    if args.allow.is_empty() {
        bail!("harness agent needs --allow PROGRAM for each node program it may run");
    }
    let allowed = args
        .allow
        .iter()
        .map(|p| std::fs::canonicalize(p).with_context(|| format!("--allow {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let from_stdin = key_file == Path::new("-");
    let key = Key::load(key_file)?;
    let listener = TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let base = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("harness-agent-{}", addr.port())));
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let host = hostname();
    println!(
        "harness agent on {host} listening on {addr}; it runs {}",
        allowed
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    let (wake_read, wake_write) = wake_pipe().context("creating a pipe")?;
    epoll.add(&wake_read, EpollEvent::new(EpollFlags::EPOLLIN, WAKE_KEY))?;
    let (signals, _handlers) = crate::run::install_signal_handlers()?;
    epoll.add(&signals, EpollEvent::new(EpollFlags::EPOLLIN, SIGNAL_KEY))?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let events = Events {
        tx,
        waker: Waker(wake_write),
    };
    spawn_acceptor(listener, key.clone(), host.clone(), events.clone())?;
    if from_stdin {
        let events = events.clone();
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
                events.send(Event::StdinClosed);
            })?;
    }
    let mut agent = Agent {
        key,
        allowed,
        base,
        port: addr.port(),
        no_firewall: args.no_firewall,
        events,
        rx,
        epoll,
        wake_read,
        _signals: signals,
        links: FxHashMap::default(),
        next_link: 1,
        controller: None,
        run: None,
        waiting_peers: Vec::new(),
        lines: Vec::new(),
        read_buf: vec![0; 64 << 10],
    };
    agent.serve();
    Ok(0)
}

fn spawn_acceptor(
    listener: TcpListener,
    key: Key,
    host: String,
    events: Events,
) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("accept".into())
        .spawn(move || {
            let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                // A flood of connections that never finish their handshake gets no more than
                // MAX_HANDSHAKES threads (each gives up after the handshake timeout).
                if busy.load(std::sync::atomic::Ordering::Relaxed) >= MAX_HANDSHAKES {
                    eprintln!(
                        "harness agent: refused {}: {MAX_HANDSHAKES} handshakes in progress",
                        stream
                            .peer_addr()
                            .map(|a| a.to_string())
                            .unwrap_or_else(|_| "?".into())
                    );
                    continue;
                }
                busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (key, host, events, busy) =
                    (key.clone(), host.clone(), events.clone(), busy.clone());
                let _ = std::thread::Builder::new()
                    .name("handshake".into())
                    .spawn(move || {
                        let _done = Done(busy);
                        let peer = stream
                            .peer_addr()
                            .map(|a| a.to_string())
                            .unwrap_or_else(|_| "?".into());
                        let answer = hello_bytes(&Hello::Agent {
                            version: VERSION,
                            host,
                        });
                        let link = match link::accept(stream, &key, &answer) {
                            Ok(link) => link,
                            Err(err) => {
                                eprintln!("harness agent: refused {peer}: {err}");
                                return;
                            }
                        };
                        match serde_json::from_slice::<Hello>(&link.hello) {
                            Ok(Hello::Controller { version }) if version == VERSION => {
                                events.send(Event::Controller(Box::new(link)));
                            }
                            Ok(Hello::Peer {
                                version,
                                run,
                                agent,
                            }) if version == VERSION => events.send(Event::Peer {
                                run,
                                agent,
                                link: Box::new(link),
                            }),
                            other => eprintln!(
                                "harness agent: refused {peer}: it speaks another version of \
                                 the protocol ({other:?}; this agent speaks {VERSION})"
                            ),
                        }
                    });
            }
        })?;
    Ok(())
}

struct Agent {
    key: Key,
    allowed: Vec<PathBuf>,
    base: PathBuf,
    port: u16,
    no_firewall: bool,
    events: Events,
    rx: Receiver<Event>,
    epoll: Epoll,
    wake_read: OwnedFd,
    /// The signal pipe, watched by `epoll` (kept open here).
    _signals: OwnedFd,
    links: FxHashMap<LinkId, Channel>,
    next_link: LinkId,
    /// The controller's link, while one is connected.
    controller: Option<LinkId>,
    run: Option<Run>,
    /// Links from agents of a run this agent has not been set up for yet.
    waiting_peers: Vec<(String, usize, LinkId)>,
    lines: Vec<Output>,
    read_buf: Vec<u8>,
}

/// A run in progress on this agent.
struct Run {
    setup: Setup,
    start: Instant,
    dir: PathBuf,
    launcher: Launcher,
    network: Network,
    nodes: Vec<Local>,
    /// The controller's link.
    controller: Sender<Vec<u8>>,
    /// The link to each other agent, by index.
    peers: Vec<Option<PeerLink>>,
    ready: bool,
    /// Agents whose every node is cut off from every node here.
    cut: BTreeSet<usize>,
    firewall: Option<Firewall>,
    timers: BinaryHeap<std::cmp::Reverse<(u64, u64)>>,
    delayed: FxHashMap<u64, Delayed>,
    next_timer: u64,
    next_id: u64,
    _guard: crate::lifetime::RunGuard,
}

/// A link to another agent of the run.
struct PeerLink {
    link: LinkId,
    out: Sender<Vec<u8>>,
    local: SocketAddr,
    peer: SocketAddr,
}

/// A node of this host.
#[derive(Default)]
struct Local {
    process: Option<NodeProcess>,
    incarnation: u32,
    paused: bool,
    pending: VecDeque<InFlight>,
    /// Controller lines the current incarnation's pipe has taken.
    taken: u64,
    /// Its output lines, counted for floods.
    flood: crate::problems::FloodWindow,
}

struct InFlight {
    end: u64,
    /// The journal id and sender of a node-to-node message; `None` for a controller line.
    peer: Option<(u64, usize)>,
}

/// A node-to-node message waiting out its latency at the sending agent.
struct Delayed {
    id: u64,
    src: usize,
    dest: usize,
    line: String,
}

impl Agent {
    fn serve(&mut self) {
        loop {
            let timeout = self.wait_ms();
            let mut ready = [EpollEvent::empty(); 64];
            let n = match self.epoll.wait(&mut ready, EpollTimeout::from(timeout)) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => 0,
                Err(err) => {
                    eprintln!("harness agent: epoll: {err}");
                    0
                }
            };
            for event in &ready[..n] {
                match event.data() {
                    SIGNAL_KEY => {
                        eprintln!("harness agent: interrupted; stopping the nodes");
                        self.end_run(false);
                        return;
                    }
                    WAKE_KEY => drain(&self.wake_read),
                    node => self.read_node(node as usize),
                }
            }
            while let Ok(event) = self.rx.try_recv() {
                if !self.on_event(event) {
                    self.end_run(false);
                    return;
                }
            }
            self.fire_timers();
            self.flush_nodes();
        }
    }

    /// How long to wait for the next event.
    fn wait_ms(&self) -> u16 {
        let Some(run) = &self.run else { return 1000 };
        let busy = run
            .nodes
            .iter()
            .any(|l| !l.paused && l.process.as_ref().is_some_and(|p| p.queued() > 0));
        if busy {
            return 2;
        }
        match run.timers.peek() {
            Some(std::cmp::Reverse((at, _))) => {
                let now = run.now();
                (at.saturating_sub(now).div_ceil(1_000_000)).min(1000) as u16
            }
            None => 1000,
        }
    }

    fn send_controller(&self, frame: &Frame) {
        if let Some(link) = self.controller.and_then(|id| self.links.get(&id)) {
            link.send(frame);
        }
    }

    /// Handle one event; false when the agent should stop.
    fn on_event(&mut self, event: Event) -> bool {
        match event {
            Event::Controller(link) => {
                let peer = link.peer;
                if self.controller.is_some() {
                    eprintln!(
                        "harness agent: refused a second controller from {peer}: a run is in progress"
                    );
                    let id = self.add_link(*link, "controller");
                    if let Some(handle) = self.links.get(&id) {
                        handle.send(&Frame::Refused {
                            reason: "this agent is in another controller's run".into(),
                        });
                    }
                    return true;
                }
                eprintln!("harness agent: controller connected from {peer}");
                let id = self.add_link(*link, "controller");
                self.controller = Some(id);
            }
            Event::Peer { run, agent, link } => {
                let id = self.add_link(*link, &format!("agent {agent}"));
                self.waiting_peers.push((run, agent, id));
                self.adopt_peers();
            }
            Event::Frame {
                link,
                frame,
                received,
            } => self.on_frame(link, *frame, received),
            Event::Closed { link, why } => {
                if let Some(handle) = self.links.remove(&link) {
                    handle.close();
                    if why != LinkError::Closed.to_string() {
                        eprintln!("harness agent: closed the link with {}: {why}", handle.peer);
                    }
                }
                if self.controller == Some(link) {
                    eprintln!("harness agent: the controller is gone; ending its run");
                    self.controller = None;
                    self.end_run(false);
                }
                if let Some(run) = &mut self.run {
                    for peer in run.peers.iter_mut() {
                        if peer.as_ref().is_some_and(|p| p.link == link) {
                            *peer = None;
                        }
                    }
                }
            }
            Event::StdinClosed => {
                eprintln!("harness agent: standard input closed; stopping");
                return false;
            }
        }
        true
    }

    fn add_link(&mut self, link: Link, name: &str) -> LinkId {
        let id = self.next_link;
        self.next_link += 1;
        if let Some(channel) = spawn_link(link, id, &self.events, name) {
            self.links.insert(id, channel);
        }
        id
    }

    /// Take in the peer links of the current run.
    fn adopt_peers(&mut self) {
        let Some(run) = &mut self.run else { return };
        let waiting = std::mem::take(&mut self.waiting_peers);
        for (name, agent, link) in waiting {
            if name == run.setup.run
                && agent < run.peers.len()
                && agent != run.setup.agent
                && let Some(handle) = self.links.get(&link)
            {
                run.peers[agent] = Some(PeerLink {
                    link,
                    out: handle.sender(),
                    local: handle.local,
                    peer: handle.peer,
                });
            } else {
                self.waiting_peers.push((name, agent, link));
            }
        }
        // Links of runs that are not this one are closed.
        let current = run.setup.run.clone();
        self.waiting_peers.retain(|(name, _, link)| {
            if *name == current {
                return true;
            }
            if let Some(handle) = self.links.get(link) {
                handle.close();
            }
            false
        });
        self.check_ready();
    }

    fn check_ready(&mut self) {
        let Some(run) = &mut self.run else { return };
        if run.ready {
            return;
        }
        let linked = run
            .peers
            .iter()
            .enumerate()
            .all(|(i, p)| i == run.setup.agent || p.is_some());
        if linked {
            run.ready = true;
            let firewall = run.firewall.is_some();
            self.send_controller(&Frame::Ready { firewall });
        }
    }

    fn on_frame(&mut self, link: LinkId, frame: Frame, received: u64) {
        let from_controller = self.controller == Some(link);
        match frame {
            Frame::Setup(setup) if from_controller => self.setup(setup),
            Frame::Ping { t0 } if from_controller => self.send_controller(&Frame::Pong {
                t0,
                received,
                sent: wall_ns(),
            }),
            Frame::Stop if from_controller => {
                self.end_run(true);
                self.send_controller(&Frame::Stopped);
            }
            Frame::Message {
                id,
                src_node,
                dest,
                line,
            } if !from_controller => {
                if let Some(run) = &mut self.run {
                    run.deliver_local(id, src_node, dest, line);
                }
            }
            frame if from_controller => {
                let Some(run) = &mut self.run else { return };
                match frame {
                    Frame::Start { node, incarnation } => {
                        let reply = run.start(&self.epoll, node, incarnation);
                        self.send_controller(&reply);
                    }
                    Frame::Kill { node } => run.kill(node),
                    Frame::Pause { node } => run.pause(node, true),
                    Frame::Resume { node } => run.pause(node, false),
                    Frame::Wipe { node } => {
                        if let Some(id) = run.setup.node_ids.get(node)
                            && let Err(err) = run.launcher.wipe_data(id)
                        {
                            let text = format!("could not wipe {id}'s data folder: {err}");
                            self.send_controller(&Frame::Warning { text });
                        }
                    }
                    Frame::Deliver {
                        node,
                        incarnation,
                        line,
                    } => run.deliver_from_controller(node, incarnation, &line),
                    Frame::Network(change) => {
                        let warnings = run.change_network(change);
                        for text in warnings {
                            self.send_controller(&Frame::Warning { text });
                        }
                    }
                    other => eprintln!("harness agent: ignored an unexpected frame: {other:?}"),
                }
            }
            other => {
                eprintln!("harness agent: ignored an unexpected frame from a peer: {other:?}");
            }
        }
    }

    fn refuse(&self, reason: String) {
        eprintln!("harness agent: refused the run: {reason}");
        self.send_controller(&Frame::Refused { reason });
    }

    fn setup(&mut self, setup: Setup) {
        if self.run.is_some() {
            return self.refuse("a run is already set up on this agent".into());
        }
        let bin = match std::fs::canonicalize(&setup.bin) {
            Ok(bin) => bin,
            Err(err) => {
                return self.refuse(format!("cannot run {} on {}: {err}", setup.bin, hostname()));
            }
        };
        if !self.allowed.contains(&bin) {
            return self.refuse(format!(
                "this agent does not run {} (it was started with --allow {}); start it with \
                 --allow {}",
                bin.display(),
                self.allowed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" --allow "),
                bin.display()
            ));
        }
        let valid = setup.agent < setup.agents.len()
            && setup.placement.len() == setup.node_ids.len()
            && setup.placement.iter().all(|&a| a < setup.agents.len());
        if !valid {
            return self.refuse("a setup whose placement names agents it does not list".into());
        }
        let Ok(dist) = setup.latency_dist.parse() else {
            return self.refuse(format!(
                "an unknown latency distribution {:?}",
                setup.latency_dist
            ));
        };
        let safe: String = setup
            .run
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect();
        let dir = self.base.join(format!("run-{safe}"));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(err) = std::fs::create_dir_all(&dir) {
            return self.refuse(format!("cannot create {}: {err}", dir.display()));
        }
        let firewall = if self.no_firewall {
            None
        } else {
            match Firewall::create(self.port) {
                Ok(firewall) => Some(firewall),
                Err(why) => {
                    eprintln!(
                        "harness agent: no firewall ({why}): partitions are messages the \
                         agents drop"
                    );
                    None
                }
            }
        };
        let Some(controller) = self.controller.and_then(|id| self.links.get(&id)) else {
            return;
        };
        let controller = controller.sender();
        let seed = setup.seed ^ (setup.agent as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let network = Network::new(
            &setup.node_ids,
            Latency::new(dist, Duration::from_millis(setup.latency_ms)),
            seed,
        );
        let run = Run {
            launcher: Launcher {
                bin,
                args: setup.args.clone(),
                log_dir: dir.join("node-logs"),
                data_dir: dir.join("data"),
                log_stderr: false,
                queue_bytes: crate::run::NODE_QUEUE_BYTES,
                seed: setup.seed,
                fake_time: None,
            },
            start: Instant::now(),
            dir,
            network,
            nodes: (0..setup.node_ids.len())
                .map(|_| Local::default())
                .collect(),
            controller,
            peers: (0..setup.agents.len()).map(|_| None).collect(),
            ready: false,
            cut: BTreeSet::new(),
            firewall,
            timers: BinaryHeap::new(),
            delayed: FxHashMap::default(),
            next_timer: 0,
            next_id: (setup.agent as u64 + 1) * ID_SPACE,
            _guard: crate::lifetime::RunGuard::begin(),
            setup,
        };
        eprintln!(
            "harness agent: run {} set up: this host runs {}",
            run.setup.run,
            run.local_ids().join(", ")
        );
        // Link up with the agents before this one in the list; the later ones call here.
        let (me, agents, name) = (
            run.setup.agent,
            run.setup.agents.clone(),
            run.setup.run.clone(),
        );
        self.run = Some(run);
        for (index, addr) in agents.iter().enumerate().take(me) {
            let hello = hello_bytes(&Hello::Peer {
                version: VERSION,
                run: name.clone(),
                agent: me,
            });
            match link::connect(addr, &self.key, &hello) {
                Ok(link) => {
                    let id = self.add_link(link, &format!("agent {index}"));
                    if let (Some(run), Some(handle)) = (&mut self.run, self.links.get(&id)) {
                        run.peers[index] = Some(PeerLink {
                            link: id,
                            out: handle.sender(),
                            local: handle.local,
                            peer: handle.peer,
                        });
                    }
                }
                Err(err) => {
                    let reason = format!("cannot link up with the agent at {addr}: {err}");
                    self.refuse(reason);
                    self.end_run(false);
                    return;
                }
            }
        }
        self.adopt_peers();
    }

    /// End the run: kill its nodes, remove its rules, send the logs (when `send_logs`), remove
    /// its folder.
    fn end_run(&mut self, send_logs: bool) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        for node in 0..run.nodes.len() {
            if let Some(process) = run.nodes[node].process.take() {
                let _ = self
                    .epoll
                    .delete(process.stdout_fd().unwrap_or(self.wake_read.as_fd()));
                drop(process);
            }
        }
        crate::process::wait_for_disposals();
        run.firewall = None;
        if send_logs {
            for id in run.local_ids() {
                let path = run.launcher.log_dir.join(format!("{id}.log"));
                let Ok(text) = std::fs::read(&path) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&text);
                if text.is_empty() {
                    // An empty log still makes the file, as a run on one machine does.
                    self.send_controller(&Frame::Log {
                        node_id: id.clone(),
                        text: String::new(),
                    });
                }
                let mut rest: &str = &text;
                while !rest.is_empty() {
                    let mut cut = rest.len().min(link::MAX_FRAME / 2);
                    while !rest.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    self.send_controller(&Frame::Log {
                        node_id: id.clone(),
                        text: rest[..cut].to_owned(),
                    });
                    rest = &rest[cut..];
                }
            }
        }
        for peer in run.peers.iter().flatten() {
            if let Some(handle) = self.links.remove(&peer.link) {
                handle.close();
            }
        }
        let _ = std::fs::remove_dir_all(&run.dir);
        eprintln!("harness agent: run {} ended", run.setup.run);
    }

    fn read_node(&mut self, node: usize) {
        let Some(run) = &mut self.run else { return };
        let Some(local) = run.nodes.get_mut(node) else {
            return;
        };
        let Some(process) = local.process.as_mut() else {
            return;
        };
        let mut lines = std::mem::take(&mut self.lines);
        let open = process.read_available(&mut lines, &mut self.read_buf);
        let incarnation = local.incarnation;
        for output in lines.drain(..) {
            match output {
                Output::Line(line) => {
                    run.count_line(node);
                    run.on_line(node, line)
                }
                Output::Oversized(bytes) => {
                    let text = format!(
                        "{} wrote a line of {bytes} bytes, over the limit; it was dropped",
                        run.setup.node_ids[node]
                    );
                    if let Some(link) = self.controller.and_then(|id| self.links.get(&id)) {
                        link.send(&Frame::Warning { text });
                    }
                }
            }
        }
        self.lines = lines;
        if !open {
            let local = &mut run.nodes[node];
            if let Some(mut process) = local.process.take() {
                if let Some(fd) = process.stdout_fd() {
                    let _ = self.epoll.delete(fd);
                }
                let deadline = Instant::now() + Duration::from_secs(1);
                let status = loop {
                    if let Some(status) = process.try_exit_status() {
                        break status;
                    }
                    if Instant::now() > deadline {
                        break "closed its stdout".to_owned();
                    }
                    std::thread::sleep(Duration::from_millis(2));
                };
                process.kill_soon();
                run.drop_pending(node, "queued");
                if let Some(link) = self.controller.and_then(|id| self.links.get(&id)) {
                    link.send(&Frame::Exited {
                        node,
                        incarnation,
                        status,
                    });
                }
            }
        }
    }

    fn fire_timers(&mut self) {
        let Some(run) = &mut self.run else { return };
        let now = run.now();
        while let Some(std::cmp::Reverse((at, key))) = run.timers.peek().copied() {
            if at > now {
                break;
            }
            run.timers.pop();
            if let Some(message) = run.delayed.remove(&key) {
                run.forward(message);
            }
        }
    }

    fn flush_nodes(&mut self) {
        let Some(run) = &mut self.run else { return };
        for node in 0..run.nodes.len() {
            let local = &mut run.nodes[node];
            if local.paused {
                continue;
            }
            if let Some(process) = local.process.as_mut() {
                process.flush();
            }
            run.settle(node);
        }
    }
}

impl Run {
    /// Nanoseconds since the run was set up here (for the network model's latency).
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn local_ids(&self) -> Vec<String> {
        self.setup
            .node_ids
            .iter()
            .zip(&self.setup.placement)
            .filter(|(_, a)| **a == self.setup.agent)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn is_local(&self, node: usize) -> bool {
        self.setup.placement.get(node) == Some(&self.setup.agent)
    }

    /// Tell the controller.
    fn tell(&self, frame: &Frame) {
        let _ = self.controller.send(frame.encode());
    }

    fn event(&self, event: NetEvent) {
        self.tell(&Frame::Net(event));
    }

    /// Journal message `id`, from node `src` to node `dest`, as dropped, and why.
    fn dropped(&self, id: u64, src: usize, dest: usize, reason: &str) {
        self.journal(NetEventKind::Drop, id, src, dest, Some(reason));
    }

    /// Journal message `id`, from node `src` to node `dest`, as delivered.
    fn delivered(&self, id: u64, src: usize, dest: usize) {
        self.journal(NetEventKind::Deliver, id, src, dest, None);
    }

    fn journal(&self, kind: NetEventKind, id: u64, src: usize, dest: usize, reason: Option<&str>) {
        self.event(NetEvent {
            event: kind,
            at: wall_ns(),
            id,
            src: self.setup.node_ids[src].clone(),
            via: None,
            dest: self.setup.node_ids[dest].clone(),
            body: None,
            reason: reason.map(str::to_owned),
        });
    }

    fn start(&mut self, epoll: &Epoll, node: usize, incarnation: u32) -> Frame {
        if !self.is_local(node) {
            return Frame::StartFailed {
                node,
                incarnation,
                error: "that node is not placed on this host".into(),
            };
        }
        let id = self.setup.node_ids[node].clone();
        if let Some(old) = self.nodes[node].process.take() {
            if let Some(fd) = old.stdout_fd() {
                let _ = epoll.delete(fd);
            }
            old.kill_soon();
        }
        let local = &mut self.nodes[node];
        local.incarnation = incarnation;
        local.paused = false;
        local.taken = 0;
        local.pending.clear();
        match self.launcher.spawn(node, &id, incarnation) {
            Ok(process) => {
                if let Some(fd) = process.stdout_fd()
                    && let Err(err) =
                        epoll.add(fd, EpollEvent::new(EpollFlags::EPOLLIN, node as u64))
                {
                    return Frame::StartFailed {
                        node,
                        incarnation,
                        error: format!("watching its output: {err}"),
                    };
                }
                let pid = process.pid();
                local.process = Some(process);
                Frame::Started {
                    node,
                    incarnation,
                    pid,
                }
            }
            Err(err) => Frame::StartFailed {
                node,
                incarnation,
                error: err.to_string(),
            },
        }
    }

    fn kill(&mut self, node: usize) {
        if let Some(process) = self.nodes.get_mut(node).and_then(|l| l.process.take()) {
            process.kill_soon();
        }
        self.drop_pending(node, "queued");
    }

    fn pause(&mut self, node: usize, pause: bool) {
        let Some(local) = self.nodes.get_mut(node) else {
            return;
        };
        if let Some(process) = &local.process {
            process.signal(if pause {
                Signal::SIGSTOP
            } else {
                Signal::SIGCONT
            });
            local.paused = pause;
        }
    }

    /// Journal every node-to-node message still queued for `node` as dropped.
    fn drop_pending(&mut self, node: usize, reason: &str) {
        let pending = std::mem::take(&mut self.nodes[node].pending);
        for message in pending {
            if let Some((id, src)) = message.peer {
                self.dropped(id, src, node, reason);
            }
        }
    }

    /// Count a line node `node` wrote; at the flood threshold, tell the controller (which
    /// records it as a problem, as it does for a node of its own).
    fn count_line(&mut self, node: usize) {
        let now = self.now();
        let local = &mut self.nodes[node];
        if local.flood.count(now) {
            let incarnation = local.incarnation;
            self.tell(&Frame::Flood { node, incarnation });
        }
    }

    /// One line a node of this host wrote.
    fn on_line(&mut self, node: usize, line: String) {
        let own = &self.setup.node_ids[node];
        let route = match parse_route(&line) {
            Ok(route) if route.src == own.as_str() => route,
            // Unreadable lines and lines with another src: the controller judges them.
            _ => return self.to_controller(node, line),
        };
        let Some(dest) = self.setup.node_ids.iter().position(|id| *id == route.dest) else {
            return self.to_controller(node, line);
        };
        // A body the router would name as a problem (no string `type`, ids that are not
        // integers, nesting too deep for Maelstrom or for the journal) goes through the
        // controller, which judges and routes it exactly as in a run on one machine.
        let scan = proto::scan_body(route.body.get());
        let clean = scan.has_type
            && scan.msg_id_ok
            && scan.in_reply_to_ok
            && scan.depth < proto::MAELSTROM_MAX_DEPTH
            && scan.depth <= checker::JOURNAL_MAX_BODY_DEPTH;
        if !clean {
            return self.to_controller(node, line);
        }
        let body = route.body.get().to_owned();
        let id = self.next_id;
        self.next_id += 1;
        self.event(NetEvent {
            event: NetEventKind::Send,
            at: wall_ns(),
            id,
            src: own.clone(),
            via: None,
            dest: self.setup.node_ids[dest].clone(),
            body: Some(body),
            reason: None,
        });
        let now = self.now();
        match self
            .network
            .route(Endpoint::Node(node), Endpoint::Node(dest), now)
        {
            Fate::Lost => self.dropped(id, node, dest, "loss"),
            fate => {
                for at in fate.deliveries() {
                    let key = self.next_timer;
                    self.next_timer += 1;
                    self.timers.push(std::cmp::Reverse((at, key)));
                    self.delayed.insert(
                        key,
                        Delayed {
                            id,
                            src: node,
                            dest,
                            line: line.clone(),
                        },
                    );
                }
            }
        }
    }

    fn to_controller(&self, node: usize, line: String) {
        self.tell(&Frame::Line {
            node,
            incarnation: self.nodes[node].incarnation,
            line,
        });
    }

    /// A message whose latency is over: to its node here, or to its node's agent.
    fn forward(&mut self, message: Delayed) {
        let Delayed {
            id,
            src,
            dest,
            line,
        } = message;
        let agent = self.setup.placement[dest];
        if agent == self.setup.agent {
            return self.deliver_local(id, src, dest, line);
        }
        if self.cut.contains(&agent) {
            // The link is cut on the wire: nothing leaves.
            return self.dropped(id, src, dest, "partition");
        }
        match &self.peers[agent] {
            Some(peer) => {
                let _ = peer.out.send(
                    Frame::Message {
                        id,
                        src_node: src,
                        dest,
                        line,
                    }
                    .encode(),
                );
            }
            None => self.dropped(id, src, dest, "link-down"),
        }
    }

    /// A node-to-node message reaches this host: blocked by a partition, or queued for the
    /// node's input (delivered once its pipe takes it).
    fn deliver_local(&mut self, id: u64, src: usize, dest: usize, line: String) {
        if dest >= self.nodes.len() || src >= self.nodes.len() || !self.is_local(dest) {
            return;
        }
        if self
            .network
            .blocked(Endpoint::Node(src), Endpoint::Node(dest))
        {
            return self.dropped(id, src, dest, "partition");
        }
        let local = &mut self.nodes[dest];
        let result = match local.process.as_mut() {
            Some(process) => process.send(&line),
            None => Err(QueueError::Closed),
        };
        match result {
            Ok(end) => local.pending.push_back(InFlight {
                end,
                peer: Some((id, src)),
            }),
            Err(QueueError::Full) => self.dropped(id, src, dest, "backlog"),
            Err(QueueError::Closed) => self.dropped(id, src, dest, "node-down"),
        }
    }

    fn deliver_from_controller(&mut self, node: usize, incarnation: u32, line: &str) {
        let Some(local) = self.nodes.get_mut(node) else {
            return;
        };
        if local.incarnation != incarnation {
            return;
        }
        if let Some(process) = local.process.as_mut() {
            match process.send(line) {
                Ok(end) => local.pending.push_back(InFlight { end, peer: None }),
                // A full queue: the line is lost, and counted as taken so the controller
                // does not wait for it forever (its journal says delivered).
                Err(QueueError::Full) => local.taken += 1,
                Err(QueueError::Closed) => {}
            }
        }
    }

    /// Journal what node `node`'s pipe has taken, and tell the controller.
    fn settle(&mut self, node: usize) {
        let Some(taken) = self.nodes[node].process.as_ref().map(NodeProcess::taken) else {
            return;
        };
        let mut controller_lines = false;
        while let Some(front) = self.nodes[node].pending.front() {
            if front.end > taken {
                break;
            }
            let message = self.nodes[node].pending.pop_front().expect("a front");
            match message.peer {
                Some((id, src)) => self.delivered(id, src, node),
                None => {
                    self.nodes[node].taken += 1;
                    controller_lines = true;
                }
            }
        }
        if controller_lines {
            self.tell(&Frame::Taken {
                node,
                incarnation: self.nodes[node].incarnation,
                count: self.nodes[node].taken,
            });
        }
    }

    fn change_network(&mut self, change: NetChange) -> Vec<String> {
        let mut warnings = Vec::new();
        match change {
            NetChange::Partition { grudge } => {
                if let Err(err) = self.network.partition(&grudge) {
                    warnings.push(format!("a partition that names an unknown node: {err}"));
                }
            }
            NetChange::Heal => self.network.heal_partition(),
            NetChange::Loss { p } => {
                let _ = self.network.set_loss(p);
            }
            NetChange::Duplicate { p } => {
                let _ = self.network.set_duplicate(p);
            }
        }
        // Which agents are cut off from this one entirely (both ways, every pair of nodes).
        let me = self.setup.agent;
        let mine: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.is_local(n))
            .collect();
        let mut cut = BTreeSet::new();
        for agent in 0..self.setup.agents.len() {
            if agent == me {
                continue;
            }
            let theirs: Vec<usize> = (0..self.nodes.len())
                .filter(|&n| self.setup.placement[n] == agent)
                .collect();
            let all_blocked = !mine.is_empty()
                && !theirs.is_empty()
                && mine.iter().all(|&a| {
                    theirs.iter().all(|&b| {
                        self.network.blocked(Endpoint::Node(a), Endpoint::Node(b))
                            && self.network.blocked(Endpoint::Node(b), Endpoint::Node(a))
                    })
                });
            if all_blocked {
                cut.insert(agent);
            }
        }
        if cut != self.cut {
            if let Some(firewall) = &self.firewall {
                if let Err(err) = firewall.mend() {
                    warnings.push(err);
                }
                for agent in &cut {
                    if let Some(link) = &self.peers[*agent] {
                        match firewall.cut(link.local, link.peer) {
                            Ok(()) => eprintln!(
                                "harness agent: partition: cut the link with {} in the firewall \
                                 (table inet {})",
                                link.peer,
                                firewall.table()
                            ),
                            Err(err) => warnings.push(err),
                        }
                    }
                }
            }
            self.cut = cut;
        }
        warnings
    }
}

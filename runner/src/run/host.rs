//! Where a node runs: a process of its own (the process backend), or in-process under virtual
//! time (the simulator, `--sim`). The router speaks to both the same way: it queues lines for
//! a node's input ([`Host::send`]), learns how much of it the node has taken ([`Host::taken`]:
//! a message is delivered once its whole line is taken), and ends it ([`Host::kill_soon`]).
//!
//! A simulated node takes a line when the simulator hands it to the node's [`Runtime`]; it has
//! no pipes, no process and no clock of its own, so it needs no epoll and cannot be signalled:
//! a pause is the router handing it nothing and firing none of its timers.

use std::collections::VecDeque;
use std::sync::Arc;

use ::nodes::storage::Stable;
use ::nodes::{Node, Runtime};

use crate::process::{NodeProcess, QueueError};

/// Makes a fresh node for the simulator: at the start of the run and at every restart.
pub type MakeNode = Arc<dyn Fn() -> Box<dyn Node> + Send + Sync>;

/// A node running in-process: its runtime and the lines waiting for it.
pub(super) struct SimHost {
    pub runtime: Runtime<Box<dyn Node>>,
    pub incarnation: u32,
    /// Lines queued for the node and not yet handed to it, oldest first.
    pub inbox: VecDeque<String>,
    /// Lines queued since it started, and lines handed to it.
    queued: u64,
    taken: u64,
}

impl SimHost {
    /// A node started by `make`, with the seed and incarnation a process would get, and what
    /// its stable storage holds.
    pub fn start(make: &MakeNode, seed: u64, incarnation: u32, stable: Stable) -> SimHost {
        SimHost {
            runtime: Runtime::new(make(), seed, u64::from(incarnation)).recovering(stable),
            incarnation,
            inbox: VecDeque::new(),
            queued: 0,
            taken: 0,
        }
    }

    /// The next line to hand to the node, counted as taken.
    pub fn take(&mut self) -> Option<String> {
        let line = self.inbox.pop_front()?;
        self.taken += 1;
        Some(line)
    }
}

/// A node running on another machine, under its host's agent (`--hosts`): lines for its
/// input go to the agent, which says how many its pipe has taken and when it exited.
pub(super) struct RemoteHost {
    pub node: usize,
    pub incarnation: u32,
    out: crossbeam_channel::Sender<Vec<u8>>,
    /// Lines sent, and lines the agent says the node's pipe has taken.
    sent: u64,
    pub taken: u64,
    /// How it ended, once the agent said so.
    pub exit: Option<String>,
}

impl RemoteHost {
    pub fn new(
        node: usize,
        incarnation: u32,
        out: crossbeam_channel::Sender<Vec<u8>>,
    ) -> RemoteHost {
        RemoteHost {
            node,
            incarnation,
            out,
            sent: 0,
            taken: 0,
            exit: None,
        }
    }

    fn tell(&self, frame: &crate::remote::frame::Frame) {
        let _ = self.out.send(frame.encode());
    }
}

/// A node's host.
pub(super) enum Host {
    Process(NodeProcess),
    Sim(Box<SimHost>),
    Remote(RemoteHost),
}

impl Host {
    pub fn incarnation(&self) -> u32 {
        match self {
            Host::Process(p) => p.incarnation,
            Host::Sim(s) => s.incarnation,
            Host::Remote(r) => r.incarnation,
        }
    }

    /// Queue a line for the node's input; it has been taken once [`Host::taken`] reaches the
    /// number returned.
    pub fn send(&mut self, line: &str) -> Result<u64, QueueError> {
        match self {
            Host::Process(p) => p.send(line),
            Host::Sim(s) => {
                s.inbox.push_back(line.to_owned());
                s.queued += 1;
                Ok(s.queued)
            }
            Host::Remote(r) => {
                if r.exit.is_some() {
                    return Err(QueueError::Closed);
                }
                r.tell(&crate::remote::frame::Frame::Deliver {
                    node: r.node,
                    incarnation: r.incarnation,
                    line: line.to_owned(),
                });
                r.sent += 1;
                Ok(r.sent)
            }
        }
    }

    pub fn taken(&self) -> u64 {
        match self {
            Host::Process(p) => p.taken(),
            Host::Sim(s) => s.taken,
            Host::Remote(r) => r.taken,
        }
    }

    pub fn input_open(&self) -> bool {
        match self {
            Host::Process(p) => p.input_open(),
            Host::Sim(_) => true,
            Host::Remote(r) => r.exit.is_none(),
        }
    }

    /// End the node: SIGKILL its process group (here, or by its agent), or forget the
    /// simulated node's memory.
    pub fn kill_soon(self) {
        match self {
            Host::Process(p) => p.kill_soon(),
            Host::Sim(_) => {}
            Host::Remote(r) => r.tell(&crate::remote::frame::Frame::Kill { node: r.node }),
        }
    }

    /// Pause (SIGSTOP) or resume (SIGCONT) the node's process, here or by its agent; a
    /// simulated node is paused by the router handing it nothing.
    pub fn pause(&self, pause: bool) {
        use crate::remote::frame::Frame;
        match self {
            Host::Process(p) => p.signal(if pause {
                nix::sys::signal::Signal::SIGSTOP
            } else {
                nix::sys::signal::Signal::SIGCONT
            }),
            Host::Sim(_) => {}
            Host::Remote(r) => r.tell(&if pause {
                Frame::Pause { node: r.node }
            } else {
                Frame::Resume { node: r.node }
            }),
        }
    }

    /// How the node ended, once its output has closed: its exit status (waited for up to a
    /// second: on a loaded machine an exiting process takes a while to be reaped), or what
    /// its agent said.
    pub fn exit_status(&mut self) -> String {
        match self {
            Host::Process(p) => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
                while std::time::Instant::now() < deadline {
                    if let Some(status) = p.try_exit_status() {
                        return status;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                "closed its stdout".to_owned()
            }
            Host::Sim(_) => String::new(),
            Host::Remote(r) => r.exit.clone().unwrap_or_else(|| "closed its stdout".into()),
        }
    }

    pub fn process_mut(&mut self) -> Option<&mut NodeProcess> {
        match self {
            Host::Process(p) => Some(p),
            Host::Sim(_) | Host::Remote(_) => None,
        }
    }
}

//! The simulator's event loop (`--sim`): every node in-process, time virtual.
//!
//! Everything else is the router's, shared with the process backend: the network model, the
//! services, the clients, the nemesis plan, the journal, the history, the checks. Only the two
//! things that make a process run depend on the machine are replaced: the clock (virtual time
//! jumps from one event to the next, so a run costs only its work) and the nodes (each a
//! [`::nodes::Runtime`] the loop hands lines to and fires timers of).
//!
//! One step of the loop: hand every line waiting for a node to it, node by node in index
//! order, until none waits (each line a node writes is routed at once, as the process backend
//! routes a line it reads); then move time to the earliest next event (a timed event of the
//! router, a service's deadline, a node's timer, in that order at one instant, nodes by index)
//! and carry it out. Nothing in a step depends on the machine: the same seed and flags give
//! the same run, event for event.
//!
//! A node that panics is a crashed node (a problem, as a process that exits is), and the run
//! goes on without it. A node that never lets time move (a timer set for now, at every timer)
//! is a livelock: after [`LIVELOCK_EVENTS`] events at one instant the run stops and says so.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use super::sim_logs::NodeLogs;
use super::*;

/// Events at one virtual instant after which the run is stopped as a livelock.
pub const LIVELOCK_EVENTS: u64 = 1_000_000;

/// How often the loop looks at the signal pipe, in events.
const SIGNAL_EVERY: u64 = 4096;

/// The next thing to happen, with its time.
#[derive(Debug, Clone, Copy)]
enum Next {
    Timed,
    Services,
    Node(usize),
}

impl Router {
    pub(super) fn sim_loop(&mut self) {
        // The nodes run on this thread: what they log goes to node-logs/<id>.log, as a
        // process's stderr does (RUST_LOG filters it, `info` by default, as in the node
        // driver); the harness's own warnings go to stderr.
        let logs = NodeLogs::create(&self.dir.node_logs(), &self.config.node_ids);
        let _logs = tracing::subscriber::set_default(sim_subscriber(&logs));
        let mut steps = 0u64;
        let mut last_progress = 0u64;
        let _flush = FlushOnDrop(&logs);
        while self.driver.phase != Phase::Done {
            self.sim_pump();
            if self.driver.phase == Phase::Done {
                break;
            }
            steps += 1;
            if steps.is_multiple_of(SIGNAL_EVERY) && self.interrupt_pending() {
                break;
            }
            let Some((at, next)) = self.sim_next() else {
                // Nothing will ever happen again: the run cannot end by itself.
                self.abort = Some("the simulation ran out of events".to_owned());
                self.driver.phase = Phase::Done;
                break;
            };
            self.sim_set_time(at);
            if self.driver.phase == Phase::Done {
                break;
            }
            match next {
                Next::Timed => {
                    let (at, what) = self.timers.pop().expect("peeked");
                    self.on_timed(at, what);
                }
                Next::Services => self.run_services(at),
                Next::Node(node) => self.sim_advance(node, at),
            }
            if at >= last_progress + 100_000_000 {
                logs.flush();
                last_progress = at;
                self.progress.update(
                    Duration::from_nanos(at),
                    &self.driver.counts,
                    self.rec.net.all.send_count,
                    &self.driver.active_faults,
                );
            }
        }
    }

    /// True (and the run stops) if a signal asked the harness to stop.
    fn interrupt_pending(&mut self) -> bool {
        let mut buf = [0u8; 16];
        if matches!(nix::unistd::read(self.interrupts.as_fd(), &mut buf), Ok(n) if n > 0) {
            self.interrupted = true;
            self.abort = Some("interrupted by a signal".to_owned());
            self.driver.phase = Phase::Done;
            return true;
        }
        false
    }

    /// The earliest next event: the router's timers first, then the services, then the nodes
    /// (by index), at equal times.
    fn sim_next(&self) -> Option<(u64, Next)> {
        let mut best: Option<(u64, Next)> = None;
        let mut consider = |at: Option<u64>, next: Next| {
            if let Some(at) = at
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, next));
            }
        };
        consider(self.timers.next_at(), Next::Timed);
        consider(self.next_service_deadline(), Next::Services);
        if let Some(&(at, node)) = self.sim.as_ref().and_then(|s| s.deadlines.first()) {
            consider(Some(at), Next::Node(node));
        }
        best
    }

    /// Node `node`'s next timer as it is now, if the node runs (a paused node fires none).
    fn sim_deadline_of(&self, node: usize) -> Option<u64> {
        let slot = &self.nodes[node];
        if !matches!(slot.state, NodeState::Up | NodeState::Starting) {
            return None;
        }
        match &slot.host {
            Some(Host::Sim(host)) => host.runtime.next_deadline().map(|d| d.as_nanos() as u64),
            _ => None,
        }
    }

    /// Make the index of next timers follow node `node` after anything that may have changed
    /// its timers or whether it runs (an event handed to it, a start, a pause, a resume, a
    /// kill). So finding the next event costs a lookup, not a look at every node.
    pub(super) fn sim_wake(&mut self, node: usize) {
        let deadline = self.sim_deadline_of(node);
        let Some(sim) = self.sim.as_mut() else { return };
        if let Some(old) = sim.deadline_of[node].take() {
            sim.deadlines.remove(&(old, node));
        }
        if let Some(at) = deadline {
            sim.deadlines.insert((at, node));
            sim.deadline_of[node] = Some(at);
        }
    }

    /// Move virtual time to `at` (never back: an overdue timer of a node that was paused fires
    /// now); stop the run as a livelock if it has not moved for too long.
    fn sim_set_time(&mut self, at: u64) {
        let Clock::Virtual(now) = self.clock else {
            return;
        };
        if at > now {
            self.clock = Clock::Virtual(at);
            if let Some(sim) = self.sim.as_mut() {
                sim.same_instant = 0;
            }
        } else {
            self.note_same_instant();
        }
    }

    /// Hand every waiting line to its node, node by node, until no line waits.
    fn sim_pump(&mut self) {
        loop {
            let mut handed = false;
            for node in 0..self.nodes.len() {
                if !self.nodes[node].state.takes_input() {
                    continue;
                }
                while self.driver.phase != Phase::Done && self.sim_take_one(node) {
                    handed = true;
                    if !self.nodes[node].state.takes_input() {
                        break;
                    }
                }
                if self.driver.phase == Phase::Done {
                    return;
                }
            }
            if !handed {
                return;
            }
        }
    }

    /// Hand the next line waiting for simulated node `node` to it (it is delivered now) and
    /// route what it writes. False when no line waits.
    pub(super) fn sim_take_one(&mut self, node: usize) -> bool {
        let now = self.now();
        let Some(Host::Sim(host)) = self.nodes[node].host.as_mut() else {
            return false;
        };
        let Some(line) = host.take() else {
            return false;
        };
        self.settle(node);
        let effects = self.sim_call(node, |rt| rt.handle_line(Duration::from_nanos(now), &line));
        self.sim_wake(node);
        self.sim_effects(node, now, effects);
        self.note_same_instant();
        true
    }

    /// Fire simulated node `node`'s timers (and RPC timeouts) due at `at`. An overdue timer
    /// (its node was paused) fires now, as a resumed process's would: its monotonic clock,
    /// its wall clock and the time of what it sends all read now.
    fn sim_advance(&mut self, node: usize, at: u64) {
        if !matches!(self.nodes[node].state, NodeState::Up | NodeState::Starting) {
            self.sim_wake(node);
            return;
        }
        let at = at.max(self.now());
        let effects = self.sim_call(node, |rt| rt.advance(Duration::from_nanos(at)));
        self.sim_wake(node);
        self.sim_effects(node, at, effects);
    }

    /// Count an event at this instant (a line handed, a timed event) toward the livelock
    /// limit.
    fn note_same_instant(&mut self) {
        let Some(sim) = self.sim.as_mut() else { return };
        sim.same_instant += 1;
        if sim.same_instant >= LIVELOCK_EVENTS && self.driver.phase != Phase::Done {
            self.abort = Some(format!(
                "livelock: {LIVELOCK_EVENTS} events at {:.3} s of virtual time without time \
                 moving (a node that sets a timer for now at every timer, or nodes that answer \
                 every message at once with another, forever)",
                self.now() as f64 / 1e9
            ));
            self.driver.phase = Phase::Done;
        }
    }

    /// Run `f` on node `node`'s runtime. A panic crashes the node: it is down from then on,
    /// named as a problem (as a process that exits is), and its memory is gone.
    fn sim_call(
        &mut self,
        node: usize,
        f: impl FnOnce(&mut Runtime<Box<dyn ::nodes::Node>>) -> Vec<Effect>,
    ) -> Vec<Effect> {
        let wall = self.clocks.reading(node, self.now());
        let Some(Host::Sim(host)) = self.nodes[node].host.as_mut() else {
            return Vec::new();
        };
        host.runtime.set_wall_clock(wall);
        let entered = NodeLogs::enter(node);
        let result = catch_unwind(AssertUnwindSafe(|| f(&mut host.runtime)));
        drop(entered);
        match result {
            Ok(effects) => effects,
            Err(panic) => {
                let text = panic_text(panic.as_ref());
                let now = self.now();
                let slot = &mut self.nodes[node];
                slot.state = NodeState::Dead;
                slot.host = None;
                let id = slot.id.clone();
                self.settle(node);
                self.rec.problems.record(&id, ProblemKind::Exited, now, || {
                    format!("panicked: {text}")
                });
                if self.driver.phase == Phase::Starting {
                    self.abort = Some(format!("{id} panicked during init ({text})"));
                    self.driver.phase = Phase::Done;
                }
                Vec::new()
            }
        }
    }

    /// Carry out what a simulated node asked for: its writes to stable storage first (they
    /// take effect before any message of the same event leaves, as the node driver makes them
    /// durable first), then its messages, each routed as a line it wrote.
    fn sim_effects(&mut self, node: usize, now: u64, effects: Vec<Effect>) {
        if let Some(sim) = self.sim.as_mut() {
            for effect in &effects {
                if let Effect::Persist(write) = effect {
                    sim.disks[node].apply(write);
                }
            }
        }
        for effect in effects {
            if let Effect::Send(msg) = effect {
                if self.driver.phase == Phase::Done {
                    return;
                }
                self.count_line(node, now);
                self.on_node_line(node, now, proto::to_line(&msg));
            }
        }
    }
}

/// What a panic said (its message, when it has one).
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Writes the node logs out when the loop ends, however it ends.
struct FlushOnDrop<'a>(&'a NodeLogs);

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        self.0.flush();
    }
}

/// The logging of a simulated run: node code's events to its log file, the harness's to
/// stderr. RUST_LOG, when set, filters both.
fn sim_subscriber(logs: &NodeLogs) -> impl tracing::Subscriber + Send + Sync {
    let env = std::env::var("RUST_LOG").ok();
    let filter = |default: &str| {
        env.as_deref()
            .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
            .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default))
    };
    let nodes = tracing_subscriber::fmt::layer()
        .with_writer(logs.clone())
        .without_time()
        .with_ansi(false)
        .with_target(false)
        .with_filter(filter("info"))
        .with_filter(tracing_subscriber::filter::filter_fn(|_| {
            NodeLogs::running()
        }));
    let harness = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter("warn,nodes=off"))
        .with_filter(tracing_subscriber::filter::filter_fn(|_| {
            !NodeLogs::running()
        }));
    tracing_subscriber::registry().with(nodes).with(harness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_node_logs_goes_to_its_file_and_nothing_else_does() {
        let dir = std::env::temp_dir().join(format!("sim-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ids = vec!["n0".to_owned(), "n1".to_owned()];
        let logs = NodeLogs::create(&dir, &ids);
        {
            let _default = tracing::subscriber::set_default(sim_subscriber(&logs));
            let entered = NodeLogs::enter(1);
            tracing::info!(target: "nodes::ctx", "hello from n1");
            drop(entered);
            tracing::info!(target: "nodes::ctx", "nobody's");
        }
        logs.flush();
        let n1 = std::fs::read_to_string(dir.join("n1.log")).unwrap();
        let n0 = std::fs::read_to_string(dir.join("n0.log")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(n1.contains("hello from n1"), "{n1:?}");
        assert!(!n1.contains("nobody"), "{n1:?}");
        assert!(n0.is_empty(), "{n0:?}");
    }
}

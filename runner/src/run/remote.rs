//! The router's side of `--hosts`: the nodes run on other machines under their hosts' agents
//! (`crate::remote`). The router keeps everything else as in a run on one machine: the
//! clients, the services, the nemesis plan, the journal and the history. It hears from the
//! agents the lines their nodes wrote to clients and services (handled as a local node's
//! lines), how much of each node's input was taken, exits, and the node-to-node messages the
//! agents carried host to host, which it journals at the controller's time: each event's
//! agent timestamp less that agent's measured clock offset (`remote/clock.rs`). The journal is
//! put in time order when the run ends.

use super::*;
use crate::remote::channel::Incoming;
use crate::remote::controller::{Agents, RunSpec};
use crate::remote::frame::{Frame, NetChange, NetEvent, wall_ns};
use host::RemoteHost;

/// The epoll key of the agents' wake-up pipe.
pub(super) const REMOTE_KEY: u64 = u64::MAX - 1;
/// How often each agent's clock is probed during the run.
const PROBE_EVERY_NS: u64 = 1_000_000_000;
/// An agent that has not answered a probe for this long is said to be silent (a pulled cable,
/// a host that froze).
const SILENT_AFTER_NS: u64 = 3_000_000_000;
/// How long the agents have to stop their nodes and send their logs.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// One-way delays of the node-to-node messages the agents carried, as measured.
#[derive(Default)]
struct Delays {
    same_host: Vec<u64>,
    across_hosts: Vec<u64>,
}

pub(super) struct RemoteRun {
    pub agents: Agents,
    /// The controller's wall clock (ns since the Unix epoch) when the run's clock read 0.
    wall_at_start: i128,
    next_probe: u64,
    /// Whether the journal holds agents' events (it is then sorted at the end).
    pub journaled: bool,
    /// Send time and agent of each agent-carried message not yet delivered or dropped.
    in_flight: FxHashMap<u64, (u64, usize)>,
    delays: Delays,
    warnings: Vec<String>,
    /// Per agent: when it last answered a probe (run time), since when it has been silent,
    /// and the silent periods it had (start, end), in nanoseconds.
    heard: Vec<Heard>,
}

#[derive(Default, Clone)]
struct Heard {
    last: u64,
    silent_since: Option<u64>,
    silences: Vec<(u64, u64)>,
}

impl RemoteRun {
    /// Reach the agents and set the run up (an error if any agent cannot take part).
    pub fn connect(
        config: &TestConfig,
        dir: &RunDir,
        start: Instant,
    ) -> anyhow::Result<Option<RemoteRun>> {
        let Some(remote) = &config.remote else {
            return Ok(None);
        };
        let run = dir
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let agents = Agents::connect(
            remote,
            &RunSpec {
                run: format!("{run}-{}", config.seed),
                node_ids: &config.node_ids,
                bin: &config.bin,
                args: &config.args,
                seed: config.seed,
                latency_ms: config.latency.as_millis() as u64,
                latency_dist: config.latency_dist.name(),
                log_dir: &dir.dir,
            },
        )?;
        let elapsed = start.elapsed().as_nanos();
        let heard = Heard {
            last: elapsed as u64,
            ..Heard::default()
        };
        let heard = vec![heard; agents.conns.len()];
        let elapsed = elapsed as i128;
        Ok(Some(RemoteRun {
            agents,
            wall_at_start: i128::from(wall_ns()) - elapsed,
            next_probe: 0,
            journaled: false,
            in_flight: FxHashMap::default(),
            delays: Delays::default(),
            warnings: Vec::new(),
            heard,
        }))
    }

    /// Start incarnation `incarnation` of node `node` on its agent.
    pub fn start(&self, node: usize, incarnation: u32) -> RemoteHost {
        let conn = &self.agents.conns[self.agents.agent_of(node)];
        conn.send(&Frame::Start { node, incarnation });
        RemoteHost::new(node, incarnation, conn.sender())
    }

    /// The run's time of an agent's timestamp.
    fn run_time(&self, agent: usize, at: u64) -> u64 {
        let t = self.agents.conns[agent].clock.to_controller(at) - self.wall_at_start;
        t.clamp(0, i128::from(u64::MAX)) as u64
    }

    /// What results.json says of the hosts: each agent's nodes, clock and link, and the
    /// measured one-way delays.
    pub fn describe(&self, node_ids: &[String]) -> Value {
        let hosts: Vec<Value> = self
            .agents
            .conns
            .iter()
            .enumerate()
            .map(|(i, conn)| {
                let best = conn.clock.best();
                serde_json::json!({
                    "agent": conn.addr,
                    "host": conn.host,
                    "nodes": node_ids
                        .iter()
                        .zip(&self.agents.placement)
                        .filter(|(_, a)| **a == i)
                        .map(|(id, _)| id.clone())
                        .collect::<Vec<_>>(),
                    "clock_offset_ms": best.map(|s| s.offset as f64 / 1e6),
                    "clock_uncertainty_ms": best.map(|s| s.uncertainty() as f64 / 1e6),
                    "round_trip_ms": best.map(|s| s.delay as f64 / 1e6),
                    "clock_probes": conn.clock.probes,
                    "firewall": conn.firewall,
                    "silent_periods_s": self.heard.get(i).map(|h| {
                        h.silences
                            .iter()
                            .chain(h.silent_since.map(|s| (s, u64::MAX)).iter())
                            .map(|&(from, to)| {
                                serde_json::json!([
                                    from as f64 / 1e9,
                                    (to != u64::MAX).then(|| to as f64 / 1e9)
                                ])
                            })
                            .collect::<Vec<_>>()
                    }),
                })
            })
            .collect();
        serde_json::json!({
            "hosts": hosts,
            "measured_delay_ms": {
                "same_host": quantiles(&self.delays.same_host),
                "across_hosts": quantiles(&self.delays.across_hosts),
            },
            "warnings": self.warnings,
        })
    }
}

/// Count, median, 99th percentile and max of `ns`, in milliseconds (the quantiles the
/// checkers take of latencies, on nanoseconds, so sub-millisecond delays keep their digits).
fn quantiles(ns: &[u64]) -> Value {
    let mut ns = ns.to_vec();
    let Some(q) = checker::set_full::quantiles(&mut ns) else {
        return serde_json::json!({"count": 0});
    };
    let ms = |key: &str| q[key] as f64 / 1e6;
    serde_json::json!({
        "count": ns.len(),
        "p50": ms("0.5"),
        "p99": ms("0.99"),
        "max": ms("1"),
    })
}

impl Router {
    /// Handle everything the agents said since the last call.
    pub(super) fn on_agents(&mut self) {
        let Some(remote) = &self.remote else { return };
        crate::remote::channel::drain(&remote.agents.wake);
        while let Some(remote) = &self.remote
            && let Ok((agent, incoming)) = remote.agents.rx.try_recv()
        {
            match incoming {
                Incoming::Frame(frame, _) => self.on_agent_frame(agent, *frame),
                Incoming::Closed(why) => {
                    let Some(remote) = self.remote.as_mut() else {
                        return;
                    };
                    let conn = &mut remote.agents.conns[agent];
                    if conn.gone.is_none() {
                        conn.gone = Some(why.clone());
                    }
                    if !conn.stopped && self.driver.phase != Phase::Done {
                        self.abort = Some(format!(
                            "lost the connection to the agent at {} ({}): {why}",
                            conn.addr, conn.host
                        ));
                        self.driver.phase = Phase::Done;
                    }
                }
            }
        }
    }

    fn remote_host(&mut self, node: usize, incarnation: u32) -> Option<&mut RemoteHost> {
        match self.nodes.get_mut(node)?.host.as_mut()? {
            Host::Remote(r) if r.incarnation == incarnation => Some(r),
            _ => None,
        }
    }

    fn on_agent_frame(&mut self, agent: usize, frame: Frame) {
        match frame {
            Frame::Line {
                node,
                incarnation,
                line,
            } => {
                // The agent counts the node's lines for floods (it sees them all).
                if self.remote_host(node, incarnation).is_some() {
                    let at = self.now();
                    self.on_node_line(node, at, line);
                }
            }
            Frame::Flood { node, incarnation } => {
                if self.remote_host(node, incarnation).is_some() {
                    let (at, id) = (self.now(), self.nodes[node].id.clone());
                    self.rec.problems.record(&id, ProblemKind::Flood, at, || {
                        format!("more than {FLOOD_LINES_PER_SEC} lines within one second")
                    });
                }
            }
            Frame::Taken {
                node,
                incarnation,
                count,
            } => {
                if let Some(host) = self.remote_host(node, incarnation) {
                    host.taken = host.taken.max(count);
                }
            }
            Frame::Exited {
                node,
                incarnation,
                status,
            } => self.remote_exit(node, incarnation, status),
            Frame::StartFailed {
                node,
                incarnation,
                error,
            } => self.remote_exit(node, incarnation, format!("could not start: {error}")),
            Frame::Net(event) => self.journal_agent_event(agent, event),
            Frame::Pong { t0, received, sent } => {
                let Some(remote) = self.remote.as_mut() else {
                    return;
                };
                let now = self.start.elapsed().as_nanos() as u64;
                let t3 = remote.wall_at_start + i128::from(now);
                if let Some(heard) = remote.heard.get_mut(agent) {
                    heard.last = now;
                    if let Some(since) = heard.silent_since.take() {
                        heard.silences.push((since, now));
                        eprintln!(
                            "harness: the agent at {} ({}) answers again, after {:.1} s of silence",
                            remote.agents.conns[agent].addr,
                            remote.agents.conns[agent].host,
                            (now - since) as f64 / 1e9
                        );
                    }
                }
                remote.agents.conns[agent].clock.add(
                    crate::remote::clock::Sample::from_timestamps(
                        i128::from(t0),
                        i128::from(received),
                        i128::from(sent),
                        t3,
                    ),
                );
            }
            Frame::Log { node_id, text } => {
                if self.node_of(&node_id).is_none() {
                    return;
                }
                let path = self.dir.node_logs().join(format!("{node_id}.log"));
                let _ = std::fs::create_dir_all(self.dir.node_logs());
                let written = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
                if let Err(err) = written {
                    tracing::warn!("writing {}: {err}", path.display());
                }
            }
            Frame::Warning { text } => {
                let Some(remote) = self.remote.as_mut() else {
                    return;
                };
                let line = format!("agent {}: {text}", remote.agents.conns[agent].host);
                if !remote.warnings.contains(&line) {
                    eprintln!("harness: {line}");
                    remote.warnings.push(line);
                }
            }
            Frame::Refused { reason } => {
                let Some(remote) = self.remote.as_ref() else {
                    return;
                };
                let conn = &remote.agents.conns[agent];
                self.abort = Some(format!(
                    "the agent at {} ({}) refused: {reason}",
                    conn.addr, conn.host
                ));
                self.driver.phase = Phase::Done;
            }
            Frame::Stopped => {
                if let Some(remote) = self.remote.as_mut() {
                    remote.agents.conns[agent].stopped = true;
                }
            }
            Frame::Started { .. } | Frame::Ready { .. } => {}
            other => tracing::debug!("ignored a frame from agent {agent}: {other:?}"),
        }
    }

    fn remote_exit(&mut self, node: usize, incarnation: u32, status: String) {
        if let Some(host) = self.remote_host(node, incarnation) {
            host.exit = Some(status);
            self.on_closed(node, incarnation);
        }
    }

    /// Journal a node-to-node message event an agent saw, at the controller's time.
    fn journal_agent_event(&mut self, agent: usize, event: NetEvent) {
        let Some(remote) = self.remote.as_mut() else {
            return;
        };
        let at = remote.run_time(agent, event.at);
        remote.journaled = true;
        let via = event.via.as_deref();
        match event.event {
            checker::NetEventKind::Send => {
                remote.in_flight.insert(event.id, (at, agent));
                let body = event.body.as_deref().unwrap_or("{}");
                self.rec
                    .send(at, event.id, &event.src, via, &event.dest, body);
            }
            checker::NetEventKind::Deliver => {
                if let Some((sent, from)) = remote.in_flight.remove(&event.id) {
                    let delay = at.saturating_sub(sent);
                    if from == agent {
                        remote.delays.same_host.push(delay);
                    } else {
                        remote.delays.across_hosts.push(delay);
                    }
                }
                self.rec.deliver(at, event.id, &event.src, via, &event.dest);
            }
            checker::NetEventKind::Drop => {
                remote.in_flight.remove(&event.id);
                let reason = event.reason.as_deref().unwrap_or("unknown");
                self.rec
                    .drop(at, event.id, &event.src, via, &event.dest, reason);
            }
        }
    }

    /// Tell every agent of a change of the network's faults.
    pub(super) fn remote_network(&mut self, change: NetChange) {
        if let Some(remote) = &self.remote {
            remote.agents.broadcast(&Frame::Network(change));
        }
    }

    /// Empty node `node`'s data folder on its host.
    pub(super) fn remote_wipe(&mut self, node: usize) {
        if let Some(remote) = &self.remote {
            let conn = &remote.agents.conns[remote.agents.agent_of(node)];
            conn.send(&Frame::Wipe { node });
        }
    }

    /// Probe every agent's clock once a second.
    pub(super) fn remote_tick(&mut self, now: u64) {
        let Some(remote) = self.remote.as_mut() else {
            return;
        };
        if now < remote.next_probe {
            return;
        }
        remote.next_probe = now + PROBE_EVERY_NS;
        for (agent, heard) in remote.heard.iter_mut().enumerate() {
            let Some(conn) = remote.agents.conns.get(agent) else {
                break;
            };
            if heard.silent_since.is_none() && now > heard.last + SILENT_AFTER_NS {
                heard.silent_since = Some(heard.last);
                eprintln!(
                    "harness: the agent at {} ({}) has not answered for {} s: is its host \
                     reachable? (its nodes' messages wait in TCP until it is)",
                    conn.addr,
                    conn.host,
                    SILENT_AFTER_NS / 1_000_000_000
                );
            }
        }
        let t0 = (remote.wall_at_start + i128::from(now)) as u64;
        remote.agents.broadcast(&Frame::Ping { t0 });
    }

    /// At the end of the run: the agents stop their nodes, remove their rules and send the
    /// node logs; what they say meanwhile is still journaled.
    pub(super) fn stop_agents(&mut self) {
        let Some(remote) = &self.remote else { return };
        for slot in &mut self.nodes {
            if matches!(slot.host, Some(Host::Remote(_))) {
                slot.host = None;
            }
        }
        remote.agents.broadcast(&Frame::Stop);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            let Some(remote) = &self.remote else { return };
            if remote
                .agents
                .conns
                .iter()
                .all(|c| c.stopped || c.gone.is_some())
                || Instant::now() > deadline
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
            self.on_agents();
        }
        if let Some(remote) = self.remote.as_mut() {
            remote.agents.close();
        }
    }
}

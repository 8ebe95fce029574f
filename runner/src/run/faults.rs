//! Carrying out the nemesis schedule: partitions, kills, wipes, pauses, loss and duplication.
//!
//! A kill ends a node's process group; its data directory stays as it was (stable storage
//! survives a crash). A wipe is a kill that also empties the data directory, so the restart
//! brings the node back as new. A Byzantine node's messages are altered on their way out
//! ([`Router::byzantine_send`], see [`crate::nemesis::byzantine`]).

use super::*;
use crate::nemesis::ClockFault;
use crate::remote::frame::NetChange;

/// The ChaCha stream the initial clock offsets are drawn from, apart from every other user of
/// the run's seed.
const INITIAL_CLOCKS_STREAM: u64 = 0x7153_c10c;

impl Router {
    pub(super) fn record_fault(&mut self, f: &str, value: Value) {
        let now = self.now();
        self.rec.history.append(OpEvent {
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

    pub(super) fn apply_fault(&mut self, action: &NemesisAction) {
        let (f, value) = (action.f(), action.value());
        match action {
            NemesisAction::StartPartition { grudge, shape } => {
                if let Err(err) = self.network.partition(grudge) {
                    tracing::error!("partition names an unknown node: {err}");
                }
                self.remote_network(NetChange::Partition {
                    grudge: grudge.clone(),
                });
                self.set_active("partition", Some(shape.name()));
            }
            NemesisAction::StopPartition => {
                self.network.heal_partition();
                self.remote_network(NetChange::Heal);
                self.set_active("partition", None);
            }
            NemesisAction::Kill { nodes } => {
                for id in nodes {
                    self.kill(id);
                }
                self.set_active("kill", Some(&nodes.join(",")));
            }
            NemesisAction::Wipe { nodes } => {
                for id in nodes {
                    if self.kill(id) {
                        if let Some(node) = self.node_of(id) {
                            self.nodes[node].wiped = true;
                        }
                        let index = self.node_of(id);
                        let wiped = match (&mut self.sim, index) {
                            (Some(sim), Some(node)) => {
                                sim.disks[node] = ::nodes::Stable::new();
                                Ok(())
                            }
                            (None, Some(node)) if self.remote.is_some() => {
                                self.remote_wipe(node);
                                Ok(())
                            }
                            _ => match &self.io {
                                Some(io) => io.launcher.wipe_data(id),
                                None => Ok(()),
                            },
                        };
                        if let Err(err) = wiped {
                            let now = self.now();
                            self.rec.problems.record(id, ProblemKind::Exited, now, || {
                                format!("could not wipe its data directory: {err}")
                            });
                        }
                    }
                }
                self.set_active("wipe", Some(&nodes.join(",")));
            }
            NemesisAction::Restart { nodes, wiped } => {
                for id in nodes {
                    if let Some(node) = self.node_of(id)
                        && self.nodes[node].state == NodeState::Killed
                    {
                        self.nodes[node].wiped = false;
                        if let Err(err) = self.start_node(node) {
                            let now = self.now();
                            self.rec.problems.record(id, ProblemKind::Exited, now, || {
                                format!("could not restart: {err}")
                            });
                        }
                    }
                }
                self.set_active(if *wiped { "wipe" } else { "kill" }, None);
            }
            NemesisAction::Pause { nodes } => {
                for id in nodes {
                    if let Some(node) = self.node_of(id) {
                        let slot = &mut self.nodes[node];
                        if let (Some(host), NodeState::Up | NodeState::Starting) =
                            (&slot.host, slot.state)
                        {
                            // A simulated node is paused by handing it nothing and firing
                            // none of its timers.
                            host.pause(true);
                            slot.state = NodeState::Paused;
                            self.sim_wake(node);
                        }
                    }
                }
                self.set_active("pause", Some(&nodes.join(",")));
            }
            NemesisAction::Resume { nodes } => {
                for id in nodes {
                    if let Some(node) = self.node_of(id) {
                        self.resume(node);
                    }
                }
                self.set_active("pause", None);
            }
            NemesisAction::StartClock { nodes, fault } => {
                self.change_clocks(nodes, Some(*fault));
                self.set_active("clock", Some(&nodes.join(",")));
            }
            NemesisAction::ResetClock { nodes } => {
                self.change_clocks(nodes, None);
                self.set_active("clock", None);
            }
            NemesisAction::StartLoss { p } => {
                let _ = self.network.set_loss(*p);
                self.remote_network(NetChange::Loss { p: *p });
                self.set_active("loss", Some(&format!("{p}")));
            }
            NemesisAction::StopLoss { .. } => {
                let _ = self.network.set_loss(0.0);
                self.remote_network(NetChange::Loss { p: 0.0 });
                self.set_active("loss", None);
            }
            NemesisAction::StartDuplicate { p } => {
                let _ = self.network.set_duplicate(*p);
                self.remote_network(NetChange::Duplicate { p: *p });
                self.set_active("duplicate", Some(&format!("{p}")));
            }
            NemesisAction::StopDuplicate { .. } => {
                let _ = self.network.set_duplicate(0.0);
                self.remote_network(NetChange::Duplicate { p: 0.0 });
                self.set_active("duplicate", None);
            }
        }
        self.record_fault(f, value);
    }

    /// Send message `id` (`line`) of Byzantine node `node` to `dest` as the nemesis decided
    /// (`fate`): dropped, altered, or as written; and a forged one beside it. Every deed is a
    /// `byzantine-alter` event in the history (the journal has the altered send already).
    pub(super) fn byzantine_send(
        &mut self,
        at: u64,
        id: u64,
        node: usize,
        dest: Dest,
        line: String,
        fate: crate::nemesis::byzantine::Fate,
    ) {
        use crate::nemesis::byzantine::How;
        let from = self.nodes[node].id.clone();
        match fate.message {
            Some(deed) => {
                let to = match deed.dest {
                    d if d < self.nodes.len() => self.nodes[d].id.clone(),
                    _ => String::new(),
                };
                self.record_fault("byzantine-alter", deed.history_value(&from, &to, id));
                match (deed.how, deed.body) {
                    (How::Drop, _) | (_, None) => {
                        self.rec.drop(at, id, &from, None, &to, "byzantine")
                    }
                    (_, Some(body)) => {
                        let line = envelope(&from, &to, &body);
                        self.route(at, id, Peer::Node(node), None, dest, line);
                    }
                }
            }
            None => self.route(at, id, Peer::Node(node), None, dest, line),
        }
        if let Some(forged) = fate.forged
            && let Some(body) = forged.body.as_deref()
            && forged.dest < self.nodes.len()
        {
            let forged_id = self.rec.next_id();
            let to = self.nodes[forged.dest].id.clone();
            let note = format!("{{\"how\":\"forge\",\"of\":{id}}}");
            self.rec
                .send_altered(at, forged_id, &from, &to, body, &note);
            self.record_fault(
                "byzantine-alter",
                forged.history_value(&from, &to, forged_id),
            );
            let line = envelope(&from, &to, body);
            self.route(
                at,
                forged_id,
                Peer::Node(node),
                None,
                Dest::Node(forged.dest),
                line,
            );
        }
    }

    /// SIGKILL node `id` (its process group) unless it is down already. True if it was up.
    fn kill(&mut self, id: &str) -> bool {
        let Some(node) = self.node_of(id) else {
            return false;
        };
        let slot = &mut self.nodes[node];
        if matches!(slot.state, NodeState::Killed | NodeState::Dead) {
            return false;
        }
        slot.state = NodeState::Killed;
        if let Some(host) = slot.host.take() {
            host.kill_soon();
        }
        // A crashed node owes no reply to the requests it had: they do not count toward
        // "answered none of the client requests".
        let cut_off = self
            .driver
            .clients
            .clients
            .iter()
            .filter(|c| {
                c.node == node && matches!(c.state, crate::clients::ClientState::Busy { .. })
            })
            .count() as u64;
        let slot = &mut self.nodes[node];
        slot.requests = slot.requests.saturating_sub(cut_off);
        self.sim_wake(node);
        true
    }

    pub(super) fn resume(&mut self, node: usize) {
        let slot = &mut self.nodes[node];
        if slot.state == NodeState::Paused {
            if let Some(host) = &slot.host {
                host.pause(false);
            }
            slot.state = NodeState::Up;
            self.sim_wake(node);
        }
    }

    /// Bend (or, with `None`, reset) the wall clocks of `nodes`; a process's moving clock is
    /// then rewritten every [`clocks::TICK`].
    fn change_clocks(&mut self, nodes: &[String], fault: Option<ClockFault>) {
        let now = self.now();
        for id in nodes {
            let Some(node) = self.node_of(id) else {
                continue;
            };
            if let Err(err) = self.clocks.change(node, fault, now) {
                self.rec.problems.record(id, ProblemKind::Exited, now, || {
                    format!("could not set its clock: {err}")
                });
            }
        }
        if self.clocks.needs_ticks() && !self.clocks.ticking {
            self.clocks.ticking = true;
            self.schedule(now + clocks::TICK.as_nanos() as u64, Timed::ClockTick);
        }
    }

    /// As the workload starts: bend each node's clock by the offset the workload draws from
    /// the seed (time-sync's), each a clock step in the history whose value also says the true
    /// time of day ([`checker::time_sync::TRUE_TIME_KEY`]), so the checker can tell how far
    /// off a node's reading was.
    pub(super) fn bend_initial_clocks(&mut self) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(INITIAL_CLOCKS_STREAM);
        let offsets = self
            .driver
            .ops
            .workload()
            .initial_clock_offsets(self.nodes.len(), &mut rng);
        let true_time_us = self.true_time_of_day().as_micros() as u64;
        for (node, delta_ms) in offsets.into_iter().enumerate() {
            if delta_ms == 0 || node >= self.nodes.len() {
                continue;
            }
            let nodes = vec![self.nodes[node].id.clone()];
            let fault = ClockFault::Step { delta_ms };
            self.change_clocks(&nodes, Some(fault));
            let mut value = fault.value(&nodes);
            value[checker::time_sync::TRUE_TIME_KEY] = Value::from(true_time_us);
            self.record_fault(fault.f(), value);
        }
    }

    /// The true time of day now, as time since the Unix epoch: the simulator's
    /// [`::nodes::WALL_CLOCK_EPOCH`] plus virtual time, or this machine's clock (which node
    /// processes read too, bent by their offsets).
    pub(super) fn true_time_of_day(&self) -> Duration {
        if self.sim.is_some() {
            ::nodes::WALL_CLOCK_EPOCH + Duration::from_nanos(self.now())
        } else {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        }
    }

    /// A moving clock's [`clocks::TICK`]: rewrite it, and tick again while one moves.
    pub(super) fn clock_tick(&mut self) {
        let now = self.now();
        if let Err(err) = self.clocks.tick(now) {
            tracing::error!("rewriting the nodes' clocks: {err}");
        }
        self.clocks.ticking = self.clocks.needs_ticks();
        if self.clocks.ticking {
            self.schedule(now + clocks::TICK.as_nanos() as u64, Timed::ClockTick);
        }
    }

    pub(super) fn set_active(&mut self, fault: &str, detail: Option<&str>) {
        self.driver
            .active_faults
            .retain(|f| f.split(' ').next() != Some(fault));
        if let Some(detail) = detail {
            self.driver.active_faults.push(format!("{fault} {detail}"));
        }
    }

    /// At the end of the workload: stop every fault that is still on.
    pub(super) fn heal_everything(&mut self) {
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
        for wiped in [false, true] {
            let down: Vec<String> = self
                .nodes
                .iter()
                .filter(|s| s.state == NodeState::Killed && s.wiped == wiped)
                .map(|s| s.id.clone())
                .collect();
            if !down.is_empty() {
                actions.push(NemesisAction::Restart { nodes: down, wiped });
            }
        }
        let bent = self.clocks.bent();
        if !bent.is_empty() {
            actions.push(NemesisAction::ResetClock { nodes: bent });
        }
        for action in actions {
            self.apply_fault(&action);
        }
        self.driver.active_faults.clear();
    }
}

/// A protocol line from `src` to `dest` with `body` (raw JSON).
fn envelope(src: &str, dest: &str, body: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "{{\"src\":{},\"dest\":{},\"body\":{body}}}",
        quote(src),
        quote(dest)
    )
}

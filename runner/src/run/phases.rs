//! The phases of a run: setup replies, the start of the workload, timed events, the end.

use super::*;

impl Router {
    pub(super) fn on_setup_reply(&mut self, node: usize, at: u64, body: &Body, line: &str) {
        let node_id = self.nodes[node].id.clone();
        let Some((target, incarnation, setup)) =
            body.in_reply_to.and_then(|r| self.setups.remove(&r))
        else {
            self.rec
                .problems
                .record(&node_id, ProblemKind::ReplyToNobody, at, || line.to_owned());
            return;
        };
        if target != node || incarnation != self.nodes[node].incarnation {
            return;
        }
        let kind = body.kind();
        match setup {
            Setup::Init => {
                if kind != "init_ok" {
                    self.rec
                        .problems
                        .record(&node_id, ProblemKind::BadInitReply, at, || line.to_owned());
                }
                if self.nodes[node].state == NodeState::Starting {
                    self.nodes[node].state = NodeState::Up;
                }
                if self.driver.ops.workload().sends_topology() {
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
                    self.rec
                        .problems
                        .record(&node_id, ProblemKind::BadTopologyReply, at, || {
                            line.to_owned()
                        });
                }
            }
        }
        if self.driver.phase == Phase::Starting && self.setups.is_empty() {
            self.begin_workload();
        }
    }

    pub(super) fn begin_workload(&mut self) {
        let now = self.now();
        self.driver.phase = Phase::Workload;
        self.progress.begin(self.config.time_limit);
        // Times are relative to the workload's start from here on.
        let base = now;
        let limit = self.config.time_limit.as_nanos() as u64;
        for i in 0..self.driver.plan.len() {
            let at = base + self.driver.plan[i].at.as_nanos() as u64;
            self.schedule(at, Timed::Nemesis(i));
        }
        self.driver.workload_start = base;
        self.bend_initial_clocks();
        let first = self.driver.ops.next_at();
        if first < limit {
            self.schedule(base + first, Timed::Invoke);
        }
        self.schedule(base + limit, Timed::EndWorkload);
    }

    pub(super) fn on_timed(&mut self, at: u64, what: Timed) {
        match what {
            Timed::Deliver {
                id,
                src,
                claimed,
                dest,
                line,
            } => self.deliver(at, id, src, claimed, dest, line),
            Timed::Invoke => {
                if self.driver.phase != Phase::Workload {
                    return;
                }
                let idle: Vec<usize> = self.driver.clients.idle().collect();
                if idle.is_empty() {
                    // Every client is busy: the next one to finish invokes at once.
                    self.driver.owed_invoke = true;
                } else {
                    let index = idle[self.driver.rng.random_range(0..idle.len())];
                    let op = self.driver.ops.next_op();
                    self.invoke(index, op);
                }
                let next = self.driver.ops.tick();
                if next < self.config.time_limit.as_nanos() as u64 {
                    self.schedule(self.driver.workload_start + next, Timed::Invoke);
                }
            }
            Timed::ClientTimeout { client, seq } => {
                let Some(op) = self.driver.clients.busy_with(client, seq).cloned() else {
                    return;
                };
                let completion = self.driver.ops.workload().timeout(&op);
                let now = self.now();
                self.complete_op(client, now, &op, completion, Ended::GaveUp);
            }
            Timed::RetryFinal { client } => {
                if self.driver.phase == Phase::Final
                    && let Some(op) = self.driver.clients.clients[client].final_op.clone()
                {
                    self.invoke(client, op);
                }
            }
            Timed::ClockTick => self.clock_tick(),
            Timed::Nemesis(i) => {
                if self.driver.phase == Phase::Workload {
                    let action = self.driver.plan[i].action.clone();
                    self.apply_fault(&action);
                    self.driver.faults_done += 1;
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
                        self.rec
                            .problems
                            .record(&id, ProblemKind::NoInitOk, now, || {
                                format!("no init_ok within {} s", INIT_TIMEOUT.as_secs())
                            });
                        if self.driver.phase == Phase::Starting {
                            // Every node still waiting has had the same time to answer.
                            let waiting: Vec<String> = self
                                .setups
                                .values()
                                .filter(|(_, _, s)| *s == Setup::Init)
                                .map(|(n, _, _)| self.nodes[*n].id.clone())
                                .collect();
                            for other in waiting {
                                self.rec.problems.record(
                                    &other,
                                    ProblemKind::NoInitOk,
                                    now,
                                    || format!("no init_ok within {} s", INIT_TIMEOUT.as_secs()),
                                );
                            }
                            self.abort = Some(format!(
                                "{id} did not answer init within {} s",
                                INIT_TIMEOUT.as_secs()
                            ));
                            self.driver.phase = Phase::Done;
                            return;
                        }
                        // A restarted node that never came up stays down.
                        self.nodes[node].state = NodeState::Dead;
                        if let Some(host) = self.nodes[node].host.take() {
                            host.kill_soon();
                        }
                    }
                    Setup::Topology => {
                        self.rec
                            .problems
                            .record(&id, ProblemKind::BadTopologyReply, now, || {
                                format!("no topology_ok within {} s", INIT_TIMEOUT.as_secs())
                            });
                    }
                }
                if self.driver.phase == Phase::Starting && self.setups.is_empty() {
                    self.begin_workload();
                }
            }
            Timed::EndWorkload => {
                if self.driver.ops.workload().final_op().is_none() {
                    // Nothing to read at the end: stop once the ops in flight are over.
                    self.driver.phase = Phase::Draining;
                    self.check_drained();
                    let limit = CLIENT_TIMEOUT.as_nanos() as u64 + 1_000_000_000;
                    self.schedule(at + limit, Timed::FinalDeadline);
                    return;
                }
                self.driver.phase = Phase::Recovery;
                self.heal_everything();
                let recovery = self.config.recovery_time.as_nanos() as u64;
                self.schedule(at + recovery, Timed::FinalOps);
            }
            Timed::FinalOps => self.begin_final(at),
            Timed::FinalDeadline => {
                if matches!(self.driver.phase, Phase::Final | Phase::Draining) {
                    self.driver.phase = Phase::Done;
                }
            }
        }
    }

    pub(super) fn stop_all(&mut self) {
        self.driver.phase = Phase::Done;
        let mut processes: Vec<NodeProcess> = self
            .nodes
            .iter_mut()
            .filter_map(|slot| match slot.host.take() {
                Some(Host::Process(process)) => Some(process),
                _ => None,
            })
            .collect();
        crate::process::kill_all(&mut processes);
        drop(processes);
        self.stop_agents();
        crate::process::wait_for_disposals();
        self.lifetime.sweep_strays();
        // What the nodes' pipes never took is dropped.
        for node in 0..self.nodes.len() {
            self.settle(node);
        }
        self.progress.finish();
    }

    pub(super) fn finish(&mut self) -> anyhow::Result<results::RunOutcome> {
        let now = self.now();
        for slot in &self.nodes {
            if slot.requests > 0 && slot.replies == 0 && slot.forwards == 0 {
                let requests = slot.requests;
                self.rec
                    .problems
                    .record(&slot.id, ProblemKind::Unresponsive, now, || {
                        format!("{requests} client requests, no reply")
                    });
            }
        }
        let history = std::mem::replace(
            &mut self.rec.history,
            HistoryWriter::create(&self.dir.dir.join(".history-closed"))?,
        );
        let _ = std::fs::remove_file(self.dir.dir.join(".history-closed"));
        let events = history.finish().context("writing history.jsonl")?;
        let journal = std::mem::replace(
            &mut self.rec.journal,
            Journal::create(&self.dir.dir.join(".messages-closed"))?,
        );
        let _ = std::fs::remove_file(self.dir.dir.join(".messages-closed"));
        journal.finish().context("writing messages.jsonl")?;
        if self.remote.as_ref().is_some_and(|r| r.journaled) {
            // The hosts' events arrived as they came; put them in the order of (corrected)
            // time.
            crate::record::sort_journal(&self.dir.messages()).context("ordering messages.jsonl")?;
        }
        // An interrupted run plans no further than it got: a signal is honoured at once, even
        // at a rate that plans millions of ops.
        let planned_until = if self.interrupted {
            let reached = self.now().saturating_sub(self.driver.workload_start);
            self.config.time_limit.min(Duration::from_nanos(reached))
        } else {
            self.config.time_limit
        };
        let (ops_print, ops_planned) = crate::schedule::ops_fingerprint(
            self.config.workload,
            &self.config.workload_options,
            self.config.rate,
            self.config.seed,
            planned_until,
        );
        let schedule = crate::schedule::ScheduleRecord {
            ops_fingerprint: ops_print.hex(),
            ops_planned,
            ops_invoked: self.driver.ops.taken(),
            ops_late: self.driver.ops_late,
            faults_fingerprint: crate::schedule::faults_fingerprint(&self.driver.plan).hex(),
            faults_planned: self.driver.plan.len() as u64,
            faults_done: self.driver.faults_done,
        };
        let report = RunReport {
            config: &self.config,
            schedule: &schedule,
            dir: &self.dir,
            events: &events,
            net: &self.rec.net,
            problems: self.rec.problems.list(),
            abort: self.abort.clone(),
            interrupted: self.interrupted,
            duration: self.start.elapsed(),
            run_cpu: self.run_cpu,
            run_sleeps: self.run_sleeps,
            hosts: self
                .remote
                .as_ref()
                .map(|r| r.describe(&self.config.node_ids)),
        };
        results::write_and_summarise(&report)
    }
}

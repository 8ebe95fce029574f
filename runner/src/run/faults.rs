//! Carrying out the nemesis schedule: partitions, kills, pauses, loss and duplication.

use super::*;

impl Router {
    pub(super) fn record_fault(&mut self, f: &str, value: Value) {
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

    pub(super) fn apply_fault(&mut self, action: &NemesisAction) {
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

    pub(super) fn resume(&mut self, node: usize) {
        let slot = &mut self.nodes[node];
        if slot.state == NodeState::Paused {
            if let Some(process) = &slot.process {
                process.signal(Signal::SIGCONT);
            }
            slot.state = NodeState::Up;
        }
    }

    pub(super) fn set_active(&mut self, fault: &str, detail: Option<&str>) {
        self.active_faults
            .retain(|f| f.split(' ').next() != Some(fault));
        if let Some(detail) = detail {
            self.active_faults.push(format!("{fault} {detail}"));
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
}

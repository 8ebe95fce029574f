//! Client operations: invoking, matching replies, timeouts, and the final ops.

use super::*;

impl Router {
    /// A reply to a client from a node, or from a service that a node forwarded the client's
    /// request to with the client's `src`.
    pub(super) fn on_client_reply(&mut self, from: Peer, at: u64, client_id: &str, line: &str) {
        let node_id = super::cluster::peer_name(&self.nodes, &self.services, from).to_owned();
        let body = match proto::parse_line(line) {
            Ok(msg) => msg.body,
            Err(err) => {
                self.rec
                    .problems
                    .record(&node_id, ProblemKind::MalformedLine, at, || {
                        format!("{}: {}", err.reason, line)
                    });
                return;
            }
        };
        let node = match from {
            Peer::Node(node) => Some(node),
            Peer::Service(_) => None,
        };
        if client_id == SETUP_CLIENT {
            // The setup client asks nodes only; a service's answer to it goes nowhere.
            if let Some(node) = node {
                self.on_setup_reply(node, at, &body, line);
            }
            return;
        }
        if let Some(node) = node {
            self.nodes[node].replies += 1;
        }
        match self.driver.clients.target(client_id, body.in_reply_to) {
            ReplyTarget::Completes(index) => {
                let op = match self.driver.clients.clients[index].state {
                    crate::clients::ClientState::Busy { ref op, .. } => op.clone(),
                    _ => return,
                };
                let completion = self.driver.ops.workload().complete(&op, &body);
                if completion
                    .error
                    .as_ref()
                    .is_some_and(|e| e.name == workloads::MALFORMED_REPLY)
                {
                    self.rec
                        .problems
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
                self.complete_op(index, at, &op, completion, Ended::Replied);
            }
            ReplyTarget::Duplicate => {
                self.rec
                    .problems
                    .record(&node_id, ProblemKind::DuplicateReply, at, || {
                        line.to_owned()
                    })
            }
            ReplyTarget::Late => {}
            ReplyTarget::Nobody => {
                self.rec
                    .problems
                    .record(&node_id, ProblemKind::ReplyToNobody, at, || line.to_owned())
            }
        }
    }

    pub(super) fn invoke(&mut self, index: usize, op: Op) {
        let now = self.now();
        let client = &self.driver.clients.clients[index];
        let (process, node, is_final) = (client.process, client.node, client.is_final);
        let op = self.driver.ops.workload_mut().prepare(process, op);
        let request = match self.driver.ops.workload().request(&op) {
            Ok(request) => request,
            Err(err) => {
                tracing::error!("workload made an op it cannot send: {err}");
                return;
            }
        };
        let (msg_id, seq) = self.driver.clients.invoke(index, op.clone());
        let node_id = self.nodes[node].id.clone();
        self.rec.history.append(OpEvent {
            time: now,
            process: Process::Client(process),
            node: Some(&node_id),
            kind: EventType::Invoke,
            f: &op.f,
            value: op.value.clone(),
            error: None,
            is_final,
        });
        self.driver.counts.invoked += 1;
        let msg = Message::new(
            self.driver.clients.clients[index].id.clone(),
            node_id,
            Body {
                msg_id: Some(msg_id),
                in_reply_to: None,
                payload: request,
            },
        );
        if !matches!(self.nodes[node].state, NodeState::Killed | NodeState::Dead) {
            self.nodes[node].requests += 1;
        }
        self.client_send(now, node, &msg);
        // A node whose process is not running refuses at once, as a dead server refuses a
        // connection: the op definitely did not happen. (A paused node takes the request
        // and answers late, or the client times out.)
        if let state @ (NodeState::Killed | NodeState::Dead) = self.nodes[node].state {
            let why = match state {
                NodeState::Killed => "the node is down (killed): the request never reached it",
                _ => "the node is not running: the request never reached it",
            };
            self.complete_op(
                index,
                now,
                &op,
                Completion::refused(&op, why),
                Ended::GaveUp,
            );
            return;
        }
        self.schedule(
            now + CLIENT_TIMEOUT.as_nanos() as u64,
            Timed::ClientTimeout { client: index, seq },
        );
    }

    pub(super) fn complete_op(
        &mut self,
        index: usize,
        at: u64,
        op: &Op,
        completion: Completion,
        ended: Ended,
    ) {
        let client = &self.driver.clients.clients[index];
        let (process, node, is_final) = (client.process, client.node, client.is_final);
        let node_id = self.nodes[node].id.clone();
        let kind = match completion.outcome {
            Outcome::Ok => EventType::Ok,
            Outcome::Fail => EventType::Fail,
            Outcome::Info => EventType::Info,
        };
        self.driver.counts.record(completion.outcome);
        self.rec.history.append(OpEvent {
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
        // What the client learns; it may owe an op of its own at once (kafka's commit).
        let follow_up = self
            .driver
            .ops
            .workload_mut()
            .observe(process, op, &completion);
        self.driver.clients.complete(index, &completion, ended);
        if is_final {
            if completion.outcome == Outcome::Fail && at < self.final_deadline() {
                self.schedule(at + 100_000_000, Timed::RetryFinal { client: index });
            } else {
                self.driver.clients.clients[index].state = crate::clients::ClientState::Done;
                self.check_final_done();
            }
        } else if self.driver.phase == Phase::Draining {
            self.check_drained();
        } else if let Some(op) = follow_up.filter(|_| self.driver.phase == Phase::Workload) {
            self.invoke(index, op);
        } else if self.driver.phase == Phase::Workload && self.driver.owed_invoke {
            self.driver.owed_invoke = false;
            self.driver.ops_late += 1;
            let op = self.driver.ops.next_op();
            self.invoke(index, op);
        }
    }

    pub(super) fn final_deadline(&self) -> u64 {
        (self.config.time_limit + self.config.recovery_time + CLIENT_TIMEOUT).as_nanos() as u64
    }

    pub(super) fn check_drained(&mut self) {
        if self.driver.phase == Phase::Draining && !self.driver.clients.any_busy() {
            self.driver.phase = Phase::Done;
        }
    }

    pub(super) fn check_final_done(&mut self) {
        if self.driver.phase == Phase::Final
            && self
                .driver
                .clients
                .clients
                .iter()
                .filter(|c| c.is_final)
                .all(|c| matches!(c.state, crate::clients::ClientState::Done))
        {
            self.driver.phase = Phase::Done;
        }
    }

    pub(super) fn begin_final(&mut self, at: u64) {
        self.driver.phase = Phase::Final;
        let Some(_) = self.driver.ops.workload().final_op() else {
            self.driver.phase = Phase::Done;
            return;
        };
        let ops = self.driver.ops.workload().final_ops();
        for node in 0..self.nodes.len() {
            for op in &ops {
                let index = self.driver.clients.add_final(node, op.clone());
                self.invoke(index, op.clone());
            }
        }
        // Retries of failed final ops stop at the final deadline; an op invoked just before
        // it still gets its full client timeout.
        let deadline = self.final_deadline().max(at) + CLIENT_TIMEOUT.as_nanos() as u64;
        self.schedule(deadline + 1_000_000_000, Timed::FinalDeadline);
    }
}

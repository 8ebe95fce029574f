//! Node processes and the messages they write: starting and init, routing each line through
//! the simulated network, delivery into a node's input queue, and what a node did wrong.

use super::*;

impl Router {
    pub(super) fn start_node(&mut self, node: usize) -> anyhow::Result<()> {
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

    pub(super) fn send_setup(
        &mut self,
        node: usize,
        incarnation: u32,
        setup: Setup,
        payload: Payload,
    ) {
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
    pub(super) fn client_send(&mut self, now: u64, node: usize, msg: &Message) {
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

    pub(super) fn deliver_to_node(
        &mut self,
        now: u64,
        id: u64,
        src: &str,
        node: usize,
        line: String,
    ) {
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

    pub(super) fn drop_message(&mut self, now: u64, id: u64, src: &str, dest: &str, reason: &str) {
        self.journal.drop(now, id, src, dest, reason);
        self.net_stats.record(NetEventKind::Drop, src, dest);
    }

    pub(super) fn on_output(&mut self, output: NodeOutput) {
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

    pub(super) fn count_line(&mut self, node: usize, at: u64) {
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

    pub(super) fn on_closed(&mut self, node: usize, incarnation: u32) {
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

    pub(super) fn classify(&self, dest: &str) -> Option<Dest> {
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

    pub(super) fn on_node_line(&mut self, node: usize, at: u64, line: String) {
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
    pub(super) fn route(
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

    pub(super) fn endpoint_of(&self, id: &str) -> Endpoint {
        match self.classify(id) {
            Some(dest) => dest.endpoint(),
            None => Endpoint::Other,
        }
    }

    pub(super) fn deliver(
        &mut self,
        now: u64,
        id: u64,
        src: &str,
        dest: Dest,
        dest_name: &str,
        line: String,
    ) {
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
}

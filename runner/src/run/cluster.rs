//! Node processes and the messages they write: starting and init, routing each line through
//! the simulated network, delivery into a node's input queue and from there into its pipe, and
//! what a node did wrong.

use super::*;

impl Router {
    pub(super) fn start_node(&mut self, node: usize) -> anyhow::Result<()> {
        let slot = &mut self.nodes[node];
        slot.incarnation += 1;
        slot.host = Some(match (&self.sim, &self.remote) {
            (Some(sim), _) => Host::Sim(Box::new(SimHost::start(
                &sim.make,
                crate::process::node_seed(self.config.seed, node, slot.incarnation),
                slot.incarnation,
                sim.disks[node].clone(),
            ))),
            (None, Some(remote)) => Host::Remote(remote.start(node, slot.incarnation)),
            (None, None) => {
                let io = self.io.as_ref().expect("the process backend has its io");
                let process = io.launcher.spawn(node, &slot.id, slot.incarnation)?;
                if let Some(fd) = process.stdout_fd() {
                    io.epoll
                        .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, (node as u64) << 1))
                        .context("watching a node's output")?;
                }
                Host::Process(process)
            }
        });
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
        // The init line goes now; anything else waits until the node has answered it.
        match self.nodes[node].host.as_mut() {
            Some(Host::Process(process)) => process.flush(),
            Some(Host::Sim(_)) => {
                self.sim_take_one(node);
            }
            Some(Host::Remote(_)) | None => {}
        }
        self.settle(node);
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
        let id = self.rec.next_id();
        let body = serde_json::to_string(&msg.body).unwrap_or_default();
        self.rec.send(now, id, &msg.src, None, &msg.dest, &body);
        if self.config.log_net_send {
            eprintln!("send {line}");
        }
        self.deliver_to_node(now, id, From::Client(&msg.src), node, &line);
    }

    /// Queue a message for node `node`'s input, or drop it if the node is down or not reading.
    /// It is delivered once the node's pipe takes it ([`Router::settle`]).
    pub(super) fn deliver_to_node(
        &mut self,
        now: u64,
        id: u64,
        from: From<'_>,
        node: usize,
        line: &str,
    ) {
        let slot = &mut self.nodes[node];
        let accepting = matches!(
            slot.state,
            NodeState::Up | NodeState::Paused | NodeState::Starting
        );
        let result = match (&mut slot.host, accepting) {
            (Some(host), true) => host.send(line).map(|end| (host.incarnation(), end)),
            _ => Err(QueueError::Closed),
        };
        let reason = match result {
            Ok((incarnation, end)) => {
                slot.pending.push_back(Pending {
                    incarnation,
                    end,
                    id,
                    src: match from {
                        From::Peer(peer) => Sender::Peer(peer),
                        From::Client(name) => Sender::Client(name.into()),
                        From::Forwarded { via, src } => Sender::Forwarded {
                            via,
                            src: src.into(),
                        },
                    },
                    line: self.config.log_net_recv.then(|| line.into()),
                });
                return;
            }
            Err(QueueError::Full) => "backlog",
            Err(QueueError::Closed) => "node-down",
        };
        let (src, via) = match from {
            From::Peer(peer) => (peer_name(&self.nodes, &self.services, peer), None),
            From::Client(name) => (name, None),
            From::Forwarded { via, src } => {
                (src, Some(peer_name(&self.nodes, &self.services, via)))
            }
        };
        let dest = self.nodes[node].id.as_str();
        self.rec.drop(now, id, src, via, dest, reason);
        if reason == "backlog" {
            let dest = dest.to_owned();
            self.rec
                .problems
                .record(&dest, ProblemKind::InputBacklog, now, || {
                    format!(
                        "{} MiB of messages waiting in its input queue",
                        NODE_QUEUE_BYTES >> 20
                    )
                });
        }
    }

    /// Journal what node `node`'s stdin pipe has taken since the last call: each message whose
    /// whole line it took is delivered, now. A message it can never take (its process was
    /// killed, exited or replaced, or its input is closed) is dropped as `queued`.
    pub(super) fn settle(&mut self, node: usize) {
        if self.nodes[node].pending.is_empty() {
            return;
        }
        let now = self.now();
        let slot = &mut self.nodes[node];
        let (incarnation, taken, open) = match &slot.host {
            Some(host) => (Some(host.incarnation()), host.taken(), host.input_open()),
            None => (None, 0, false),
        };
        let mut pending = std::mem::take(&mut slot.pending);
        while let Some(message) = pending.front() {
            let current = incarnation == Some(message.incarnation);
            let delivered = current && message.end <= taken;
            if current && open && !delivered {
                break;
            }
            let (src, via) = match &message.src {
                Sender::Peer(peer) => (peer_name(&self.nodes, &self.services, *peer), None),
                Sender::Client(name) => (&**name, None),
                Sender::Forwarded { via, src } => {
                    (&**src, Some(peer_name(&self.nodes, &self.services, *via)))
                }
            };
            let dest = self.nodes[node].id.as_str();
            if delivered {
                self.rec.deliver(now, message.id, src, via, dest);
                if let Some(line) = &message.line {
                    eprintln!("recv {line}");
                }
            } else {
                self.rec.drop(now, message.id, src, via, dest, "queued");
            }
            pending.pop_front();
        }
        self.nodes[node].pending = pending;
    }

    pub(super) fn drop_message(&mut self, now: u64, id: u64, src: &str, dest: &str, reason: &str) {
        self.rec.drop(now, id, src, None, dest, reason);
    }

    /// Read and handle everything node `node` wrote.
    pub(super) fn read_node(&mut self, node: usize) {
        let (Some(process), Some(io)) = (
            self.nodes[node].host.as_mut().and_then(Host::process_mut),
            self.io.as_mut(),
        ) else {
            return;
        };
        let mut lines = std::mem::take(&mut io.lines);
        let open = process.read_available(&mut lines, &mut io.read_buf);
        let at = self.now();
        for output in lines.drain(..) {
            match output {
                Output::Line(line) => {
                    self.count_line(node, at);
                    self.on_node_line(node, at, line);
                }
                Output::Oversized(bytes) => {
                    let id = self.nodes[node].id.clone();
                    self.rec
                        .problems
                        .record(&id, ProblemKind::OversizedLine, at, || {
                            format!("a line of {bytes} bytes")
                        });
                }
            }
        }
        if let Some(io) = self.io.as_mut() {
            io.lines = lines;
        }
        if !open {
            let incarnation = self.nodes[node].incarnation;
            self.on_closed(node, incarnation);
        }
    }

    pub(super) fn count_line(&mut self, node: usize, at: u64) {
        let slot = &mut self.nodes[node];
        if slot.flood.count(at) {
            let id = slot.id.clone();
            self.rec.problems.record(&id, ProblemKind::Flood, at, || {
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
        if matches!(slot.state, NodeState::Killed | NodeState::Dead)
            || self.driver.phase == Phase::Done
        {
            return;
        }
        let status = slot
            .host
            .as_mut()
            .map(Host::exit_status)
            .unwrap_or_default();
        slot.state = NodeState::Dead;
        if let Some(host) = slot.host.take() {
            host.kill_soon();
        }
        let id = slot.id.clone();
        self.rec
            .problems
            .record(&id, ProblemKind::Exited, now, || status.clone());
        if self.driver.phase == Phase::Starting {
            self.abort = Some(format!("{id} exited during init ({status})"));
            self.driver.phase = Phase::Done;
        }
    }

    pub(super) fn classify(&self, dest: &str) -> Option<Dest> {
        if let Some(i) = self.node_of(dest) {
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

    /// One line a node wrote: journal it and send it on its way (to a client at once, to a
    /// node or service through the simulated network). Only the addresses are parsed here, and
    /// the body scanned once (its depth, the types of `type`, `msg_id` and `in_reply_to`); the
    /// body is forwarded as it came.
    ///
    /// A line nested deeper than Maelstrom's JSON parser accepts is a problem and is not
    /// routed (Maelstrom stops reading the node). A body with no string `type`, or whose
    /// `msg_id` or `in_reply_to` is not a non-negative integer, is routed, as Maelstrom routes
    /// it, and named as a warning: a node that reads it may choke on it. (A reply to a client
    /// is read whole by the workload, which says what is wrong with it.)
    pub(super) fn on_node_line(&mut self, node: usize, at: u64, line: String) {
        let id = self.rec.peek_id();
        let target = {
            let route = match parse_route(&line) {
                Ok(route) => route,
                Err(err) => {
                    let own = &self.nodes[node].id;
                    self.rec
                        .problems
                        .record(own, ProblemKind::MalformedLine, at, || {
                            format!("{}: {}", err.reason, line)
                        });
                    return;
                }
            };
            let own = &self.nodes[node].id;
            let body = proto::scan_body(route.body.get());
            if body.depth + 1 > proto::MAELSTROM_MAX_DEPTH {
                self.rec.problems.record(own, ProblemKind::TooDeep, at, || {
                    format!("a body nested {} deep: {line}", body.depth)
                });
                return;
            }
            self.rec.next_id();
            let dest = self.classify(&route.dest);
            // A line whose src is another member of the network is a forward (a node passing
            // a client's request to the leader keeps the client's src, so the reply goes to
            // the client): Maelstrom checks only that src is a member. It is journaled with
            // its src and `via` the node that wrote it, and travels from that node (a warning
            // says so: Maelstrom routes a client's src as client traffic).
            let claimed = route.src != own.as_str();
            let forwarded = claimed && self.is_member(&route.src);
            if forwarded {
                self.rec
                    .problems
                    .record(own, ProblemKind::ForwardedSrc, at, || line.clone());
            } else if claimed {
                self.rec
                    .problems
                    .record(own, ProblemKind::WrongSrc, at, || line.clone());
            }
            let (src, via) = if forwarded {
                (&*route.src, Some(own.as_str()))
            } else {
                (own.as_str(), None)
            };
            if dest != Some(Dest::Client) {
                if !body.has_type {
                    self.rec
                        .problems
                        .record(own, ProblemKind::NoBodyType, at, || line.clone());
                }
                if !(body.msg_id_ok && body.in_reply_to_ok) {
                    self.rec
                        .problems
                        .record(own, ProblemKind::NonIntegerId, at, || line.clone());
                }
            }
            // A Byzantine node's message to another node: what the nemesis makes of it.
            let fate = match (&mut self.byzantine, dest) {
                (Some(byzantine), Some(Dest::Node(to)))
                    if !forwarded
                        && byzantine.is_byzantine(node)
                        && body.depth <= checker::JOURNAL_MAX_BODY_DEPTH =>
                {
                    Some(byzantine.alter(node, to, route.body.get()))
                }
                _ => None,
            };
            if let Some(deed) = fate.as_ref().and_then(|f| f.message.as_ref()) {
                let original = route.body.get();
                let note = format!(
                    "{{\"how\":\"{}\",\"original\":{original}}}",
                    deed.how.name()
                );
                let sent = deed.body.as_deref().unwrap_or(original);
                self.rec.send_altered(at, id, src, &route.dest, sent, &note);
            } else if body.depth > checker::JOURNAL_MAX_BODY_DEPTH {
                // Kept as the string of its text, so the journal stays readable.
                let text = serde_json::to_string(route.body.get()).unwrap_or_default();
                self.rec.send(at, id, src, via, &route.dest, &text);
            } else {
                self.rec
                    .send(at, id, src, via, &route.dest, route.body.get());
            }
            if self.config.log_net_send {
                eprintln!("send {line}");
            }
            match dest {
                None => {
                    self.rec.drop(at, id, src, via, &route.dest, "unknown-dest");
                    self.rec
                        .problems
                        .record(own, ProblemKind::UnknownDest, at, || line.clone());
                    return;
                }
                Some(Dest::Client) => {
                    self.rec.deliver(at, id, src, via, &route.dest);
                    Err(route.dest.into_owned())
                }
                Some(dest) => {
                    let claimed: Option<Box<str>> = forwarded.then(|| route.src.as_ref().into());
                    Ok((dest, claimed, fate))
                }
            }
        };
        match target {
            Ok((dest, _, Some(fate))) => self.byzantine_send(at, id, node, dest, line, fate),
            Ok((dest, claimed, None)) => {
                if claimed.as_deref().is_some_and(checker::is_client) {
                    self.nodes[node].forwards += 1;
                }
                self.route(at, id, Peer::Node(node), claimed, dest, line)
            }
            Err(client) => self.on_client_reply(Peer::Node(node), at, &client, &line),
        }
    }

    /// Put a server-to-server message, sent by `src` (with the line's own src `claimed` when
    /// it is a forward), through the simulated network: lost, or scheduled for delivery once
    /// (or twice, when duplicated).
    pub(super) fn route(
        &mut self,
        at: u64,
        id: u64,
        src: Peer,
        claimed: Option<Box<str>>,
        dest: Dest,
        line: String,
    ) {
        let fate = self.network.route(src.endpoint(), dest.endpoint(), at);
        match fate {
            Fate::Lost => {
                let (sender, dest) = (
                    peer_name(&self.nodes, &self.services, src),
                    dest_name(&self.nodes, &self.services, dest),
                );
                let (name, via) = journal_names(sender, claimed.as_deref());
                self.rec.drop(at, id, name, via, dest, "loss");
            }
            Fate::Deliver { at: when } => {
                self.schedule(
                    when,
                    Timed::Deliver {
                        id,
                        src,
                        claimed,
                        dest,
                        line,
                    },
                );
            }
            Fate::Duplicate { first, second } => {
                let copy = line.clone();
                self.schedule(
                    first,
                    Timed::Deliver {
                        id,
                        src,
                        claimed: claimed.clone(),
                        dest,
                        line,
                    },
                );
                self.schedule(
                    second,
                    Timed::Deliver {
                        id,
                        src,
                        claimed,
                        dest,
                        line: copy,
                    },
                );
            }
        }
    }

    /// A message reaches its destination's side of the network: blocked by a partition, or
    /// handed over.
    pub(super) fn deliver(
        &mut self,
        now: u64,
        id: u64,
        src: Peer,
        claimed: Option<Box<str>>,
        dest: Dest,
        line: String,
    ) {
        if self.network.blocked(src.endpoint(), dest.endpoint()) {
            let (sender, dest) = (
                peer_name(&self.nodes, &self.services, src),
                dest_name(&self.nodes, &self.services, dest),
            );
            let (name, via) = journal_names(sender, claimed.as_deref());
            self.rec.drop(now, id, name, via, dest, "partition");
            return;
        }
        match dest {
            Dest::Node(node) => {
                let from = match claimed.as_deref() {
                    Some(claimed) => From::Forwarded {
                        via: src,
                        src: claimed,
                    },
                    None => From::Peer(src),
                };
                self.deliver_to_node(now, id, from, node, &line);
            }
            Dest::Service(service) => {
                let (sender, dest_name) = (
                    peer_name(&self.nodes, &self.services, src),
                    &self.services[service].0,
                );
                let (name, via) = journal_names(sender, claimed.as_deref());
                self.rec.deliver(now, id, name, via, dest_name);
                match proto::parse_line(&line) {
                    Ok(msg) => {
                        if self.sim.is_none() {
                            // The time server reads the true time of day.
                            let wall = self.true_time_of_day();
                            self.services[service].1.set_wall_clock(wall);
                        }
                        let effects = self.services[service]
                            .1
                            .handle_message(Duration::from_nanos(now), msg);
                        self.service_effects(now, service, effects);
                    }
                    Err(err) => {
                        // The node's line has addresses but a body the service cannot read:
                        // no reply, as Maelstrom's services give none.
                        if let Peer::Node(node) = src {
                            let node_id = self.nodes[node].id.clone();
                            self.rec.problems.record(
                                &node_id,
                                ProblemKind::UnreadServiceRequest,
                                now,
                                || format!("{}: {}", err.reason, line),
                            );
                        }
                    }
                }
            }
            Dest::Client => {}
        }
    }
}

/// The `src` and `via` a message is journaled with: the sender's id, or for a forward the
/// line's own `src` and the sender.
fn journal_names<'a>(sender: &'a str, claimed: Option<&'a str>) -> (&'a str, Option<&'a str>) {
    match claimed {
        Some(claimed) => (claimed, Some(sender)),
        None => (sender, None),
    }
}

/// The id of a node or service (a free function, so that it borrows only these two fields).
pub(super) fn peer_name<'a>(
    nodes: &'a [NodeSlot],
    services: &'a [(String, Runtime<services::Service>)],
    peer: Peer,
) -> &'a str {
    match peer {
        Peer::Node(i) => &nodes[i].id,
        Peer::Service(j) => &services[j].0,
    }
}

/// The id of a destination (clients are never routed through the network).
fn dest_name<'a>(
    nodes: &'a [NodeSlot],
    services: &'a [(String, Runtime<services::Service>)],
    dest: Dest,
) -> &'a str {
    match dest {
        Dest::Node(i) => &nodes[i].id,
        Dest::Service(j) => &services[j].0,
        Dest::Client => "client",
    }
}

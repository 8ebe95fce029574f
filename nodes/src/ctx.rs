//! What a node may do: learn who it is and what time it is, draw seeded random numbers, send
//! messages, make RPCs with a timeout, set timers, and write to stable storage. Everything it
//! asks for is recorded as an [`Effect`] that the driver carries out after the event, in order.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proto::{Body, ErrorCode, Message, Payload};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::node::TimerId;
use crate::storage::{Stable, Write, valid_log_name};

/// The time of day at which virtual time starts when no real clock is read (the simulator):
/// 2026-01-01T00:00:00Z, as time since the Unix epoch.
pub const WALL_CLOCK_EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// Something a node asked for while handling one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Put this message on the wire.
    Send(Message),
    /// Call [`crate::Node::on_timer`] with `id` once `now` reaches `at`.
    SetTimer { id: TimerId, at: Duration },
    /// Forget the timer `id` (no effect if it already fired).
    CancelTimer(TimerId),
    /// Write to stable storage. The driver makes it durable before it carries out any later
    /// effect of the same event (see [`crate::storage`]).
    Persist(Write),
}

/// An RPC waiting for its reply.
#[derive(Debug, Clone)]
pub(crate) struct PendingRpc {
    pub dest: String,
    pub deadline: Duration,
}

/// The node's view of the world, kept by the runtime between events.
#[derive(Debug)]
pub struct Ctx {
    id: String,
    node_ids: Vec<String>,
    now: Duration,
    /// What the node's wall clock read at this event, when its driver knows the time of day.
    wall: Option<Duration>,
    incarnation: u64,
    rng: ChaCha8Rng,
    pub(crate) next_msg_id: u64,
    pub(crate) next_timer: u64,
    pub(crate) timers: BTreeSet<(Duration, TimerId)>,
    pub(crate) timer_deadlines: BTreeMap<TimerId, Duration>,
    pub(crate) rpcs: BTreeMap<u64, PendingRpc>,
    pub(crate) rpc_deadlines: BTreeSet<(Duration, u64)>,
    pub(crate) effects: Vec<Effect>,
    /// What stable storage held when this start of the node program began.
    recovered: Stable,
}

impl Ctx {
    /// A context for a node not yet initialised. `seed` seeds [`Ctx::rng`] (mixed with the node
    /// id at init); `incarnation` is different for every start of the node program.
    pub fn new(seed: u64, incarnation: u64) -> Self {
        Ctx {
            id: String::new(),
            node_ids: Vec::new(),
            now: Duration::ZERO,
            wall: None,
            incarnation,
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_msg_id: 0,
            next_timer: 0,
            timers: BTreeSet::new(),
            timer_deadlines: BTreeMap::new(),
            rpcs: BTreeMap::new(),
            rpc_deadlines: BTreeSet::new(),
            effects: Vec::new(),
            recovered: Stable::new(),
        }
    }

    /// Hand the node what stable storage held at its start (drivers, before `init`).
    pub(crate) fn set_recovered(&mut self, stable: Stable) {
        self.recovered = stable;
    }

    /// Set the node's identity, and reseed the rng with the node id mixed in so that nodes of
    /// one run draw different numbers from one seed.
    pub(crate) fn initialise(&mut self, id: String, node_ids: Vec<String>, seed: u64) {
        let mixed = id.bytes().fold(seed ^ 0x9e37_79b9_7f4a_7c15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.rng = ChaCha8Rng::seed_from_u64(mixed);
        self.id = id;
        self.node_ids = node_ids;
    }

    pub(crate) fn set_now(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }

    pub(crate) fn set_wall_clock(&mut self, wall: Duration) {
        self.wall = Some(wall);
    }

    /// This node's id (`"n0"`, ...). Empty before init.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Every node's id, this one included, in the order `init` gave them.
    pub fn node_ids(&self) -> &[String] {
        &self.node_ids
    }

    /// Every node's id but this one.
    pub fn peers(&self) -> impl Iterator<Item = &str> {
        self.node_ids
            .iter()
            .map(String::as_str)
            .filter(move |n| *n != self.id)
    }

    /// Time since the driver started: monotonic, and virtual under the simulator.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// What this node's wall clock (time of day) reads, as time since the Unix epoch: the
    /// course's physical clock (3.1). Unlike [`Ctx::now`] it may jump back or forward and run
    /// fast or slow (a skewed or stepped clock, a leap second: the harness's `--nemesis
    /// clock`), so use it for timestamps that must mean a time of day, never for timeouts.
    /// A process reads the system's clock; the simulator gives each node a virtual one, and
    /// a driver that has none reads [`WALL_CLOCK_EPOCH`] plus [`Ctx::now`].
    pub fn wall_clock(&self) -> Duration {
        self.wall.unwrap_or(WALL_CLOCK_EPOCH + self.now)
    }

    /// A number different for every start of this node program (the driver derives it from
    /// the wall clock at start; the simulator counts restarts). Lets a node mint ids that stay
    /// unique across its own restarts without coordination.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The node's random number generator, seeded from the run's seed and the node id.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    fn fresh_msg_id(&mut self) -> u64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    fn push(
        &mut self,
        dest: &str,
        msg_id: Option<u64>,
        in_reply_to: Option<u64>,
        payload: Payload,
    ) {
        self.effects.push(Effect::Send(Message::new(
            self.id.clone(),
            dest,
            Body {
                msg_id,
                in_reply_to,
                payload,
            },
        )));
    }

    fn payload_of<P: Serialize>(&self, payload: &P) -> Option<Payload> {
        match Payload::custom(payload) {
            Ok(payload) => Some(payload),
            Err(err) => {
                tracing::error!(node = %self.id, "cannot serialize an outgoing body: {err}");
                None
            }
        }
    }

    /// Send `payload` (a [`Payload`] or any value that serializes to an object with a `type`)
    /// to `dest`, with no `msg_id`: fire and forget.
    pub fn send<P: Serialize>(&mut self, dest: &str, payload: &P) {
        if let Some(payload) = self.payload_of(payload) {
            self.push(dest, None, None, payload);
        }
    }

    /// Send `payload` to `dest` with a fresh `msg_id`, and return that id. The reply, if any,
    /// arrives through [`crate::Node::on_message`] with `in_reply_to` set; no timeout applies.
    pub fn send_request<P: Serialize>(&mut self, dest: &str, payload: &P) -> u64 {
        let msg_id = self.fresh_msg_id();
        if let Some(payload) = self.payload_of(payload) {
            self.push(dest, Some(msg_id), None, payload);
        }
        msg_id
    }

    /// Answer `request`: send `payload` to its sender with `in_reply_to` set to its `msg_id`.
    pub fn reply<P: Serialize>(&mut self, request: &Message, payload: &P) {
        if let Some(payload) = self.payload_of(payload) {
            let msg_id = self.fresh_msg_id();
            self.push(&request.src, Some(msg_id), request.body.msg_id, payload);
        }
    }

    /// Answer `request` with an error.
    pub fn reply_error(&mut self, request: &Message, code: ErrorCode, text: impl Into<String>) {
        self.reply(request, &Payload::error(code, text));
    }

    /// Answer a request this node does not serve with error 10 (`not-supported`). Replies,
    /// and messages that carry no `msg_id`, are only logged: nobody waits for an answer.
    pub fn not_supported(&mut self, request: &Message) {
        if request.body.msg_id.is_some() && request.body.in_reply_to.is_none() {
            let text = format!("{} does not support {:?}", self.id, request.body.kind());
            self.reply_error(request, ErrorCode::NotSupported, text);
        } else {
            tracing::warn!(
                node = %self.id,
                "ignoring unexpected {:?} from {}",
                request.body.kind(),
                request.src
            );
        }
    }

    /// Send a request and expect a reply within `timeout`. Returns the request's `msg_id`. The
    /// reply arrives through [`crate::Node::on_message`] with that `in_reply_to`; if none comes
    /// in time, the node receives an `error` reply with code 0 (timeout) from `dest` instead,
    /// and a late real reply is dropped. Exactly one of the two arrives.
    pub fn rpc<P: Serialize>(&mut self, dest: &str, payload: &P, timeout: Duration) -> u64 {
        let msg_id = self.send_request(dest, payload);
        let deadline = self.now + timeout;
        self.rpcs.insert(
            msg_id,
            PendingRpc {
                dest: dest.to_owned(),
                deadline,
            },
        );
        self.rpc_deadlines.insert((deadline, msg_id));
        msg_id
    }

    /// True while the RPC `msg_id` awaits its reply.
    pub fn rpc_pending(&self, msg_id: u64) -> bool {
        self.rpcs.contains_key(&msg_id)
    }

    /// Call [`crate::Node::on_timer`] once `after` has passed.
    pub fn set_timer(&mut self, after: Duration) -> TimerId {
        let id = TimerId(self.next_timer);
        self.next_timer += 1;
        let at = self.now + after;
        self.timers.insert((at, id));
        self.timer_deadlines.insert(id, at);
        self.effects.push(Effect::SetTimer { id, at });
        id
    }

    /// Forget a timer. Nothing happens if it already fired.
    pub fn cancel_timer(&mut self, id: TimerId) {
        if let Some(at) = self.timer_deadlines.remove(&id) {
            self.timers.remove(&(at, id));
            self.effects.push(Effect::CancelTimer(id));
        }
    }

    /// What stable storage held when this start of the node program began: empty at the first
    /// start, after a wipe, and when the node has no stable storage. Taken once (call it in
    /// [`crate::Node::on_init`]); later calls return empty storage.
    pub fn take_recovered(&mut self) -> Stable {
        std::mem::take(&mut self.recovered)
    }

    /// Append `record` to the stable log `log` (a name of `a-z`, `0-9`, `-`, `_`). Durable
    /// before any later effect of this event is carried out: a message sent after this call
    /// leaves the node only once the record is on disk.
    pub fn persist<R: Serialize>(&mut self, log: &str, record: &R) {
        if let Some(record) = self.record_of(log, record) {
            self.effects.push(Effect::Persist(Write::Append {
                log: log.to_owned(),
                record,
            }));
        }
    }

    /// Replace everything in the stable log `log` with `records` (a snapshot that compacts it).
    pub fn persist_all<R: Serialize>(&mut self, log: &str, records: &[R]) {
        let records: Option<Vec<String>> = records.iter().map(|r| self.record_of(log, r)).collect();
        if let Some(records) = records {
            self.effects.push(Effect::Persist(Write::Replace {
                log: log.to_owned(),
                records,
            }));
        }
    }

    fn record_of<R: Serialize>(&self, log: &str, record: &R) -> Option<String> {
        if !valid_log_name(log) {
            tracing::error!(node = %self.id, "{log:?} is not a valid stable log name; not persisted");
            return None;
        }
        match serde_json::to_string(record) {
            Ok(record) => Some(record),
            Err(err) => {
                tracing::error!(node = %self.id, "cannot serialize a record for log {log}: {err}");
                None
            }
        }
    }

    /// Log a line to the node's stderr (through `tracing`), tagged with the node id.
    pub fn log(&self, text: impl AsRef<str>) {
        tracing::info!(node = %self.id, "{}", text.as_ref());
    }
}

//! The services nodes can call: `lin-kv`, `seq-kv`, `lww-kv` and `lin-tso`, Maelstrom's
//! building blocks with the consistency each name promises (the course's 7.2
//! "Linearizability" and 7.3 "Eventual consistency"; sequential consistency in between), and
//! `time-server`, a reference clock for clock synchronisation (3.2).
//!
//! Each service is a [`nodes::Node`]: the runner hosts it in a [`nodes::Runtime`] in-process,
//! sends it `init {node_id: "lin-kv", node_ids: [...]}`, routes node requests to it through the
//! simulated network (latency applies; service links are never partitioned, lost or
//! duplicated) and its replies back, and fires its timers. Every random choice a service makes
//! comes from the runtime's seeded rng.
//!
//! Requests and replies are Maelstrom's (see [`kv`] for the key-value ones; `lin-tso` answers
//! `ts` with `ts_ok {ts}`; `time-server` answers `time {t1}` with `time_ok {t1, t2, t3}`, see
//! [`time_server`]). A request of a type the service does not serve gets error 10
//! (not-supported); a key-value `read` without a key gets error 12 (malformed-request), as does
//! a declared request whose fields do not fit (the runtime answers those). A request that
//! carries no `msg_id` is carried out but not answered: nobody waits for it. Replies sent to a
//! service are ignored.

pub mod kv;
pub mod lin_kv;
pub mod lin_tso;
pub mod lww_kv;
pub mod seq_kv;
pub mod time_server;

use nodes::{Ctx, Node, TimerId};
use proto::{ErrorCode, Message, Payload};

pub use lin_kv::LinKv;
pub use lin_tso::LinTso;
pub use lww_kv::LwwKv;
pub use seq_kv::SeqKv;
pub use time_server::TimeServer;

use kv::KvOp;

/// A service, by the id nodes address it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    LinKv,
    SeqKv,
    LwwKv,
    LinTso,
    TimeServer,
}

/// The node ids of every service.
pub const NAMES: [&str; 5] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso", "time-server"];

impl ServiceKind {
    /// Every service, in the order of [`NAMES`].
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::LinKv,
        ServiceKind::SeqKv,
        ServiceKind::LwwKv,
        ServiceKind::LinTso,
        ServiceKind::TimeServer,
    ];

    /// The node id of the service.
    pub fn id(self) -> &'static str {
        match self {
            ServiceKind::LinKv => "lin-kv",
            ServiceKind::SeqKv => "seq-kv",
            ServiceKind::LwwKv => "lww-kv",
            ServiceKind::LinTso => "lin-tso",
            ServiceKind::TimeServer => "time-server",
        }
    }

    /// The service with node id `id`, if any.
    pub fn from_id(id: &str) -> Option<Self> {
        ServiceKind::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// Any one of the services, with its default settings: a single type the runner can host in
/// a `Runtime<Service>`.
#[derive(Debug, Clone)]
pub enum Service {
    LinKv(LinKv),
    SeqKv(SeqKv),
    LwwKv(LwwKv),
    LinTso(LinTso),
    TimeServer(TimeServer),
}

impl Service {
    /// A fresh service of `kind`.
    pub fn new(kind: ServiceKind) -> Self {
        match kind {
            ServiceKind::LinKv => Service::LinKv(LinKv::new()),
            ServiceKind::SeqKv => Service::SeqKv(SeqKv::new()),
            ServiceKind::LwwKv => Service::LwwKv(LwwKv::new()),
            ServiceKind::LinTso => Service::LinTso(LinTso::new()),
            ServiceKind::TimeServer => Service::TimeServer(TimeServer),
        }
    }

    /// Which service this is.
    pub fn kind(&self) -> ServiceKind {
        match self {
            Service::LinKv(_) => ServiceKind::LinKv,
            Service::SeqKv(_) => ServiceKind::SeqKv,
            Service::LwwKv(_) => ServiceKind::LwwKv,
            Service::LinTso(_) => ServiceKind::LinTso,
            Service::TimeServer(_) => ServiceKind::TimeServer,
        }
    }

    fn node(&mut self) -> &mut dyn Node {
        match self {
            Service::LinKv(s) => s,
            Service::SeqKv(s) => s,
            Service::LwwKv(s) => s,
            Service::LinTso(s) => s,
            Service::TimeServer(s) => s,
        }
    }
}

/// A fresh service for the node id `name` (one of [`NAMES`]).
pub fn service(name: &str) -> Option<Service> {
    ServiceKind::from_id(name).map(Service::new)
}

impl Node for Service {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.node().on_init(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        self.node().on_message(ctx, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.node().on_timer(ctx, timer);
    }
}

/// The key-value request in a payload (see [`parse_request`]).
fn kv_request(payload: &Payload) -> Option<Result<KvOp, String>> {
    KvOp::from_payload(payload)
}

/// A `ts` request.
fn ts_request(payload: &Payload) -> Option<Result<(), String>> {
    matches!(payload, Payload::Ts).then_some(Ok(()))
}

/// A `time` request: its `t1`, if it has one.
fn time_request(payload: &Payload) -> Option<Result<Option<u64>, String>> {
    match payload {
        Payload::Time { t1 } => Some(Ok(*t1)),
        _ => None,
    }
}

/// The request in `msg` as `take` reads it. Anything else is dealt with here: replies are
/// ignored (logged), requests of other types get error 10, and unusable ones error 12.
fn parse_request<T>(
    ctx: &mut Ctx,
    msg: &Message,
    take: fn(&Payload) -> Option<Result<T, String>>,
) -> Option<T> {
    if msg.body.in_reply_to.is_some() {
        ctx.not_supported(msg);
        return None;
    }
    match take(&msg.body.payload) {
        Some(Ok(request)) => Some(request),
        Some(Err(text)) => {
            if msg.body.msg_id.is_some() {
                ctx.reply_error(msg, ErrorCode::MalformedRequest, text);
            }
            None
        }
        None => {
            ctx.not_supported(msg);
            None
        }
    }
}

/// Reply to `msg` with `payload`, if anyone waits for a reply.
fn answer(ctx: &mut Ctx, msg: &Message, payload: &Payload) {
    if msg.body.msg_id.is_some() {
        ctx.reply(msg, payload);
    }
}

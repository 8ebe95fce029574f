//! The sans-IO runtime around a [`Node`]: the part of every driver that is not I/O.
//!
//! It answers `init`, turns RPCs that outlived their timeout into error replies with code 0,
//! fires timers in deadline order, answers malformed requests with error 12, and hands
//! everything else to the node. Drivers feed it lines or messages and the current time, and
//! carry out the [`Effect`]s it returns; tests do the same with scripted messages.

use std::collections::BTreeSet;
use std::time::Duration;

use proto::{Body, ErrorCode, Message, Payload, parse_line};

use crate::ctx::{Ctx, Effect};
use crate::node::Node;
use crate::storage::Stable;

/// How many timed-out RPC ids are remembered, so that their late replies are dropped.
const EXPIRED_RPCS_KEPT: usize = 65_536;

/// A node plus its context: the whole of a node's state between events.
#[derive(Debug)]
pub struct Runtime<N> {
    node: N,
    ctx: Ctx,
    seed: u64,
    initialised: bool,
    expired_rpcs: BTreeSet<u64>,
}

impl<N: Node> Runtime<N> {
    /// A runtime for `node`. `seed` seeds the node's rng; `incarnation` must differ between
    /// starts of the same node program (see [`Ctx::incarnation`]).
    pub fn new(node: N, seed: u64, incarnation: u64) -> Self {
        Runtime {
            node,
            ctx: Ctx::new(seed, incarnation),
            seed,
            initialised: false,
            expired_rpcs: BTreeSet::new(),
        }
    }

    /// The same runtime, starting from what stable storage held (see [`crate::storage`]): the
    /// node takes it with [`Ctx::take_recovered`] when it is initialised.
    pub fn recovering(mut self, stable: Stable) -> Self {
        self.ctx.set_recovered(stable);
        self
    }

    /// The node, for inspection.
    pub fn node(&self) -> &N {
        &self.node
    }

    /// The node, for tests that set up a state directly.
    pub fn node_mut(&mut self) -> &mut N {
        &mut self.node
    }

    /// Say what the node's wall clock reads (time since the Unix epoch) for the events that
    /// follow, until said again ([`Ctx::wall_clock`]).
    pub fn set_wall_clock(&mut self, wall: Duration) {
        self.ctx.set_wall_clock(wall);
    }

    /// The node's context.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// True once `init` has been handled.
    pub fn is_initialised(&self) -> bool {
        self.initialised
    }

    /// Handle one line of input. A line that is not a valid message is logged and, when it
    /// had a `src` and a `msg_id`, answered with error 12.
    pub fn handle_line(&mut self, now: Duration, line: &str) -> Vec<Effect> {
        self.ctx.set_now(now);
        match parse_line(line) {
            Ok(msg) => self.handle_message(now, msg),
            Err(err) => {
                tracing::warn!(node = %self.ctx.id(), "malformed line ({err}): {}", line.trim_end());
                if let (Some(src), Some(msg_id)) = (err.src, err.msg_id) {
                    let request = Message::new(
                        src,
                        self.ctx.id().to_owned(),
                        Body {
                            msg_id: Some(msg_id),
                            in_reply_to: None,
                            payload: Payload::InitOk,
                        },
                    );
                    let text = format!("malformed request: {}", err.reason);
                    self.ctx
                        .reply_error(&request, ErrorCode::MalformedRequest, text);
                }
                self.take_effects()
            }
        }
    }

    /// Handle one message.
    pub fn handle_message(&mut self, now: Duration, msg: Message) -> Vec<Effect> {
        self.ctx.set_now(now);
        let is_request = msg.body.msg_id.is_some() && msg.body.in_reply_to.is_none();
        if let Payload::Init { node_id, node_ids } = &msg.body.payload {
            let first = !self.initialised;
            if first {
                self.ctx
                    .initialise(node_id.clone(), node_ids.clone(), self.seed);
                self.initialised = true;
            }
            self.ctx.reply(&msg, &Payload::InitOk);
            if first {
                self.node.on_init(&mut self.ctx);
            }
            return self.take_effects();
        }
        if !self.initialised {
            tracing::warn!("{:?} from {} before init", msg.body.kind(), msg.src);
            if is_request {
                self.ctx.reply_error(
                    &msg,
                    ErrorCode::TemporarilyUnavailable,
                    "node not initialised yet",
                );
            }
            return self.take_effects();
        }
        if let Some(kind) = msg.body.malformed() {
            let text = format!("malformed {kind:?} body: {}", msg.body.to_value());
            tracing::warn!(node = %self.ctx.id(), "{text}");
            if is_request {
                self.ctx
                    .reply_error(&msg, ErrorCode::MalformedRequest, text);
            }
            return self.take_effects();
        }
        if let Some(reply_to) = msg.body.in_reply_to {
            if let Some(rpc) = self.ctx.rpcs.remove(&reply_to) {
                self.ctx.rpc_deadlines.remove(&(rpc.deadline, reply_to));
            } else if self.expired_rpcs.contains(&reply_to) {
                tracing::debug!(node = %self.ctx.id(), "dropping late reply to rpc {reply_to}");
                return self.take_effects();
            }
        }
        self.node.on_message(&mut self.ctx, msg);
        self.take_effects()
    }

    /// The earliest time at which [`Runtime::advance`] has something to do.
    pub fn next_deadline(&self) -> Option<Duration> {
        let timer = self.ctx.timers.first().map(|(at, _)| *at);
        let rpc = self.ctx.rpc_deadlines.first().map(|(at, _)| *at);
        match (timer, rpc) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fire every timer and RPC timeout due at or before `now`, in deadline order (a timer
    /// before an RPC timeout at the same instant). Only those set before this call: a timer
    /// (or RPC) the node sets while this runs, due at once, waits for the next call, so a node
    /// that sets a timer for now at every timer cannot keep its driver in this loop forever
    /// (the simulator then sees time stand still, and stops the run as a livelock).
    pub fn advance(&mut self, now: Duration) -> Vec<Effect> {
        self.ctx.set_now(now);
        let (timer_limit, rpc_limit) = (self.ctx.next_timer, self.ctx.next_msg_id);
        let mut effects = Vec::new();
        loop {
            let timer = self
                .ctx
                .timers
                .iter()
                .take_while(|(at, _)| *at <= now)
                .find(|(_, id)| id.0 < timer_limit)
                .copied();
            let rpc = self
                .ctx
                .rpc_deadlines
                .iter()
                .take_while(|(at, _)| *at <= now)
                .find(|(_, msg_id)| *msg_id < rpc_limit)
                .copied();
            match (timer, rpc) {
                (Some((t_at, id)), rpc) if rpc.is_none_or(|(r_at, _)| t_at <= r_at) => {
                    self.ctx.timers.remove(&(t_at, id));
                    self.ctx.timer_deadlines.remove(&id);
                    self.node.on_timer(&mut self.ctx, id);
                }
                (_, Some((r_at, msg_id))) => {
                    self.ctx.rpc_deadlines.remove(&(r_at, msg_id));
                    let Some(rpc) = self.ctx.rpcs.remove(&msg_id) else {
                        continue;
                    };
                    self.expired_rpcs.insert(msg_id);
                    if self.expired_rpcs.len() > EXPIRED_RPCS_KEPT {
                        self.expired_rpcs.pop_first();
                    }
                    let timeout = Message::new(
                        rpc.dest,
                        self.ctx.id().to_owned(),
                        Body {
                            msg_id: None,
                            in_reply_to: Some(msg_id),
                            payload: Payload::error(ErrorCode::Timeout, "rpc timed out"),
                        },
                    );
                    self.node.on_message(&mut self.ctx, timeout);
                }
                _ => break,
            }
            effects.append(&mut self.ctx.effects);
        }
        effects.append(&mut self.ctx.effects);
        effects
    }

    fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.ctx.effects)
    }
}

/// The messages among `effects`.
pub fn sends(effects: &[Effect]) -> Vec<&Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proto::{Body, ErrorCode, Message, Payload};
    use serde_json::json;

    use super::*;
    use crate::node::TimerId;

    /// A node that records what it sees and does what a test asks.
    #[derive(Default)]
    struct Probe {
        seen: Vec<Message>,
        timers: Vec<TimerId>,
        inits: usize,
    }

    impl Node for Probe {
        fn on_init(&mut self, ctx: &mut Ctx) {
            self.inits += 1;
            ctx.set_timer(Duration::from_millis(50));
        }
        fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
            if msg.body.kind() == "call" {
                ctx.rpc("n1", &json!({"type": "ping"}), Duration::from_millis(100));
            } else if msg.body.kind() == "unknown" {
                ctx.not_supported(&msg);
            }
            self.seen.push(msg);
        }
        fn on_timer(&mut self, _ctx: &mut Ctx, timer: TimerId) {
            self.timers.push(timer);
        }
    }

    fn msg(src: &str, body: serde_json::Value) -> Message {
        Message::new(src, "n0", serde_json::from_value::<Body>(body).unwrap())
    }

    fn initialised() -> Runtime<Probe> {
        let mut rt = Runtime::new(Probe::default(), 7, 1);
        let effects = rt.handle_message(
            Duration::ZERO,
            msg(
                "c0",
                json!({"type": "init", "msg_id": 0, "node_id": "n0", "node_ids": ["n0", "n1"]}),
            ),
        );
        assert_eq!(
            effects,
            vec![
                Effect::Send(msg_from_n0(
                    "c0",
                    json!({"type": "init_ok", "msg_id": 0, "in_reply_to": 0})
                )),
                Effect::SetTimer {
                    id: TimerId(0),
                    at: Duration::from_millis(50)
                },
            ]
        );
        rt
    }

    fn msg_from_n0(dest: &str, body: serde_json::Value) -> Message {
        Message::new("n0", dest, serde_json::from_value::<Body>(body).unwrap())
    }

    #[test]
    fn init_is_answered_and_on_init_runs_once() {
        let mut rt = initialised();
        let again = rt.handle_message(
            Duration::ZERO,
            msg(
                "c0",
                json!({"type": "init", "msg_id": 5, "node_id": "n0", "node_ids": ["n0"]}),
            ),
        );
        assert_eq!(sends(&again).len(), 1);
        assert_eq!(rt.node().inits, 1);
        assert_eq!(rt.ctx().node_ids(), ["n0", "n1"]);
    }

    #[test]
    fn requests_before_init_get_error_11() {
        let mut rt = Runtime::new(Probe::default(), 7, 1);
        let effects = rt.handle_message(
            Duration::ZERO,
            msg("c0", json!({"type": "read", "msg_id": 3})),
        );
        let sent = sends(&effects);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].body.error_code(),
            Some(ErrorCode::TemporarilyUnavailable)
        );
        assert!(rt.node().seen.is_empty());
    }

    #[test]
    fn an_rpc_that_times_out_becomes_an_error_0_reply_and_a_late_reply_is_dropped() {
        let mut rt = initialised();
        let effects = rt.handle_message(
            Duration::from_millis(10),
            msg("c0", json!({"type": "call", "msg_id": 1})),
        );
        assert_eq!(
            effects,
            vec![Effect::Send(msg_from_n0(
                "n1",
                json!({"type": "ping", "msg_id": 1})
            ))]
        );
        assert_eq!(rt.next_deadline(), Some(Duration::from_millis(50)));
        // The timer at 50 ms fires before the RPC deadline at 110 ms.
        rt.advance(Duration::from_millis(200));
        assert_eq!(rt.node().timers, vec![TimerId(0)]);
        let timeout = rt.node().seen.last().unwrap();
        assert_eq!(timeout.src, "n1");
        assert_eq!(timeout.body.in_reply_to, Some(1));
        assert_eq!(timeout.body.error_code(), Some(ErrorCode::Timeout));
        let seen = rt.node().seen.len();
        rt.handle_message(
            Duration::from_millis(300),
            msg("n1", json!({"type": "pong", "in_reply_to": 1})),
        );
        assert_eq!(rt.node().seen.len(), seen, "late reply must be dropped");
        assert_eq!(rt.next_deadline(), None);
    }

    #[test]
    fn a_reply_in_time_cancels_the_timeout() {
        let mut rt = initialised();
        rt.handle_message(
            Duration::ZERO,
            msg("c0", json!({"type": "call", "msg_id": 1})),
        );
        rt.handle_message(
            Duration::from_millis(20),
            msg("n1", json!({"type": "pong", "in_reply_to": 1})),
        );
        assert_eq!(rt.node().seen.last().unwrap().body.kind(), "pong");
        let before = rt.node().seen.len();
        rt.advance(Duration::from_secs(5));
        assert_eq!(rt.node().seen.len(), before, "no timeout after the reply");
    }

    #[test]
    fn malformed_lines_and_bodies_get_error_12_and_the_node_goes_on() {
        let mut rt = initialised();
        let effects = rt.handle_line(
            Duration::ZERO,
            r#"{"src":"c1","dest":"n0","body":{"msg_id":0}}"#,
        );
        let sent = sends(&effects);
        assert_eq!(sent[0].dest, "c1");
        assert_eq!(sent[0].body.in_reply_to, Some(0));
        assert_eq!(sent[0].body.error_code(), Some(ErrorCode::MalformedRequest));
        assert!(rt.handle_line(Duration::ZERO, "garbage").is_empty());
        let effects = rt.handle_line(
            Duration::ZERO,
            r#"{"src":"c1","dest":"n0","body":{"type":"broadcast","msg_id":4}}"#,
        );
        assert_eq!(
            sends(&effects)[0].body.error_code(),
            Some(ErrorCode::MalformedRequest)
        );
        assert!(rt.node().seen.is_empty());
        rt.handle_line(
            Duration::ZERO,
            r#"{"src":"c1","dest":"n0","body":{"type":"read","msg_id":5}}"#,
        );
        assert_eq!(rt.node().seen.len(), 1);
    }

    #[test]
    fn not_supported_answers_requests_once_and_ignores_the_rest() {
        let mut rt = initialised();
        let effects = rt.handle_message(
            Duration::ZERO,
            msg("c0", json!({"type": "unknown", "msg_id": 9})),
        );
        let sent = sends(&effects);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].body.error_code(), Some(ErrorCode::NotSupported));
        assert_eq!(sent[0].body.in_reply_to, Some(9));
        let effects = rt.handle_message(Duration::ZERO, msg("n1", json!({"type": "unknown"})));
        assert!(effects.is_empty());
    }

    #[test]
    fn a_timer_set_for_now_while_timers_fire_waits_for_the_next_advance() {
        struct Spinner(usize);
        impl Node for Spinner {
            fn on_init(&mut self, ctx: &mut Ctx) {
                ctx.set_timer(Duration::ZERO);
            }
            fn on_message(&mut self, _: &mut Ctx, _: Message) {}
            fn on_timer(&mut self, ctx: &mut Ctx, _: TimerId) {
                self.0 += 1;
                ctx.set_timer(Duration::ZERO);
            }
        }
        let mut rt = Runtime::new(Spinner(0), 1, 1);
        rt.handle_message(
            Duration::ZERO,
            Message::new(
                "c0",
                "n0",
                Body::new(Payload::Init {
                    node_id: "n0".into(),
                    node_ids: vec!["n0".into()],
                }),
            ),
        );
        rt.advance(Duration::ZERO);
        assert_eq!(
            rt.node().0,
            1,
            "one timer per call, not a loop that never ends"
        );
        assert_eq!(rt.next_deadline(), Some(Duration::ZERO));
        rt.advance(Duration::ZERO);
        assert_eq!(rt.node().0, 2);
    }

    #[test]
    fn cancelled_timers_do_not_fire() {
        struct Cancel(Option<TimerId>, usize);
        impl Node for Cancel {
            fn on_init(&mut self, ctx: &mut Ctx) {
                let t = ctx.set_timer(Duration::from_millis(10));
                ctx.set_timer(Duration::from_millis(20));
                ctx.cancel_timer(t);
                self.0 = Some(t);
            }
            fn on_message(&mut self, _: &mut Ctx, _: Message) {}
            fn on_timer(&mut self, _: &mut Ctx, timer: TimerId) {
                assert_ne!(Some(timer), self.0);
                self.1 += 1;
            }
        }
        let mut rt = Runtime::new(Cancel(None, 0), 1, 1);
        rt.handle_message(
            Duration::ZERO,
            Message::new(
                "c0",
                "n0",
                Body::new(Payload::Init {
                    node_id: "n0".into(),
                    node_ids: vec!["n0".into()],
                }),
            ),
        );
        rt.advance(Duration::from_millis(100));
        assert_eq!(rt.node().1, 1);
    }
}

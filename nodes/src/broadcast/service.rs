//! The part every broadcast node shares: it answers the workload's client requests
//! (`topology`, `read`, `broadcast`) and hands everything else to the algorithm.
//!
//! `topology` is acknowledged and otherwise ignored: every algorithm here picks its own
//! communication pattern (each module says which). `read` answers with the delivered log, in
//! delivery order. `broadcast` goes to the algorithm, which answers `broadcast_ok` at the
//! moment it documents. A node that is still recovering its state after a restart answers
//! with error 11 (`temporarily-unavailable`), a definite error: the client records the
//! operation as failed, which is allowed, rather than seeing a read that forgot values. Reads
//! are refused only while they would show less than the node delivered before (see
//! [`Algorithm::readable`]), broadcasts until the algorithm may take them.

use proto::{ErrorCode, Message, Payload};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::ctx::Ctx;
use crate::node::{Node, TimerId};

/// One broadcast algorithm, as [`Service`] drives it.
pub trait Algorithm {
    /// The node knows its id and the cluster (in `ctx`).
    fn start(&mut self, ctx: &mut Ctx);

    /// A client asked to broadcast `value`. Answer `request` with `broadcast_ok` (now or
    /// later) once the value is safely on its way, or with an error.
    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value);

    /// Any message that is not a client request of the workload: peer traffic and replies.
    /// Unknown requests should go to [`Ctx::not_supported`].
    fn receive(&mut self, ctx: &mut Ctx, msg: Message);

    /// A timer this algorithm set has fired.
    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId);

    /// The values delivered so far, in delivery order.
    fn delivered(&self) -> &Delivered;

    /// False while the node is recovering after a (re)start and must not take broadcasts.
    fn serving(&self) -> bool {
        true
    }

    /// False while reads would show less than the node delivered before a restart: the node
    /// then answers reads with error 11. By default, while it is not serving.
    fn readable(&self) -> bool {
        self.serving()
    }
}

/// A broadcast node: the client-facing half, around an [`Algorithm`].
#[derive(Debug, Default)]
pub struct Service<A> {
    algorithm: A,
}

impl<A: Algorithm> Service<A> {
    /// A node running `algorithm`.
    pub fn new(algorithm: A) -> Self {
        Service { algorithm }
    }

    /// The algorithm, for inspection by tests and simulations.
    pub fn algorithm(&self) -> &A {
        &self.algorithm
    }

    /// The delivered log.
    pub fn delivered(&self) -> &Delivered {
        self.algorithm.delivered()
    }

    /// False while the node is recovering and answers clients with error 11.
    pub fn serving(&self) -> bool {
        self.algorithm.serving()
    }
}

impl<A: Algorithm> Node for Service<A> {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.algorithm.start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let is_request = msg.body.in_reply_to.is_none();
        match &msg.body.payload {
            Payload::Topology { .. } if is_request => ctx.reply(&msg, &Payload::TopologyOk),
            Payload::Read { key: None } if is_request => {
                if self.algorithm.readable() {
                    let messages = self.algorithm.delivered().values().to_vec();
                    ctx.reply(
                        &msg,
                        &Payload::ReadOk {
                            messages: Some(messages),
                            value: None,
                        },
                    );
                } else {
                    ctx.reply_error(&msg, ErrorCode::TemporarilyUnavailable, RECOVERING);
                }
            }
            Payload::Broadcast { message } if is_request => {
                if self.algorithm.serving() {
                    let value = message.clone();
                    self.algorithm.broadcast(ctx, msg, value);
                } else {
                    ctx.reply_error(&msg, ErrorCode::TemporarilyUnavailable, RECOVERING);
                }
            }
            _ => self.algorithm.receive(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.algorithm.timer(ctx, timer);
    }
}

const RECOVERING: &str = "recovering state from a majority after a start; retry later";

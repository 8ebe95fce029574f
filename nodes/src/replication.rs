//! State-machine replication over total-order broadcast (the course's "replication using
//! broadcast", 5.3): the part that `lin-kv-tob`, `kv-stale-reads` and `kafka-replicated` share.
//!
//! A [`Replica`] submits each client command to [`TotalOrder`] (the Lamport-timestamp total order
//! of `broadcast-total-lamport`), applies every delivery, in the total order, to its own copy of a
//! [`StateMachine`], and answers a client when it applies *that client's* command, with what its
//! copy said there. Every copy applies the same commands in the same order, so every copy goes
//! through the same states and gives the same answers.
//!
//! A command not applied within the timeout is answered with error 11 when it changes nothing
//! (a read: failing is the truth) and error 0 when it does (indefinite: it is in the order and
//! takes effect once the cluster is whole). A node that is still recovering after a (re)start
//! answers error 11 without submitting anything; the total order keeps every delivery on stable
//! storage before it is applied, so a restarted replica replays them and rebuilds its state.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proto::{ErrorCode, Message, Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::broadcast::total_lamport::TotalOrder;
use crate::ctx::Ctx;
use crate::kv::tob::TobKvConfig;
use crate::node::TimerId;

/// What a replica applies, in the total order.
pub trait StateMachine: Debug + Default {
    /// A command, as it travels through the total order and lies on stable storage.
    type Op: Clone + Debug + PartialEq + Serialize + DeserializeOwned;

    /// Apply `op` and give the client's answer.
    fn apply(&mut self, op: &Self::Op) -> Payload;

    /// True when `op` changes nothing, so failing it for a timeout is definite.
    fn is_read(op: &Self::Op) -> bool;
}

/// What travels through the total order: a command, tagged so that the node that submitted it
/// recognises it when it is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command<Op> {
    pub op: Op,
    /// The submitting node's incarnation ([`Ctx::incarnation`]).
    pub inc: u64,
    /// A counter of that incarnation.
    pub seq: u64,
}

/// A client request waiting for its command to be applied here.
#[derive(Debug)]
struct Waiting {
    request: Message,
    seq: u64,
    is_read: bool,
    timer: TimerId,
}

/// One node's copy of a replicated state machine, and the requests it has yet to answer.
#[derive(Debug)]
pub struct Replica<M: StateMachine> {
    config: TobKvConfig,
    order: TotalOrder<Command<M::Op>>,
    machine: M,
    /// Requests by the position of their command in this node's log.
    waiting: BTreeMap<u64, Waiting>,
    /// Timeout timers, to the position they guard.
    deadlines: BTreeMap<TimerId, u64>,
    next_seq: u64,
    applied: u64,
}

impl<M: StateMachine> Replica<M> {
    /// A replica with the given settings.
    pub fn new(config: TobKvConfig) -> Self {
        Replica {
            config,
            order: TotalOrder::new(config.order),
            machine: M::default(),
            waiting: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            next_seq: 0,
            applied: 0,
        }
    }

    /// This node's copy of the state machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The copy, to answer a request from it at once (a read that skips the order).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// How many commands this node has applied (in this incarnation).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// False while the node recovers after a (re)start and answers clients with error 11.
    pub fn serving(&self) -> bool {
        self.order.is_ready()
    }

    /// True when everything applied before a restart is applied again, so the local copy
    /// may be read.
    pub fn readable(&self) -> bool {
        self.order.is_readable()
    }

    /// Start the total order (from `on_init`).
    pub fn start(&mut self, ctx: &mut Ctx) {
        self.order.start(ctx);
        self.settle(ctx);
    }

    /// Submit `request`'s command; it is answered when this node applies it, or at its
    /// timeout.
    pub fn submit(&mut self, ctx: &mut Ctx, request: Message, op: M::Op) {
        let is_read = M::is_read(&op);
        let seq = self.next_seq;
        let command = Command {
            op,
            inc: ctx.incarnation(),
            seq,
        };
        match self.order.submit(ctx, command) {
            None => ctx.reply_error(
                &request,
                ErrorCode::TemporarilyUnavailable,
                "recovering after a start: not serving yet",
            ),
            Some(pos) => {
                self.next_seq += 1;
                let timer = ctx.set_timer(self.config.timeout);
                self.deadlines.insert(timer, pos);
                self.waiting.insert(
                    pos,
                    Waiting {
                        request,
                        seq,
                        is_read,
                        timer,
                    },
                );
            }
        }
        self.settle(ctx);
    }

    /// Handle `msg` if it is the total order's. Returns false for other messages.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        if !self.order.receive(ctx, msg) {
            return false;
        }
        self.settle(ctx);
        true
    }

    /// Handle a timer: a request's timeout, or the total order's.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if let Some(pos) = self.deadlines.remove(&timer) {
            self.time_out(ctx, pos);
            return;
        }
        self.order.on_timer(ctx, timer);
        self.settle(ctx);
    }

    /// Apply what the total order delivered, in order, and answer the requests among it.
    fn settle(&mut self, ctx: &mut Ctx) {
        // Stability is not an answer here: a command is answered when it is applied.
        self.order.take_stable();
        for delivery in self.order.take_delivered() {
            let answer = self.machine.apply(&delivery.payload.op);
            self.applied += 1;
            let mine = delivery.origin == ctx.id()
                && delivery.payload.inc == ctx.incarnation()
                && self
                    .waiting
                    .get(&delivery.pos)
                    .is_some_and(|w| w.seq == delivery.payload.seq);
            if mine && let Some(waiting) = self.waiting.remove(&delivery.pos) {
                self.deadlines.remove(&waiting.timer);
                ctx.cancel_timer(waiting.timer);
                ctx.reply(&waiting.request, &answer);
            }
        }
    }

    fn time_out(&mut self, ctx: &mut Ctx, pos: u64) {
        let Some(waiting) = self.waiting.remove(&pos) else {
            return;
        };
        let ms = self.config.timeout.as_millis();
        let answer = if waiting.is_read {
            Payload::error(
                ErrorCode::TemporarilyUnavailable,
                format!("not ordered within {ms} ms (the total order is stalled)"),
            )
        } else {
            Payload::error(
                ErrorCode::Timeout,
                format!(
                    "not applied within {ms} ms (the total order is stalled); it may still take effect"
                ),
            )
        };
        ctx.reply(&waiting.request, &answer);
    }
}

//! Forwarding a client's request to the one node that holds the data, and back: the plumbing
//! `lin-kv-leader` and `txn-single` share (the course's primary-backup shape, without the
//! backups).
//!
//! **At a follower** ([`Forwarder`]): the request goes to the holder over RPC, tagged with the
//! follower's incarnation; the holder's answer is relayed to the client. An answer naming
//! another incarnation belongs to a forward of this node's previous start (its msg_ids start
//! again from 0 after a restart) and is not taken for the answer to the current one. No answer
//! within the timeout: a request that only reads is answered error 11 (it certainly did not
//! change anything; temporarily unavailable), any other error 0 (it may still happen at the
//! holder).
//!
//! **At the holder** ([`ForwardAnswers`]): a forward the network delivers twice must run once,
//! so the holder remembers the answers to the last forwards by their origin, its incarnation
//! and the forward's msg_id, and answers a copy with the same answer (or not at all while the
//! first is still running: its answer will come).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use proto::{ErrorCode, Message, Payload};
use serde::Serialize;

use crate::ctx::Ctx;

/// How many answers to forwards a holder remembers.
pub const ANSWERS_KEPT: usize = 65_536;

/// How long a follower waits for the holder's answer to a forward.
pub const FORWARD_TIMEOUT: Duration = Duration::from_millis(2000);

/// A forward's identity: origin, its incarnation, the forward's msg_id.
pub type ForwardKey = (String, u64, u64);

/// A client request forwarded to the holder, waiting for its answer.
#[derive(Debug)]
struct Forwarded {
    request: Message,
    is_read: bool,
}

/// A follower's forwarded requests, by the msg_id of their forward.
#[derive(Debug, Default)]
pub struct Forwarder {
    pending: BTreeMap<u64, Forwarded>,
}

impl Forwarder {
    /// Send `forward` (the node's own message carrying the client's `request`) to `holder`.
    /// `is_read`: the request changes nothing.
    pub fn forward<T: Serialize>(
        &mut self,
        ctx: &mut Ctx,
        holder: &str,
        forward: &T,
        request: Message,
        is_read: bool,
    ) {
        let id = ctx.rpc(holder, forward, FORWARD_TIMEOUT);
        self.pending.insert(id, Forwarded { request, is_read });
    }

    /// The holder's reply `msg` to the forward `reply_to` (or the runtime's timeout error):
    /// `answer` is the holder's `(incarnation, answer)` when `msg` is its answer message.
    /// Relays the answer to the client; a timeout becomes error 11 or 0 as the module says,
    /// `holder` naming the holder in its text ("the leader") and `what` the request ("the
    /// operation"). Returns false when `reply_to` is no forward of this node's.
    pub fn on_reply(
        &mut self,
        ctx: &mut Ctx,
        msg: &Message,
        reply_to: u64,
        answer: Option<(u64, Payload)>,
        holder: &str,
        what: &str,
    ) -> bool {
        let Some(forwarded) = self.pending.remove(&reply_to) else {
            return false;
        };
        let answer = match answer {
            Some((incarnation, _)) if incarnation != ctx.incarnation() => {
                // An answer to a forward of this node's previous incarnation.
                self.pending.insert(reply_to, forwarded);
                return true;
            }
            Some((_, answer)) => answer,
            None => match msg.body.error_code() {
                Some(ErrorCode::Timeout) if forwarded.is_read => Payload::error(
                    ErrorCode::TemporarilyUnavailable,
                    format!("{holder} did not answer in time"),
                ),
                Some(ErrorCode::Timeout) => Payload::error(
                    ErrorCode::Timeout,
                    format!("{holder} did not answer in time; {what} may still happen"),
                ),
                _ => msg.body.payload.clone(),
            },
        };
        ctx.reply(&forwarded.request, &answer);
        true
    }
}

/// What the holder knows of a forward it was sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Never: run it (after [`ForwardAnswers::begin`]).
    New,
    /// Still running: its answer will come.
    Running,
    /// Answered: answer the copy the same.
    Answered(Payload),
}

/// The holder's answers to the last [`ANSWERS_KEPT`] forwards, oldest first out.
#[derive(Debug, Default)]
pub struct ForwardAnswers {
    answers: BTreeMap<ForwardKey, Option<Payload>>,
    order: VecDeque<ForwardKey>,
}

impl ForwardAnswers {
    /// The identity of the forward `msg` from a sender in its `incarnation`.
    pub fn key(msg: &Message, incarnation: u64) -> ForwardKey {
        (
            msg.src.clone(),
            incarnation,
            msg.body.msg_id.unwrap_or_default(),
        )
    }

    /// What is known of forward `key`.
    pub fn seen(&self, key: &ForwardKey) -> Seen {
        match self.answers.get(key) {
            None => Seen::New,
            Some(None) => Seen::Running,
            Some(Some(answer)) => Seen::Answered(answer.clone()),
        }
    }

    /// Forward `key` starts running; the oldest remembered is forgotten past [`ANSWERS_KEPT`].
    pub fn begin(&mut self, key: ForwardKey) {
        self.answers.insert(key.clone(), None);
        self.order.push_back(key);
        if self.order.len() > ANSWERS_KEPT
            && let Some(oldest) = self.order.pop_front()
        {
            self.answers.remove(&oldest);
        }
    }

    /// Forward `key` was answered `answer`.
    pub fn answered(&mut self, key: &ForwardKey, answer: Payload) {
        if let Some(slot) = self.answers.get_mut(key) {
            *slot = Some(answer);
        }
    }
}

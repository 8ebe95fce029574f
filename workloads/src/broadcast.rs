//! `broadcast`: the course's broadcast protocols (4.2 "Broadcast ordering", 4.3 "Broadcast
//! algorithms"): a value given to one node (its *origin*) must be delivered by every node.
//!
//! Op mix (Maelstrom's): half `broadcast`, half `read`, drawn independently for each op. The
//! broadcast values are the integers [`FIRST_VALUE`], [`FIRST_VALUE`] + 1, ... in invocation
//! order, so each is unique and a checker can tell them apart. (Maelstrom counts from 0; from a
//! million, a value is also told apart from the sequence numbers, counters and message ids a
//! node's own messages carry, so the harness can count how often each value crossed a link:
//! [`checker::stats::Copies`].) Requests `broadcast {message}` -> `broadcast_ok` (the `ok`
//! value is the message) and `read` -> `read_ok {messages}` (the `ok` value is the list, in
//! the order the node delivered them). Every node gets `topology` first, and one final `read`
//! after the recovery wait.
//!
//! A `read` changes nothing, so it is idempotent (`fail` on a timeout or an indefinite error);
//! a `broadcast` whose reply was lost may still spread, so it is `info`. A `read_ok` without a
//! `messages` list is a malformed reply.

use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::broadcast::SetOps;
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The first broadcast value.
pub const FIRST_VALUE: u64 = checker::stats::FIRST_BROADCAST_VALUE;

/// The broadcast workload: the next value to broadcast.
#[derive(Debug, Clone)]
pub struct Broadcast {
    next_value: u64,
}

impl Default for Broadcast {
    fn default() -> Self {
        Broadcast::new()
    }
}

impl Broadcast {
    /// A generator whose first broadcast value is [`FIRST_VALUE`].
    pub fn new() -> Self {
        Broadcast {
            next_value: FIRST_VALUE,
        }
    }
}

fn is_read(op: &Op) -> bool {
    op.f == "read"
}

impl Spec for Broadcast {
    const NAME: &'static str = "broadcast";
    const ABOUT: &'static str =
        "broadcast {message}, read -> read_ok {messages}: every value reaches every node";
    const SEMANTICS: &'static str = "set-full with Jepsen's definitions (stable, lost, never read, stale, latencies in ms); \
         a value twice in one read, or read before any broadcast of it, is invalid";
    const CHECK: Check = Check::SetFull(SetOps::BROADCAST);

    fn start(_options: &WorkloadOptions) -> Self {
        Broadcast::new()
    }

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "broadcast")
    }
}

impl Workload for Broadcast {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Broadcast
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        if rng.random_bool(0.5) {
            let value = self.next_value;
            self.next_value += 1;
            Op::new("broadcast", Value::from(value))
        } else {
            Op::new("read", Value::Null)
        }
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        match op.f.as_str() {
            "broadcast" => Ok(Payload::Broadcast {
                message: op.value.clone(),
            }),
            "read" => Ok(Payload::Read { key: None }),
            _ => Err(OpError::new("broadcast", op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, is_read(op), reply, |reply| {
            match (op.f.as_str(), &reply.payload) {
                ("broadcast", Payload::BroadcastOk) => Ok(op.value.clone()),
                (
                    "read",
                    Payload::ReadOk {
                        messages: Some(messages),
                        ..
                    },
                ) => Ok(Value::Array(messages.clone())),
                ("read", Payload::ReadOk { messages: None, .. }) => Err(format!(
                    "read_ok has no \"messages\" list: {}",
                    reply.to_value()
                )),
                ("read", _) => Err(unexpected(reply, "read_ok")),
                _ => Err(unexpected(reply, "broadcast_ok")),
            }
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, is_read(op), ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        Some(Op::new("read", Value::Null))
    }

    fn sends_topology(&self) -> bool {
        true
    }
}

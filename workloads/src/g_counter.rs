//! `g-counter`: a grow-only counter, the course's first CRDT (8.1, state-based CRDTs; 7.3
//! "Eventual consistency"): every node accepts increments, and after the faults heal every
//! node's read must be a sum of increments that may have happened.
//!
//! Op mix (Maelstrom's): Maelstrom draws from a 50/50 mix of `add` with a delta uniform in
//! `-5..=4` and `read`, and drops the negative adds; the result is one third `add` with a delta
//! uniform in `0..=4` and two thirds `read`, which is what this generator draws directly.
//! Requests `add {delta}` -> `add_ok` (the `ok` value is the delta) and `read` -> `read_ok
//! {value}` (the `ok` value is the count, an integer). One final `read` per node.
//!
//! A `read` is idempotent (`fail` on a timeout or an indefinite error); an `add` whose reply
//! was lost may still count, so it is `info`, with the delta as its value so the checker can
//! add it or not. A `read_ok` whose `value` is missing or not an integer is a malformed reply.

use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The g-counter workload; it has no state.
#[derive(Debug, Clone, Default)]
pub struct GCounter;

pub(crate) fn is_read(op: &Op) -> bool {
    op.f == "read"
}

/// The request of a counter's op (`workload` names the workload in the error for an op that
/// is not one): `add {delta}` or `read`.
pub(crate) fn request(workload: &'static str, op: &Op) -> Result<Payload, OpError> {
    match (op.f.as_str(), op.value.as_i64()) {
        ("add", Some(delta)) => Ok(Payload::Add { delta }),
        ("read", _) => Ok(Payload::Read { key: None }),
        _ => Err(OpError::new(workload, op)),
    }
}

/// The completion of a counter's op: `add_ok`, or `read_ok` with an integer `value`.
pub(crate) fn complete(op: &Op, reply: &Body) -> Completion {
    complete_with(op, is_read(op), reply, |reply| {
        match (op.f.as_str(), &reply.payload) {
            ("add", Payload::AddOk) => Ok(op.value.clone()),
            ("read", Payload::ReadOk { value: Some(v), .. }) if v.is_i64() => Ok(v.clone()),
            ("read", Payload::ReadOk { value: Some(v), .. }) => {
                Err(format!("read_ok's \"value\" must be an integer, got {v}"))
            }
            ("read", Payload::ReadOk { value: None, .. }) => {
                Err(format!("read_ok has no \"value\": {}", reply.to_value()))
            }
            ("read", _) => Err(unexpected(reply, "read_ok")),
            _ => Err(unexpected(reply, "add_ok")),
        }
    })
}

impl Spec for GCounter {
    const NAME: &'static str = "g-counter";
    const ABOUT: &'static str =
        "add {delta >= 0}, read -> read_ok {value}: the final reads count every add";
    const SEMANTICS: &'static str = "every final read is the sum of the ok adds plus any subset of the indefinite ones (failed adds did not happen)";
    const CHECK: Check = Check::Counter { name: Self::NAME };

    fn start(_options: &WorkloadOptions) -> Self {
        GCounter
    }

    /// Adds of integers, none negative, and no read that returned a list (a g-set's).
    fn shows(events: &[Event]) -> bool {
        let mut adds = false;
        for e in client_events(events) {
            match e.f.as_str() {
                "add" if e.value.as_i64().is_some_and(|d| d >= 0) => adds = true,
                "add" => return false,
                "read" if e.value.is_array() => return false,
                _ => {}
            }
        }
        adds
    }
}

impl Workload for GCounter {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::GCounter
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        if rng.random_range(0..3u32) == 0 {
            Op::new("add", Value::from(rng.random_range(0..=4i64)))
        } else {
            Op::new("read", Value::Null)
        }
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        request(Self::NAME, op)
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete(op, reply)
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, is_read(op), ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        Some(Op::new("read", Value::Null))
    }

    fn sends_topology(&self) -> bool {
        false
    }
}

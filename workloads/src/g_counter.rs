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

fn is_read(op: &Op) -> bool {
    op.f == "read"
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

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "add")
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
        match (op.f.as_str(), op.value.as_i64()) {
            ("add", Some(delta)) => Ok(Payload::Add { delta }),
            ("read", _) => Ok(Payload::Read { key: None }),
            _ => Err(OpError::new("g-counter", op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
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

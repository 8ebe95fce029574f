//! `g-set`: a grow-only set, the course's state-based CRDT (8.1): every node accepts adds and
//! answers reads from its own replica; replicas merge by union, so once the faults heal every
//! node's set holds every element that was added.
//!
//! Requests and replies ([`Request`], [`Reply`], Maelstrom's schema): `add {element}` ->
//! `add_ok`; `read` -> `read_ok {value}`, `value` the list of elements in any order (Maelstrom's
//! prose says "elements", its schema and its checker `value`). The history records an `add`
//! with the element as its value, and an ok `read` with the list.
//!
//! Op mix (Maelstrom's): half `add`, half `read`, drawn independently for each op; the elements
//! are the integers 0, 1, 2, ... in invocation order, so each is unique. One final `read` per
//! node after the recovery wait. No `topology` message.
//!
//! Checked by set-full exactly as broadcast is ([`checker::set_full`]: lost, stale, never read,
//! latencies; duplicates and unexpected elements are invalid), with `add` in place of
//! `broadcast`; results.json names the add latency `add_latencies`. A `read` changes nothing,
//! so it is idempotent (`fail` on a timeout or an indefinite error); an `add` whose reply was
//! lost may still have happened, so it is `info`. A `read_ok` whose `value` is not a list is a
//! malformed reply.

use checker::broadcast::SetOps;
use checker::{Check, Event};
use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// A client's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Add one element to the set.
    Add { element: Value },
    /// The whole set, as this node knows it.
    Read {},
}

/// A node's reply (or an `error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The element is in the set.
    AddOk {},
    /// The elements, in any order.
    ReadOk { value: Vec<Value> },
}

/// The g-set workload's names for set-full: `add {element}` -> `add_ok`.
pub const OPS: SetOps = SetOps {
    add: "add",
    field: "element",
    add_ok: "add_ok",
    past: "added",
    item: "element",
    delivery_order: false,
};

/// The g-set workload: the next element to add.
#[derive(Debug, Clone, Default)]
pub struct GSet {
    next_element: u64,
}

fn is_read(op: &Op) -> bool {
    op.f == "read"
}

impl Spec for GSet {
    const NAME: &'static str = "g-set";
    const ABOUT: &'static str =
        "add {element}, read -> read_ok {value}: every element added reaches every node";
    const SEMANTICS: &'static str = "set-full with Jepsen's definitions, as for broadcast (stable, lost, never read, stale, latencies in ms); \
         an element twice in one read, or read before any add of it, is invalid";
    const CHECK: Check = Check::SetFull(OPS);

    fn start(_options: &WorkloadOptions) -> Self {
        GSet::default()
    }

    /// Adds, and reads that return lists (a counter's return numbers), or adds of anything
    /// but an integer.
    fn shows(events: &[Event]) -> bool {
        let (mut adds, mut lists) = (false, false);
        for e in client_events(events) {
            match e.f.as_str() {
                "add" if !e.value.is_i64() => return true,
                "add" => adds = true,
                "read" if e.value.is_array() => lists = true,
                _ => {}
            }
            if adds && lists {
                return true;
            }
        }
        false
    }
}

impl Workload for GSet {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::GSet
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        if rng.random_bool(0.5) {
            let element = self.next_element;
            self.next_element += 1;
            Op::new("add", Value::from(element))
        } else {
            Op::new("read", Value::Null)
        }
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        let request = match op.f.as_str() {
            "add" => Request::Add {
                element: op.value.clone(),
            },
            "read" => Request::Read {},
            _ => return Err(OpError::new(Self::NAME, op)),
        };
        Payload::custom(&request).map_err(|_| OpError::new(Self::NAME, op))
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, is_read(op), reply, |reply| {
            let parsed = reply.parse_custom::<Reply>();
            match (op.f.as_str(), parsed) {
                ("add", Ok(Reply::AddOk {})) => Ok(op.value.clone()),
                ("read", Ok(Reply::ReadOk { value })) => Ok(Value::Array(value)),
                ("read", _) if reply.kind() == "read_ok" => Err(format!(
                    "read_ok's \"value\" must be the list of elements: {}",
                    reply.to_value()
                )),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_and_replies_have_maelstroms_fields() {
        let add = GSet::default().request(&Op::new("add", json!(4))).unwrap();
        let body = Body::new(add).to_value();
        assert_eq!(body, json!({"type": "add", "element": 4}));
        let read = GSet::default()
            .request(&Op::new("read", Value::Null))
            .unwrap();
        assert_eq!(Body::new(read).to_value(), json!({"type": "read"}));
        let reply: Body =
            serde_json::from_value(json!({"type": "read_ok", "value": [2, 1], "in_reply_to": 3}))
                .unwrap();
        let c = GSet::default().complete(&Op::new("read", Value::Null), &reply);
        assert_eq!(c, Completion::ok(json!([2, 1])));
    }
}

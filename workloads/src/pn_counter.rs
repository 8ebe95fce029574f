//! `pn-counter`: a counter that goes up and down, the course's state-based CRDT built from two
//! grow-only counters (8.1): every node accepts increments and decrements, and after the faults
//! heal every node's read must be a total the adds could have made.
//!
//! Requests and replies are g-counter's ([`crate::g_counter`]), with deltas of either sign:
//! `add {delta}` -> `add_ok` (the `ok` value is the delta) and `read` -> `read_ok {value}` (the
//! `ok` value is the count, an integer).
//!
//! Op mix (Maelstrom's): half `add`, with a delta uniform in `-5..=4`, half `read`. One final
//! `read` per node after the recovery wait. No `topology` message.
//!
//! Checked as Maelstrom's pn-counter checker does ([`checker::counter`]): every final read must
//! be the sum of the ok adds plus the deltas of any subset of the indefinite ones (`info`, or
//! never completed); failed adds did not happen. A `read` is idempotent (`fail` on a timeout or
//! an indefinite error); an `add` whose reply was lost may still count, so it is `info`.

use checker::{Check, Event};
use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::g_counter::{complete, is_read, request};
use crate::op::{Completion, ErrorInfo, Op, OpError};
use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The pn-counter workload; it has no state.
#[derive(Debug, Clone, Default)]
pub struct PnCounter;

impl Spec for PnCounter {
    const NAME: &'static str = "pn-counter";
    const ABOUT: &'static str =
        "add {delta}, negative too, read -> read_ok {value}: the final reads count every add";
    const SEMANTICS: &'static str = "every final read is the sum of the ok adds plus any subset of the indefinite ones, of either sign (failed adds did not happen)";
    const CHECK: Check = Check::Counter { name: Self::NAME };

    fn start(_options: &WorkloadOptions) -> Self {
        PnCounter
    }

    /// Adds of integers, some negative, and no read that returned a list (a g-set's).
    fn shows(events: &[Event]) -> bool {
        let mut negative = false;
        for e in client_events(events) {
            match e.f.as_str() {
                "add" if e.value.as_i64().is_some_and(|d| d < 0) => negative = true,
                "add" if !e.value.is_i64() => return false,
                "read" if e.value.is_array() => return false,
                _ => {}
            }
        }
        negative
    }
}

impl Workload for PnCounter {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::PnCounter
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        if rng.random_bool(0.5) {
            Op::new("add", Value::from(rng.random_range(-5..=4i64)))
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

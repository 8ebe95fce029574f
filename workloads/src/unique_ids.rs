//! `unique-ids`: globally unique identifiers minted without coordination, whatever the faults
//! (the course's system models, 2.3: a node may crash and restart, the network may cut it
//! off, and every id must still be unique).
//!
//! Op mix (Maelstrom's): every op is `generate` (invoke value `null`); request `generate`,
//! reply `generate_ok {id}` where the id may be any JSON value; the `ok` value is the id.
//!
//! A `generate` may have minted an id even if the reply was lost, so it is not idempotent: a
//! timeout or an indefinite error is `info` (harmless to the uniqueness check, which looks
//! only at ids that came back).

use proto::{Body, Payload};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The unique-ids workload; it has no state.
#[derive(Debug, Clone, Default)]
pub struct UniqueIds;

impl Spec for UniqueIds {
    const NAME: &'static str = "unique-ids";
    const ABOUT: &'static str = "generate -> generate_ok {id}: no id twice";
    const SEMANTICS: &'static str =
        "no id is returned by two ok generates; unknown when none completed";
    const CHECK: Check = Check::UniqueIds;

    fn start(_options: &WorkloadOptions) -> Self {
        UniqueIds
    }

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "generate")
    }
}

impl Workload for UniqueIds {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::UniqueIds
    }

    fn next_op(&mut self, _rng: &mut ChaCha8Rng) -> Op {
        Op::new("generate", Value::Null)
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        match op.f.as_str() {
            "generate" => Ok(Payload::Generate),
            _ => Err(OpError::new("unique-ids", op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, false, reply, |reply| match &reply.payload {
            Payload::GenerateOk { id } => Ok(id.clone()),
            _ => Err(unexpected(reply, "generate_ok")),
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, false, ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        None
    }

    fn sends_topology(&self) -> bool {
        false
    }
}

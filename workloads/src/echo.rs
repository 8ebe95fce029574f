//! `echo`: the hello-world of the course's RPC lesson (1.3 "RPC"): a request and the reply
//! that answers it.
//!
//! Op mix (Maelstrom's): every op is `echo` with the value `"Please echo N"`, `N` uniform in
//! `0..128`. Request `echo {echo}`, reply `echo_ok {echo}`.
//!
//! Echo changes nothing on the node, so it is idempotent: a timeout or an indefinite error is a
//! `fail` (Maelstrom records `info`, which says the same thing less precisely). An `echo_ok`
//! whose `echo` differs from the request's is a malformed reply: `fail`, named, with both
//! values in the text.

use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The echo workload; it has no state.
#[derive(Debug, Clone, Default)]
pub struct Echo;

impl Spec for Echo {
    const NAME: &'static str = "echo";
    const ABOUT: &'static str = "echo {echo} -> echo_ok {echo}: the reply says what was sent";
    const SEMANTICS: &'static str =
        "every ok echo returns what was sent; unknown when none completed";
    const CHECK: Check = Check::Echo;

    fn start(_options: &WorkloadOptions) -> Self {
        Echo
    }

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "echo")
    }
}

impl Workload for Echo {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Echo
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        let n = rng.random_range(0..128u32);
        Op::new("echo", Value::String(format!("Please echo {n}")))
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        match op.f.as_str() {
            "echo" => Ok(Payload::Echo {
                echo: op.value.clone(),
            }),
            _ => Err(OpError::new("echo", op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, true, reply, |reply| match &reply.payload {
            Payload::EchoOk { echo } if *echo == op.value => Ok(echo.clone()),
            Payload::EchoOk { echo } => Err(format!(
                "echo_ok echoed {echo}, but the request's echo was {}",
                op.value
            )),
            _ => Err(unexpected(reply, "echo_ok")),
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, true, ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        None
    }

    fn sends_topology(&self) -> bool {
        false
    }
}

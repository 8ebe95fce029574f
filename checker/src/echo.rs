//! echo: every reply carries what was sent (the course's hello world of request and reply).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// An echo whose reply differs from its request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    /// `index` of the invocation and of the ok completion.
    pub invoke_index: u64,
    pub complete_index: u64,
    pub node: Option<String>,
    pub sent: Value,
    pub received: Value,
}

/// The result of the echo check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EchoResult {
    /// False on any mismatch; unknown when no echo completed.
    pub valid: Validity,
    pub attempt_count: usize,
    pub ok_count: usize,
    pub mismatch_count: usize,
    /// The first 20 mismatches.
    pub mismatches: Vec<Mismatch>,
}

/// Check the `echo` ops of a history.
pub fn check_echo(events: &[Event]) -> Result<EchoResult, HistoryError> {
    let ops = client_ops(events)?;
    let mut attempt_count = 0;
    let mut ok_count = 0;
    let mut mismatch_count = 0;
    let mut mismatches = Vec::new();
    for op in ops.iter().filter(|o| o.f() == "echo") {
        attempt_count += 1;
        if op.outcome() != Outcome::Ok {
            continue;
        }
        ok_count += 1;
        if op.value() != &op.invoke.value {
            mismatch_count += 1;
            if mismatches.len() < 20 {
                mismatches.push(Mismatch {
                    invoke_index: op.invoke.index,
                    complete_index: op.completion.map_or(op.invoke.index, |c| c.index),
                    node: op.node().map(str::to_owned),
                    sent: op.invoke.value.clone(),
                    received: op.value().clone(),
                });
            }
        }
    }
    Ok(EchoResult {
        valid: if mismatch_count > 0 {
            Validity::Invalid
        } else if ok_count == 0 {
            Validity::Unknown
        } else {
            Validity::Valid
        },
        attempt_count,
        ok_count,
        mismatch_count,
        mismatches,
    })
}

impl fmt::Display for EchoResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "echo: {}: {} attempted, {} ok, {} mismatched",
            self.valid, self.attempt_count, self.ok_count, self.mismatch_count
        )?;
        for m in &self.mismatches {
            writeln!(
                f,
                "  events {}..{} at {}: sent {}, received {}",
                m.invoke_index,
                m.complete_index,
                m.node.as_deref().unwrap_or("?"),
                m.sent,
                m.received
            )?;
        }
        Ok(())
    }
}

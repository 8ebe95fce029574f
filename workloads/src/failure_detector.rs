//! `failure-detector`: the course's failure detectors (2.3 "System models": a detector suspects
//! crashed nodes from heartbeats and timeouts; in partial synchrony the best one is eventually
//! perfect, ◇P): the clients ask every node, at the run's rate, whom it suspects, and the
//! checker sets those answers against the run's kills, pauses and partitions
//! ([`checker::failure_detector`]: detection times, missed detections, false suspicions, and
//! suspicions left once every fault has healed).
//!
//! Op mix: every op is `suspect` (invoke value `null`); request `suspect`, reply `suspect_ok
//! {suspects: [node ids]}`; the `ok` value is that list. One final `suspect` per node after the
//! recovery wait. Clients are spread over the nodes (`--concurrency 1n`: one per node), so with
//! `--rate R` and n nodes each node is read about R / n times a second: that is the precision
//! of the detection times.
//!
//! A `suspect` changes nothing, so it is idempotent: a timeout or an indefinite error is
//! `fail`. A `suspect_ok` whose `suspects` is missing or not a list of strings is a malformed
//! reply.

use proto::{Body, Payload};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The failure-detector workload; it has no state.
#[derive(Debug, Clone, Default)]
pub struct FailureDetector;

impl Spec for FailureDetector {
    const NAME: &'static str = "failure-detector";
    const ABOUT: &'static str =
        "suspect -> suspect_ok {suspects}: crashed nodes suspected in time, suspicions end";
    const SEMANTICS: &'static str = "every observer's reads name a killed node from 5 s after the kill (--detection-bound-ms) until its restart (completeness); no final read names a node that is up (eventual accuracy); detection times and false suspicions are measured, not judged";
    const CHECK: Check = Check::FailureDetector;

    fn start(_options: &WorkloadOptions) -> Self {
        FailureDetector
    }

    fn shows(events: &[Event]) -> bool {
        client_events(events).any(|e| e.f == "suspect")
    }
}

impl Workload for FailureDetector {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::FailureDetector
    }

    fn next_op(&mut self, _rng: &mut ChaCha8Rng) -> Op {
        Op::new("suspect", Value::Null)
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        match op.f.as_str() {
            "suspect" => Payload::custom(&serde_json::json!({"type": "suspect"}))
                .map_err(|_| OpError::new(Self::NAME, op)),
            _ => Err(OpError::new(Self::NAME, op)),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, true, reply, |reply| {
            if reply.kind() != "suspect_ok" {
                return Err(unexpected(reply, "suspect_ok"));
            }
            let body = reply.to_value();
            match body.get("suspects") {
                Some(Value::Array(list)) if list.iter().all(Value::is_string) => {
                    Ok(Value::Array(list.clone()))
                }
                Some(other) => Err(format!(
                    "suspect_ok's \"suspects\" must be a list of node ids, got {other}"
                )),
                None => Err(format!("suspect_ok has no \"suspects\": {body}")),
            }
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, true, ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        Some(Op::new("suspect", Value::Null))
    }

    fn sends_topology(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::op::Outcome;

    fn reply(body: Value) -> Body {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn suspect_reads_complete_with_the_list_and_malformed_replies_fail() {
        let w = FailureDetector;
        let op = Op::new("suspect", Value::Null);
        let request = w.request(&op).unwrap();
        assert_eq!(request.kind(), "suspect");
        let ok = w.complete(
            &op,
            &reply(json!({"type": "suspect_ok", "in_reply_to": 1, "suspects": ["n2"]})),
        );
        assert_eq!((ok.outcome, ok.value), (Outcome::Ok, json!(["n2"])));
        for bad in [
            json!({"type": "suspect_ok", "in_reply_to": 1, "suspects": [2]}),
            json!({"type": "suspect_ok", "in_reply_to": 1}),
            json!({"type": "read_ok", "in_reply_to": 1, "value": 1}),
        ] {
            let c = w.complete(&op, &reply(bad.clone()));
            assert_eq!(c.outcome, Outcome::Fail, "{bad}");
            assert!(c.is_malformed_reply(), "{bad}");
        }
        assert_eq!(
            w.timeout(&op).outcome,
            Outcome::Fail,
            "a read is idempotent"
        );
        assert!(w.request(&Op::new("read", Value::Null)).is_err());
    }

    #[test]
    fn the_semantics_name_the_checker_s_detection_bound() {
        let bound = checker::failure_detector::DETECTION_BOUND / 1_000_000_000;
        assert!(
            FailureDetector::SEMANTICS.contains(&format!("from {bound} s after the kill")),
            "{}",
            FailureDetector::SEMANTICS
        );
    }
}

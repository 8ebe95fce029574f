//! Operations: an invocation paired with its completion.
//!
//! A history records each client operation as two events, so that concurrency is visible: an
//! op is *concurrent* with another when neither completed before the other was invoked (the
//! real-time order of the course's linearizability lecture). This module pairs the events of
//! one process, in order, and classifies each op by its outcome.

use serde_json::Value;

use crate::history::{Event, EventType, HistoryError, Process};

/// Maelstrom's error code 20, key-does-not-exist.
pub const KEY_DOES_NOT_EXIST: u32 = 20;

/// What became of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// It happened; the completion's value is the result.
    Ok,
    /// It certainly did not happen.
    Fail,
    /// It may or may not have happened: an `info` completion, or none at all.
    Info,
}

impl Outcome {
    /// `"ok"`, `"fail"` or `"info"`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        }
    }
}

/// One client operation: its invocation and, if the history has one, its completion.
/// `invoke_pos` and `complete_pos` are positions in the event slice the op came from, which
/// is the real-time order.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    pub invoke: &'a Event,
    pub invoke_pos: usize,
    pub completion: Option<&'a Event>,
    pub complete_pos: Option<usize>,
}

impl<'a> Op<'a> {
    /// Ok, fail, or info (also when the op never completed).
    pub fn outcome(&self) -> Outcome {
        match self.completion.map(|c| c.kind) {
            Some(EventType::Ok) => Outcome::Ok,
            Some(EventType::Fail) => Outcome::Fail,
            _ => Outcome::Info,
        }
    }

    /// The process that performed the op.
    pub fn process(&self) -> &'a Process {
        &self.invoke.process
    }

    /// The node the op was sent to (a broadcast's origin), if recorded.
    pub fn node(&self) -> Option<&'a str> {
        self.invoke.node.as_deref()
    }

    /// The op's function, `read`, `write`, `broadcast`, ...
    pub fn f(&self) -> &'a str {
        &self.invoke.f
    }

    /// The completion's value when the op is ok, else the invocation's.
    pub fn value(&self) -> &'a Value {
        match self.completion {
            Some(c) if c.kind == EventType::Ok => &c.value,
            _ => &self.invoke.value,
        }
    }

    /// True for a read that failed with error 20 (key-does-not-exist): a definite answer,
    /// which observed the key absent exactly as a read of `null` does.
    pub fn observed_absent(&self) -> bool {
        matches!(self.f(), "read" | "get")
            && self.outcome() == Outcome::Fail
            && self
                .completion
                .and_then(|c| c.error.as_ref())
                .is_some_and(|e| e.code == KEY_DOES_NOT_EXIST)
    }

    /// True when the completion is marked as a final read.
    pub fn is_final(&self) -> bool {
        self.invoke.is_final || self.completion.is_some_and(|c| c.is_final)
    }
}

/// Pair every client invocation with the next event of the same process, its completion.
/// Nemesis events are skipped. Ops come out in invocation order. An invocation still open at
/// the end of the history is an op without completion (indefinite).
///
/// Errors: a completion with no open invocation, an invocation while the process already has
/// an open one, a completion whose `f` differs from its invocation's.
pub fn client_ops(events: &[Event]) -> Result<Vec<Op<'_>>, HistoryError> {
    let mut ops: Vec<Op<'_>> = Vec::new();
    let mut open: rustc_hash::FxHashMap<u64, usize> = rustc_hash::FxHashMap::default();
    for (pos, event) in events.iter().enumerate() {
        let Process::Client(p) = event.process else {
            continue;
        };
        if event.kind == EventType::Invoke {
            if let Some(&prev) = open.get(&p) {
                return Err(HistoryError::Malformed {
                    index: event.index,
                    reason: format!(
                        "process {p} invokes {} while its {} invoked at event {} has not completed",
                        event.f, ops[prev].invoke.f, ops[prev].invoke.index
                    ),
                });
            }
            open.insert(p, ops.len());
            ops.push(Op {
                invoke: event,
                invoke_pos: pos,
                completion: None,
                complete_pos: None,
            });
        } else {
            let Some(i) = open.remove(&p) else {
                return Err(HistoryError::Malformed {
                    index: event.index,
                    reason: format!(
                        "{:?} completion of {} by process {p}, which has no open invocation",
                        event.kind, event.f
                    ),
                });
            };
            if ops[i].invoke.f != event.f {
                return Err(HistoryError::Malformed {
                    index: event.index,
                    reason: format!(
                        "completion f {:?} differs from its invocation's {:?} (event {})",
                        event.f, ops[i].invoke.f, ops[i].invoke.index
                    ),
                });
            }
            ops[i].completion = Some(event);
            ops[i].complete_pos = Some(pos);
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    #[test]
    fn pairs_by_process_and_keeps_open_invocations() {
        let text = r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":null}
{"index":1,"time":2,"process":1,"node":"n1","type":"invoke","f":"write","value":3}
{"index":2,"time":3,"process":"nemesis","type":"info","f":"kill","value":["n1"]}
{"index":3,"time":4,"process":0,"node":"n0","type":"ok","f":"read","value":3}
{"index":4,"time":5,"process":2,"node":"n0","type":"invoke","f":"write","value":4}
{"index":5,"time":6,"process":2,"node":"n0","type":"fail","f":"write","value":4}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let ops = client_ops(&events).unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].outcome(), Outcome::Ok);
        assert_eq!(ops[0].value(), &serde_json::json!(3));
        assert_eq!((ops[0].invoke_pos, ops[0].complete_pos), (0, Some(3)));
        assert_eq!(ops[1].outcome(), Outcome::Info);
        assert_eq!(ops[1].complete_pos, None);
        assert_eq!(ops[2].outcome(), Outcome::Fail);
        assert_eq!(ops[2].value(), &serde_json::json!(4));
    }

    #[test]
    fn rejects_orphans_and_double_invocations() {
        let orphan = r#"{"index":7,"time":1,"process":0,"type":"ok","f":"read","value":1}"#;
        let events = parse_history("h", orphan.as_bytes()).unwrap();
        let err = client_ops(&events).unwrap_err().to_string();
        assert!(err.starts_with("event 7: "), "{err}");
        let double = "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\
                      {\"index\":1,\"time\":2,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}";
        let events = parse_history("h", double.as_bytes()).unwrap();
        assert!(
            client_ops(&events)
                .unwrap_err()
                .to_string()
                .contains("has not completed")
        );
        let mismatch = "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\
                        {\"index\":1,\"time\":2,\"process\":0,\"type\":\"ok\",\"f\":\"write\"}";
        let events = parse_history("h", mismatch.as_bytes()).unwrap();
        assert!(
            client_ops(&events)
                .unwrap_err()
                .to_string()
                .contains("differs")
        );
    }
}

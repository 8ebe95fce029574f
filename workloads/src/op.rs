//! Operations and their completions, and the rules that turn a reply into `ok`, `fail` or
//! `info`.
//!
//! This is the client side of the course's RPC and idempotence lessons (1.3 "RPC", 5.1
//! "Manipulating remote state"): a request that got no answer, or an answer that does not
//! say whether it happened, leaves the client *uncertain*. Jepsen and Maelstrom record such
//! an operation as `info`: it may or may not have taken effect, at any time after its
//! invocation. The rules, from DESIGN.md's protocol contract:
//!
//! - an `ok` reply of the expected type and shape: [`Outcome::Ok`] with the result;
//! - an `error` with a *definite* code (it certainly did not happen): [`Outcome::Fail`];
//! - an `error` with an *indefinite* code (0 timeout, 13 crash, 1000+ user codes, and codes
//!   Maelstrom does not define), or no reply within [`CLIENT_TIMEOUT`]: [`Outcome::Info`],
//!   unless the operation is *idempotent* (it changes nothing, like a read), in which case
//!   not knowing whether it happened does not matter and it is [`Outcome::Fail`];
//! - a reply that is neither the expected `ok` nor an `error` (another type, or the right type
//!   with a missing or malformed field, or an `echo_ok` that echoes something else): the
//!   client cannot tell what happened, so it is treated like an indefinite error, with the
//!   error named [`MALFORMED_REPLY`] and a text saying what was wrong. A correct node never
//!   sends one, so checkers count these against the node.
//!
//! Values of `f` and `value` follow `checker/src/history.rs` exactly.

use std::fmt;
use std::time::Duration;

use proto::{Body, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// How long a client waits for a reply before it gives up (Maelstrom's 5 s).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The error name given to a reply the harness could not make sense of.
pub const MALFORMED_REPLY: &str = "malformed-reply";

/// The error code recorded with [`MALFORMED_REPLY`]: 12, the protocol's code for a malformed
/// message. The name tells it apart from a node's own error 12 (`malformed-request`).
pub const MALFORMED_REPLY_CODE: u32 = 12;

/// What a client invokes: the history's `f` and `value` of the `invoke` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// `echo`, `generate`, `broadcast`, `read`, `add`, `write` or `cas`.
    pub f: String,
    /// The invocation's value (see `checker/src/history.rs` for each workload's shape).
    pub value: Value,
}

impl Op {
    /// An op with function `f` and `value`.
    pub fn new(f: impl Into<String>, value: Value) -> Self {
        Op { f: f.into(), value }
    }
}

/// How an op ended: the history's `type` of the completion event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened; the completion's value is the result.
    Ok,
    /// It certainly did not happen.
    Fail,
    /// It may or may not have happened.
    Info,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        })
    }
}

/// Why an op failed or is uncertain: the history's `error` (same fields and names as
/// `checker::history::ErrorInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The Maelstrom error code; 0 for a timeout.
    pub code: u32,
    /// Its name (`"timeout"`, `"key-does-not-exist"`, [`MALFORMED_REPLY`], ...).
    pub name: String,
    /// The node's text, or the harness's.
    pub text: String,
}

impl ErrorInfo {
    /// The error a node sent.
    pub fn from_code(code: ErrorCode, text: Option<&str>) -> Self {
        ErrorInfo {
            code: code.code(),
            name: code.name().to_owned(),
            text: text.unwrap_or_default().to_owned(),
        }
    }

    /// A reply the harness could not make sense of.
    pub fn malformed(text: impl Into<String>) -> Self {
        ErrorInfo {
            code: MALFORMED_REPLY_CODE,
            name: MALFORMED_REPLY.to_owned(),
            text: text.into(),
        }
    }

    /// No reply within [`CLIENT_TIMEOUT`].
    pub fn timeout() -> Self {
        ErrorInfo {
            code: ErrorCode::Timeout.code(),
            name: ErrorCode::Timeout.name().to_owned(),
            text: format!("no reply within {} s", CLIENT_TIMEOUT.as_secs()),
        }
    }
}

/// The end of an op: what the completion event records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub outcome: Outcome,
    /// For `ok`, the result; for `fail` and `info`, the invocation's value (so a checker knows
    /// which broadcast or which delta may have happened).
    pub value: Value,
    /// Why, on `fail` and `info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

impl Completion {
    /// It happened, with result `value`.
    pub fn ok(value: Value) -> Self {
        Completion {
            outcome: Outcome::Ok,
            value,
            error: None,
        }
    }

    /// It did not happen (`idempotent` ops) or may have happened (the rest), for the reason
    /// `error`: the rule for timeouts, indefinite errors and malformed replies.
    pub fn uncertain(op: &Op, idempotent: bool, error: ErrorInfo) -> Self {
        Completion {
            outcome: if idempotent {
                Outcome::Fail
            } else {
                Outcome::Info
            },
            value: op.value.clone(),
            error: Some(error),
        }
    }

    /// An `error` reply with `code`: `fail` when the code is definite or the op idempotent,
    /// else `info`.
    pub fn from_error(op: &Op, idempotent: bool, code: ErrorCode, text: Option<&str>) -> Self {
        let error = ErrorInfo::from_code(code, text);
        if code.is_definite() {
            Completion {
                outcome: Outcome::Fail,
                value: op.value.clone(),
                error: Some(error),
            }
        } else {
            Completion::uncertain(op, idempotent, error)
        }
    }

    /// The request never reached a node: its process was not running (killed by the nemesis,
    /// or exited), as a connection to a dead server is refused at once. The op did not
    /// happen: `fail`, with error 11 (`temporarily-unavailable`) and `why`.
    pub fn refused(op: &Op, why: &str) -> Self {
        Completion {
            outcome: Outcome::Fail,
            value: op.value.clone(),
            error: Some(ErrorInfo::from_code(
                ErrorCode::TemporarilyUnavailable,
                Some(why),
            )),
        }
    }

    /// True when the error is a reply the harness could not make sense of.
    pub fn is_malformed_reply(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.name == MALFORMED_REPLY)
    }
}

/// An op that a workload cannot turn into a request: it did not come from that workload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the {workload} workload has no op {f:?} with value {value}")]
pub struct OpError {
    pub workload: &'static str,
    pub f: String,
    pub value: String,
}

impl OpError {
    pub(crate) fn new(workload: &'static str, op: &Op) -> Self {
        OpError {
            workload,
            f: op.f.clone(),
            value: op.value.to_string(),
        }
    }
}

/// The shared part of every workload's `complete`: an `error` reply goes through
/// [`Completion::from_error`]; any other reply goes to `on_reply`, which returns the `ok`
/// value or says what is wrong with the reply.
pub(crate) fn complete_with(
    op: &Op,
    idempotent: bool,
    reply: &Body,
    on_reply: impl FnOnce(&Body) -> Result<Value, String>,
) -> Completion {
    if let proto::Payload::Error { code, text } = &reply.payload {
        return Completion::from_error(op, idempotent, *code, text.as_deref());
    }
    match on_reply(reply) {
        Ok(value) => Completion::ok(value),
        Err(why) => Completion::uncertain(op, idempotent, ErrorInfo::malformed(why)),
    }
}

/// The words for a reply of the wrong type or shape, given the type that was expected.
pub(crate) fn unexpected(reply: &Body, expected: &str) -> String {
    match reply.malformed() {
        Some(kind) => format!(
            "{kind} reply with missing or malformed fields: {}",
            reply.to_value()
        ),
        None => format!(
            "expected {expected} or error, got {:?}: {}",
            reply.kind(),
            reply.to_value()
        ),
    }
}

#[cfg(test)]
mod tests {
    use proto::Payload;
    use serde_json::json;

    use super::*;

    #[test]
    fn definite_errors_fail_and_indefinite_ones_are_info_unless_idempotent() {
        let op = Op::new("write", json!([1, 2]));
        for code in ErrorCode::ALL {
            let c = Completion::from_error(&op, false, code, Some("why"));
            let expected = if code.is_definite() {
                Outcome::Fail
            } else {
                Outcome::Info
            };
            assert_eq!(c.outcome, expected, "{code}");
            assert_eq!(c.value, json!([1, 2]));
            assert_eq!(c.error.as_ref().unwrap().code, code.code());
            let c = Completion::from_error(&op, true, code, None);
            assert_eq!(c.outcome, Outcome::Fail, "{code}");
        }
        let c = Completion::from_error(&op, false, ErrorCode::Other(1000), Some("mine"));
        assert_eq!(c.outcome, Outcome::Info);
        assert_eq!(
            c.error,
            Some(ErrorInfo {
                code: 1000,
                name: "user".into(),
                text: "mine".into()
            })
        );
    }

    #[test]
    fn a_malformed_reply_is_named_and_uncertain() {
        let op = Op::new("broadcast", json!(3));
        let reply = Body::new(Payload::TopologyOk);
        let c = complete_with(&op, false, &reply, |r| Err(unexpected(r, "broadcast_ok")));
        assert_eq!(c.outcome, Outcome::Info);
        assert!(c.is_malformed_reply());
        let text = &c.error.unwrap().text;
        assert!(text.contains("expected broadcast_ok"), "{text}");
        assert!(text.contains("topology_ok"), "{text}");
    }

    #[test]
    fn completions_serialize_like_history_events() {
        let c = Completion::uncertain(&Op::new("add", json!(2)), false, ErrorInfo::timeout());
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"outcome": "info", "value": 2,
                   "error": {"code": 0, "name": "timeout", "text": "no reply within 5 s"}})
        );
    }
}

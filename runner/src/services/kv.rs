//! The requests every key-value service understands, and what each does to one key's value:
//! Maelstrom's `read`, `write` and `cas` over keys and values that are arbitrary JSON.
//!
//! - `read {key}` -> `read_ok {value}`, or error 20 (key-does-not-exist);
//! - `write {key, value}` -> `write_ok`, creating the key if needed;
//! - `cas {key, from, to, create_if_not_exists?}` -> `cas_ok` when the key holds `from` (it then
//!   holds `to`); error 22 (precondition-failed) when it holds something else; error 20 when it
//!   does not exist, unless `create_if_not_exists` is true: then it is created holding `to`.
//!
//! Keys are compared by their JSON text (so `1` and `"1"` are different keys, as in
//! Maelstrom); values by JSON equality.

use proto::{ErrorCode, Payload};
use serde_json::Value;

/// A key-value request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KvOp {
    Read {
        key: Value,
    },
    Write {
        key: Value,
        value: Value,
    },
    Cas {
        key: Value,
        from: Value,
        to: Value,
        create: bool,
    },
}

/// What a request does given the key's current value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    /// The reply body.
    pub reply: Payload,
    /// The key's new value, when the request writes (even if it writes the same value).
    pub write: Option<Value>,
}

impl KvOp {
    /// The request in `payload`: None when it is not a key-value request at all, an error text
    /// when it is one but unusable (a `read` without a key).
    pub(crate) fn from_payload(payload: &Payload) -> Option<Result<KvOp, String>> {
        Some(Ok(match payload {
            Payload::Read { key: Some(key) } => KvOp::Read { key: key.clone() },
            Payload::Read { key: None } => {
                return Some(Err("a key-value read needs a \"key\"".to_owned()));
            }
            Payload::Write { key, value } => KvOp::Write {
                key: key.clone(),
                value: value.clone(),
            },
            Payload::Cas {
                key,
                from,
                to,
                create_if_not_exists,
            } => KvOp::Cas {
                key: key.clone(),
                from: from.clone(),
                to: to.clone(),
                create: create_if_not_exists.unwrap_or(false),
            },
            _ => return None,
        }))
    }

    /// The key the request is about.
    pub(crate) fn key(&self) -> &Value {
        match self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }

    /// The reply, and the write if any, when the key holds `current` (None: absent).
    pub(crate) fn apply(&self, current: Option<&Value>) -> Outcome {
        match (self, current) {
            (KvOp::Read { .. }, Some(value)) => Outcome {
                reply: Payload::ReadOk {
                    messages: None,
                    value: Some(value.clone()),
                },
                write: None,
            },
            (KvOp::Read { .. }, None) | (KvOp::Cas { create: false, .. }, None) => Outcome {
                reply: Payload::error(ErrorCode::KeyDoesNotExist, "key does not exist"),
                write: None,
            },
            (KvOp::Write { value, .. }, _) => Outcome {
                reply: Payload::WriteOk,
                write: Some(value.clone()),
            },
            (KvOp::Cas { to, .. }, None) => Outcome {
                reply: Payload::CasOk,
                write: Some(to.clone()),
            },
            (KvOp::Cas { from, to, .. }, Some(value)) if value == from => Outcome {
                reply: Payload::CasOk,
                write: Some(to.clone()),
            },
            (KvOp::Cas { from, .. }, Some(value)) => Outcome {
                reply: Payload::error(
                    ErrorCode::PreconditionFailed,
                    format!("current value {value} is not {from}"),
                ),
                write: None,
            },
        }
    }
}

/// The identity of a key: its JSON text (object keys sorted).
pub(crate) fn key_id(key: &Value) -> String {
    key.to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cas(from: Value, to: Value, create: bool) -> KvOp {
        KvOp::Cas {
            key: json!("k"),
            from,
            to,
            create,
        }
    }

    #[test]
    fn cas_follows_maelstrom() {
        let ok = |write: Value| Outcome {
            reply: Payload::CasOk,
            write: Some(write),
        };
        assert_eq!(
            cas(json!(1), json!(2), false).apply(Some(&json!(1))),
            ok(json!(2))
        );
        let failed = cas(json!(1), json!(2), false).apply(Some(&json!(3)));
        assert_eq!(failed.write, None);
        assert_eq!(
            failed.reply,
            Payload::error(ErrorCode::PreconditionFailed, "current value 3 is not 1")
        );
        let missing = cas(json!(1), json!(2), false).apply(None);
        assert_eq!(missing.write, None);
        assert!(matches!(
            missing.reply,
            Payload::Error {
                code: ErrorCode::KeyDoesNotExist,
                ..
            }
        ));
        assert_eq!(cas(json!(1), json!(2), true).apply(None), ok(json!(2)));
        // create_if_not_exists does not skip the precondition on an existing key.
        assert_eq!(
            cas(json!(1), json!(2), true).apply(Some(&json!(0))).write,
            None
        );
    }

    #[test]
    fn keys_are_json_texts() {
        assert_ne!(key_id(&json!(1)), key_id(&json!("1")));
        assert_eq!(
            key_id(&json!({"b": 1, "a": [2]})),
            key_id(&json!({"a": [2], "b": 1}))
        );
    }

    #[test]
    fn only_key_value_requests_are_taken() {
        assert_eq!(KvOp::from_payload(&Payload::Ts), None);
        assert!(matches!(
            KvOp::from_payload(&Payload::Read { key: None }),
            Some(Err(_))
        ));
        let write = Payload::Write {
            key: json!([1]),
            value: json!(null),
        };
        let op = KvOp::from_payload(&write).unwrap().unwrap();
        assert_eq!(op.key(), &json!([1]));
    }
}

//! The key-value state machine every store in [`crate::kv`] applies: a map from keys to
//! values with `read`, `write` and `cas`, answering exactly as Maelstrom's `lin-kv` service
//! (error 20 for a missing key, 22 for a failed compare).
//!
//! Applying the same operations in the same order on every replica gives every replica the
//! same state and the same answers: the state-machine side of state-machine replication.

use std::collections::BTreeMap;

use proto::{ErrorCode, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An operation on the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum KvOp {
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
        #[serde(default)]
        create: bool,
    },
}

impl KvOp {
    /// The op a request asks for: None when it is not a key-value request at all, an error text
    /// when it is one but unusable (a `read` with no key).
    pub fn from_payload(payload: &Payload) -> Option<Result<KvOp, String>> {
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

    /// The op a client request asks for, if it is a usable one.
    pub fn from_request(payload: &Payload) -> Option<KvOp> {
        KvOp::from_payload(payload).and_then(Result::ok)
    }

    /// The key the op is about.
    pub fn key(&self) -> &Value {
        match self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }

    /// True when the op changes nothing.
    pub fn is_read(&self) -> bool {
        matches!(self, KvOp::Read { .. })
    }

    /// What the op does to its key when the key holds `current` (None: absent): the reply, and
    /// the key's new value when the op writes. The one definition of the semantics, shared by
    /// the stores of this crate and the harness's key-value services.
    pub fn apply(&self, current: Option<&Value>) -> Outcome {
        let (reply, write) = match (self, current) {
            (KvOp::Read { .. }, Some(value)) => (
                Payload::ReadOk {
                    messages: None,
                    value: Some(value.clone()),
                },
                None,
            ),
            (
                KvOp::Read { key }
                | KvOp::Cas {
                    key, create: false, ..
                },
                None,
            ) => (
                Payload::error(
                    ErrorCode::KeyDoesNotExist,
                    format!("key {key} does not exist"),
                ),
                None,
            ),
            (KvOp::Write { value, .. }, _) => (Payload::WriteOk, Some(value.clone())),
            (KvOp::Cas { to, .. }, None) => (Payload::CasOk, Some(to.clone())),
            (KvOp::Cas { from, to, .. }, Some(value)) if value == from => {
                (Payload::CasOk, Some(to.clone()))
            }
            (KvOp::Cas { key, from, .. }, Some(value)) => (
                Payload::error(
                    ErrorCode::PreconditionFailed,
                    format!("expected {from}, but key {key} holds {value}"),
                ),
                None,
            ),
        };
        Outcome { reply, write }
    }
}

/// What an op does to its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The reply body.
    pub reply: Payload,
    /// The key's new value, when the op writes (even if it writes the same value).
    pub write: Option<Value>,
}

/// The identity of a key: its JSON text, so `1` and `"1"` are different keys, as in Maelstrom.
pub fn key_id(key: &Value) -> String {
    key.to_string()
}

/// The map. Keys are JSON values, compared by their JSON text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    map: BTreeMap<String, Value>,
}

impl Store {
    /// Apply `op` and return the reply payload (`read_ok`, `write_ok`, `cas_ok` or an error).
    pub fn apply(&mut self, op: &KvOp) -> Payload {
        let id = key_id(op.key());
        let outcome = op.apply(self.map.get(&id));
        if let Some(value) = outcome.write {
            self.map.insert(id, value);
        }
        outcome.reply
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.map.get(&key_id(key))
    }

    /// Set `key` directly (replication that ships values, not ops).
    pub fn set(&mut self, key: &Value, value: Value) {
        self.map.insert(key_id(key), value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_like_lin_kv() {
        let mut store = Store::default();
        let read = KvOp::Read { key: json!(1) };
        assert!(matches!(
            store.apply(&read),
            Payload::Error {
                code: ErrorCode::KeyDoesNotExist,
                ..
            }
        ));
        let cas = |from, to| KvOp::Cas {
            key: json!(1),
            from,
            to,
            create: false,
        };
        assert!(matches!(
            store.apply(&cas(json!(0), json!(1))),
            Payload::Error {
                code: ErrorCode::KeyDoesNotExist,
                ..
            }
        ));
        assert_eq!(
            store.apply(&KvOp::Write {
                key: json!(1),
                value: json!(3)
            }),
            Payload::WriteOk
        );
        assert!(matches!(
            store.apply(&cas(json!(2), json!(4))),
            Payload::Error {
                code: ErrorCode::PreconditionFailed,
                ..
            }
        ));
        assert_eq!(store.apply(&cas(json!(3), json!(4))), Payload::CasOk);
        assert_eq!(
            store.apply(&read),
            Payload::ReadOk {
                messages: None,
                value: Some(json!(4))
            }
        );
        let create = KvOp::Cas {
            key: json!("k"),
            from: json!(null),
            to: json!(9),
            create: true,
        };
        assert_eq!(store.apply(&create), Payload::CasOk);
        assert_eq!(store.get(&json!("k")), Some(&json!(9)));
        // Keys are told apart by type: 1 and "1" are different keys.
        assert_eq!(store.get(&json!("1")), None);
    }

    #[test]
    fn requests_map_to_ops() {
        let op = KvOp::from_request(&Payload::Cas {
            key: json!(2),
            from: json!(1),
            to: json!(5),
            create_if_not_exists: Some(true),
        });
        assert_eq!(
            op,
            Some(KvOp::Cas {
                key: json!(2),
                from: json!(1),
                to: json!(5),
                create: true
            })
        );
        assert_eq!(KvOp::from_request(&Payload::Read { key: None }), None);
    }
}

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
    /// The op a client request asks for, if it is one.
    pub fn from_request(payload: &Payload) -> Option<KvOp> {
        match payload {
            Payload::Read { key: Some(key) } => Some(KvOp::Read { key: key.clone() }),
            Payload::Write { key, value } => Some(KvOp::Write {
                key: key.clone(),
                value: value.clone(),
            }),
            Payload::Cas {
                key,
                from,
                to,
                create_if_not_exists,
            } => Some(KvOp::Cas {
                key: key.clone(),
                from: from.clone(),
                to: to.clone(),
                create: create_if_not_exists.unwrap_or(false),
            }),
            _ => None,
        }
    }

    /// True when the op changes nothing.
    pub fn is_read(&self) -> bool {
        matches!(self, KvOp::Read { .. })
    }
}

/// The map. Keys are JSON values, compared by their JSON text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    map: BTreeMap<String, Value>,
}

impl Store {
    /// Apply `op` and return the reply payload (`read_ok`, `write_ok`, `cas_ok` or an error).
    pub fn apply(&mut self, op: &KvOp) -> Payload {
        match op {
            KvOp::Read { key } => match self.map.get(&key.to_string()) {
                Some(value) => Payload::ReadOk {
                    messages: None,
                    value: Some(value.clone()),
                },
                None => Payload::error(
                    ErrorCode::KeyDoesNotExist,
                    format!("key {key} does not exist"),
                ),
            },
            KvOp::Write { key, value } => {
                self.map.insert(key.to_string(), value.clone());
                Payload::WriteOk
            }
            KvOp::Cas {
                key,
                from,
                to,
                create,
            } => match self.map.get_mut(&key.to_string()) {
                Some(current) if current == from => {
                    *current = to.clone();
                    Payload::CasOk
                }
                Some(current) => Payload::error(
                    ErrorCode::PreconditionFailed,
                    format!("expected {from}, but key {key} holds {current}"),
                ),
                None if *create => {
                    self.map.insert(key.to_string(), to.clone());
                    Payload::CasOk
                }
                None => Payload::error(
                    ErrorCode::KeyDoesNotExist,
                    format!("key {key} does not exist"),
                ),
            },
        }
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.map.get(&key.to_string())
    }

    /// Set `key` directly (replication that ships values, not ops).
    pub fn set(&mut self, key: &Value, value: Value) {
        self.map.insert(key.to_string(), value);
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

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
//! Maelstrom); values by JSON equality. The semantics are defined once, in
//! `nodes::kv::store`, and shared with the key-value nodes.

#[cfg(test)]
use nodes::kv::store::Outcome;
pub(crate) use nodes::kv::store::{KvOp, key_id};

#[cfg(test)]
mod tests {
    use proto::{ErrorCode, Payload};
    use serde_json::{Value, json};

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
            Payload::error(
                ErrorCode::PreconditionFailed,
                "expected 1, but key \"k\" holds 3"
            )
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

//! Message bodies: typed forms for every workload and service of DESIGN.md, and a raw form
//! for the rest.
//!
//! A [`Body`] is `msg_id` and `in_reply_to` (both optional; 0 is a valid id) plus a
//! [`Payload`] selected by the body's `type`. A body whose `type` no one declared parses as
//! [`Payload::Raw`], keeping every field, so a node's own peer messages (`gossip`, `ack`, ...)
//! travel untouched; [`Body::parse_custom`] turns them into the node's own types. A body whose
//! `type` *is* declared but whose fields do not fit also parses as `Raw`; [`Body::malformed`]
//! tells the two apart (and also names an `add` that carries neither a `delta` nor an
//! `element`), so a driver can answer it with error 12.
//!
//! A type that two workloads share with different fields is declared once with each field
//! optional: `read` (a key for the key-value stores), `read_ok` (`messages` for broadcast,
//! `value` for the rest), `add` (`delta` for the counters, `element` for g-set). A node reads
//! the field of its own workload and answers error 12 when it is missing.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::ErrorCode;

/// A message body: ids plus the payload named by `type`.
///
/// Parsing reads the body once into a map, takes the ids out, and builds the payload from what
/// is left: a declared type through [`Payload`]'s own deserializer, any other type by moving the
/// map into [`RawBody`] as it is (a node's own peer messages, the most frequent kind, pay for
/// one pass over the text).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Body {
    /// The sender's id for this message, echoed as `in_reply_to` by the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<u64>,
    /// The `msg_id` of the request this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<u64>,
    /// The `type` and its fields.
    #[serde(flatten)]
    pub payload: Payload,
}

/// The `type` of a body and its fields.
///
/// Requests and replies of every workload (echo, unique-ids, broadcast, g-set, g-counter,
/// pn-counter, lin-kv, kafka, txn-list-append, txn-rw-register, time-sync) and
/// service (`lin-kv`, `seq-kv`, `lww-kv`, `lin-tso`, `time-server`), the handshake, and errors. Optional fields
/// are `None` when absent and are not written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// Sent once to each node before any other traffic.
    Init {
        node_id: String,
        node_ids: Vec<String>,
    },
    InitOk,
    /// `{type: "error", code, text}`.
    Error {
        code: ErrorCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    Echo {
        echo: Value,
    },
    EchoOk {
        echo: Value,
    },
    Generate,
    GenerateOk {
        id: Value,
    },
    /// The suggested neighbours of every node.
    Topology {
        topology: BTreeMap<String, Vec<String>>,
    },
    TopologyOk,
    Broadcast {
        message: Value,
    },
    BroadcastOk,
    /// `read` of the broadcast and g-counter workloads (no key) and of lin-kv and the key-value
    /// services (with a key).
    Read {
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        key: Option<Value>,
    },
    /// `messages` for broadcast (in delivery order), `value` for g-counter and key-value reads.
    ReadOk {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        messages: Option<Vec<Value>>,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        value: Option<Value>,
    },
    /// `add {delta}` of the counters (g-counter, pn-counter) and `add {element}` of g-set.
    Add {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delta: Option<i64>,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        element: Option<Value>,
    },
    AddOk,
    Write {
        key: Value,
        value: Value,
    },
    WriteOk,
    Cas {
        key: Value,
        from: Value,
        to: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        create_if_not_exists: Option<bool>,
    },
    CasOk,
    /// kafka: append `msg` to the log of `key`.
    Send {
        key: String,
        msg: Value,
    },
    /// kafka: the offset the message got in its key's log.
    SendOk {
        offset: u64,
    },
    /// kafka: the messages of each key from the given offset on.
    Poll {
        offsets: BTreeMap<String, u64>,
    },
    /// kafka: each key's `[offset, msg]` pairs, offsets increasing; keys with none may be left
    /// out.
    PollOk {
        msgs: BTreeMap<String, Vec<(u64, Value)>>,
    },
    /// kafka: the client has processed each key up to and including the offset.
    CommitOffsets {
        offsets: BTreeMap<String, u64>,
    },
    CommitOffsetsOk,
    /// kafka: the committed offset of each key.
    ListCommittedOffsets {
        keys: Vec<String>,
    },
    /// kafka: keys with no committed offset may be left out.
    ListCommittedOffsetsOk {
        offsets: BTreeMap<String, u64>,
    },
    /// txn-list-append, txn-rw-register: run the micro-ops in order, as one transaction.
    Txn {
        txn: Vec<MicroOp>,
    },
    /// The transaction as it ran: reads with the values they observed.
    TxnOk {
        txn: Vec<MicroOp>,
    },
    /// `lin-tso`: ask for a timestamp.
    Ts,
    TsOk {
        ts: u64,
    },
    /// `time-server`: ask for the true time of day (NTP's client request). `t1` is the
    /// sender's clock when it sent the request, echoed back so the sender need not keep it.
    /// Every time in these messages is an integer of microseconds since the Unix epoch (an
    /// integer a JSON double still holds exactly).
    Time {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t1: Option<u64>,
    },
    /// `time-server`'s answer: `t2` when it received the request and `t3` when it sent this
    /// reply, read from the true time; `t1` as the request gave it.
    TimeOk {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t1: Option<u64>,
        t2: u64,
        t3: u64,
    },
    /// time-sync: what the node's synchronised clock reads.
    ReadTime,
    /// The node's synchronised time (microseconds since the Unix epoch) and the state of its
    /// synchronisation (`unsynchronised`, `slewing`, `synchronised`, `panicked`).
    ReadTimeOk {
        time: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<String>,
    },
    /// Any other body, fields kept as they came.
    #[serde(untagged)]
    Raw(RawBody),
}

/// An optional JSON field where a `null` that is present is a value: absent is `None`,
/// `null` is `Some(Value::Null)` (a key-value store may hold null).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Every `type` that [`Payload`] declares.
pub const KNOWN_TYPES: [&str; 35] = [
    "init",
    "init_ok",
    "error",
    "echo",
    "echo_ok",
    "generate",
    "generate_ok",
    "topology",
    "topology_ok",
    "broadcast",
    "broadcast_ok",
    "read",
    "read_ok",
    "add",
    "add_ok",
    "write",
    "write_ok",
    "cas",
    "cas_ok",
    "send",
    "send_ok",
    "poll",
    "poll_ok",
    "commit_offsets",
    "commit_offsets_ok",
    "list_committed_offsets",
    "list_committed_offsets_ok",
    "txn",
    "txn_ok",
    "ts",
    "ts_ok",
    "time",
    "time_ok",
    "read_time",
    "read_time_ok",
];

/// One micro-op of a transaction, `[f, key, value]` on the wire: `["r", 5, null]` asks for key
/// 5 and `["r", 5, [1, 2]]` (list-append) or `["r", 5, 3]` (rw-register) is what it observed;
/// `["append", 5, 3]` adds 3 to the end of key 5's list; `["w", 5, 3]` sets key 5 to 3. Keys
/// and values are any JSON (the workloads use integers); a missing key reads `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroOp(pub String, pub Value, pub Value);

impl MicroOp {
    /// `"r"`, `"w"` or `"append"`.
    pub fn f(&self) -> &str {
        &self.0
    }

    /// The key.
    pub fn key(&self) -> &Value {
        &self.1
    }

    /// The value: written, appended, or read (`null` in a request).
    pub fn value(&self) -> &Value {
        &self.2
    }
}

/// A body no one declared: its `type` and every other field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawBody {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Payload {
    /// The wire `type` of this payload.
    pub fn kind(&self) -> &str {
        match self {
            Payload::Init { .. } => "init",
            Payload::InitOk => "init_ok",
            Payload::Error { .. } => "error",
            Payload::Echo { .. } => "echo",
            Payload::EchoOk { .. } => "echo_ok",
            Payload::Generate => "generate",
            Payload::GenerateOk { .. } => "generate_ok",
            Payload::Topology { .. } => "topology",
            Payload::TopologyOk => "topology_ok",
            Payload::Broadcast { .. } => "broadcast",
            Payload::BroadcastOk => "broadcast_ok",
            Payload::Read { .. } => "read",
            Payload::ReadOk { .. } => "read_ok",
            Payload::Add { .. } => "add",
            Payload::AddOk => "add_ok",
            Payload::Write { .. } => "write",
            Payload::WriteOk => "write_ok",
            Payload::Cas { .. } => "cas",
            Payload::CasOk => "cas_ok",
            Payload::Send { .. } => "send",
            Payload::SendOk { .. } => "send_ok",
            Payload::Poll { .. } => "poll",
            Payload::PollOk { .. } => "poll_ok",
            Payload::CommitOffsets { .. } => "commit_offsets",
            Payload::CommitOffsetsOk => "commit_offsets_ok",
            Payload::ListCommittedOffsets { .. } => "list_committed_offsets",
            Payload::ListCommittedOffsetsOk { .. } => "list_committed_offsets_ok",
            Payload::Txn { .. } => "txn",
            Payload::TxnOk { .. } => "txn_ok",
            Payload::Ts => "ts",
            Payload::TsOk { .. } => "ts_ok",
            Payload::Time { .. } => "time",
            Payload::TimeOk { .. } => "time_ok",
            Payload::ReadTime => "read_time",
            Payload::ReadTimeOk { .. } => "read_time_ok",
            Payload::Raw(raw) => &raw.kind,
        }
    }

    /// An error payload.
    pub fn error(code: ErrorCode, text: impl Into<String>) -> Self {
        Payload::Error {
            code,
            text: Some(text.into()),
        }
    }

    /// Any serializable value with a `type` field (a node's own peer message) as a payload.
    /// Declared types come back typed; the rest as [`Payload::Raw`].
    pub fn custom<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        match serde_json::to_value(value)? {
            Value::Object(fields) => Payload::from_fields(fields).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "a payload must be an object with a \"type\", not {other}"
            ))),
        }
    }

    /// The payload of a body's fields (ids already taken out): a declared type typed (or raw
    /// when its fields do not fit, see [`Body::malformed`]), any other type raw.
    fn from_fields(fields: Map<String, Value>) -> Result<Payload, String> {
        let kind = match fields.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            Some(other) => return Err(format!("body \"type\" must be a string, not {other}")),
            None => return Err("body has no \"type\"".to_owned()),
        };
        let value = Value::Object(fields);
        if KNOWN_TYPES.contains(&kind.as_str()) {
            return Payload::deserialize(&value).map_err(|e| e.to_string());
        }
        let Value::Object(mut fields) = value else {
            unreachable!("built from a map just above")
        };
        fields.remove("type");
        Ok(Payload::Raw(RawBody { kind, fields }))
    }
}

/// Take an id field out of a body's fields: absent or null is none; anything but a
/// non-negative integer is an error.
fn take_id(fields: &mut Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(other) => Err(format!(
            "{name} must be a non-negative integer, not {other}"
        )),
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let msg_id = take_id(&mut fields, "msg_id").map_err(de::Error::custom)?;
        let in_reply_to = take_id(&mut fields, "in_reply_to").map_err(de::Error::custom)?;
        let payload = Payload::from_fields(fields).map_err(de::Error::custom)?;
        Ok(Body {
            msg_id,
            in_reply_to,
            payload,
        })
    }
}

impl Body {
    /// A body with no ids.
    pub fn new(payload: Payload) -> Self {
        Body {
            msg_id: None,
            in_reply_to: None,
            payload,
        }
    }

    /// The wire `type`.
    pub fn kind(&self) -> &str {
        self.payload.kind()
    }

    /// True when this is an `error` body.
    pub fn is_error(&self) -> bool {
        matches!(self.payload, Payload::Error { .. })
    }

    /// The error code, when this is an `error` body.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self.payload {
            Payload::Error { code, .. } => Some(code),
            _ => None,
        }
    }

    /// When the `type` is one [`Payload`] declares but its fields did not fit (a `broadcast`
    /// with no `message`, an `add` whose `delta` is a string, an `add` with neither `delta`
    /// nor `element`), that type.
    pub fn malformed(&self) -> Option<&str> {
        match &self.payload {
            Payload::Raw(raw) if KNOWN_TYPES.contains(&raw.kind.as_str()) => {
                Some(raw.kind.as_str())
            }
            Payload::Add {
                delta: None,
                element: None,
            } => Some("add"),
            _ => None,
        }
    }

    /// The whole body (ids included) as a JSON object.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The body read as a node's own message type `T` (typically an enum with
    /// `#[serde(tag = "type")]`). Works on declared and raw bodies alike.
    pub fn parse_custom<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.payload {
            Payload::Raw(raw) => {
                let mut map = raw.fields.clone();
                map.insert("type".into(), Value::String(raw.kind.clone()));
                serde_json::from_value(Value::Object(map))
            }
            payload => serde_json::from_value(serde_json::to_value(payload)?),
        }
    }
}

impl From<Payload> for Body {
    fn from(payload: Payload) -> Self {
        Body::new(payload)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Body {
        serde_json::from_value(value).expect("body parses")
    }

    #[test]
    fn declared_types_parse_typed() {
        let body = parse(json!({"type": "broadcast", "msg_id": 0, "message": 7}));
        assert_eq!(body.msg_id, Some(0));
        assert_eq!(body.payload, Payload::Broadcast { message: json!(7) });
        let body = parse(json!({"type": "read", "msg_id": 3}));
        assert_eq!(body.payload, Payload::Read { key: None });
        let body = parse(json!({"type": "error", "in_reply_to": 5, "code": 20, "text": "no"}));
        assert_eq!(body.error_code(), Some(ErrorCode::KeyDoesNotExist));
    }

    #[test]
    fn undeclared_types_keep_every_field() {
        let body = parse(json!({"type": "gossip", "msg_id": 9, "seen": [1, 2], "from": "n1"}));
        let Payload::Raw(raw) = &body.payload else {
            panic!("expected raw, got {body:?}");
        };
        assert_eq!(raw.kind, "gossip");
        assert_eq!(raw.fields["seen"], json!([1, 2]));
        assert_eq!(body.malformed(), None);
        let back = serde_json::to_value(&body).unwrap();
        assert_eq!(
            back,
            json!({"type": "gossip", "msg_id": 9, "seen": [1, 2], "from": "n1"})
        );
    }

    #[test]
    fn a_declared_type_with_bad_fields_is_malformed() {
        let body = parse(json!({"type": "broadcast", "msg_id": 1}));
        assert_eq!(body.malformed(), Some("broadcast"));
        let body = parse(json!({"type": "add", "delta": "x"}));
        assert_eq!(body.malformed(), Some("add"));
        let body = parse(json!({"type": "add", "msg_id": 2}));
        assert_eq!(body.malformed(), Some("add"));
    }

    #[test]
    fn add_carries_a_counters_delta_or_a_g_sets_element() {
        let body = parse(json!({"type": "add", "msg_id": 1, "delta": -3}));
        assert_eq!(
            body.payload,
            Payload::Add {
                delta: Some(-3),
                element: None
            }
        );
        assert_eq!(body.malformed(), None);
        let body = parse(json!({"type": "add", "msg_id": 2, "element": [1, "x"]}));
        assert_eq!(
            body.payload,
            Payload::Add {
                delta: None,
                element: Some(json!([1, "x"]))
            }
        );
        assert_eq!(body.malformed(), None);
        assert_eq!(
            body.to_value(),
            json!({"type": "add", "msg_id": 2, "element": [1, "x"]})
        );
        // A null element is an element.
        let body = parse(json!({"type": "add", "element": null}));
        assert_eq!(body.malformed(), None);
    }

    #[test]
    fn custom_types_round_trip() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Peer {
            Gossip { values: Vec<u64> },
        }
        let payload = Payload::custom(&Peer::Gossip { values: vec![1, 2] }).unwrap();
        let body = Body::new(payload);
        assert_eq!(body.kind(), "gossip");
        assert_eq!(
            body.parse_custom::<Peer>().unwrap(),
            Peer::Gossip { values: vec![1, 2] }
        );
    }

    #[test]
    fn a_null_value_is_kept_apart_from_an_absent_one() {
        let body = parse(json!({"type": "read_ok", "value": null}));
        assert_eq!(
            body.payload,
            Payload::ReadOk {
                messages: None,
                value: Some(Value::Null)
            }
        );
        assert_eq!(body.to_value(), json!({"type": "read_ok", "value": null}));
        let body = parse(json!({"type": "read_ok", "messages": [1]}));
        assert!(matches!(body.payload, Payload::ReadOk { value: None, .. }));
        let body = parse(json!({"type": "read", "key": null}));
        assert_eq!(
            body.payload,
            Payload::Read {
                key: Some(Value::Null)
            }
        );
        assert_eq!(
            parse(json!({"type": "read"})).payload,
            Payload::Read { key: None }
        );
    }

    #[test]
    fn a_txn_is_a_list_of_three_element_micro_ops() {
        let body = parse(json!({"type": "txn", "msg_id": 1,
                                "txn": [["r", 1, null], ["append", 1, 6], ["w", 2, 9]]}));
        let Payload::Txn { txn } = &body.payload else {
            panic!("{body:?}")
        };
        assert_eq!(txn.len(), 3);
        assert_eq!(
            (txn[1].f(), txn[1].key(), txn[1].value()),
            ("append", &json!(1), &json!(6))
        );
        assert_eq!(
            body.to_value(),
            json!({"type": "txn", "msg_id": 1,
                   "txn": [["r", 1, null], ["append", 1, 6], ["w", 2, 9]]})
        );
        let body = parse(json!({"type": "txn_ok", "txn": [["r", 1, [8]]]}));
        assert!(matches!(body.payload, Payload::TxnOk { .. }));
        // A micro-op of two elements is not one.
        let body = parse(json!({"type": "txn", "txn": [["r", 1]]}));
        assert_eq!(body.malformed(), Some("txn"));
    }

    #[test]
    fn kind_matches_the_serialized_type() {
        let payloads = [
            Payload::InitOk,
            Payload::Generate,
            Payload::Ts,
            Payload::TsOk { ts: 1 },
            Payload::Time { t1: Some(5) },
            Payload::TimeOk {
                t1: None,
                t2: 6,
                t3: 7,
            },
            Payload::ReadTime,
            Payload::ReadTimeOk {
                time: 8,
                state: Some("synchronised".into()),
            },
            Payload::ReadOk {
                messages: Some(vec![]),
                value: None,
            },
        ];
        for payload in payloads {
            let value = serde_json::to_value(&payload).unwrap();
            assert_eq!(value["type"], json!(payload.kind()));
        }
    }
}

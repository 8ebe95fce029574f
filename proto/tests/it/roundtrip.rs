use std::collections::BTreeMap;

use proptest::prelude::*;
use proto::{
    Body, ErrorCode, Message, MicroOp, Payload, RawBody, parse_header, parse_line, to_line,
};
use serde_json::{Map, Value};

/// Any JSON value except a top-level `null` (an absent optional field and `null` read alike).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[a-z0-9 ]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn node_id() -> impl Strategy<Value = String> {
    prop_oneof!["n[0-9]{1,2}", "c[0-9]{1,3}", Just("lin-kv".to_owned())]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        prop::sample::select(ErrorCode::ALL.to_vec()),
        (1000u32..5000).prop_map(ErrorCode::Other),
    ]
}

fn raw_body() -> impl Strategy<Value = RawBody> {
    (
        "[a-z_]{1,10}".prop_filter("undeclared type", |k| {
            !proto::KNOWN_TYPES.contains(&k.as_str())
        }),
        prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..4),
    )
        .prop_map(|(kind, fields)| RawBody {
            kind,
            fields: fields
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "type" | "msg_id" | "in_reply_to"))
                .collect::<Map<String, Value>>(),
        })
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (node_id(), prop::collection::vec(node_id(), 0..5))
            .prop_map(|(node_id, node_ids)| Payload::Init { node_id, node_ids }),
        Just(Payload::InitOk),
        (error_code(), prop::option::of("[ -~]{0,20}"))
            .prop_map(|(code, text)| Payload::Error { code, text }),
        json_value().prop_map(|echo| Payload::Echo { echo }),
        json_value().prop_map(|echo| Payload::EchoOk { echo }),
        Just(Payload::Generate),
        json_value().prop_map(|id| Payload::GenerateOk { id }),
        prop::collection::btree_map(node_id(), prop::collection::vec(node_id(), 0..4), 0..4)
            .prop_map(|topology: BTreeMap<_, _>| Payload::Topology { topology }),
        Just(Payload::TopologyOk),
        json_value().prop_map(|message| Payload::Broadcast { message }),
        Just(Payload::BroadcastOk),
        prop::option::of(json_value()).prop_map(|key| Payload::Read { key }),
        (
            prop::option::of(prop::collection::vec(json_value(), 0..5)),
            prop::option::of(json_value())
        )
            .prop_map(|(messages, value)| Payload::ReadOk { messages, value }),
        (
            prop::option::of(any::<i64>()),
            prop::option::of(json_value())
        )
            .prop_map(|(delta, element)| Payload::Add { delta, element }),
        Just(Payload::AddOk),
        (json_value(), json_value()).prop_map(|(key, value)| Payload::Write { key, value }),
        Just(Payload::WriteOk),
        (
            json_value(),
            json_value(),
            json_value(),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(key, from, to, create_if_not_exists)| Payload::Cas {
                key,
                from,
                to,
                create_if_not_exists
            }),
        Just(Payload::CasOk),
        ("[a-z0-9]{1,3}", json_value()).prop_map(|(key, msg)| Payload::Send { key, msg }),
        any::<u64>().prop_map(|offset| Payload::SendOk { offset }),
        prop::collection::btree_map("[a-z0-9]{1,3}", any::<u64>(), 0..4)
            .prop_map(|offsets| Payload::Poll { offsets }),
        prop::collection::btree_map(
            "[a-z0-9]{1,3}",
            prop::collection::vec((any::<u64>(), json_value()), 0..4),
            0..4
        )
        .prop_map(|msgs| Payload::PollOk { msgs }),
        prop::collection::btree_map("[a-z0-9]{1,3}", any::<u64>(), 0..4)
            .prop_map(|offsets| Payload::CommitOffsets { offsets }),
        Just(Payload::CommitOffsetsOk),
        prop::collection::vec("[a-z0-9]{1,3}", 0..4)
            .prop_map(|keys| Payload::ListCommittedOffsets { keys }),
        prop::collection::btree_map("[a-z0-9]{1,3}", any::<u64>(), 0..4)
            .prop_map(|offsets| Payload::ListCommittedOffsetsOk { offsets }),
        prop::collection::vec(micro_op(), 0..4).prop_map(|txn| Payload::Txn { txn }),
        prop::collection::vec(micro_op(), 0..4).prop_map(|txn| Payload::TxnOk { txn }),
        Just(Payload::Ts),
        any::<u64>().prop_map(|ts| Payload::TsOk { ts }),
        raw_body().prop_map(Payload::Raw),
    ]
}

fn micro_op() -> impl Strategy<Value = MicroOp> {
    (
        prop::sample::select(vec!["r", "w", "append"]),
        json_value(),
        json_value(),
    )
        .prop_map(|(f, k, v)| MicroOp(f.to_owned(), k, v))
}

fn message() -> impl Strategy<Value = Message> {
    (
        node_id(),
        node_id(),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        payload(),
    )
        .prop_map(|(src, dest, msg_id, in_reply_to, payload)| {
            Message::new(
                src,
                dest,
                Body {
                    msg_id,
                    in_reply_to,
                    payload,
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_message_serializes_and_parses_back_to_itself(message in message()) {
        let line = to_line(&message);
        prop_assert!(!line.contains('\n'));
        let back = parse_line(&line).map_err(|e| TestCaseError::fail(format!("{line}: {e}")))?;
        prop_assert_eq!(&back, &message);
        let (route, header) = parse_header(&line)
            .map_err(|e| TestCaseError::fail(format!("{line}: {e}")))?;
        prop_assert_eq!(route.src.as_ref(), message.src.as_str());
        prop_assert_eq!(header.kind.as_ref(), message.body.kind());
        prop_assert_eq!(header.msg_id, message.body.msg_id);
        prop_assert_eq!(header.in_reply_to, message.body.in_reply_to);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_line(&text);
        let _ = parse_header(&text);
    }

    #[test]
    fn mangled_messages_never_panic_the_parser(
        message in message(),
        cut in any::<prop::sample::Index>(),
        junk in "[{}\\[\\]\":,a-z0-9 -]{0,6}",
    ) {
        let line = to_line(&message);
        let mut at = cut.index(line.len() + 1);
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        let mangled = format!("{}{}{}", &line[..at], junk, &line[at..]);
        if let Ok(parsed) = parse_line(&mangled) {
            // Whatever parses must serialize again.
            let _ = to_line(&parsed);
        }
        let _ = parse_header(&mangled);
    }
}

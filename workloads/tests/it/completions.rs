//! Every workload's completions follow the ok / fail / info rules for every error code, for
//! timeouts, and for replies that are of the wrong type or malformed.

use proptest::prelude::*;
use proto::{Body, ErrorCode, Payload};
use serde_json::{Value, json};
use workloads::{
    Completion, MALFORMED_REPLY, Op, Outcome, Workload, WorkloadKind, WorkloadOptions, workload,
};

fn body(value: Value) -> Body {
    serde_json::from_value(value).expect("a body")
}

fn make(kind: WorkloadKind) -> Box<dyn Workload> {
    workload(kind, &WorkloadOptions::default())
}

/// Every (workload, op, idempotent?) the generators produce.
fn ops() -> Vec<(WorkloadKind, Op, bool)> {
    vec![
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("Please echo 3")),
            true,
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            false,
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("broadcast", json!(7)),
            false,
        ),
        (WorkloadKind::Broadcast, Op::new("read", Value::Null), true),
        (WorkloadKind::GCounter, Op::new("add", json!(3)), false),
        (WorkloadKind::GCounter, Op::new("read", Value::Null), true),
        (WorkloadKind::GSet, Op::new("add", json!(5)), false),
        (WorkloadKind::GSet, Op::new("read", Value::Null), true),
        (WorkloadKind::PnCounter, Op::new("add", json!(-4)), false),
        (WorkloadKind::PnCounter, Op::new("read", Value::Null), true),
        (WorkloadKind::LinKv, Op::new("read", json!([1, null])), true),
        (WorkloadKind::LinKv, Op::new("write", json!([1, 4])), false),
        (
            WorkloadKind::LinKv,
            Op::new("cas", json!([1, [2, 3]])),
            false,
        ),
    ]
}

#[test]
fn error_codes_follow_the_rules_for_every_op() {
    let mut codes: Vec<ErrorCode> = ErrorCode::ALL.to_vec();
    codes.extend([
        ErrorCode::Other(1000),
        ErrorCode::Other(1234),
        ErrorCode::Other(5),
    ]);
    for (kind, op, idempotent) in ops() {
        let w = make(kind);
        for code in &codes {
            let reply = body(
                json!({"type": "error", "in_reply_to": 1, "code": code.code(), "text": "nope"}),
            );
            let c = w.complete(&op, &reply);
            let expected = if code.is_definite() || idempotent {
                Outcome::Fail
            } else {
                Outcome::Info
            };
            assert_eq!(c.outcome, expected, "{kind} {} code {code}", op.f);
            assert_eq!(
                c.value, op.value,
                "{kind} {}: fail/info keep the invoke value",
                op.f
            );
            let error = c.error.expect("an error");
            assert_eq!(error.code, code.code());
            assert_eq!(error.name, code.name());
            assert_eq!(error.text, "nope");
        }
    }
}

#[test]
fn timeouts_are_info_unless_idempotent() {
    for (kind, op, idempotent) in ops() {
        let c = make(kind).timeout(&op);
        let expected = if idempotent {
            Outcome::Fail
        } else {
            Outcome::Info
        };
        assert_eq!(c.outcome, expected, "{kind} {}", op.f);
        let error = c.error.expect("an error");
        assert_eq!((error.code, error.name.as_str()), (0, "timeout"));
        assert_eq!(c.value, op.value);
    }
}

#[test]
fn ok_replies_give_the_history_values() {
    let cases = [
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("hi")),
            json!({"type": "echo_ok", "echo": "hi"}),
            json!("hi"),
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            json!({"type": "generate_ok", "id": [3, "x"]}),
            json!([3, "x"]),
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            json!({"type": "generate_ok", "id": null}),
            Value::Null,
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("broadcast", json!(7)),
            json!({"type": "broadcast_ok"}),
            json!(7),
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "messages": [3, 1, 2]}),
            json!([3, 1, 2]),
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "messages": []}),
            json!([]),
        ),
        (
            WorkloadKind::GCounter,
            Op::new("add", json!(3)),
            json!({"type": "add_ok"}),
            json!(3),
        ),
        (
            WorkloadKind::GCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": 42}),
            json!(42),
        ),
        (
            WorkloadKind::GSet,
            Op::new("add", json!(5)),
            json!({"type": "add_ok"}),
            json!(5),
        ),
        (
            WorkloadKind::GSet,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": [5, "x", 0]}),
            json!([5, "x", 0]),
        ),
        (
            WorkloadKind::PnCounter,
            Op::new("add", json!(-4)),
            json!({"type": "add_ok"}),
            json!(-4),
        ),
        (
            WorkloadKind::PnCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": -7}),
            json!(-7),
        ),
        (
            WorkloadKind::LinKv,
            Op::new("read", json!([1, null])),
            json!({"type": "read_ok", "value": 4}),
            json!([1, 4]),
        ),
        (
            WorkloadKind::LinKv,
            Op::new("read", json!([1, null])),
            json!({"type": "read_ok", "value": null}),
            json!([1, null]),
        ),
        (
            WorkloadKind::LinKv,
            Op::new("write", json!([1, 4])),
            json!({"type": "write_ok"}),
            json!([1, 4]),
        ),
        (
            WorkloadKind::LinKv,
            Op::new("cas", json!([1, [2, 3]])),
            json!({"type": "cas_ok"}),
            json!([1, [2, 3]]),
        ),
    ];
    for (kind, op, reply, value) in cases {
        let mut reply = reply;
        reply["in_reply_to"] = json!(0);
        let c = make(kind).complete(&op, &body(reply.clone()));
        assert_eq!(c, Completion::ok(value), "{kind} {} <- {reply}", op.f);
    }
}

#[test]
fn malformed_replies_are_named_and_never_ok() {
    let cases = [
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("hi")),
            json!({"type": "echo_ok", "echo": "ho"}),
            "echoed \"ho\"",
        ),
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("hi")),
            json!({"type": "echo_ok"}),
            "echo_ok reply with missing",
        ),
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("hi")),
            json!({"type": "read_ok", "messages": []}),
            "expected echo_ok",
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            json!({"type": "generate_ok"}),
            "generate_ok reply with missing",
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            json!({"type": "gossip", "x": 1}),
            "got \"gossip\"",
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": 3}),
            "no \"messages\" list",
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "messages": 3}),
            "read_ok reply with missing",
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("broadcast", json!(1)),
            json!({"type": "read_ok", "messages": []}),
            "expected broadcast_ok",
        ),
        (
            WorkloadKind::GCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": "3"}),
            "must be an integer",
        ),
        (
            WorkloadKind::GCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": 2.5}),
            "must be an integer",
        ),
        (
            WorkloadKind::GCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok"}),
            "no \"value\"",
        ),
        (
            WorkloadKind::GCounter,
            Op::new("add", json!(1)),
            json!({"type": "write_ok"}),
            "expected add_ok",
        ),
        (
            WorkloadKind::GSet,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": 3}),
            "must be the list of elements",
        ),
        (
            WorkloadKind::GSet,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "messages": [3]}),
            "must be the list of elements",
        ),
        (
            WorkloadKind::GSet,
            Op::new("add", json!(1)),
            json!({"type": "broadcast_ok"}),
            "expected add_ok",
        ),
        (
            WorkloadKind::PnCounter,
            Op::new("read", Value::Null),
            json!({"type": "read_ok", "value": [1]}),
            "must be an integer",
        ),
        (
            WorkloadKind::LinKv,
            Op::new("write", json!([1, 4])),
            json!({"type": "cas_ok"}),
            "expected write_ok",
        ),
        (
            WorkloadKind::LinKv,
            Op::new("cas", json!([1, [2, 3]])),
            json!({"type": "write_ok"}),
            "expected cas_ok",
        ),
        (
            WorkloadKind::LinKv,
            Op::new("read", json!([1, null])),
            json!({"type": "error", "text": "no code"}),
            "error reply with missing",
        ),
    ];
    let idempotent = |op: &Op| op.f == "read" || op.f == "echo";
    for (kind, op, reply, why) in cases {
        let c = make(kind).complete(&op, &body(reply.clone()));
        let expected = if idempotent(&op) {
            Outcome::Fail
        } else {
            Outcome::Info
        };
        assert_eq!(c.outcome, expected, "{kind} {} <- {reply}", op.f);
        assert!(c.is_malformed_reply(), "{c:?}");
        assert_eq!(c.value, op.value);
        let error = c.error.unwrap();
        assert_eq!(error.name, MALFORMED_REPLY);
        assert!(
            error.text.contains(why),
            "{kind} {} <- {reply}: {}",
            op.f,
            error.text
        );
    }
}

#[test]
fn requests_carry_the_op() {
    let cases = [
        (
            WorkloadKind::Echo,
            Op::new("echo", json!("hi")),
            Payload::Echo { echo: json!("hi") },
        ),
        (
            WorkloadKind::UniqueIds,
            Op::new("generate", Value::Null),
            Payload::Generate,
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("broadcast", json!(7)),
            Payload::Broadcast { message: json!(7) },
        ),
        (
            WorkloadKind::Broadcast,
            Op::new("read", Value::Null),
            Payload::Read { key: None },
        ),
        (
            WorkloadKind::GCounter,
            Op::new("add", json!(3)),
            Payload::Add {
                delta: Some(3),
                element: None,
            },
        ),
        (
            WorkloadKind::GCounter,
            Op::new("read", Value::Null),
            Payload::Read { key: None },
        ),
        (
            WorkloadKind::PnCounter,
            Op::new("add", json!(-2)),
            Payload::Add {
                delta: Some(-2),
                element: None,
            },
        ),
        (
            WorkloadKind::GSet,
            Op::new("add", json!(5)),
            Payload::Add {
                delta: None,
                element: Some(json!(5)),
            },
        ),
        (
            WorkloadKind::GSet,
            Op::new("read", Value::Null),
            Payload::Read { key: None },
        ),
        (
            WorkloadKind::LinKv,
            Op::new("read", json!([1, null])),
            Payload::Read {
                key: Some(json!(1)),
            },
        ),
        (
            WorkloadKind::LinKv,
            Op::new("write", json!([1, 4])),
            Payload::Write {
                key: json!(1),
                value: json!(4),
            },
        ),
        (
            WorkloadKind::LinKv,
            Op::new("cas", json!([1, [2, 3]])),
            Payload::Cas {
                key: json!(1),
                from: json!(2),
                to: json!(3),
                create_if_not_exists: None,
            },
        ),
    ];
    for (kind, op, payload) in cases {
        assert_eq!(make(kind).request(&op), Ok(payload), "{kind} {}", op.f);
    }
}

#[test]
fn foreign_ops_are_refused_with_a_reason() {
    let cases = [
        (WorkloadKind::Echo, Op::new("read", Value::Null)),
        (WorkloadKind::UniqueIds, Op::new("echo", json!(1))),
        (WorkloadKind::Broadcast, Op::new("add", json!(1))),
        (WorkloadKind::GCounter, Op::new("add", json!("three"))),
        (WorkloadKind::GSet, Op::new("broadcast", json!(1))),
        (WorkloadKind::PnCounter, Op::new("add", json!(1.5))),
        (WorkloadKind::LinKv, Op::new("read", json!(1))),
        (WorkloadKind::LinKv, Op::new("cas", json!([1, 2]))),
        (WorkloadKind::LinKv, Op::new("append", json!([1, 2]))),
    ];
    for (kind, op) in cases {
        let err = make(kind).request(&op).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(kind.name()) && text.contains(&op.f), "{text}");
    }
}

#[test]
fn handshake_and_final_reads() {
    for kind in WorkloadKind::ALL {
        let w = make(kind);
        assert_eq!(w.kind(), kind);
        assert_eq!(w.sends_topology(), kind == WorkloadKind::Broadcast);
        let expect_final = matches!(
            kind,
            WorkloadKind::Broadcast
                | WorkloadKind::GCounter
                | WorkloadKind::GSet
                | WorkloadKind::PnCounter
        );
        let expected = match kind {
            // A fresh generator has sent to no key: its final poll asks for none.
            WorkloadKind::Kafka => Some(Op::new("poll", json!({"offsets": {}}))),
            WorkloadKind::FailureDetector => Some(Op::new("suspect", Value::Null)),
            // A read of each key used; a fresh generator's first key.
            WorkloadKind::LwwRegister => Some(Op::new("read", json!([0, null]))),
            _ => expect_final.then(|| Op::new("read", Value::Null)),
        };
        assert_eq!(w.final_op(), expected, "{kind}");
        assert_eq!(
            w.final_ops(),
            expected.into_iter().collect::<Vec<_>>(),
            "{kind}"
        );
    }
}

/// Any reply body: a type from those the protocol declares (or another), with fields of any
/// JSON shape.
fn reply_strategy() -> impl Strategy<Value = Value> {
    let kinds = prop::sample::select(vec![
        "echo_ok",
        "generate_ok",
        "broadcast_ok",
        "read_ok",
        "add_ok",
        "write_ok",
        "cas_ok",
        "error",
        "topology_ok",
        "gossip",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(Value::Array)
    });
    let field = prop::sample::select(vec!["echo", "id", "messages", "value", "code", "text", "x"]);
    (kinds, prop::collection::btree_map(field, value, 0..4)).prop_map(|(kind, fields)| {
        let mut body = serde_json::Map::new();
        for (k, v) in fields {
            body.insert(k.to_string(), v);
        }
        body.insert("type".into(), json!(kind));
        body.insert("in_reply_to".into(), json!(0));
        Value::Object(body)
    })
}

proptest! {
    #[test]
    fn any_reply_gives_a_completion_and_only_the_expected_type_is_ok(reply in reply_strategy()) {
        let expected_ok = |f: &str| match f {
            "echo" => "echo_ok",
            "generate" => "generate_ok",
            "broadcast" => "broadcast_ok",
            "read" => "read_ok",
            "add" => "add_ok",
            "write" => "write_ok",
            _ => "cas_ok",
        };
        let body: Body = serde_json::from_value(reply.clone()).expect("every object with a type parses");
        for (kind, op, idempotent) in ops() {
            let c = make(kind).complete(&op, &body);
            match c.outcome {
                Outcome::Ok => {
                    prop_assert_eq!(reply["type"].as_str(), Some(expected_ok(&op.f)), "{} {}", kind, op.f);
                    prop_assert!(c.error.is_none());
                }
                Outcome::Fail => prop_assert!(c.error.is_some()),
                Outcome::Info => {
                    prop_assert!(c.error.is_some());
                    prop_assert!(!idempotent, "{} {} is idempotent, never info", kind, op.f);
                }
            }
            if c.outcome != Outcome::Ok {
                prop_assert_eq!(&c.value, &op.value);
            }
        }
    }
}

#[test]
fn a_g_set_add_carries_its_element_as_maelstrom_names_it() {
    let payload = make(WorkloadKind::GSet)
        .request(&Op::new("add", json!(7)))
        .unwrap();
    assert_eq!(
        Body::new(payload).to_value(),
        json!({"type": "add", "element": 7})
    );
}

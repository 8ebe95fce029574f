//! The four key-value binaries under scripted conversations on stdin/stdout.

use std::time::Duration;

use serde_json::{Value, json};

use crate::pipe::{Conversation, protocol_checks};

const BINARIES: [&str; 4] = [
    env!("CARGO_BIN_EXE_lin-kv-tob"),
    env!("CARGO_BIN_EXE_lin-kv-leader"),
    env!("CARGO_BIN_EXE_kv-gossip"),
    env!("CARGO_BIN_EXE_kv-stale-reads"),
];

fn no_services(_: &mut Conversation, _: &Value) -> bool {
    false
}

#[test]
fn every_kv_binary_speaks_the_protocol() {
    for path in BINARIES {
        protocol_checks(
            path,
            &[],
            json!({"type": "write", "key": 1, "value": 2}),
            "write_ok",
            &no_services,
        );
    }
}

/// Alone in its cluster, every node is the whole store: the answers of Maelstrom's lin-kv.
#[test]
fn every_kv_binary_alone_answers_like_lin_kv() {
    for path in BINARIES {
        let mut node = Conversation::start(path, &[]);
        node.init("n0", &["n0"]);
        let mut ask = |msg_id: u64, body: Value| -> Value {
            let mut body = body;
            body["msg_id"] = json!(msg_id);
            node.send("c1", "n0", body);
            node.reply_to("c1", msg_id)["body"].clone()
        };
        let missing = ask(1, json!({"type": "read", "key": 9}));
        assert_eq!(
            (missing["type"].clone(), missing["code"].clone()),
            (json!("error"), json!(20)),
            "{path}"
        );
        assert_eq!(
            ask(2, json!({"type": "write", "key": 9, "value": 3}))["type"],
            "write_ok",
            "{path}"
        );
        assert_eq!(
            ask(3, json!({"type": "read", "key": 9}))["value"],
            3,
            "{path}"
        );
        assert_eq!(
            ask(4, json!({"type": "cas", "key": 9, "from": 3, "to": 4}))["type"],
            "cas_ok",
            "{path}"
        );
        let stale = ask(5, json!({"type": "cas", "key": 9, "from": 3, "to": 5}));
        assert_eq!(stale["code"], 22, "{path}: {stale}");
        assert_eq!(
            ask(6, json!({"type": "read", "key": 9}))["value"],
            4,
            "{path}"
        );
        // Keys are JSON values: the string "9" is another key.
        assert_eq!(
            ask(7, json!({"type": "read", "key": "9"}))["code"],
            20,
            "{path}"
        );
        let (status, _) = node.finish();
        assert!(status.success(), "{path}: {status}");
    }
}

#[test]
fn flags_are_accepted_and_unknown_flags_rejected() {
    let accepted: [(&str, &[&str]); 3] = [
        (
            BINARIES[0],
            &["--interval-ms", "20", "--tick-ms", "40", "--timeout-ms=500"],
        ),
        (
            BINARIES[2],
            &["--interval-ms", "50", "--anti-entropy-ms=200"],
        ),
        (BINARIES[3], &["--timeout-ms", "800"]),
    ];
    for (path, args) in accepted {
        let mut node = Conversation::start(path, args);
        node.init("n0", &["n0"]);
        let (status, _) = node.finish();
        assert!(status.success(), "{path} {args:?}: {status}");
    }
    for path in BINARIES {
        let node = Conversation::start(path, &["--no-such-flag", "1"]);
        let (status, _) = node.finish();
        assert_eq!(status.code(), Some(2), "{path}");
    }
}

/// Two nodes: `kv-gossip` answers a write at once, pushes it to its peer with its stamp, and
/// keeps a gossiped value only if its stamp is higher.
#[test]
fn kv_gossip_pushes_writes_and_keeps_the_last_writer() {
    let mut node = Conversation::start(BINARIES[2], &["--interval-ms", "20"]);
    node.init("n0", &["n0", "n1"]);
    node.send(
        "c1",
        "n0",
        json!({"type": "write", "msg_id": 1, "key": "k", "value": 5}),
    );
    assert_eq!(node.reply_to("c1", 1)["body"]["type"], "write_ok");
    let (push, _) = node.recv_until(|m| m["dest"] == "n1" && m["body"]["type"] == "kv_gossip");
    let entry = &push["body"]["entries"][0];
    assert_eq!(
        (entry["key"].clone(), entry["value"].clone()),
        (json!("k"), json!(5))
    );
    assert_eq!(entry["node"], "n0");
    let ts = entry["ts"].as_u64().expect("a Lamport timestamp");
    // An older stamp loses, a newer one wins.
    for (stamp, value) in [(ts - 1, 6), (ts + 1, 7)] {
        node.send(
            "n1",
            "n0",
            json!({"type": "kv_gossip", "entries": [{"key": "k", "value": value, "ts": stamp, "node": "n1"}]}),
        );
    }
    node.send("c1", "n0", json!({"type": "read", "msg_id": 2, "key": "k"}));
    assert_eq!(node.reply_to("c1", 2)["body"]["value"], 7);
}

/// Two nodes, the peer silent: the total-order nodes cannot recover their state, so they
/// refuse every operation with error 11 (definite: it did not happen), reads included.
#[test]
fn total_order_nodes_refuse_with_error_11_until_they_have_recovered() {
    for path in [BINARIES[0], BINARIES[3]] {
        let mut node = Conversation::start(path, &[]);
        node.init("n0", &["n0", "n1"]);
        node.send(
            "c1",
            "n0",
            json!({"type": "write", "msg_id": 1, "key": 1, "value": 1}),
        );
        let (reply, mut seen) =
            node.recv_until(|m| m["dest"] == "c1" && m["body"]["in_reply_to"] == 1);
        assert_eq!(reply["body"]["code"], 11, "{path}: {reply}");
        seen.extend(node.drain(Duration::from_millis(300)));
        let peers: Vec<&Value> = seen.iter().filter(|m| m["dest"] == "n1").collect();
        assert!(!peers.is_empty(), "{path}: it asks its peer for state");
        let (status, _) = node.finish();
        assert!(status.success(), "{path}: {status}");
    }
}

//! echo, unique-ids and g-counter binaries under scripted conversations.

use std::time::Duration;

use serde_json::{Value, json};

use crate::pipe::{Conversation, protocol_checks};

fn no_services(_: &mut Conversation, _: &Value) -> bool {
    false
}

#[test]
fn echo_speaks_the_protocol() {
    protocol_checks(
        env!("CARGO_BIN_EXE_echo"),
        &[],
        json!({"type": "echo", "echo": "hello"}),
        "echo_ok",
        &no_services,
    );
}

#[test]
fn echo_returns_the_value_it_was_given() {
    let mut node = Conversation::start(env!("CARGO_BIN_EXE_echo"), &[]);
    node.init("n3", &["n1", "n3"]);
    node.send(
        "c7",
        "n3",
        json!({"type": "echo", "msg_id": 0, "echo": {"nested": [1, null]}}),
    );
    let reply = node.reply_to("c7", 0);
    assert_eq!(reply["src"], "n3");
    assert_eq!(reply["body"]["echo"], json!({"nested": [1, null]}));
}

#[test]
fn unique_ids_speaks_the_protocol() {
    protocol_checks(
        env!("CARGO_BIN_EXE_unique-ids"),
        &[],
        json!({"type": "generate"}),
        "generate_ok",
        &no_services,
    );
}

#[test]
fn unique_ids_are_unique_across_a_restart() {
    let mut ids = std::collections::BTreeSet::new();
    for _incarnation in 0..2 {
        let mut node = Conversation::start(env!("CARGO_BIN_EXE_unique-ids"), &[]);
        node.init("n0", &["n0", "n1"]);
        for i in 0..50u64 {
            node.send("c1", "n0", json!({"type": "generate", "msg_id": i}));
            let reply = node.reply_to("c1", i);
            assert!(
                ids.insert(reply["body"]["id"].to_string()),
                "duplicate {reply}"
            );
        }
        let (status, _) = node.finish();
        assert!(status.success());
    }
    assert_eq!(ids.len(), 100);
}

/// Plays a seq-kv that holds nothing but remembers the last value written.
fn seq_kv(node: &mut Conversation, msg: &Value) -> bool {
    if msg["dest"] != "seq-kv" {
        return false;
    }
    let body = &msg["body"];
    let reply = match body["type"].as_str() {
        Some("read") => json!({"type": "error", "code": 20, "text": "not found"}),
        Some("cas") => json!({"type": "cas_ok"}),
        _ => return false,
    };
    let mut reply = reply;
    reply["in_reply_to"] = body["msg_id"].clone();
    node.send("seq-kv", "n0", reply);
    true
}

#[test]
fn g_counter_speaks_the_protocol() {
    protocol_checks(
        env!("CARGO_BIN_EXE_g-counter"),
        &[],
        json!({"type": "add", "delta": 1}),
        "add_ok",
        &seq_kv,
    );
}

#[test]
fn g_counter_survives_service_errors_and_a_timeout() {
    let mut node = Conversation::start(env!("CARGO_BIN_EXE_g-counter"), &[]);
    node.init("n0", &["n0"]);
    let (load, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    assert_eq!(load["body"]["type"], "read");
    node.send(
        "seq-kv",
        "n0",
        json!({"type": "error", "code": 20, "in_reply_to": load["body"]["msg_id"]}),
    );
    node.send("c1", "n0", json!({"type": "add", "msg_id": 0, "delta": 5}));
    let (cas, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    assert_eq!(cas["body"]["type"], "cas");
    // No answer: after the RPC timeout the node reads its key back.
    let (reread, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    assert_eq!(reread["body"]["type"], "read");
    node.send(
        "seq-kv",
        "n0",
        json!({"type": "read_ok", "value": cas["body"]["to"], "in_reply_to": reread["body"]["msg_id"]}),
    );
    let ack = node.reply_to("c1", 0);
    assert_eq!(ack["body"]["type"], "add_ok");
    // Precondition failed: read back, retry on the value found.
    node.send("c1", "n0", json!({"type": "add", "msg_id": 1, "delta": 2}));
    let (cas, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    node.send(
        "seq-kv",
        "n0",
        json!({"type": "error", "code": 22, "in_reply_to": cas["body"]["msg_id"]}),
    );
    let (reread, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    let moved = json!({"sum": 9, "ver": 2, "by": "elsewhere"});
    node.send(
        "seq-kv",
        "n0",
        json!({"type": "read_ok", "value": moved, "in_reply_to": reread["body"]["msg_id"]}),
    );
    let (retry, _) = node.recv_until(|m| m["dest"] == "seq-kv");
    assert_eq!(retry["body"]["from"], moved);
    assert_eq!(retry["body"]["to"]["sum"], 11);
    node.send(
        "seq-kv",
        "n0",
        json!({"type": "cas_ok", "in_reply_to": retry["body"]["msg_id"]}),
    );
    assert_eq!(node.reply_to("c1", 1)["body"]["type"], "add_ok");
    assert!(node.drain(Duration::from_millis(100)).is_empty());
    let (status, _) = node.finish();
    assert!(status.success());
}

#[test]
fn node_programs_answer_help_with_their_flags_and_refuse_unknown_ones() {
    for (bin, flag) in [
        (env!("CARGO_BIN_EXE_broadcast-gossip"), "--fanout N"),
        (env!("CARGO_BIN_EXE_broadcast-eager"), "--interval-ms N"),
        (env!("CARGO_BIN_EXE_lin-kv-tob"), "--timeout-ms N"),
        (env!("CARGO_BIN_EXE_echo"), "-h, --help"),
    ] {
        for ask in ["--help", "-h"] {
            let out = std::process::Command::new(bin).arg(ask).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{bin} {ask}");
            assert!(
                text.contains(flag) && text.contains("Usage:"),
                "{bin} {ask}:\n{text}"
            );
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_broadcast-gossip"))
        .arg("--nonsense")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known flags: --peers"));
}

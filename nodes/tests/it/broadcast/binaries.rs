//! The six broadcast binaries under scripted conversations on stdin/stdout.

use serde_json::{Value, json};

use crate::pipe::{Conversation, protocol_checks};

const BINARIES: [&str; 6] = [
    env!("CARGO_BIN_EXE_broadcast-eager"),
    env!("CARGO_BIN_EXE_broadcast-gossip"),
    env!("CARGO_BIN_EXE_broadcast-fifo"),
    env!("CARGO_BIN_EXE_broadcast-causal"),
    env!("CARGO_BIN_EXE_broadcast-total-leader"),
    env!("CARGO_BIN_EXE_broadcast-total-lamport"),
];

fn no_services(_: &mut Conversation, _: &Value) -> bool {
    false
}

#[test]
fn every_broadcast_binary_speaks_the_protocol() {
    for path in BINARIES {
        protocol_checks(path, &[], json!({"type": "read"}), "read_ok", &no_services);
    }
}

/// A one-node cluster: init, topology, two broadcasts, a read, end of input.
#[test]
fn every_broadcast_binary_serves_a_small_conversation() {
    for path in BINARIES {
        let mut node = Conversation::start(path, &[]);
        node.init("n0", &["n0"]);
        node.send(
            "c0",
            "n0",
            json!({"type": "topology", "msg_id": 1, "topology": {"n0": []}}),
        );
        assert_eq!(
            node.reply_to("c0", 1)["body"]["type"],
            "topology_ok",
            "{path}"
        );
        for (msg_id, value) in [(2, json!(7)), (3, json!({"any": "json"}))] {
            node.send(
                "c1",
                "n0",
                json!({"type": "broadcast", "msg_id": msg_id, "message": value}),
            );
            let reply = node.reply_to("c1", msg_id);
            assert_eq!(reply["body"]["type"], "broadcast_ok", "{path}: {reply}");
        }
        node.send("c1", "n0", json!({"type": "read", "msg_id": 4}));
        let read = node.reply_to("c1", 4);
        assert_eq!(
            read["body"]["messages"],
            json!([7, {"any": "json"}]),
            "{path}"
        );
        let (status, _) = node.finish();
        assert!(status.success(), "{path}: {status}");
    }
}

#[test]
fn flags_are_accepted_and_unknown_flags_rejected() {
    let accepted: [(&str, &[&str]); 4] = [
        (
            BINARIES[1],
            &[
                "--fanout",
                "4",
                "--interval-ms",
                "100",
                "--anti-entropy-ms=500",
            ],
        ),
        (BINARIES[1], &["--peers", "random", "--fanout", "2"]),
        (BINARIES[0], &["--interval-ms", "50"]),
        (BINARIES[5], &["--interval-ms", "20", "--tick-ms", "40"]),
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

#[test]
fn a_bad_flag_value_is_named_and_refused() {
    let out = std::process::Command::new(BINARIES[1])
        .args(["--peers", "ring"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running broadcast-gossip");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--peers takes tree or random"), "{stderr}");
}

/// Two nodes: the eager node batches the message to its peer and answers the client only
/// once the peer acknowledges it.
#[test]
fn eager_binary_answers_once_its_peer_acknowledges() {
    let mut node = Conversation::start(BINARIES[0], &["--interval-ms", "20"]);
    node.init("n0", &["n0", "n1"]);
    node.send(
        "c1",
        "n0",
        json!({"type": "broadcast", "msg_id": 1, "message": 42}),
    );
    let (batch, skipped) = node.recv_until(|m| {
        m["dest"] == "n1"
            && m["body"]["type"] == "batch"
            && m["body"]["items"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert!(
        skipped.iter().all(|m| m["body"]["in_reply_to"] != 1),
        "answered before the peer held it: {skipped:?}"
    );
    let item = &batch["body"]["items"][0];
    assert_eq!(item[1]["value"], 42);
    let session = &batch["body"]["session"];
    node.send(
        "n1",
        "n0",
        json!({"type": "batch", "session": 5, "acks": [{"session": session, "seqs": [[item[0], item[0]]]}]}),
    );
    assert_eq!(node.reply_to("c1", 1)["body"]["type"], "broadcast_ok");
}

/// Three nodes: the FIFO node refuses clients until it has recovered from its peers.
#[test]
fn fifo_binary_recovers_from_its_peers_before_serving() {
    let mut node = Conversation::start(BINARIES[2], &[]);
    node.init("n0", &["n0", "n1", "n2"]);
    node.send("c1", "n0", json!({"type": "read", "msg_id": 1}));
    let (reply, skipped) = node.recv_until(|m| m["body"]["in_reply_to"] == 1 && m["dest"] == "c1");
    assert_eq!(reply["body"]["code"], 11, "{reply}");
    let syncs: Vec<Value> = skipped
        .into_iter()
        .filter(|m| m["body"]["type"] == "sync")
        .collect();
    assert_eq!(syncs.len(), 2, "{syncs:?}");
    for sync in &syncs {
        node.send(
            sync["dest"].as_str().unwrap_or_default(),
            "n0",
            json!({"type": "sync_ok", "in_reply_to": sync["body"]["msg_id"], "ready": false, "origins": [], "entries": [], "more": false}),
        );
    }
    let (generation, _) = node.recv_until(|m| m["dest"] == "n1" && m["body"]["type"] == "batch");
    assert_eq!(generation["body"]["items"][0][1]["type"], "generation");
    let session = &generation["body"]["session"];
    node.send(
        "n1",
        "n0",
        json!({"type": "batch", "session": 9, "acks": [{"session": session, "seqs": [[0, 0]]}]}),
    );
    // Lines are handled in order: the read comes after the acknowledgement.
    node.send("c1", "n0", json!({"type": "read", "msg_id": 2}));
    assert_eq!(node.reply_to("c1", 2)["body"]["type"], "read_ok");
}

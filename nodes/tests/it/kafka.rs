//! The kafka nodes in the simulated cluster: the replicated log gives every message one offset
//! at every node, through a partition too; the racy node gives two messages one offset.

use std::collections::BTreeMap;
use std::time::Duration;

use nodes::kafka::racy::RacyOffsets;
use nodes::kafka::replicated::Replicated;
use nodes::sim::Cluster;
use nodes::{Node, kv::tob::TobKvConfig};
use proto::{Message, Payload};
use serde_json::{Value, json};

/// Run until `client`'s request `msg_id` is answered, or `limit` of virtual time passes.
fn answer<N: Node>(
    c: &mut Cluster<N>,
    client: &str,
    msg_id: u64,
    limit: Duration,
) -> Option<Message> {
    let until = c.now() + limit;
    while c.reply_to(client, msg_id).is_none() && c.now() < until {
        if !c.step() {
            break;
        }
    }
    c.reply_to(client, msg_id).cloned()
}

fn send(key: &str, msg: u64) -> Value {
    json!({"type": "send", "key": key, "msg": msg})
}

fn offset_of(reply: &Message) -> Option<u64> {
    match reply.body.payload {
        Payload::SendOk { offset } => Some(offset),
        _ => None,
    }
}

/// What `node` returns for a poll of `key` from offset 0.
fn poll_all<N: Node>(c: &mut Cluster<N>, node: &str, key: &str) -> Vec<(u64, Value)> {
    let id = c.request("c9", node, &json!({"type": "poll", "offsets": {key: 0}}));
    let reply = answer(c, "c9", id, Duration::from_secs(5)).expect("a poll is answered");
    match reply.body.payload {
        Payload::PollOk { mut msgs } => msgs.remove(key).unwrap_or_default(),
        other => panic!("expected poll_ok, got {other:?}"),
    }
}

fn replicated(nodes: usize, seed: u64) -> Cluster<Replicated> {
    Cluster::new(nodes, seed, Duration::from_millis(10), |_| {
        Replicated::new(TobKvConfig::default())
    })
}

/// Total order broadcast gives one order of the sends to every node (course 4.2), so every
/// node gives each message the same offset.
#[test]
fn replicated_sends_to_one_key_at_every_node_get_one_offset_each_everywhere() {
    let mut c = replicated(3, 1);
    // Recovery after the start: the nodes exchange their logs before they serve.
    c.run_for(Duration::from_secs(2));
    let mut ids = Vec::new();
    for (i, node) in ["n0", "n1", "n2", "n0", "n1", "n2"].iter().enumerate() {
        let client = format!("c{i}");
        let id = c.request(&client, node, &send("k", i as u64 + 1));
        ids.push((client, id));
    }
    let mut offsets: Vec<u64> = ids
        .iter()
        .map(|(client, id)| {
            let reply = answer(&mut c, client, *id, Duration::from_secs(5)).expect("answered");
            offset_of(&reply).unwrap_or_else(|| panic!("{reply:?}"))
        })
        .collect();
    offsets.sort_unstable();
    assert_eq!(
        offsets,
        vec![0, 1, 2, 3, 4, 5],
        "dense, one offset per message"
    );
    c.run_for(Duration::from_secs(1));
    let logs: Vec<Vec<(u64, Value)>> = ["n0", "n1", "n2"]
        .iter()
        .map(|n| poll_all(&mut c, n, "k"))
        .collect();
    assert_eq!(logs[0].len(), 6, "{logs:?}");
    assert!(logs.iter().all(|l| *l == logs[0]), "{logs:?}");
}

/// A partition stalls the order, but a send is never acknowledged at an offset another node
/// gives to another message, and after the heal every node holds every message.
#[test]
fn replicated_under_a_partition_stalls_then_agrees() {
    let mut c = replicated(2, 2);
    // Recovery after the start: the nodes exchange their logs before they serve.
    c.run_for(Duration::from_secs(2));
    let before = c.request("c1", "n0", &send("k", 1));
    assert_eq!(
        answer(&mut c, "c1", before, Duration::from_secs(5))
            .as_ref()
            .and_then(offset_of),
        Some(0)
    );
    c.partition(&["n0"], &["n1"]);
    let a = c.request("c1", "n0", &send("k", 2));
    let b = c.request("c2", "n1", &send("k", 3));
    let stalled = answer(&mut c, "c1", a, Duration::from_secs(5)).expect("answered");
    assert_eq!(
        stalled.body.error_code().map(|e| e.code()),
        Some(0),
        "indefinite: the send is in the order: {stalled:?}"
    );
    // Polls go on from the local copy meanwhile.
    assert_eq!(poll_all(&mut c, "n1", "k"), vec![(0, json!(1))]);
    c.heal();
    c.run_for(Duration::from_secs(3));
    let n0 = poll_all(&mut c, "n0", "k");
    let n1 = poll_all(&mut c, "n1", "k");
    assert_eq!(n0, n1);
    let msgs: BTreeMap<u64, Value> = n0.into_iter().collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(c.reply_to("c2", b).is_some());
    // Commits only go forward, and a list after a commit sees it.
    let commit = c.request(
        "c1",
        "n0",
        &json!({"type": "commit_offsets", "offsets": {"k": 2}}),
    );
    assert!(
        answer(&mut c, "c1", commit, Duration::from_secs(5))
            .is_some_and(|r| r.body.kind() == "commit_offsets_ok")
    );
    let lower = c.request(
        "c2",
        "n1",
        &json!({"type": "commit_offsets", "offsets": {"k": 1}}),
    );
    answer(&mut c, "c2", lower, Duration::from_secs(5)).expect("answered");
    let list = c.request(
        "c3",
        "n1",
        &json!({"type": "list_committed_offsets", "keys": ["k", "x"]}),
    );
    let listed = answer(&mut c, "c3", list, Duration::from_secs(5)).expect("answered");
    assert_eq!(
        listed.body.payload,
        Payload::ListCommittedOffsetsOk {
            offsets: BTreeMap::from([("k".to_owned(), 2)])
        }
    );
}

/// Each node numbering the messages it accepts by itself: two concurrent sends to one key at
/// two nodes get the same offset, and the nodes disagree about what that offset holds.
#[test]
fn racy_offsets_give_two_messages_one_offset() {
    let mut c = Cluster::new(2, 3, Duration::from_millis(10), |_| RacyOffsets::default());
    let a = c.request("c1", "n0", &send("k", 1));
    let b = c.request("c2", "n1", &send("k", 2));
    let offset = |c: &mut Cluster<RacyOffsets>, client: &str, id: u64| {
        answer(c, client, id, Duration::from_secs(1))
            .as_ref()
            .and_then(offset_of)
    };
    assert_eq!(offset(&mut c, "c1", a), Some(0));
    assert_eq!(offset(&mut c, "c2", b), Some(0));
    c.run_for(Duration::from_secs(1));
    assert_eq!(poll_all(&mut c, "n0", "k"), vec![(0, json!(1))]);
    assert_eq!(poll_all(&mut c, "n1", "k"), vec![(0, json!(2))]);
}

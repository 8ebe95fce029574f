//! One node under a scripted conversation: the test plays its peers, so every message the
//! node receives is chosen and every message it sends is checked. Covers each algorithm's
//! hold-back logic, duplicate dropping, and the moment `broadcast_ok` is sent.

use std::collections::BTreeMap;
use std::time::Duration;

use nodes::broadcast::causal::Causal;
use nodes::broadcast::eager::Eager;
use nodes::broadcast::fifo::Fifo;
use nodes::broadcast::gossip::{GossipConfig, GossipNode, Peers};
use nodes::broadcast::quorum::{QuorumConfig, Watermark};
use nodes::broadcast::total_lamport::{TotalLamport, TotalOrderConfig};
use nodes::broadcast::total_leader::TotalLeader;
use nodes::broadcast::{Algorithm, Service};
use nodes::{Effect, Runtime};
use proto::{Body, Message};
use serde_json::{Value, json};

/// The node's incarnation, hence its link session.
const SESSION: u64 = 1;

fn body(value: Value) -> Body {
    serde_json::from_value(value).expect("test bodies parse")
}

fn sends(effects: Vec<Effect>) -> Vec<Message> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// The session a peer's link uses in these scripts.
fn session_of(peer: &str) -> u64 {
    100 + peer.trim_start_matches('n').parse::<u64>().unwrap_or(0)
}

struct Script<A: Algorithm> {
    rt: Runtime<Service<A>>,
    me: String,
    now: Duration,
    next_client_msg: u64,
    /// The next link sequence number each peer uses.
    seqs: BTreeMap<String, u64>,
}

impl<A: Algorithm> Script<A> {
    /// Start `algorithm` as `me` in a cluster of `nodes`; returns what `init` made it send.
    fn start(algorithm: A, me: &str, nodes: &[&str]) -> (Self, Vec<Message>) {
        let mut rt = Runtime::new(Service::new(algorithm), 7, SESSION);
        let init = body(json!({"type": "init", "msg_id": 0, "node_id": me, "node_ids": nodes}));
        let sent = sends(rt.handle_message(Duration::ZERO, Message::new("c0", me, init)));
        let script = Script {
            rt,
            me: me.to_owned(),
            now: Duration::ZERO,
            next_client_msg: 1,
            seqs: BTreeMap::new(),
        };
        (script, sent)
    }

    /// `from` sends the node `body`; returns what the node sends in response.
    fn handle(&mut self, from: &str, value: Value) -> Vec<Message> {
        let msg = Message::new(from, self.me.clone(), body(value));
        sends(self.rt.handle_message(self.now, msg))
    }

    /// Let `by` pass; returns what the node's timers made it send.
    fn advance(&mut self, by: Duration) -> Vec<Message> {
        self.now += by;
        sends(self.rt.advance(self.now))
    }

    /// `from`'s link sends these items, numbered after its previous ones.
    fn items(&mut self, from: &str, items: Vec<Value>) -> Vec<Message> {
        let next = self.seqs.entry(from.to_owned()).or_insert(0);
        let numbered: Vec<Value> = items
            .into_iter()
            .map(|item| {
                let pair = json!([*next, item]);
                *next += 1;
                pair
            })
            .collect();
        self.handle(
            from,
            json!({"type": "batch", "session": session_of(from), "items": numbered}),
        )
    }

    /// `from` acknowledges the node's link items `first..=last`.
    fn ack(&mut self, from: &str, first: u64, last: u64) -> Vec<Message> {
        self.handle(
            from,
            json!({"type": "batch", "session": session_of(from), "acks": [{"session": SESSION, "seqs": [[first, last]]}]}),
        )
    }

    /// A client broadcast; returns its `msg_id` and what the node sent at once.
    fn broadcast(&mut self, value: Value) -> (u64, Vec<Message>) {
        let id = self.next_client_msg;
        self.next_client_msg += 1;
        let sent = self.handle(
            "c9",
            json!({"type": "broadcast", "msg_id": id, "message": value}),
        );
        (id, sent)
    }

    /// A client read: the delivered values.
    fn read(&mut self) -> Vec<Value> {
        let id = self.next_client_msg;
        self.next_client_msg += 1;
        let sent = self.handle("c9", json!({"type": "read", "msg_id": id}));
        let reply = sent
            .iter()
            .find(|m| m.body.in_reply_to == Some(id))
            .expect("reads are answered at once");
        let body = reply.body.to_value();
        assert_eq!(body["type"], "read_ok", "{body}");
        body["messages"].as_array().cloned().unwrap_or_default()
    }

    fn algorithm(&self) -> &A {
        self.rt.node().algorithm()
    }
}

fn replied_ok(sent: &[Message], msg_id: u64) -> bool {
    sent.iter()
        .any(|m| m.body.in_reply_to == Some(msg_id) && m.body.kind() == "broadcast_ok")
}

fn entry(generation: u64, pos: u64, body: Value) -> Value {
    json!({"type": "entry", "gen": generation, "pos": pos, "body": body})
}

fn stable(generation: u64, upto: u64) -> Value {
    json!({"type": "stable", "gen": generation, "upto": upto})
}

fn committed(generation: u64, upto: u64) -> Value {
    json!({"type": "committed", "gen": generation, "upto": upto})
}

/// Take a quorum node through recovery in a cluster that is just starting: every peer
/// answers the sync as a recovering node with nothing, and the first peer acknowledges the
/// new generation. Checks the messages on the way.
fn recover_fresh<A: Algorithm>(script: &mut Script<A>, init_sent: &[Message]) {
    let syncs: Vec<&Message> = init_sent
        .iter()
        .filter(|m| m.body.kind() == "sync")
        .collect();
    let peers: Vec<String> = syncs.iter().map(|m| m.dest.clone()).collect();
    assert!(
        !peers.is_empty(),
        "a quorum node starts by asking its peers: {init_sent:?}"
    );
    let answer =
        json!({"type": "sync_ok", "ready": false, "origins": [], "entries": [], "more": false});
    for sync in &syncs {
        let mut reply = answer.clone();
        reply["in_reply_to"] = json!(sync.body.msg_id);
        script.handle(&sync.dest, reply);
    }
    assert_eq!(
        script.read_error_code(),
        Some(11),
        "not serving before the generation is held"
    );
    // The generation goes out on the links at the next batch.
    let announced = script.advance(Duration::from_millis(10));
    assert_eq!(announced.len(), peers.len(), "{announced:?}");
    for m in &announced {
        let batch = m.body.to_value();
        assert_eq!(
            batch["items"],
            json!([[0, {"type": "generation", "gen": 1, "known": []}]])
        );
    }
    script.ack(&peers[0], 0, 0);
    assert!(
        script.rt.node().serving(),
        "one peer plus itself is a majority of three"
    );
}

impl<A: Algorithm> Script<A> {
    fn read_error_code(&mut self) -> Option<u64> {
        let id = self.next_client_msg;
        self.next_client_msg += 1;
        let sent = self.handle("c9", json!({"type": "read", "msg_id": id}));
        sent.iter()
            .find(|m| m.body.in_reply_to == Some(id))
            .and_then(|m| m.body.to_value()["code"].as_u64())
    }
}

const THREE: [&str; 3] = ["n0", "n1", "n2"];

/// A Lamport node with the timings these scripts assume: links batching every 10 ms, a tick
/// at most every 20 ms.
fn lamport() -> TotalLamport {
    TotalLamport::new(TotalOrderConfig {
        quorum: QuorumConfig::new(Watermark::Stable),
        tick: Duration::from_millis(20),
    })
}

#[test]
fn fifo_holds_a_message_until_every_earlier_one_of_its_origin_is_delivered() {
    let (mut s, sent) = Script::start(Fifo::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    // n1's messages 0 and 2 arrive, both stable; 1 is missing.
    s.items(
        "n1",
        vec![entry(1, 0, json!(10)), entry(1, 2, json!(12)), stable(1, 3)],
    );
    assert_eq!(s.read(), vec![json!(10)]);
    assert_eq!(s.algorithm().held_back(), 1, "2 waits for 1");
    s.items("n1", vec![entry(1, 1, json!(11))]);
    assert_eq!(s.read(), vec![json!(10), json!(11), json!(12)]);
    assert_eq!(s.algorithm().held_back(), 0);
}

#[test]
fn fifo_delivers_nothing_that_no_majority_is_known_to_hold() {
    let (mut s, sent) = Script::start(Fifo::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    s.items("n1", vec![entry(1, 0, json!(10))]);
    assert!(s.read().is_empty(), "not yet announced stable");
    s.items("n1", vec![stable(1, 1)]);
    assert_eq!(s.read(), vec![json!(10)]);
}

#[test]
fn fifo_drops_duplicates_at_the_link_and_at_the_log() {
    let (mut s, sent) = Script::start(Fifo::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    s.items("n1", vec![entry(1, 0, json!(10)), stable(1, 1)]);
    // The same link item again (its acknowledgement was lost): link de-duplication.
    s.handle(
        "n1",
        json!({"type": "batch", "session": session_of("n1"), "items": [[0, entry(1, 0, json!(10))]]}),
    );
    // The same entry under a new link number (resent by a restarted link): log de-duplication.
    s.items("n1", vec![entry(1, 0, json!(10)), stable(1, 1)]);
    assert_eq!(s.read(), vec![json!(10)]);
    // Every copy is acknowledged, so that n1 stops sending it.
    let out = s.advance(Duration::from_millis(10));
    let to_n1: Vec<Value> = out
        .iter()
        .filter(|m| m.dest == "n1")
        .map(|m| m.body.to_value())
        .collect();
    assert_eq!(to_n1.len(), 1);
    assert_eq!(
        to_n1[0]["acks"],
        json!([{"session": session_of("n1"), "seqs": [[0, 3]]}])
    );
}

#[test]
fn fifo_acknowledges_a_broadcast_once_a_majority_holds_it() {
    let (mut s, sent) = Script::start(Fifo::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    let (id, at_once) = s.broadcast(json!(5));
    assert!(!replied_ok(&at_once, id));
    let out = s.advance(Duration::from_millis(10));
    // To each peer: the entry, link number 1 (0 was the generation).
    for m in &out {
        assert_eq!(
            m.body.to_value()["items"],
            json!([[1, entry(1, 0, json!(5))]]),
            "{m:?}"
        );
    }
    let sent = s.ack("n2", 1, 1);
    assert!(replied_ok(&sent, id), "n0 and n2 hold it: {sent:?}");
    assert_eq!(s.read(), vec![json!(5)]);
}

#[test]
fn causal_holds_a_message_until_its_dependencies_are_delivered() {
    let (mut s, sent) = Script::start(Causal::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    // n1 had delivered n2's first message when it broadcast 20.
    s.items(
        "n1",
        vec![
            entry(1, 0, json!({"deps": {"n2": 1}, "value": 20})),
            committed(1, 1),
        ],
    );
    assert!(s.read().is_empty());
    assert_eq!(s.algorithm().held_back(), 1);
    s.items(
        "n2",
        vec![
            entry(1, 0, json!({"deps": {}, "value": 30})),
            committed(1, 1),
        ],
    );
    assert_eq!(s.read(), vec![json!(30), json!(20)]);
    assert_eq!(s.algorithm().counts().get("n1"), 1);
    assert_eq!(s.algorithm().counts().get("n2"), 1);
}

#[test]
fn causal_waits_for_the_committed_watermark_not_the_stable_one() {
    let (mut s, sent) = Script::start(Causal::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    s.items(
        "n1",
        vec![entry(1, 0, json!({"deps": {}, "value": 1})), stable(1, 1)],
    );
    assert!(
        s.read().is_empty(),
        "held by a majority, but not yet known to be"
    );
    s.items("n1", vec![committed(1, 1)]);
    assert_eq!(s.read(), vec![json!(1)]);
}

#[test]
fn causal_broadcasts_carry_what_the_origin_had_delivered() {
    let (mut s, sent) = Script::start(Causal::default(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    s.items(
        "n2",
        vec![
            entry(1, 0, json!({"deps": {}, "value": 30})),
            committed(1, 1),
        ],
    );
    s.broadcast(json!(31));
    let out = s.advance(Duration::from_millis(10));
    let to_n1 = out.iter().find(|m| m.dest == "n1").expect("sent to n1");
    let items = &to_n1.body.to_value()["items"];
    assert_eq!(
        items[0][1],
        entry(1, 0, json!({"deps": {"n2": 1}, "value": 31}))
    );
}

#[test]
fn total_leader_followers_hold_an_out_of_order_sequence_number() {
    let (mut s, sent) = Script::start(TotalLeader::default(), "n1", &THREE);
    recover_fresh(&mut s, &sent);
    let sequenced = |value: i64| json!({"id": ["n2", 9, value], "value": value});
    s.items("n0", vec![entry(1, 1, sequenced(41)), stable(1, 2)]);
    assert!(s.read().is_empty());
    assert_eq!(s.algorithm().held_back(), 1);
    s.items("n0", vec![entry(1, 0, sequenced(40))]);
    assert_eq!(s.read(), vec![json!(40), json!(41)]);
    // The same sequence number again changes nothing.
    s.items("n0", vec![entry(1, 0, sequenced(40)), stable(1, 2)]);
    assert_eq!(s.read(), vec![json!(40), json!(41)]);
}

#[test]
fn total_leader_followers_forward_to_the_leader_and_answer_once_sequenced() {
    let (mut s, sent) = Script::start(TotalLeader::default(), "n1", &THREE);
    recover_fresh(&mut s, &sent);
    let (id, at_once) = s.broadcast(json!("v"));
    let forward: Vec<Value> = at_once
        .iter()
        .filter(|m| m.dest == "n0")
        .map(|m| m.body.to_value())
        .collect();
    assert_eq!(
        forward,
        vec![json!({"type": "forward", "id": ["n1", SESSION, 0], "value": "v"})]
    );
    let sent = s.items(
        "n0",
        vec![
            entry(1, 0, json!({"id": ["n1", SESSION, 0], "value": "v"})),
            stable(1, 1),
        ],
    );
    assert!(replied_ok(&sent, id));
    assert_eq!(s.read(), vec![json!("v")]);
}

#[test]
fn total_lamport_delivers_nothing_until_every_node_is_heard_above_the_timestamp() {
    let (mut s, sent) = Script::start(lamport(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    s.items(
        "n1",
        vec![entry(1, 0, json!({"ts": 5, "payload": 50})), stable(1, 1)],
    );
    assert!(s.read().is_empty(), "nothing heard from n0 or n2 above 5");
    // n0 has seen a timestamp at or above its last: it ticks (after `--tick-ms`, 20), and
    // the tick goes out with the next batch; it too must become stable.
    let mut out = s.advance(Duration::from_millis(20));
    out.extend(s.advance(Duration::from_millis(10)));
    let batch = out
        .iter()
        .map(|m| m.body.to_value())
        .find(|b| b["items"].as_array().is_some_and(|items| !items.is_empty()))
        .expect("the tick is sent");
    let item = &batch["items"][0][1];
    assert_eq!(item["type"], "entry");
    assert_eq!(item["pos"], 0);
    assert!(
        item["body"]["ts"].as_u64().is_some_and(|ts| ts > 5),
        "{item}"
    );
    assert!(
        item["body"].get("payload").is_none(),
        "a tick has no payload: {item}"
    );
    s.ack("n1", 1, 1);
    assert!(s.read().is_empty(), "still nothing heard from n2");
    s.items("n2", vec![entry(1, 0, json!({"ts": 4})), stable(1, 1)]);
    assert!(s.read().is_empty(), "n2 heard at 4, not above 5");
    s.items("n2", vec![entry(1, 1, json!({"ts": 6})), stable(1, 2)]);
    assert_eq!(s.read(), vec![json!(50)]);
    assert_eq!(s.algorithm().order().held_back(), 0);
}

#[test]
fn total_lamport_orders_by_timestamp_then_origin() {
    let (mut s, sent) = Script::start(lamport(), "n0", &THREE);
    recover_fresh(&mut s, &sent);
    // n2's 7 and n1's 7 tie: n1 goes first. n1's 3 precedes both.
    s.items(
        "n2",
        vec![
            entry(1, 0, json!({"ts": 7, "payload": "c"})),
            entry(1, 1, json!({"ts": 90})),
            stable(1, 2),
        ],
    );
    s.items(
        "n1",
        vec![
            entry(1, 0, json!({"ts": 3, "payload": "a"})),
            entry(1, 1, json!({"ts": 7, "payload": "b"})),
            entry(1, 2, json!({"ts": 91})),
            stable(1, 3),
        ],
    );
    s.advance(Duration::from_millis(20));
    s.advance(Duration::from_millis(10));
    s.ack("n1", 1, 1);
    assert_eq!(s.read(), vec![json!("a"), json!("b"), json!("c")]);
}

#[test]
fn eager_relays_a_message_once_and_drops_copies() {
    let (mut s, _) = Script::start(Eager::default(), "n0", &THREE);
    let item = json!({"id": ["n1", 4, 0], "value": 7});
    s.items("n1", vec![item.clone()]);
    assert_eq!(s.read(), vec![json!(7)]);
    let out = s.advance(Duration::from_millis(250));
    let to_n2 = out.iter().find(|m| m.dest == "n2").expect("relayed to n2");
    assert_eq!(to_n2.body.to_value()["items"], json!([[0, item.clone()]]));
    let to_n1 = out
        .iter()
        .find(|m| m.dest == "n1")
        .expect("acknowledged to n1");
    // As the textbook has it, back to the sender too (a node does not know who holds a
    // message), with the acknowledgement: n(n-1) copies in all.
    assert_eq!(to_n1.body.to_value()["items"], json!([[0, item.clone()]]));
    assert!(to_n1.body.to_value()["acks"] != json!([]), "{to_n1:?}");
    // n2 relays it too: a copy, dropped, and not relayed again.
    s.items("n2", vec![item]);
    assert_eq!(s.read(), vec![json!(7)]);
    let out = s.advance(Duration::from_millis(250));
    assert!(
        out.iter().all(|m| m.body.to_value()["items"] == json!([])),
        "{out:?}"
    );
}

#[test]
fn eager_acknowledges_once_another_node_holds_the_message() {
    let (mut s, _) = Script::start(Eager::default(), "n0", &THREE);
    let (id, at_once) = s.broadcast(json!(1));
    assert!(!replied_ok(&at_once, id));
    let out = s.advance(Duration::from_millis(250));
    assert_eq!(out.iter().filter(|m| m.body.kind() == "batch").count(), 2);
    let sent = s.ack("n2", 0, 0);
    assert!(replied_ok(&sent, id));
}

#[test]
fn gossip_stores_at_the_parent_and_answers_when_acknowledged() {
    let (mut s, _) = Script::start(GossipNode::default(), "n2", &THREE);
    let (id, at_once) = s.broadcast(json!(3));
    let store: Vec<Value> = at_once
        .iter()
        .filter(|m| m.dest == "n0")
        .map(|m| m.body.to_value())
        .collect();
    assert_eq!(
        store,
        vec![json!({"type": "store", "items": [{"id": ["n2", SESSION, 0], "value": 3}]})]
    );
    let sent = s.handle("n0", json!({"type": "push", "acks": [["n2", SESSION, 0]]}));
    assert!(replied_ok(&sent, id));
}

#[test]
fn gossip_delivers_once_whether_by_push_or_anti_entropy() {
    let (mut s, _) = Script::start(GossipNode::default(), "n0", &THREE);
    let item = json!({"id": ["n1", 2, 0], "value": 9});
    s.handle("n1", json!({"type": "store", "items": [item.clone()]}));
    s.handle("n2", json!({"type": "delta", "items": [item.clone()]}));
    s.handle("n1", json!({"type": "push", "items": [item]}));
    assert_eq!(s.read(), vec![json!(9)]);
    // The root pushes it to its other child, and acknowledges the store to n1.
    let out = s.advance(GossipConfig::default().interval);
    let pushes: BTreeMap<String, Value> = out
        .iter()
        .filter(|m| m.body.kind() == "push")
        .map(|m| (m.dest.clone(), m.body.to_value()))
        .collect();
    assert_eq!(pushes["n1"]["acks"], json!([["n1", 2, 0]]));
    assert_eq!(pushes["n1"]["items"], json!([]));
    assert_eq!(
        pushes["n2"]["items"],
        json!([{"id": ["n1", 2, 0], "value": 9}])
    );
}

#[test]
fn gossip_with_random_peers_pushes_news_to_fanout_peers_other_than_its_source() {
    let config = GossipConfig {
        peers: Peers::Random,
        fanout: 2,
        ..GossipConfig::default()
    };
    let five = ["n0", "n1", "n2", "n3", "n4"];
    let (mut s, _) = Script::start(GossipNode::new(config), "n0", &five);
    let item = json!({"id": ["n1", 2, 0], "value": 9});
    s.handle("n1", json!({"type": "push", "items": [item.clone()]}));
    s.handle("n2", json!({"type": "push", "items": [item.clone()]}));
    assert_eq!(s.read(), vec![json!(9)]);
    let out = s.advance(GossipConfig::default().interval);
    let pushes: BTreeMap<String, Value> = out
        .iter()
        .filter(|m| m.body.kind() == "push")
        .map(|m| (m.dest.clone(), m.body.to_value()))
        .collect();
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    for (dest, push) in &pushes {
        assert!(dest == "n3" || dest == "n4", "pushed back to {dest}");
        assert_eq!(push["items"], json!([item]));
    }
    // Infect and die: the next interval pushes nothing more.
    let later = s.advance(GossipConfig::default().interval);
    assert!(later.iter().all(|m| m.body.kind() != "push"), "{later:?}");
}

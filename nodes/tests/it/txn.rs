//! The transactional nodes, built from the catalog by name, under scripted conversations: a
//! hand-driven network where the test decides which message arrives when (so each node's
//! defining behaviour shows deterministically), the simulated cluster for partitions, and the
//! real binaries on stdin/stdout.

use std::collections::BTreeMap;
use std::time::Duration;

use nodes::catalog::{self, BoxedNode};
use nodes::sim::Cluster;
use nodes::{Runtime, sends};
use proto::{Body, ErrorCode, Message, Payload};
use serde_json::{Value, json};

use crate::pipe::{Conversation, protocol_checks};

/// Nodes `n0 ..` of one catalog entry, and a network that delivers only what the test says.
struct Net {
    nodes: BTreeMap<String, Runtime<BoxedNode>>,
    now: Duration,
    /// Node-to-node messages sent and not yet delivered or dropped, in send order.
    in_flight: Vec<Message>,
    /// Messages to clients, in send order.
    to_clients: Vec<Message>,
    next_msg_id: u64,
}

impl Net {
    fn new(name: &str, args: &[&str], count: usize) -> Net {
        let ids: Vec<String> = (0..count).map(|i| format!("n{i}")).collect();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let mut net = Net {
            nodes: BTreeMap::new(),
            now: Duration::ZERO,
            in_flight: Vec::new(),
            to_clients: Vec::new(),
            next_msg_id: 1,
        };
        for id in &ids {
            let node = catalog::build(name, &args).expect("the catalog builds it");
            let mut rt = Runtime::new(node, 7, 1);
            let init = Body::new(Payload::Init {
                node_id: id.clone(),
                node_ids: ids.clone(),
            });
            let init = Body {
                msg_id: Some(0),
                ..init
            };
            let effects = rt.handle_message(Duration::ZERO, Message::new("c0", id, init));
            net.nodes.insert(id.clone(), rt);
            net.collect(&effects);
        }
        net.to_clients.clear();
        net
    }

    fn collect(&mut self, effects: &[nodes::Effect]) {
        for msg in sends(effects) {
            if self.nodes.contains_key(&msg.dest) {
                self.in_flight.push(msg.clone());
            } else {
                self.to_clients.push(msg.clone());
            }
        }
    }

    fn hand(&mut self, msg: Message) {
        let dest = msg.dest.clone();
        let rt = self.nodes.get_mut(&dest).expect("a node");
        let effects = rt.handle_message(self.now, msg);
        self.collect(&effects);
    }

    /// Client `client` sends `txn` to `node`; returns the request's msg_id.
    fn txn(&mut self, client: &str, node: &str, txn: Value) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        let body = json!({"type": "txn", "msg_id": msg_id, "txn": txn});
        self.hand(Message::new(
            client,
            node,
            serde_json::from_value::<Body>(body).unwrap(),
        ));
        msg_id
    }

    /// The answer `client` got to `msg_id`, if any.
    fn answer(&self, client: &str, msg_id: u64) -> Option<&Payload> {
        self.to_clients
            .iter()
            .find(|m| m.dest == client && m.body.in_reply_to == Some(msg_id))
            .map(|m| &m.body.payload)
    }

    /// The `txn` of the `txn_ok` that answered `msg_id`.
    fn txn_ok(&self, client: &str, msg_id: u64) -> Value {
        match self.answer(client, msg_id) {
            Some(Payload::TxnOk { txn }) => serde_json::to_value(txn).unwrap(),
            other => panic!("expected txn_ok to {client}'s {msg_id}, got {other:?}"),
        }
    }

    fn error_code(&self, client: &str, msg_id: u64) -> Option<ErrorCode> {
        match self.answer(client, msg_id) {
            Some(Payload::Error { code, .. }) => Some(*code),
            _ => None,
        }
    }

    /// Run a transaction that reads `keys` at `node` and return what it read.
    fn read(&mut self, node: &str, keys: &[Value]) -> Vec<Value> {
        let ops: Vec<Value> = keys.iter().map(|k| json!(["r", k, null])).collect();
        let id = self.txn("c9", node, json!(ops));
        let done = self.txn_ok("c9", id);
        done.as_array()
            .unwrap()
            .iter()
            .map(|op| op[2].clone())
            .collect()
    }

    /// Deliver the first in-flight message that `pick` chooses. Panics if there is none.
    fn deliver(&mut self, pick: impl Fn(&Message) -> bool) -> Message {
        let at = self
            .in_flight
            .iter()
            .position(pick)
            .unwrap_or_else(|| panic!("no such message in flight: {:?}", self.in_flight));
        let msg = self.in_flight.remove(at);
        self.hand(msg.clone());
        msg
    }

    /// Deliver everything in flight, in send order, until nothing is.
    fn deliver_all(&mut self) {
        while !self.in_flight.is_empty() {
            let msg = self.in_flight.remove(0);
            self.hand(msg);
        }
    }

    /// Lose every in-flight message.
    fn drop_all(&mut self) {
        self.in_flight.clear();
    }

    /// Let `by` pass, firing every node's timers.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        let ids: Vec<String> = self.nodes.keys().cloned().collect();
        for id in ids {
            let effects = self.nodes.get_mut(&id).unwrap().advance(self.now);
            self.collect(&effects);
        }
    }
}

/// A replication message to `dest` carrying a write of `value` to `key`.
fn replicates(msg: &Message, dest: &str, key: &str, value: u64) -> bool {
    let body = msg.body.to_value();
    msg.dest == dest
        && body["type"] == "replicate"
        && body["item"].as_array().is_some_and(|writes| {
            writes
                .iter()
                .any(|w| w["key"] == key && w["value"] == value)
        })
}

// ---- txn-single ----

/// Every node forwards to `n0`, which holds the one copy; so a transaction at any node sees
/// every transaction that completed before it (strict serializability).
#[test]
fn txn_single_forwards_to_n0_and_every_node_reads_the_writes_that_completed() {
    let mut net = Net::new("txn-single", &[], 3);
    let w = net.txn("c1", "n1", json!([["append", "x", 6], ["w", "y", 9]]));
    assert_eq!(
        net.answer("c1", w),
        None,
        "n1 holds nothing: it waits for n0"
    );
    assert_eq!(net.in_flight.len(), 1);
    assert_eq!(
        (net.in_flight[0].dest.as_str(), net.in_flight[0].body.kind()),
        ("n0", "forward_txn")
    );
    net.deliver_all();
    assert_eq!(
        net.txn_ok("c1", w),
        json!([["append", "x", 6], ["w", "y", 9]])
    );
    for node in ["n0", "n1", "n2"] {
        let r = net.txn(
            "c2",
            node,
            json!([
                ["r", "x", null],
                ["append", "x", 7],
                ["r", "x", null],
                ["r", "y", null]
            ]),
        );
        net.deliver_all();
        let seen = net.txn_ok("c2", r);
        assert_eq!(seen[0][2].as_array().unwrap()[0], 6, "{node}: {seen}");
        let after = seen[2][2].as_array().unwrap();
        assert_eq!(after.last(), Some(&json!(7)), "{node} reads its own append");
        assert_eq!(seen[3][2], 9, "{node}");
    }
    assert_eq!(net.read("n0", &[json!("x")]), vec![json!([6, 7, 7, 7])]);
}

/// Cut off from `n0`, a node serves nothing: a read-only transaction fails (error 11,
/// definite), one that writes is indefinite (error 0): `n0` may still have run it.
#[test]
fn txn_single_cut_off_from_n0_is_unavailable_never_wrong() {
    let mut net = Net::new("txn-single", &[], 2);
    let r = net.txn("c1", "n1", json!([["r", 1, null]]));
    let w = net.txn("c2", "n1", json!([["w", 1, 5]]));
    net.drop_all();
    net.advance(Duration::from_secs(3));
    assert_eq!(
        net.error_code("c1", r),
        Some(ErrorCode::TemporarilyUnavailable)
    );
    assert_eq!(net.error_code("c2", w), Some(ErrorCode::Timeout));
}

// ---- txn-rc ----

/// Totally available: both sides of a partition answer at once; the courier retries, and after
/// the heal every replica holds the value with the highest stamp.
#[test]
fn txn_rc_answers_during_a_partition_and_converges_after_it_heals() {
    let mut c = Cluster::new(3, 11, Duration::from_millis(10), |_| {
        catalog::build("txn-rc", &[]).unwrap()
    });
    let txn = |ops: Value| json!({"type": "txn", "txn": ops});
    c.partition(&["n0"], &["n1", "n2"]);
    let a = c.request("c1", "n0", &txn(json!([["w", 1, 10], ["w", 2, 10]])));
    let b = c.request("c2", "n1", &txn(json!([["w", 1, 20]])));
    for (client, id) in [("c1", a), ("c2", b)] {
        assert_eq!(
            c.reply_to(client, id).map(|m| m.body.kind()),
            Some("txn_ok"),
            "answered with no network step"
        );
    }
    c.run_for(Duration::from_secs(2));
    let read = |c: &mut Cluster<BoxedNode>, node: &str| -> Value {
        let id = c.request("c3", node, &txn(json!([["r", 1, null], ["r", 2, null]])));
        c.reply_to("c3", id).unwrap().body.to_value()["txn"].clone()
    };
    assert_eq!(read(&mut c, "n0"), json!([["r", 1, 10], ["r", 2, 10]]));
    assert_eq!(read(&mut c, "n2"), json!([["r", 1, 20], ["r", 2, null]]));
    c.heal();
    c.run_for(Duration::from_secs(2));
    // Both writes of key 1 are stamped 1; the tie goes to the higher node id, n1.
    for node in ["n0", "n1", "n2"] {
        assert_eq!(
            read(&mut c, node),
            json!([["r", 1, 20], ["r", 2, 10]]),
            "{node}"
        );
    }
    assert!(c.run_until_quiet(10_000), "every replication acknowledged");
}

/// A replica keeps the write with the newer Lamport stamp, whichever arrives first; and a
/// transaction that read a version is stamped later than it.
#[test]
fn txn_rc_keeps_the_newer_timestamp_whatever_the_arrival_order() {
    let mut net = Net::new("txn-rc", &[], 3);
    let t1 = net.txn("c1", "n0", json!([["w", "x", 1]]));
    assert_eq!(net.txn_ok("c1", t1), json!([["w", "x", 1]]));
    net.deliver(|m| replicates(m, "n1", "x", 1));
    // T2 at n1 reads T1's version, so its stamp is higher than T1's.
    let t2 = net.txn("c2", "n1", json!([["r", "x", null], ["w", "x", 2]]));
    assert_eq!(net.txn_ok("c2", t2), json!([["r", "x", 1], ["w", "x", 2]]));
    // n2 gets T2 first, then T1; n0 (which holds T1) gets T2.
    net.deliver(|m| replicates(m, "n2", "x", 2));
    net.deliver(|m| replicates(m, "n2", "x", 1));
    net.deliver(|m| replicates(m, "n0", "x", 2));
    for node in ["n0", "n1", "n2"] {
        assert_eq!(net.read(node, &[json!("x")]), vec![json!(2)], "{node}");
    }
}

/// Read committed, not serializable: two transactions on two nodes that each read what the
/// other writes both see the old state (write skew, G2-item).
#[test]
fn txn_rc_lets_concurrent_transactions_on_two_nodes_skew() {
    let mut net = Net::new("txn-rc", &[], 2);
    let a = net.txn("c1", "n0", json!([["r", "y", null], ["w", "x", 1]]));
    let b = net.txn("c2", "n1", json!([["r", "x", null], ["w", "y", 1]]));
    assert_eq!(net.txn_ok("c1", a)[0][2], Value::Null);
    assert_eq!(net.txn_ok("c2", b)[0][2], Value::Null);
    net.deliver_all();
    assert_eq!(net.read("n0", &[json!("x"), json!("y")]), vec![json!(1); 2]);
}

// ---- txn-dirty-writes: G0 ----

/// Two transactions append to the same two keys at two nodes; a third node receives their
/// writes of `x` in one order and of `y` in the other, and reads a write cycle.
#[test]
fn txn_dirty_writes_leaves_two_keys_in_opposite_orders() {
    let mut net = Net::new("txn-dirty-writes", &[], 3);
    let t1 = net.txn("c1", "n0", json!([["append", "x", 1], ["append", "y", 1]]));
    let t2 = net.txn("c2", "n1", json!([["append", "x", 2], ["append", "y", 2]]));
    assert_eq!(net.answer("c1", t1).map(Payload::kind), Some("txn_ok"));
    assert_eq!(net.answer("c2", t2).map(Payload::kind), Some("txn_ok"));
    net.deliver(|m| replicates(m, "n2", "x", 1));
    net.deliver(|m| replicates(m, "n2", "x", 2));
    net.deliver(|m| replicates(m, "n2", "y", 2));
    net.deliver(|m| replicates(m, "n2", "y", 1));
    assert_eq!(
        net.read("n2", &[json!("x"), json!("y")]),
        vec![json!([1, 2]), json!([2, 1])],
        "T1 before T2 on x, T2 before T1 on y: G0"
    );
    // The two writers disagree too: each has its own first.
    net.deliver_all();
    assert_eq!(net.read("n0", &[json!("x")]), vec![json!([1, 2])]);
    assert_eq!(net.read("n1", &[json!("x")]), vec![json!([2, 1])]);
}

/// Two elements that `x` and `y` hold in opposite orders: a write cycle between the two
/// transactions that appended them to both keys.
fn write_cycle(x: &[Value], y: &[Value]) -> Option<(Value, Value)> {
    let at = |list: &[Value], v: &Value| list.iter().position(|e| e == v);
    for (i, a) in x.iter().enumerate() {
        for b in &x[i + 1..] {
            if let (Some(ya), Some(yb)) = (at(y, a), at(y, b))
                && yb < ya
            {
                return Some((a.clone(), b.clone()));
            }
        }
    }
    None
}

/// Transactions `[append x v, append y v]` at both nodes of a 2-node cluster, a few ms apart,
/// under random network delays; then each node's `x` and `y`. Returns the write cycles seen.
fn appends_to_two_keys(name: &str, seed: u64) -> Vec<(Value, Value)> {
    let name = name.to_owned();
    let mut c = Cluster::new(2, seed, Duration::from_millis(20), move |_| {
        catalog::build(&name, &[]).unwrap()
    });
    for v in 0..20u64 {
        let node = if v % 2 == 0 { "n0" } else { "n1" };
        let txn = json!({"type": "txn", "txn": [["append", "x", v], ["append", "y", v]]});
        c.request("c1", node, &txn);
        c.run_for(Duration::from_millis(3));
    }
    c.run_for(Duration::from_secs(2));
    let mut cycles = Vec::new();
    for node in ["n0", "n1"] {
        let read = json!({"type": "txn", "txn": [["r", "x", null], ["r", "y", null]]});
        let id = c.request("c2", node, &read);
        c.run_for(Duration::from_secs(1));
        let done = c.reply_to("c2", id).expect("answered").body.to_value();
        let list = |i: usize| done["txn"][i][2].as_array().cloned().unwrap_or_default();
        assert_eq!(list(0).len(), 20, "{node}: every append arrived: {done}");
        cycles.extend(write_cycle(&list(0), &list(1)));
    }
    cycles
}

/// With only two nodes, a node's own transactions interleave with the writes that arrive one
/// by one, so a single node holds a write cycle; `txn-single`, one copy, never does.
#[test]
fn txn_dirty_writes_shows_a_write_cycle_at_one_node_of_two() {
    let seeds: Vec<u64> = (0..5)
        .filter(|&seed| !appends_to_two_keys("txn-dirty-writes", seed).is_empty())
        .collect();
    assert!(!seeds.is_empty(), "some interleaving gives a write cycle");
    for seed in 0..5 {
        assert_eq!(
            appends_to_two_keys("txn-single", seed),
            vec![],
            "seed {seed}"
        );
    }
}

// ---- txn-intermediate-reads: G1b ----

/// A transaction writes `x` twice; each write travels alone, so a peer that has the first and
/// not yet the second reads the intermediate value. `txn-rc` sends only the final one.
#[test]
fn txn_intermediate_reads_exposes_a_value_the_transaction_overwrote() {
    let mut net = Net::new("txn-intermediate-reads", &[], 2);
    let t = net.txn("c1", "n0", json!([["w", "x", 1], ["w", "x", 2]]));
    assert_eq!(net.answer("c1", t).map(Payload::kind), Some("txn_ok"));
    assert_eq!(
        net.in_flight.len(),
        1,
        "the overwritten write goes out at once, the final one a retry later"
    );
    net.deliver(|m| replicates(m, "n1", "x", 1));
    assert_eq!(
        net.read("n1", &[json!("x")]),
        vec![json!(1)],
        "an intermediate read: G1b"
    );
    net.advance(Duration::from_millis(400));
    net.deliver(|m| replicates(m, "n1", "x", 2));
    assert_eq!(net.read("n1", &[json!("x")]), vec![json!(2)]);

    // The other arrival order: the older intermediate write loses to the final one.
    let t = net.txn("c1", "n0", json!([["w", "z", 1], ["w", "z", 2]]));
    assert_eq!(net.answer("c1", t).map(Payload::kind), Some("txn_ok"));
    net.advance(Duration::from_millis(400));
    net.deliver(|m| replicates(m, "n1", "z", 2));
    net.deliver(|m| replicates(m, "n1", "z", 1));
    assert_eq!(net.read("n1", &[json!("z")]), vec![json!(2)]);

    let mut rc = Net::new("txn-rc", &[], 2);
    rc.txn("c1", "n0", json!([["w", "x", 1], ["w", "x", 2]]));
    assert_eq!(rc.in_flight.len(), 1);
    assert!(!replicates(&rc.in_flight[0], "n1", "x", 1));
    assert!(replicates(&rc.in_flight[0], "n1", "x", 2));
}

/// Transactions that each write a key twice, an intermediate value (1000 + i) then a final
/// one (i), at random nodes of a 3-node cluster under random delays, with reads everywhere in
/// between. Returns the intermediate values that reads observed.
fn intermediate_values_read(name: &str, seed: u64) -> Vec<u64> {
    let name = name.to_owned();
    let mut c = Cluster::new(3, seed, Duration::from_millis(30), move |_| {
        catalog::build(&name, &[]).unwrap()
    });
    let mut reads = Vec::new();
    for i in 0..30u64 {
        let node = format!("n{}", i % 3);
        let key = i % 2;
        let write = json!({"type": "txn", "txn": [["w", key, 1000 + i], ["w", key, i]]});
        c.request("c1", &node, &write);
        c.run_for(Duration::from_millis(2));
        let reader = format!("n{}", (i + 1) % 3);
        let read = json!({"type": "txn", "txn": [["r", 0, null], ["r", 1, null]]});
        reads.push(c.request("c2", &reader, &read));
        c.run_for(Duration::from_millis(3));
    }
    reads
        .iter()
        .flat_map(|id| {
            let done = c.reply_to("c2", *id).expect("answered").body.to_value();
            [done["txn"][0][2].as_u64(), done["txn"][1][2].as_u64()]
        })
        .flatten()
        .filter(|v| *v >= 1000)
        .collect()
}

/// Under random delays, `txn-rc` never lets a read see a value its transaction overwrote;
/// `txn-intermediate-reads` does, in some interleaving.
#[test]
fn only_txn_intermediate_reads_lets_reads_see_overwritten_values() {
    for seed in 0..5 {
        assert_eq!(
            intermediate_values_read("txn-rc", seed),
            Vec::<u64>::new(),
            "seed {seed}"
        );
    }
    assert!(
        (0..5).any(|seed| !intermediate_values_read("txn-intermediate-reads", seed).is_empty()),
        "some interleaving exposes an intermediate value"
    );
}

// ---- txn-aborted-reads: G1a ----

/// Every second writer is answered error 30 (it did not happen), yet its write stays and the
/// next transaction reads it. Forwarded transactions get the same treatment.
#[test]
fn txn_aborted_reads_keeps_the_writes_of_a_transaction_it_aborts() {
    let mut net = Net::new("txn-aborted-reads", &["--abort-every", "2"], 2);
    let t1 = net.txn("c1", "n0", json!([["append", "x", 1], ["w", "y", 1]]));
    assert_eq!(
        net.txn_ok("c1", t1),
        json!([["append", "x", 1], ["w", "y", 1]])
    );
    let t2 = net.txn("c2", "n1", json!([["append", "x", 2], ["w", "y", 2]]));
    net.deliver_all();
    assert_eq!(net.error_code("c2", t2), Some(ErrorCode::TxnConflict));
    assert_eq!(
        net.read("n0", &[json!("x"), json!("y")]),
        vec![json!([1, 2]), json!(2)],
        "reads of an aborted transaction's writes: G1a"
    );
    let mut single = Net::new("txn-single", &[], 1);
    for (i, v) in [1, 2, 3, 4].into_iter().enumerate() {
        let t = single.txn("c1", "n0", json!([["w", "y", v]]));
        assert_eq!(
            single.txn_ok("c1", t)[0][2],
            v,
            "txn-single aborts none ({i})"
        );
    }
}

// ---- txn-lost-updates: G-single ----

/// Two read-modify-write transactions within the commit delay both read the state before
/// either: with registers one update is lost, with lists the later append sits after an
/// element its transaction did not see.
#[test]
fn txn_lost_updates_lets_two_read_modify_writes_read_the_same_old_state() {
    let mut net = Net::new("txn-lost-updates", &["--commit-delay-ms", "50"], 1);
    let a = net.txn(
        "c1",
        "n0",
        json!([
            ["r", "x", null],
            ["w", "x", 1],
            ["r", "l", null],
            ["append", "l", 1]
        ]),
    );
    let b = net.txn(
        "c2",
        "n0",
        json!([
            ["r", "x", null],
            ["w", "x", 2],
            ["r", "l", null],
            ["append", "l", 2]
        ]),
    );
    assert_eq!(net.answer("c1", a), None, "answered when the writes apply");
    net.advance(Duration::from_millis(50));
    for (client, id) in [("c1", a), ("c2", b)] {
        let done = net.txn_ok(client, id);
        assert_eq!(done[0], json!(["r", "x", null]), "{client}");
        assert_eq!(done[2], json!(["r", "l", null]), "{client}");
    }
    assert_eq!(
        net.read("n0", &[json!("x"), json!("l")]),
        vec![json!(2), json!([1, 2])],
        "the first update of x is lost; 2 was appended after a 1 its transaction did not see"
    );

    // txn-single runs the second after the first: it reads the first's writes.
    let mut single = Net::new("txn-single", &[], 1);
    single.txn("c1", "n0", json!([["r", "x", null], ["w", "x", 1]]));
    let b = single.txn("c2", "n0", json!([["r", "x", null], ["w", "x", 2]]));
    assert_eq!(single.txn_ok("c2", b)[0], json!(["r", "x", 1]));
}

// ---- the binaries ----

const BINARIES: [(&str, &str); 6] = [
    ("txn-single", env!("CARGO_BIN_EXE_txn-single")),
    ("txn-rc", env!("CARGO_BIN_EXE_txn-rc")),
    ("txn-dirty-writes", env!("CARGO_BIN_EXE_txn-dirty-writes")),
    (
        "txn-intermediate-reads",
        env!("CARGO_BIN_EXE_txn-intermediate-reads"),
    ),
    ("txn-aborted-reads", env!("CARGO_BIN_EXE_txn-aborted-reads")),
    ("txn-lost-updates", env!("CARGO_BIN_EXE_txn-lost-updates")),
];

fn no_services(_: &mut Conversation, _: &Value) -> bool {
    false
}

#[test]
fn every_txn_binary_speaks_the_protocol_and_is_a_planted_bug_or_not_as_the_catalog_says() {
    for (name, path) in BINARIES {
        protocol_checks(
            path,
            &[],
            json!({"type": "txn", "txn": [["r", 1, null], ["w", 2, 3]]}),
            "txn_ok",
            &no_services,
        );
        let planted = catalog::entry(name).unwrap().planted_bug;
        assert_eq!(planted, !matches!(name, "txn-single" | "txn-rc"), "{name}");
    }
}

/// Alone, a node answers Maelstrom's example; a malformed micro-op or an append to a
/// register is error 12 and changes nothing; the node goes on.
#[test]
fn every_txn_binary_alone_answers_transactions_and_refuses_malformed_ones() {
    for (name, path) in BINARIES {
        let mut node = Conversation::start(path, &[]);
        node.init("n0", &["n0"]);
        let mut ask = |msg_id: u64, txn: Value| -> Value {
            node.send(
                "c1",
                "n0",
                json!({"type": "txn", "msg_id": msg_id, "txn": txn}),
            );
            node.reply_to("c1", msg_id)["body"].clone()
        };
        let ok = ask(1, json!([["r", 1, null], ["w", 2, 9], ["r", 2, null]]));
        assert_eq!(
            ok["txn"],
            json!([["r", 1, null], ["w", 2, 9], ["r", 2, 9]]),
            "{name}: {ok}"
        );
        assert_eq!(ask(2, json!([["r", 1]]))["code"], 12, "{name}");
        assert_eq!(
            ask(3, json!([["w", 3, 1], ["cas", 3, 2]]))["code"],
            12,
            "{name}"
        );
        // Appending to a register is malformed; the last-writer-wins stores serve no appends.
        let appended = ask(4, json!([["w", 3, 1], ["append", 2, 1]]));
        let lww = matches!(name, "txn-rc" | "txn-intermediate-reads");
        assert_eq!(
            appended["code"],
            if lww { 10 } else { 12 },
            "{name}: {appended}"
        );
        let after = ask(5, json!([["r", 3, null], ["r", 2, null]]));
        assert_eq!(after["txn"], json!([["r", 3, null], ["r", 2, 9]]), "{name}");
        let (status, _) = node.finish();
        assert!(status.success(), "{name}: {status}");
    }
}

#[test]
fn txn_flags_are_accepted_and_unknown_flags_rejected() {
    let accepted: [(usize, &[&str]); 5] = [
        (1, &["--retry-ms", "50"]),
        (2, &["--retry-ms=50"]),
        (3, &["--retry-ms", "50"]),
        (4, &["--abort-every", "5"]),
        (5, &["--commit-delay-ms", "20"]),
    ];
    for (i, args) in accepted {
        let mut node = Conversation::start(BINARIES[i].1, args);
        node.init("n0", &["n0"]);
        let (status, _) = node.finish();
        assert!(status.success(), "{} {args:?}: {status}", BINARIES[i].0);
    }
    for (name, path) in BINARIES {
        let node = Conversation::start(path, &["--no-such-flag", "1"]);
        assert_eq!(node.finish().0.code(), Some(2), "{name}");
    }
    let node = Conversation::start(BINARIES[4].1, &["--abort-every", "0"]);
    assert_eq!(node.finish().0.code(), Some(2));
}

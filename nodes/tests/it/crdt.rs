//! The CRDT nodes in a simulated cluster under partitions, crashes and wipes, and their binaries
//! under scripted conversations.
//!
//! The course's claim (8.1): replicas of a state-based CRDT accept updates on their own and,
//! once they have exchanged states, hold the same state, whatever the order, repetition or loss
//! of the exchanges, because the merge is a join. The correct nodes must converge to every
//! acknowledged add after a partition heals; the broken ones, whose merges are not joins, must
//! not.

use std::collections::BTreeSet;
use std::time::Duration;

use nodes::Node;
use nodes::crdt::g_set::GSet;
use nodes::crdt::g_set_lossy::GSetLossy;
use nodes::crdt::pn_counter::PnCounter;
use nodes::crdt::pn_counter_double_count::PnCounterDoubleCount;
use nodes::crdt::{Crdt, Replica, ReplicaConfig};
use nodes::sim::Cluster;
use proto::Payload;
use serde_json::{Value, json};

use crate::pipe::{Conversation, protocol_checks};

const NODES: [&str; 3] = ["n0", "n1", "n2"];
const SEC: Duration = Duration::from_secs(1);

/// Three replicas of `C` gossiping every 100 ms, latencies uniform in [0, 20] ms.
fn cluster<C: Crdt + 'static>(seed: u64) -> Cluster<Replica<C>> {
    let config = ReplicaConfig {
        interval: Duration::from_millis(100),
    };
    Cluster::new(3, seed, Duration::from_millis(20), move |_| {
        Replica::new(config)
    })
}

fn element(e: i64) -> Payload {
    Payload::Add {
        delta: None,
        element: Some(json!(e)),
    }
}

fn delta(d: i64) -> Payload {
    Payload::Add {
        delta: Some(d),
        element: None,
    }
}

/// Send `add` to `node` from client `c1`; it must be acknowledged at once.
fn add<N: Node>(c: &mut Cluster<N>, node: &str, add: &Payload) {
    let id = c.request("c1", node, add);
    let reply = c.reply_to("c1", id).expect("add answered at once");
    assert_eq!(reply.body.kind(), "add_ok", "{reply:?}");
}

/// What a `read` at `node` returns.
fn read<N: Node>(c: &mut Cluster<N>, node: &str) -> Value {
    let id = c.request("c2", node, &Payload::Read { key: None });
    match &c
        .reply_to("c2", id)
        .expect("read answered at once")
        .body
        .payload
    {
        Payload::ReadOk {
            value: Some(value), ..
        } => value.clone(),
        other => panic!("expected read_ok, got {other:?}"),
    }
}

/// A g-set read as a set of integers.
fn elements<N: Node>(c: &mut Cluster<N>, node: &str) -> BTreeSet<i64> {
    let value = read(c, node);
    let list = value.as_array().expect("a list");
    let set: BTreeSet<i64> = list.iter().map(|v| v.as_i64().expect("integers")).collect();
    assert_eq!(set.len(), list.len(), "an element twice in {value}");
    set
}

/// The partition scenario: n0 cut off from n1 and n2; adds on both sides; reads on each side
/// see only that side's adds; then the heal. `add_at(node, i)` makes the i-th add.
fn partition_then_heal<N: Node>(
    c: &mut Cluster<N>,
    mut add_at: impl FnMut(&mut Cluster<N>, &str, i64),
    mut side_check: impl FnMut(&mut Cluster<N>),
) {
    for i in 0..6 {
        add_at(c, NODES[(i % 3) as usize], i);
    }
    c.run_for(SEC);
    c.partition(&["n0"], &["n1", "n2"]);
    for i in 6..18 {
        add_at(c, NODES[(i % 3) as usize], i);
        c.run_for(Duration::from_millis(50));
    }
    c.run_for(SEC);
    side_check(c);
    c.heal();
    c.run_for(SEC);
}

#[test]
fn g_set_replicas_diverge_under_a_partition_and_hold_every_element_after_the_heal() {
    let mut c = cluster::<GSet>(1);
    partition_then_heal(
        &mut c,
        |c, node, i| add(c, node, &element(i)),
        |c| {
            // Each side has its own side's elements, and every element added before the cut.
            let n0 = elements(c, "n0");
            let n1 = elements(c, "n1");
            assert_eq!(n1, elements(c, "n2"), "one side, one set");
            let before: BTreeSet<i64> = (0..6).collect();
            let n0_own: BTreeSet<i64> = (6..18).filter(|i| i % 3 == 0).collect();
            let others: BTreeSet<i64> = (6..18).filter(|i| i % 3 != 0).collect();
            assert_eq!(n0, &before | &n0_own);
            assert_eq!(n1, &before | &others);
        },
    );
    let all: BTreeSet<i64> = (0..18).collect();
    for node in NODES {
        assert_eq!(elements(&mut c, node), all, "{node} after the heal");
    }
}

#[test]
fn g_set_loses_nothing_to_a_crash_and_refills_a_wiped_node() {
    let mut c = cluster::<GSet>(2);
    add(&mut c, "n0", &element(1));
    // Killed before any gossip left: only its disk holds the element.
    c.crash("n0");
    c.restart("n0");
    assert_eq!(elements(&mut c, "n0"), BTreeSet::from([1]), "read back");
    c.run_for(SEC);
    assert_eq!(elements(&mut c, "n2"), BTreeSet::from([1]));
    c.crash("n1");
    c.wipe("n1");
    c.restart("n1");
    assert!(elements(&mut c, "n1").is_empty(), "a new disk");
    c.run_for(SEC);
    assert_eq!(elements(&mut c, "n1"), BTreeSet::from([1]), "refilled");
}

#[test]
fn g_set_lossy_loses_acknowledged_elements_under_a_partition() {
    let mut c = cluster::<GSetLossy>(1);
    partition_then_heal(&mut c, |c, node, i| add(c, node, &element(i)), |_| {});
    let all: BTreeSet<i64> = (0..18).collect();
    let finals: Vec<BTreeSet<i64>> = NODES.iter().map(|n| elements(&mut c, n)).collect();
    let lost: Vec<i64> = all
        .iter()
        .copied()
        .filter(|e| finals.iter().any(|f| !f.contains(e)))
        .collect();
    assert!(
        !lost.is_empty(),
        "every node holds every element: {finals:?}"
    );
}

#[test]
fn g_set_lossy_drops_concurrent_adds_even_without_faults() {
    let mut c = cluster::<GSetLossy>(3);
    for i in 0..30 {
        add(&mut c, NODES[i % 3], &element(i as i64));
        c.run_for(Duration::from_millis(30));
    }
    c.run_for(SEC);
    let n0 = elements(&mut c, "n0");
    assert!(n0.len() < 30, "n0 holds every element: {n0:?}");
}

/// The deltas of the counter scenarios: both signs.
fn delta_of(i: i64) -> i64 {
    (i * 7) % 10 - 5
}

#[test]
fn pn_counter_replicas_count_their_side_under_a_partition_and_every_add_after_the_heal() {
    let mut c = cluster::<PnCounter>(1);
    let sum = |range: std::ops::Range<i64>, keep: &dyn Fn(i64) -> bool| -> i64 {
        range.filter(|i| keep(*i)).map(delta_of).sum()
    };
    partition_then_heal(
        &mut c,
        |c, node, i| add(c, node, &delta(delta_of(i))),
        |c| {
            let before = sum(0..6, &|_| true);
            assert_eq!(read(c, "n0"), json!(before + sum(6..18, &|i| i % 3 == 0)));
            assert_eq!(read(c, "n1"), json!(before + sum(6..18, &|i| i % 3 != 0)));
        },
    );
    let total = sum(0..18, &|_| true);
    for node in NODES {
        assert_eq!(read(&mut c, node), json!(total), "{node} after the heal");
    }
}

#[test]
fn pn_counter_keeps_its_own_count_across_a_crash_and_counts_under_a_new_name_after_a_wipe() {
    let mut c = cluster::<PnCounter>(2);
    add(&mut c, "n0", &delta(5));
    add(&mut c, "n0", &delta(-2));
    c.crash("n0");
    c.restart("n0");
    assert_eq!(read(&mut c, "n0"), json!(3), "read back");
    c.run_for(SEC);
    // A wiped node that counts before it hears from anyone: under its old name its new
    // increment would hide below the 5 its peers hold for that name.
    c.crash("n0");
    c.wipe("n0");
    c.restart("n0");
    add(&mut c, "n0", &delta(2));
    c.run_for(SEC);
    for node in NODES {
        assert_eq!(read(&mut c, node), json!(5), "{node}");
    }
}

#[test]
fn pn_counter_double_count_reads_other_totals_than_the_adds_made_and_never_settles() {
    let mut c = cluster::<PnCounterDoubleCount>(1);
    add(&mut c, "n0", &delta(3));
    add(&mut c, "n1", &delta(-1));
    c.run_for(SEC);
    let values: Vec<i64> = NODES
        .iter()
        .map(|n| read(&mut c, n).as_i64().unwrap())
        .collect();
    assert!(
        values.iter().all(|&v| v != 2),
        "a node read the true total 2: {values:?}"
    );
    // And it never settles: the next second moves every read again.
    c.run_for(SEC);
    assert_ne!(read(&mut c, "n1").as_i64().unwrap(), values[1]);
}

const BINARIES: [&str; 4] = [
    env!("CARGO_BIN_EXE_g-set"),
    env!("CARGO_BIN_EXE_g-set-lossy"),
    env!("CARGO_BIN_EXE_pn-counter"),
    env!("CARGO_BIN_EXE_pn-counter-double-count"),
];

fn no_services(_: &mut Conversation, _: &Value) -> bool {
    false
}

#[test]
fn every_crdt_binary_speaks_the_protocol() {
    for (path, add) in BINARIES.iter().zip([
        json!({"type": "add", "element": 1}),
        json!({"type": "add", "element": 1}),
        json!({"type": "add", "delta": 1}),
        json!({"type": "add", "delta": 1}),
    ]) {
        protocol_checks(path, &[], add, "add_ok", &no_services);
    }
}

/// Alone, each answers its own workload's add and reads it back; the other workload's add is
/// malformed (error 12).
#[test]
fn every_crdt_binary_alone_reads_back_its_adds_and_refuses_the_other_workloads_add() {
    for (path, good, bad, expect) in [
        (
            BINARIES[0],
            json!({"element": 7}),
            json!({"delta": 7}),
            json!([7]),
        ),
        (
            BINARIES[1],
            json!({"element": 7}),
            json!({"delta": 7}),
            json!([7]),
        ),
        (
            BINARIES[2],
            json!({"delta": -7}),
            json!({"element": 7}),
            json!(-7),
        ),
        (
            BINARIES[3],
            json!({"delta": -7}),
            json!({"element": 7}),
            json!(-7),
        ),
    ] {
        let mut node = Conversation::start(path, &[]);
        node.init("n0", &["n0"]);
        let mut ask = |msg_id: u64, fields: Value, kind: &str| -> Value {
            let mut body = fields;
            body["type"] = json!(kind);
            body["msg_id"] = json!(msg_id);
            node.send("c1", "n0", body);
            node.reply_to("c1", msg_id)["body"].clone()
        };
        assert_eq!(ask(1, good, "add")["type"], "add_ok", "{path}");
        assert_eq!(ask(2, bad, "add")["code"], 12, "{path}");
        assert_eq!(ask(3, json!({}), "read")["value"], expect, "{path}");
        let (status, _) = node.finish();
        assert!(status.success(), "{path}: {status}");
    }
}

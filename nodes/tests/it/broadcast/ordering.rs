//! Scripted crash-and-restart sequences of the ordered broadcasts on a simulated cluster: a
//! restarted (or wiped) origin or leader must neither reorder nor lose what was acknowledged.
//! Each test checks the nodes' delivered logs directly. (The properties over many seeds, node
//! counts and fault mixes run through the harness's simulator and checkers: runner's
//! `sim_broadcast` tests.)

use std::time::Duration;

use nodes::broadcast::causal::Causal;
use nodes::broadcast::fifo::Fifo;
use nodes::broadcast::total_lamport::TotalLamport;
use nodes::broadcast::total_leader::TotalLeader;
use nodes::broadcast::{Algorithm, Service};
use nodes::sim::Cluster;
use proto::Payload;
use serde_json::json;

type Sim<A> = Cluster<Service<A>>;

fn log<A: Algorithm>(cluster: &Sim<A>, node: &str) -> Vec<serde_json::Value> {
    cluster
        .node(node)
        .map(|n| n.delivered().values().to_vec())
        .unwrap_or_default()
}

fn acked<A: Algorithm>(cluster: &Sim<A>, client: &str, msg_id: u64) -> bool {
    cluster
        .reply_to(client, msg_id)
        .is_some_and(|r| r.body.payload == Payload::BroadcastOk)
}

/// The restart that breaks naive sequence numbering: an origin sends message `x` to one node
/// only, crashes and loses its disk (a wipe), restarts while that node is cut off, and numbers
/// its next message `y` as it would have numbered `x`. Every node must deliver `y` (it was
/// acknowledged) and nobody may deliver `x` in its place. With its disk (`wiped` false) the
/// origin keeps `x`, which then reaches everyone before `y`.
fn orphan_is_superseded<A: Algorithm + Default + 'static>(wiped: bool) {
    let mut c: Sim<A> = Cluster::new(5, 3, Duration::from_millis(10), |_| {
        Service::new(A::default())
    });
    c.run_for(Duration::from_secs(2));
    let before = c.request("c0", "n0", &Payload::Broadcast { message: json!(1) });
    c.run_for(Duration::from_millis(500));
    assert!(acked(&c, "c0", before));
    // x reaches n1 only: it is held by two nodes of five, never stable.
    c.partition(&["n0", "n1"], &["n2", "n3", "n4"]);
    let x = c.request("c0", "n0", &Payload::Broadcast { message: json!(2) });
    c.run_for(Duration::from_millis(300));
    assert!(
        !acked(&c, "c0", x),
        "x cannot be acknowledged without a majority"
    );
    c.crash("n0");
    if wiped {
        c.wipe("n0");
    }
    c.heal();
    c.partition(&["n1"], &["n0", "n2", "n3", "n4"]);
    c.restart("n0");
    c.run_for(Duration::from_secs(2));
    assert!(
        c.node("n0").is_some_and(|n| n.serving()),
        "n0 recovered (from its disk, or from n2..n4)"
    );
    let y = c.request("c1", "n0", &Payload::Broadcast { message: json!(3) });
    c.run_for(Duration::from_millis(500));
    assert!(acked(&c, "c1", y));
    c.heal();
    c.run_for(Duration::from_secs(3));
    let reference = log(&c, "n2");
    if wiped {
        assert_eq!(reference, vec![json!(1), json!(3)]);
    } else {
        assert_eq!(reference, vec![json!(1), json!(2), json!(3)]);
    }
    for node in ["n0", "n1", "n3", "n4"] {
        assert_eq!(log(&c, node), reference, "{node}");
    }
}

#[test]
fn fifo_wiped_origin_supersedes_an_unstable_message() {
    orphan_is_superseded::<Fifo>(true);
}

#[test]
fn causal_wiped_origin_supersedes_an_unstable_message() {
    orphan_is_superseded::<Causal>(true);
}

#[test]
fn lamport_wiped_origin_supersedes_an_unstable_message() {
    orphan_is_superseded::<TotalLamport>(true);
}

#[test]
fn fifo_restarted_origin_keeps_its_unstable_message_on_disk_and_delivers_it_first() {
    orphan_is_superseded::<Fifo>(false);
}

#[test]
fn causal_restarted_origin_keeps_its_unstable_message_on_disk_and_delivers_it_first() {
    orphan_is_superseded::<Causal>(false);
}

#[test]
fn lamport_restarted_origin_keeps_its_unstable_message_on_disk_and_delivers_it_first() {
    orphan_is_superseded::<TotalLamport>(false);
}

/// The leader gives sequence number k to `x`, reaching only n1, and crashes with its disk
/// wiped; restarted while n1 is cut off, it gives k to `y`. All nodes must agree; `x`, still
/// pending at n1, is forwarded again and sequenced after `y`.
#[test]
fn wiped_leader_never_lets_two_messages_share_a_sequence_number() {
    let mut c: Sim<TotalLeader> = Cluster::new(5, 4, Duration::from_millis(10), |_| {
        Service::new(TotalLeader::default())
    });
    c.run_for(Duration::from_secs(2));
    c.partition(&["n0", "n1"], &["n2", "n3", "n4"]);
    let x = c.request(
        "c1",
        "n1",
        &Payload::Broadcast {
            message: json!("x"),
        },
    );
    c.run_for(Duration::from_millis(300));
    assert!(!acked(&c, "c1", x));
    c.crash("n0");
    c.wipe("n0");
    c.heal();
    c.partition(&["n1"], &["n0", "n2", "n3", "n4"]);
    c.restart("n0");
    c.run_for(Duration::from_secs(2));
    let y = c.request(
        "c2",
        "n2",
        &Payload::Broadcast {
            message: json!("y"),
        },
    );
    c.run_for(Duration::from_millis(500));
    assert!(acked(&c, "c2", y));
    c.heal();
    c.run_for(Duration::from_secs(4));
    let reference = log(&c, "n3");
    assert_eq!(reference, vec![json!("y"), json!("x")]);
    for node in ["n0", "n1", "n2", "n4"] {
        assert_eq!(log(&c, node), reference, "{node}");
    }
}

/// While the leader is down nothing is delivered anywhere, and nothing out of order after.
#[test]
fn a_crashed_leader_stalls_delivery_without_reordering() {
    let mut c: Sim<TotalLeader> = Cluster::new(3, 5, Duration::from_millis(10), |_| {
        Service::new(TotalLeader::default())
    });
    c.run_for(Duration::from_secs(2));
    let a = c.request("c1", "n1", &Payload::Broadcast { message: json!(1) });
    c.run_for(Duration::from_millis(300));
    assert!(acked(&c, "c1", a));
    c.crash("n0");
    let b = c.request("c2", "n2", &Payload::Broadcast { message: json!(2) });
    c.run_for(Duration::from_secs(2));
    assert!(!acked(&c, "c2", b), "no leader, no sequence number");
    assert_eq!(log(&c, "n1"), vec![json!(1)]);
    assert_eq!(log(&c, "n2"), vec![json!(1)]);
    c.restart("n0");
    c.run_for(Duration::from_secs(3));
    for node in ["n0", "n1", "n2"] {
        assert_eq!(log(&c, node), vec![json!(1), json!(2)], "{node}");
    }
}

/// Total order by Lamport timestamps needs every node: a crashed node stops delivery
/// everywhere, even of messages a majority holds, until it is back.
#[test]
fn lamport_delivery_stops_while_any_node_is_down() {
    let mut c: Sim<TotalLamport> = Cluster::new(3, 6, Duration::from_millis(10), |_| {
        Service::new(TotalLamport::default())
    });
    c.run_for(Duration::from_secs(2));
    c.crash("n2");
    let a = c.request("c0", "n0", &Payload::Broadcast { message: json!(1) });
    c.run_for(Duration::from_secs(2));
    assert!(
        acked(&c, "c0", a),
        "n0 and n1 are a majority: the broadcast is acknowledged"
    );
    assert!(log(&c, "n0").is_empty() && log(&c, "n1").is_empty());
    c.restart("n2");
    c.run_for(Duration::from_secs(3));
    for node in ["n0", "n1", "n2"] {
        assert_eq!(log(&c, node), vec![json!(1)], "{node}");
    }
}

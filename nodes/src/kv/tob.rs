//! `lin-kv-tob`: a linearizable key-value store by state-machine replication over total-order
//! broadcast (the course's "replication using broadcast", 5.3, on the Lamport-timestamp
//! total-order broadcast of 4.2; the guarantee is linearizability, 7.2).
//!
//! **Algorithm.** Every client operation, reads included, is submitted to
//! [`TotalOrder`] (the ordering machinery of `broadcast-total-lamport`, reused as a library).
//! Every node applies the deliveries, in the total order, to its own copy of the state machine
//! ([`Store`]; the machinery is [`crate::replication::Replica`], shared with
//! `kafka-replicated`). The node the client asked answers when it applies *that* operation, with the
//! answer the state machine gave there. Every node applies the same operations in the same
//! order, so every copy goes through the same states and gives the same answers.
//!
//! **Why it is linearizable.** Take the total order as the linearization. Each operation's
//! answer is the state machine's answer at its place in that order, so the order explains every
//! answer. It also respects real time: if operation A completed before B was invoked, A comes
//! first. A's node delivered A only after it had heard, from every other node Y, an entry with a
//! timestamp above A's; Y's Lamport clock had passed A's timestamp before A was answered, so B,
//! submitted later at any node, gets a larger timestamp and is ordered after A (a restarted
//! node recovers past every timestamp a majority holds, so this survives crashes too). Reads go
//! through the order as well: a read answered from local state could miss a write that another
//! node already applied and acknowledged (that is `kv-stale-reads`, [`crate::kv::stale_reads`]).
//!
//! **Partitions and crashes.** The Lamport order needs a higher timestamp from *every* node, so
//! a partition that splits the cluster, or a node down, stalls delivery everywhere: nodes serve
//! nothing new rather than anything wrong. (Operations stamped before the cut whose later
//! timestamps from every node had already arrived can still be applied on the majority side
//! during it. A partition that leaves the nodes connected through
//! some of them, a bridge or a ring of majorities, only slows it down: the quorum layer's
//! anti-entropy carries entries around the cut.) An operation not applied within the timeout
//! (`--timeout-ms`, default [`DEFAULT_TIMEOUT`]) is answered with error 0 when it is a `write`
//! or `cas` (indefinite: it is in the order and will take effect once the cluster is whole, so
//! the client records `info`), and with error 11 when it is a `read` (definite: a read changes
//! nothing, so it failing is the truth). A node still recovering its state after a (re)start
//! answers error 11 without submitting anything. A restarted node replays the operations it had
//! applied from its stable storage (the total order keeps every delivery there before it is
//! applied) and so rebuilds its store before it serves; a node whose disk was wiped replays the
//! order from a majority instead. The kill of every node at once loses nothing acknowledged.
//!
//! **Cost.** Every operation, reads included, is one total-order broadcast: about 3(n-1)
//! messages for the entry and as much again for the ticks that let it be delivered, fewer per
//! operation under load (ticks are shared), and a latency of a few network round trips plus
//! the tick interval.

use std::time::Duration;

use proto::{Message, Payload};

use crate::broadcast::total_lamport::TotalOrderConfig;
use crate::ctx::Ctx;
use crate::flags::Flags;
use crate::kv::store::{KvOp, Store};
use crate::node::{Node, TimerId};
use crate::replication::{Replica, StateMachine};

/// How long an operation may wait for its turn in the total order before the client is told.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(2000);

/// Where reads are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Through the total order, like every other operation (linearizable).
    Ordered,
    /// From the local state at once (stale reads; see [`crate::kv::stale_reads`]).
    Local,
}

/// Settings of the node.
#[derive(Debug, Clone, Copy)]
pub struct TobKvConfig {
    /// The total-order broadcast underneath.
    pub order: TotalOrderConfig,
    /// How long an operation waits to be applied before the client gets an error.
    pub timeout: Duration,
}

impl TobKvConfig {
    /// The command-line flags of `lin-kv-tob` and `kv-stale-reads` (names without `--`).
    pub const FLAGS: [crate::flags::Flag; 3] = [
        crate::flags::Flag {
            name: "interval-ms",
            value: "N",
            what: "how long the total order's links batch messages, in ms",
            default: || crate::flags::ms_default(TobKvConfig::default().order.quorum.link.interval),
        },
        crate::flags::Flag {
            name: "tick-ms",
            value: "N",
            what: "at most one Lamport tick per this many ms (ticks let deliveries advance)",
            default: || crate::flags::ms_default(TobKvConfig::default().order.tick),
        },
        crate::flags::Flag {
            name: "timeout-ms",
            value: "N",
            what: "how long an operation may wait to be applied before it fails, in ms",
            default: || crate::flags::ms_default(TobKvConfig::default().timeout),
        },
    ];

    /// The settings from a node program's flags: `--interval-ms N` (batch interval of the
    /// links, default 50), `--tick-ms N` (at most one tick per this long, default 100),
    /// `--timeout-ms N` (how long an operation may wait to be applied, default 2000).
    pub fn from_flags(flags: &Flags) -> Result<TobKvConfig, String> {
        let mut config = TobKvConfig::default();
        let order = &mut config.order;
        let interval = flags.ms("interval-ms", order.quorum.link.interval)?;
        order.quorum = order.quorum.with_interval(interval);
        order.tick = flags.ms("tick-ms", order.tick)?;
        config.timeout = flags.ms("timeout-ms", config.timeout)?;
        Ok(config)
    }
}

impl Default for TobKvConfig {
    fn default() -> Self {
        TobKvConfig {
            order: TotalOrderConfig::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The key-value store is the replicated state machine; a read changes nothing.
impl StateMachine for Store {
    type Op = KvOp;

    fn apply(&mut self, op: &KvOp) -> Payload {
        Store::apply(self, op)
    }

    fn is_read(op: &KvOp) -> bool {
        op.is_read()
    }
}

/// The node.
#[derive(Debug)]
pub struct TobKv {
    reads: Reads,
    replica: Replica<Store>,
}

impl TobKv {
    /// A node with the given settings.
    pub fn new(config: TobKvConfig) -> Self {
        TobKv::with_reads(config, Reads::Ordered)
    }

    pub(crate) fn with_reads(config: TobKvConfig, reads: Reads) -> Self {
        TobKv {
            reads,
            replica: Replica::new(config),
        }
    }

    /// This node's copy of the state machine.
    pub fn store(&self) -> &Store {
        self.replica.machine()
    }

    /// How many operations this node has applied (in this incarnation).
    pub fn applied(&self) -> u64 {
        self.replica.applied()
    }

    /// False while the node recovers after a (re)start and answers clients with error 11.
    pub fn serving(&self) -> bool {
        self.replica.serving()
    }

    fn on_request(&mut self, ctx: &mut Ctx, request: Message, op: KvOp) {
        if self.reads == Reads::Local && op.is_read() {
            let answer = self.replica.machine_mut().apply(&op);
            ctx.reply(&request, &answer);
            return;
        }
        self.replica.submit(ctx, request, op);
    }
}

impl Default for TobKv {
    fn default() -> Self {
        TobKv::new(TobKvConfig::default())
    }
}

impl Node for TobKv {
    fn on_init(&mut self, ctx: &mut Ctx) {
        self.replica.start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if self.replica.receive(ctx, &msg) {
            return;
        }
        let is_request = msg.body.msg_id.is_some() && msg.body.in_reply_to.is_none();
        match KvOp::from_request(&msg.body.payload) {
            Some(op) if is_request => self.on_request(ctx, msg, op),
            _ => ctx.not_supported(&msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        self.replica.on_timer(ctx, timer);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proto::{ErrorCode, Payload};
    use serde_json::{Value, json};

    use super::*;
    use crate::sim::Cluster;

    /// Run until `client`'s request `msg_id` is answered, or `limit` of virtual time passes.
    pub(crate) fn answer<N: Node>(
        cluster: &mut Cluster<N>,
        client: &str,
        msg_id: u64,
        limit: Duration,
    ) -> Option<Message> {
        let until = cluster.now() + limit;
        while cluster.reply_to(client, msg_id).is_none() && cluster.now() < until {
            if !cluster.step() {
                break;
            }
        }
        cluster.reply_to(client, msg_id).cloned()
    }

    pub(crate) fn write(key: u64, value: u64) -> Value {
        json!({"type": "write", "key": key, "value": value})
    }

    pub(crate) fn read(key: u64) -> Value {
        json!({"type": "read", "key": key})
    }

    pub(crate) fn read_value(reply: &Message) -> Option<Value> {
        match &reply.body.payload {
            Payload::ReadOk { value, .. } => value.clone(),
            _ => None,
        }
    }

    fn cluster(nodes: usize, seed: u64) -> Cluster<TobKv> {
        let mut cluster =
            Cluster::new(nodes, seed, Duration::from_millis(30), |_| TobKv::default());
        cluster.run_for(Duration::from_secs(2));
        for id in 0..nodes {
            assert!(cluster.node(&format!("n{id}")).unwrap().serving());
        }
        cluster
    }

    #[test]
    fn a_write_at_one_node_is_read_at_every_other() {
        let mut c = cluster(3, 1);
        let w = c.request("c1", "n0", &write(1, 7));
        let reply = answer(&mut c, "c1", w, Duration::from_secs(2)).expect("write answered");
        assert_eq!(reply.body.payload, Payload::WriteOk);
        assert_eq!(reply.src, "n0");
        for node in ["n1", "n2"] {
            let r = c.request("c2", node, &read(1));
            let reply = answer(&mut c, "c2", r, Duration::from_secs(2)).expect("read answered");
            assert_eq!(read_value(&reply), Some(json!(7)), "{node}: {reply:?}");
            assert_eq!(reply.src, node);
        }
        let cas = c.request(
            "c3",
            "n2",
            &json!({"type": "cas", "key": 1, "from": 7, "to": 8}),
        );
        let reply = answer(&mut c, "c3", cas, Duration::from_secs(2)).unwrap();
        assert_eq!(reply.body.payload, Payload::CasOk);
        let cas = c.request(
            "c3",
            "n1",
            &json!({"type": "cas", "key": 1, "from": 7, "to": 9}),
        );
        let reply = answer(&mut c, "c3", cas, Duration::from_secs(2)).unwrap();
        assert_eq!(reply.body.error_code(), Some(ErrorCode::PreconditionFailed));
        let missing = c.request("c3", "n1", &read(2));
        let reply = answer(&mut c, "c3", missing, Duration::from_secs(2)).unwrap();
        assert_eq!(reply.body.error_code(), Some(ErrorCode::KeyDoesNotExist));
    }

    #[test]
    fn every_replica_applies_the_same_operations_in_the_same_order() {
        let mut c = cluster(5, 9);
        // Concurrent conflicting writes and cas at every node.
        let mut ids = Vec::new();
        for (i, node) in ["n0", "n1", "n2", "n3", "n4"].iter().enumerate() {
            let client = format!("c{i}");
            ids.push((
                client.clone(),
                c.request(&client, node, &write(0, i as u64)),
            ));
            ids.push((
                client.clone(),
                c.request(
                    &client,
                    node,
                    &json!({"type": "cas", "key": 0, "from": (i + 1) % 5, "to": 10 + i}),
                ),
            ));
        }
        for (client, id) in &ids {
            assert!(answer(&mut c, client, *id, Duration::from_secs(3)).is_some());
        }
        c.run_for(Duration::from_secs(2));
        let first = c.node("n0").unwrap();
        assert_eq!(first.applied(), 10);
        for node in ["n1", "n2", "n3", "n4"] {
            let n = c.node(node).unwrap();
            assert_eq!(n.store(), first.store(), "{node}");
            assert_eq!(n.applied(), 10, "{node}");
        }
    }

    #[test]
    fn a_partition_stalls_every_node_and_nobody_answers_wrongly() {
        let mut c = cluster(3, 4);
        let w = c.request("c1", "n0", &write(5, 1));
        answer(&mut c, "c1", w, Duration::from_secs(2)).expect("written before the cut");
        c.run_for(Duration::from_secs(1));
        c.partition(&["n2"], &["n0", "n1"]);
        // On the majority side too, nothing is applied: the order needs n2's timestamps.
        let w = c.request("c1", "n0", &write(5, 2));
        let r = c.request("c2", "n1", &read(5));
        let write_reply = answer(&mut c, "c1", w, DEFAULT_TIMEOUT * 2).unwrap();
        let read_reply = answer(&mut c, "c2", r, DEFAULT_TIMEOUT * 2).unwrap();
        assert_eq!(write_reply.body.error_code(), Some(ErrorCode::Timeout));
        assert_eq!(
            read_reply.body.error_code(),
            Some(ErrorCode::TemporarilyUnavailable)
        );
        assert_eq!(
            c.node("n1").unwrap().store().get(&json!(5)),
            Some(&json!(1))
        );
        // Once healed, the timed-out write takes effect everywhere, exactly once.
        c.heal();
        c.run_for(Duration::from_secs(3));
        for node in ["n0", "n1", "n2"] {
            let n = c.node(node).unwrap();
            assert_eq!(n.store().get(&json!(5)), Some(&json!(2)), "{node}");
            assert_eq!(n.applied(), 3, "{node}: two writes and the read");
        }
        let r = c.request("c3", "n2", &read(5));
        let reply = answer(&mut c, "c3", r, Duration::from_secs(2)).unwrap();
        assert_eq!(read_value(&reply), Some(json!(2)));
    }

    #[test]
    fn a_restarted_node_replays_the_order_before_it_serves() {
        let mut c = cluster(3, 6);
        for (i, v) in [3u64, 4, 5].into_iter().enumerate() {
            let w = c.request("c1", &format!("n{i}"), &write(1, v));
            answer(&mut c, "c1", w, Duration::from_secs(2)).unwrap();
        }
        c.crash("n2");
        c.restart("n2");
        let r = c.request("c2", "n2", &read(1));
        let early = answer(&mut c, "c2", r, Duration::from_secs(3)).unwrap();
        match early.body.error_code() {
            // Asked while recovering: a definite refusal, never a forgotten value.
            Some(code) => assert_eq!(code, ErrorCode::TemporarilyUnavailable),
            None => assert_eq!(read_value(&early), Some(json!(5))),
        }
        c.run_for(Duration::from_secs(3));
        assert!(c.node("n2").unwrap().serving());
        assert_eq!(
            c.node("n2").unwrap().store().get(&json!(1)),
            Some(&json!(5))
        );
        let r = c.request("c2", "n2", &read(1));
        let reply = answer(&mut c, "c2", r, Duration::from_secs(2)).unwrap();
        assert_eq!(read_value(&reply), Some(json!(5)));
    }

    #[test]
    fn the_store_survives_the_kill_of_every_node_at_once() {
        let mut c = cluster(3, 7);
        for (i, v) in [3u64, 4].into_iter().enumerate() {
            let w = c.request("c1", &format!("n{i}"), &write(1, v));
            answer(&mut c, "c1", w, Duration::from_secs(2)).unwrap();
        }
        let before: Vec<Option<Value>> = ["n0", "n1", "n2"]
            .iter()
            .map(|n| c.node(n).unwrap().store().get(&json!(1)).cloned())
            .collect();
        assert_eq!(before[1], Some(json!(4)), "n1 acknowledged the write of 4");
        for node in ["n0", "n1", "n2"] {
            c.crash(node);
        }
        for (node, had) in ["n0", "n1", "n2"].into_iter().zip(before) {
            c.restart(node);
            assert_eq!(
                c.node(node).unwrap().store().get(&json!(1)).cloned(),
                had,
                "{node} replayed the operations it had applied from its disk at start"
            );
        }
        c.run_for(Duration::from_secs(3));
        let r = c.request("c2", "n1", &read(1));
        let reply = answer(&mut c, "c2", r, Duration::from_secs(2)).unwrap();
        assert_eq!(read_value(&reply), Some(json!(4)));
    }

    #[test]
    fn a_single_node_cluster_serves_alone() {
        let mut c = cluster(1, 2);
        let w = c.request("c1", "n0", &write(1, 3));
        let reply = answer(&mut c, "c1", w, Duration::from_millis(500)).unwrap();
        assert_eq!(reply.body.payload, Payload::WriteOk);
        let r = c.request("c1", "n0", &read(1));
        let reply = answer(&mut c, "c1", r, Duration::from_millis(500)).unwrap();
        assert_eq!(read_value(&reply), Some(json!(3)));
    }

    #[test]
    fn requests_it_does_not_serve_get_error_10() {
        let mut c = cluster(1, 3);
        let id = c.request("c1", "n0", &json!({"type": "read"}));
        let reply = answer(&mut c, "c1", id, Duration::from_millis(100)).unwrap();
        assert_eq!(reply.body.error_code(), Some(ErrorCode::NotSupported));
    }
}

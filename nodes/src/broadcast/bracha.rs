//! `broadcast-bracha`: Bracha's authenticated reliable broadcast, which tolerates Byzantine
//! (fail-arbitrary) nodes: the course's system model of arbitrary faults, and why it needs
//! n ≥ 3f + 1 nodes.
//!
//! **Algorithm.** Each broadcast is one *instance*, named by its origin, the origin's
//! incarnation (`epoch`) and a counter (`seq`). The origin sends `bracha_initial {origin, epoch,
//! seq, value}` to every node, itself included. A node
//!
//! - echoes (`bracha_echo`, to every node) the first INITIAL of an instance that it receives
//!   *from the origin itself* (links are authenticated: an INITIAL relayed by anyone else is
//!   ignored);
//! - sends `bracha_ready` (to every node) for a value once it has ⌈(n + f + 1) / 2⌉ matching
//!   ECHOs, or f + 1 matching READYs (one of them is from a correct node, so it is safe to
//!   join), whichever comes first, and only once per instance;
//! - delivers the value once it has 2f + 1 matching READYs.
//!
//! Each sender counts once per instance and kind: a second ECHO (or READY) from the same
//! sender, whatever it says, is ignored. `f` is `--faulty F`, by default ⌊(n − 1) / 3⌋, the
//! most nodes the algorithm can tolerate.
//!
//! **Guarantee.** With n ≥ 3f + 1 and at most f Byzantine nodes: no two correct nodes deliver
//! different values for one instance (two echo quorums of ⌈(n + f + 1) / 2⌉ meet in a correct
//! node, which echoes one value only); if one correct node delivers, every correct node does
//! (its 2f + 1 READYs include f + 1 from correct nodes, which bring every correct node to send
//! READY, so 2f + 1 READYs reach everyone); and a correct origin's value is delivered by every
//! correct node, unaltered. A Byzantine origin may have its broadcast delivered by no one,
//! never by some correct nodes and not others. With n ≤ 3f (say n = 3 and one Byzantine node),
//! the quorums no longer meet in a correct node and nothing of this holds.
//!
//! **When `broadcast_ok` is sent.** When the origin itself delivers the value (2f + 1 READYs):
//! from then on every correct node delivers it. A broadcast that cannot gather its quorums (too
//! many nodes down or Byzantine) is never acknowledged, and the client's request times out.
//!
//! **Topology.** The suggested topology is ignored: every node talks to every other.
//!
//! **Cost.** Three all-to-all rounds per broadcast: n INITIALs, n² ECHOs and n² READYs
//! (a node's messages to itself are handled without the network), about 2n² messages per
//! broadcast, and as many acknowledgements, plus retransmissions.
//!
//! **Loss and partitions.** The algorithm assumes reliable links, and gets them from fair-loss
//! ones: each INITIAL, ECHO and READY is sent again to a peer every `--retry-ms` until that
//! peer acknowledges it (`bracha_ack {kind, origin, epoch, seq}`, sent for every copy
//! received); receivers ignore what they counted already. So a lost message, or one cut off by
//! a partition, arrives once the network lets it. A Byzantine peer that never acknowledges
//! costs one message per retry for each of its outstanding messages, nothing more.
//!
//! **Crash.** Nothing is kept on stable storage: a restarted node forgets what it delivered
//! and the instances it took part in (its reads start empty, a new incarnation for the
//! checker), and counts as one of the f faulty nodes while it is down.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::{Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::broadcast::delivered::Delivered;
use crate::broadcast::service::Algorithm;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// Settings of the Bracha node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrachaConfig {
    /// How many Byzantine nodes to tolerate (`--faulty`); `None`: ⌊(n − 1) / 3⌋.
    pub faulty: Option<usize>,
    /// How often a node sends again what a peer has not acknowledged (`--retry-ms`); zero:
    /// never.
    pub retry: Duration,
}

impl Default for BrachaConfig {
    fn default() -> Self {
        BrachaConfig {
            faulty: None,
            retry: Duration::from_millis(1000),
        }
    }
}

/// The three kinds of message of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrachaMsg {
    BrachaInitial {
        origin: String,
        epoch: u64,
        seq: u64,
        value: Value,
    },
    BrachaEcho {
        origin: String,
        epoch: u64,
        seq: u64,
        value: Value,
    },
    BrachaReady {
        origin: String,
        epoch: u64,
        seq: u64,
        value: Value,
    },
    /// A peer got this node's message of `kind` (initial, echo, ready) for the instance.
    BrachaAck {
        kind: String,
        origin: String,
        epoch: u64,
        seq: u64,
    },
}

impl BrachaMsg {
    /// The kind's name in an acknowledgement, and the instance; `None` for an ack.
    fn key(&self) -> Option<(&'static str, InstanceId)> {
        let (kind, origin, epoch, seq) = match self {
            BrachaMsg::BrachaInitial {
                origin, epoch, seq, ..
            } => ("initial", origin, epoch, seq),
            BrachaMsg::BrachaEcho {
                origin, epoch, seq, ..
            } => ("echo", origin, epoch, seq),
            BrachaMsg::BrachaReady {
                origin, epoch, seq, ..
            } => ("ready", origin, epoch, seq),
            BrachaMsg::BrachaAck { .. } => return None,
        };
        Some((kind, (origin.clone(), *epoch, *seq)))
    }
}

/// An instance's name: origin, epoch, seq.
type InstanceId = (String, u64, u64);

/// What a node knows of one instance.
#[derive(Debug, Clone, Default)]
struct Instance {
    /// The value this node echoed (once), by its JSON text, and the value itself.
    echoed: Option<Value>,
    /// The value this node sent READY for (once).
    ready: Option<Value>,
    delivered: bool,
    /// The first ECHO and the first READY of each sender: sender -> the value's JSON text.
    echoes: BTreeMap<String, String>,
    readies: BTreeMap<String, String>,
    /// Values by their JSON text.
    values: BTreeMap<String, Value>,
}

impl Instance {
    /// How many senders said `key` in `votes`.
    fn count(votes: &BTreeMap<String, String>, key: &str) -> usize {
        votes.values().filter(|v| *v == key).count()
    }
}

/// The Bracha reliable broadcast node.
#[derive(Debug, Default)]
pub struct Bracha {
    config: BrachaConfig,
    delivered: Delivered,
    instances: BTreeMap<InstanceId, Instance>,
    /// Messages sent and not yet acknowledged: (peer, kind, instance) -> the message.
    unacked: BTreeMap<(String, &'static str, InstanceId), BrachaMsg>,
    /// Client requests waiting for their instance's delivery here.
    waiting: BTreeMap<InstanceId, Message>,
    epoch: u64,
    next_seq: u64,
    /// n and f of the cluster, known once started.
    n: usize,
    f: usize,
    timer: Option<TimerId>,
}

impl Bracha {
    /// A node with the given settings.
    pub fn new(config: BrachaConfig) -> Self {
        Bracha {
            config,
            ..Bracha::default()
        }
    }

    /// The f this node tolerates (known once started).
    pub fn faulty(&self) -> usize {
        self.f
    }

    /// ECHOs that make a node send READY: ⌈(n + f + 1) / 2⌉.
    fn echo_quorum(&self) -> usize {
        (self.n + self.f + 2) / 2
    }

    /// Send `msg` to every node; this node's own copy is handled at once.
    fn send_to_all(&mut self, ctx: &mut Ctx, msg: &BrachaMsg) {
        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
        for peer in &peers {
            ctx.send(peer, msg);
            if let Some((kind, id)) = msg.key()
                && !self.config.retry.is_zero()
            {
                self.unacked.insert((peer.clone(), kind, id), msg.clone());
            }
        }
        let own = ctx.id().to_owned();
        self.handle(ctx, &own, msg.clone());
    }

    /// One message of an instance from `sender` (a node of the cluster).
    fn handle(&mut self, ctx: &mut Ctx, sender: &str, msg: BrachaMsg) {
        let (kind, origin, epoch, seq, value) = match msg {
            BrachaMsg::BrachaInitial {
                origin,
                epoch,
                seq,
                value,
            } => (0, origin, epoch, seq, value),
            BrachaMsg::BrachaEcho {
                origin,
                epoch,
                seq,
                value,
            } => (1, origin, epoch, seq, value),
            BrachaMsg::BrachaReady {
                origin,
                epoch,
                seq,
                value,
            } => (2, origin, epoch, seq, value),
            BrachaMsg::BrachaAck { .. } => return,
        };
        if !ctx.node_ids().contains(&origin) {
            return;
        }
        let id: InstanceId = (origin, epoch, seq);
        let key = value.to_string();
        let instance = self.instances.entry(id.clone()).or_default();
        instance
            .values
            .entry(key.clone())
            .or_insert_with(|| value.clone());
        let mut send_echo = false;
        match kind {
            0 => {
                // Only the origin's own INITIAL counts, and only the first.
                if sender == id.0 && instance.echoed.is_none() {
                    instance.echoed = Some(value.clone());
                    send_echo = true;
                }
            }
            1 => {
                instance.echoes.entry(sender.to_owned()).or_insert(key);
            }
            _ => {
                instance.readies.entry(sender.to_owned()).or_insert(key);
            }
        }
        if send_echo {
            let echo = BrachaMsg::BrachaEcho {
                origin: id.0.clone(),
                epoch: id.1,
                seq: id.2,
                value,
            };
            self.send_to_all(ctx, &echo);
        }
        self.progress(ctx, &id);
    }

    /// Send READY or deliver if the votes of instance `id` now allow it.
    fn progress(&mut self, ctx: &mut Ctx, id: &InstanceId) {
        let (echo_quorum, f) = (self.echo_quorum(), self.f);
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if instance.ready.is_none() {
            let ready = instance.values.iter().find(|(key, _)| {
                Instance::count(&instance.echoes, key) >= echo_quorum
                    || Instance::count(&instance.readies, key) > f
            });
            if let Some((_, value)) = ready {
                let value = value.clone();
                instance.ready = Some(value.clone());
                let msg = BrachaMsg::BrachaReady {
                    origin: id.0.clone(),
                    epoch: id.1,
                    seq: id.2,
                    value,
                };
                self.send_to_all(ctx, &msg);
            }
        }
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if instance.delivered {
            return;
        }
        let deliver = instance
            .values
            .iter()
            .find(|(key, _)| Instance::count(&instance.readies, key) > 2 * f)
            .map(|(_, value)| value.clone());
        if let Some(value) = deliver {
            instance.delivered = true;
            self.delivered.deliver(ctx.now(), value);
            if let Some(request) = self.waiting.remove(id) {
                ctx.reply(&request, &Payload::BroadcastOk);
            }
        }
    }

    /// Send again what no peer has acknowledged.
    fn retransmit(&self, ctx: &mut Ctx) {
        for ((peer, _, _), msg) in &self.unacked {
            ctx.send(peer, msg);
        }
    }
}

impl Algorithm for Bracha {
    fn start(&mut self, ctx: &mut Ctx) {
        self.n = ctx.node_ids().len();
        let most = self.n.saturating_sub(1) / 3;
        self.f = self
            .config
            .faulty
            .unwrap_or(most)
            .min(self.n.saturating_sub(1));
        if 3 * self.f >= self.n {
            ctx.log(format!(
                "warning: f = {} with n = {}: Bracha needs n >= 3f + 1",
                self.f, self.n
            ));
        }
        self.epoch = ctx.incarnation();
        if !self.config.retry.is_zero() {
            self.timer = Some(ctx.set_timer(self.config.retry));
        }
    }

    fn broadcast(&mut self, ctx: &mut Ctx, request: Message, value: Value) {
        let id: InstanceId = (ctx.id().to_owned(), self.epoch, self.next_seq);
        self.next_seq += 1;
        self.waiting.insert(id.clone(), request);
        let msg = BrachaMsg::BrachaInitial {
            origin: id.0,
            epoch: id.1,
            seq: id.2,
            value,
        };
        self.send_to_all(ctx, &msg);
    }

    fn receive(&mut self, ctx: &mut Ctx, msg: Message) {
        // Only the nodes of the cluster take part; a reply or anything unreadable is ignored
        // (a Byzantine peer may send anything).
        if msg.body.in_reply_to.is_some() || !ctx.node_ids().contains(&msg.src) {
            if msg.body.in_reply_to.is_none() && !msg.body.kind().starts_with("bracha_") {
                ctx.not_supported(&msg);
            }
            return;
        }
        let Ok(parsed) = msg.body.parse_custom::<BrachaMsg>() else {
            return;
        };
        match &parsed {
            BrachaMsg::BrachaAck {
                kind,
                origin,
                epoch,
                seq,
            } => {
                let key = (
                    msg.src.clone(),
                    kind.as_str(),
                    (origin.clone(), *epoch, *seq),
                );
                // The kind names one of three: anything else matches nothing.
                for kind in ["initial", "echo", "ready"]
                    .into_iter()
                    .filter(|k| *k == key.1)
                {
                    self.unacked.remove(&(key.0.clone(), kind, key.2.clone()));
                }
            }
            other => {
                if let Some((kind, (origin, epoch, seq))) = other.key() {
                    let ack = BrachaMsg::BrachaAck {
                        kind: kind.to_owned(),
                        origin,
                        epoch,
                        seq,
                    };
                    ctx.send(&msg.src, &ack);
                }
                let sender = msg.src.clone();
                self.handle(ctx, &sender, parsed);
            }
        }
    }

    fn timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
        if self.timer == Some(timer) {
            self.retransmit(ctx);
            self.timer = Some(ctx.set_timer(self.config.retry));
        }
    }

    fn delivered(&self) -> &Delivered {
        &self.delivered
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::broadcast::Service;
    use crate::script::Script;

    const NODES: [&str; 4] = ["n0", "n1", "n2", "n3"];

    fn node() -> Script<Service<Bracha>> {
        let config = BrachaConfig {
            retry: Duration::ZERO,
            ..BrachaConfig::default()
        };
        let mut s = Script::start(Service::new(Bracha::new(config)), 1, &NODES, "lin-kv");
        s.expect("c0", "init_ok");
        s
    }

    fn msg(kind: &str, origin: &str, value: u64) -> Value {
        json!({"type": kind, "origin": origin, "epoch": 1, "seq": 0, "value": value})
    }

    fn delivered(s: &Script<Service<Bracha>>) -> Vec<Value> {
        s.rt.node().delivered().values().to_vec()
    }

    fn sent(s: &mut Script<Service<Bracha>>, kind: &str) -> usize {
        let n = s.outbox.iter().filter(|m| m.body.kind() == kind).count();
        s.outbox.clear();
        n
    }

    #[test]
    fn with_n_4_f_defaults_to_1_and_the_node_delivers_only_after_2f_plus_1_readies() {
        let mut s = node();
        assert_eq!(s.rt.node().algorithm().faulty(), 1);
        s.deliver("n1", msg("bracha_ready", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_ready"), 0, "one READY is not f + 1");
        assert!(delivered(&s).is_empty(), "one READY is not 2f + 1");
        s.deliver("n2", msg("bracha_ready", "n1", 1_000_000));
        assert_eq!(
            sent(&mut s, "bracha_ready"),
            3,
            "f + 1 READYs: it joins, to its three peers"
        );
        // Its own READY and two others: 3 = 2f + 1 -- it delivered with the second peer's,
        // since its own READY counts.
        assert_eq!(delivered(&s), vec![json!(1_000_000)]);
    }

    #[test]
    fn readies_for_different_values_do_not_add_up() {
        let config = BrachaConfig {
            faulty: Some(1),
            retry: Duration::ZERO,
        };
        let mut s = Script::start(Service::new(Bracha::new(config)), 1, &NODES, "lin-kv");
        s.outbox.clear();
        // Two READYs for different values from two senders: no value has f + 1.
        s.deliver("n1", msg("bracha_ready", "n1", 1_000_000));
        s.deliver("n2", msg("bracha_ready", "n1", 1_000_001));
        assert!(delivered(&s).is_empty());
        assert_eq!(sent(&mut s, "bracha_ready"), 0);
        s.deliver("n3", msg("bracha_ready", "n1", 1_000_001));
        // Now 1_000_001 has two READYs (f + 1): the node sends its own, which makes three.
        assert_eq!(delivered(&s), vec![json!(1_000_001)]);
    }

    #[test]
    fn a_second_echo_from_the_same_sender_is_ignored() {
        let mut s = node();
        // Echo quorum for n = 4, f = 1: ceil(6 / 2) = 3.
        s.deliver("n1", msg("bracha_echo", "n1", 1_000_000));
        s.deliver("n1", msg("bracha_echo", "n1", 1_000_000));
        s.deliver("n1", msg("bracha_echo", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_ready"), 0, "one sender is one echo");
        s.deliver("n2", msg("bracha_echo", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_ready"), 0, "two echoes");
        s.deliver("n3", msg("bracha_echo", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_ready"), 3, "three echoes: READY");
    }

    #[test]
    fn an_initial_not_from_its_origin_is_ignored_and_the_origins_own_is_echoed_once() {
        let mut s = node();
        s.deliver("n2", msg("bracha_initial", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_echo"), 0, "n2 relayed n1's INITIAL");
        s.deliver("n1", msg("bracha_initial", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_echo"), 3);
        s.deliver("n1", msg("bracha_initial", "n1", 1_000_007));
        assert_eq!(sent(&mut s, "bracha_echo"), 0, "only the first INITIAL");
    }

    #[test]
    fn each_message_is_sent_again_until_its_peer_acknowledges_it() {
        let mut s = Script::start(Service::new(Bracha::default()), 1, &NODES, "lin-kv");
        s.outbox.clear();
        s.deliver("n1", msg("bracha_initial", "n1", 1_000_000));
        assert_eq!(sent(&mut s, "bracha_ack"), 1, "the INITIAL is acknowledged");
        s.advance(Duration::from_millis(1000));
        assert_eq!(
            sent(&mut s, "bracha_echo"),
            3,
            "no peer acknowledged the ECHO"
        );
        for peer in ["n1", "n2"] {
            s.deliver(
                peer,
                json!({"type": "bracha_ack", "kind": "echo", "origin": "n1", "epoch": 1, "seq": 0}),
            );
        }
        s.deliver(
            "n3",
            json!({"type": "bracha_ack", "kind": "nonsense", "origin": "n1", "epoch": 1, "seq": 0}),
        );
        s.advance(Duration::from_millis(1000));
        let again: Vec<String> = s.outbox.iter().map(|m| m.dest.clone()).collect();
        assert_eq!(again, vec!["n3"], "only n3 has not acknowledged");
    }

    #[test]
    fn garbage_from_a_peer_neither_panics_nor_counts() {
        let mut s = node();
        for body in [
            json!({"type": "bracha_ready"}),
            json!({"type": "bracha_ready", "origin": 5, "epoch": "x", "seq": -1, "value": 1}),
            json!({"type": "bracha_echo", "origin": "n9", "epoch": 1, "seq": 0, "value": 1}),
            json!({"type": "bracha_echo", "origin": "n1", "epoch": 1, "seq": 0, "value": {"a": [1]}}),
            json!({"type": "nonsense", "msg_id": 3}),
        ] {
            s.deliver("n1", body);
        }
        s.deliver("c7", msg("bracha_ready", "n1", 1));
        s.deliver("c8", msg("bracha_ready", "n1", 1));
        assert!(delivered(&s).is_empty());
        assert_eq!(sent(&mut s, "bracha_ready"), 0, "clients do not vote");
    }

    #[test]
    fn a_broadcast_is_acknowledged_when_its_origin_delivers_it() {
        let mut s = node();
        s.deliver(
            "c1",
            json!({"type": "broadcast", "msg_id": 1, "message": 1_000_000}),
        );
        let initial = s.expect("n1", "bracha_initial");
        let epoch = initial.body.parse_custom::<BrachaMsg>().unwrap();
        let BrachaMsg::BrachaInitial { epoch, seq, .. } = epoch else {
            panic!("{initial:?}");
        };
        let vote = |kind: &str| json!({"type": kind, "origin": "n0", "epoch": epoch, "seq": seq, "value": 1_000_000});
        s.outbox.clear();
        s.deliver("n1", vote("bracha_echo"));
        s.deliver("n2", vote("bracha_echo"));
        assert_eq!(sent(&mut s, "bracha_ready"), 3, "its own echo and two more");
        s.deliver("n1", vote("bracha_ready"));
        assert_eq!(sent(&mut s, "broadcast_ok"), 0, "two READYs: not yet");
        s.deliver("n2", vote("bracha_ready"));
        assert_eq!(sent(&mut s, "broadcast_ok"), 1);
        assert_eq!(delivered(&s), vec![json!(1_000_000)]);
    }
}

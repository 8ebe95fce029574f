//! `g-counter-double-count`: a counter for the `g-counter` (and `pn-counter`) workload that
//! replicates *operations* instead of states, with no de-duplication. It keeps the same
//! per-node counts as [`super::pn_counter`] and counts an add with the same function, but
//! where `pn-counter` gossips its whole state and merges by maximum (idempotent), this node
//! forwards each client's `add {delta}` once to every other node as a `forward_add {delta}`,
//! and a node that receives one counts the delta again at the sender's entry.
//!
//! **The promise it breaks.** The counter's value is the sum of the acknowledged adds (plus
//! some of the indefinite ones): every add counted exactly once. Counting a forwarded delta is
//! not idempotent, and nothing remembers which forwards were already counted, so a forward
//! that arrives twice is counted twice and every later read at that node, the final ones
//! included, is off by that delta: the counter checker names the final read out of range.
//!
//! **What shows it.** A duplicated message between nodes (the harness's `duplicate` fault).
//! On a network that delivers each message once the node is exact: each add is counted once
//! at its node and once at every other, and the final reads agree. (It is not fault-tolerant
//! either: a forward lost to a partition is never sent again, so a partition that cuts a
//! forward shows up as final reads that are too low. Its planted bug is the duplicate.)
//!
//! **When `add_ok` is sent.** At once, after counting the add locally. **Cost:** n-1 messages
//! per add. **Crash:** nothing is persisted; a restarted node has forgotten everything.
//!
//! The fix: de-duplicate forwards (number them per sender and count each number once), or
//! replicate the state, as `pn-counter` does.

use proto::{ErrorCode, Message, Payload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pn_counter::{Counts, add};
use crate::ctx::Ctx;
use crate::node::Node;

/// A client's add, forwarded to every other node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename = "forward_add")]
struct ForwardAdd {
    delta: i64,
}

/// The node: per-node counts, as `pn-counter`'s, filled by forwarded deltas.
#[derive(Debug, Default)]
pub struct GCounterDoubleCount {
    counts: Counts,
}

impl GCounterDoubleCount {
    /// The counter's value here.
    pub fn value(&self) -> i64 {
        self.counts.value()
    }
}

impl Node for GCounterDoubleCount {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        if msg.body.in_reply_to.is_some() {
            return;
        }
        match &msg.body.payload {
            Payload::Add { delta, .. } => {
                let me = ctx.id().to_owned();
                match add(&mut self.counts, &me, &msg.body.payload) {
                    Ok(_) => {
                        let forward = ForwardAdd {
                            delta: delta.unwrap_or(0),
                        };
                        let peers: Vec<String> = ctx.peers().map(str::to_owned).collect();
                        for peer in &peers {
                            ctx.send(peer, &forward);
                        }
                        ctx.reply(&msg, &Payload::AddOk);
                    }
                    Err(why) => ctx.reply_error(&msg, ErrorCode::MalformedRequest, why),
                }
            }
            Payload::Read { .. } => ctx.reply(
                &msg,
                &Payload::ReadOk {
                    messages: None,
                    value: Some(Value::from(self.value())),
                },
            ),
            _ => match msg.body.parse_custom::<ForwardAdd>() {
                // The bug: counted however often it arrives.
                Ok(forward) => {
                    let request = Payload::Add {
                        delta: Some(forward.delta),
                        element: None,
                    };
                    if let Err(why) = add(&mut self.counts, &msg.src, &request) {
                        ctx.log(format!("bad forward from {}: {why}", msg.src));
                    }
                }
                Err(_) => ctx.not_supported(&msg),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::script::Script;
    use crate::sim::Cluster;

    #[test]
    fn a_duplicated_forward_is_counted_twice() {
        let mut s = Script::start(
            GCounterDoubleCount::default(),
            1,
            &["n0", "n1", "n2"],
            "none",
        );
        s.expect("c0", "init_ok");
        s.deliver("c1", json!({"type": "add", "msg_id": 1, "delta": 2}));
        s.expect("n1", "forward_add");
        s.expect("n2", "forward_add");
        s.expect("c1", "add_ok");
        let forward = json!({"type": "forward_add", "delta": 5});
        s.deliver("n1", forward.clone());
        assert_eq!(s.rt.node().value(), 7);
        // The network delivers n1's forward a second time.
        s.deliver("n1", forward);
        assert_eq!(s.rt.node().value(), 12, "5 counted twice");
    }

    #[test]
    fn without_duplicates_every_node_reads_the_sum() {
        let mut c = Cluster::new(3, 9, Duration::from_millis(50), |_| {
            GCounterDoubleCount::default()
        });
        for (i, node) in ["n0", "n1", "n2", "n0", "n2"].iter().enumerate() {
            c.request("c1", node, &json!({"type": "add", "delta": i + 1}));
            c.run_for(Duration::from_millis(10));
        }
        assert!(c.run_until_quiet(10_000));
        for node in ["n0", "n1", "n2"] {
            assert_eq!(c.node(node).expect("up").value(), 15, "{node}");
        }
    }

    #[test]
    fn a_network_that_duplicates_every_message_counts_forwards_twice() {
        let mut c = Cluster::new(3, 9, Duration::from_millis(50), |_| {
            GCounterDoubleCount::default()
        });
        c.set_duplicate(1.0);
        for (i, node) in ["n0", "n1", "n2", "n0", "n2"].iter().enumerate() {
            c.request("c1", node, &json!({"type": "add", "delta": i + 1}));
            c.run_for(Duration::from_millis(10));
        }
        assert!(c.run_until_quiet(10_000));
        assert_eq!(c.messages_sent, 10, "each add forwarded once to each peer");
        // Each node counts its own adds once and every forwarded one twice: 2 * 15 - own.
        for (node, own) in [("n0", 1 + 4), ("n1", 2), ("n2", 3 + 5)] {
            assert_eq!(c.node(node).expect("up").value(), 2 * 15 - own, "{node}");
        }
    }
}

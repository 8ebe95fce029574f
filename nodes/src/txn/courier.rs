//! Reliable delivery of replication items to peers, **one message per item** (the course's
//! fair-loss link made reliable by retransmission and de-duplication).
//!
//! Each item goes out at once in its own `replicate` message and again every `retry` until the
//! peer answers `replicate_ok`; the receiver acknowledges every copy and hands each item to the
//! node once, remembering what it saw per sender session (one start of the sender program, its
//! incarnation). Partitions therefore heal: what was sent during one arrives after it.
//!
//! Unlike the batched [`crate::broadcast::link`], items are never grouped: each message gets
//! its own delay from the network, so two items sent one after the other may arrive in either
//! order, and items of different senders interleave freely. The transactional nodes rely on
//! that: the correct one sends a transaction's whole write set as one item, the planted bugs
//! send each write separately and so let the network reorder them.
//!
//! Items not yet acknowledged when the sender crashes are lost with it.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::Message;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::broadcast::seqset::SeqSet;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// The courier's messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
enum Wire<T> {
    /// An item, numbered `seq` in the sender's `session`.
    Replicate { session: u64, seq: u64, item: T },
    /// The receiver has the item `seq` of the sender's `session`.
    ReplicateOk { session: u64, seq: u64 },
}

#[derive(Debug, Clone)]
struct Pending<T> {
    item: T,
    sent: Duration,
}

/// What one message brought.
#[derive(Debug, Clone, PartialEq)]
pub enum Received<T> {
    /// An item seen for the first time.
    Fresh(T),
    /// An acknowledgement, or a copy of an item already handed over.
    Nothing,
}

/// Reliable, unbatched delivery from this node to each peer.
#[derive(Debug, Clone)]
pub struct Courier<T> {
    retry: Duration,
    session: u64,
    next_seq: u64,
    /// Items not yet acknowledged, by (peer, seq).
    pending: BTreeMap<(String, u64), Pending<T>>,
    /// Sequence numbers seen, by (sender, session).
    seen: BTreeMap<(String, u64), SeqSet>,
    timer: Option<TimerId>,
}

impl<T: Clone + Serialize + DeserializeOwned> Courier<T> {
    /// A courier that sends an unacknowledged item again every `retry`.
    pub fn new(retry: Duration) -> Self {
        Courier {
            retry,
            session: 0,
            next_seq: 0,
            pending: BTreeMap::new(),
            seen: BTreeMap::new(),
            timer: None,
        }
    }

    /// Begin a session: this start of the program (call from `on_init`).
    pub fn start(&mut self, ctx: &Ctx) {
        self.session = ctx.incarnation();
    }

    /// Send `item` to `peer` now, and again until acknowledged.
    pub fn send(&mut self, ctx: &mut Ctx, peer: &str, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        ctx.send(
            peer,
            &Wire::Replicate {
                session: self.session,
                seq,
                item: item.clone(),
            },
        );
        self.pending.insert(
            (peer.to_owned(), seq),
            Pending {
                item,
                sent: ctx.now(),
            },
        );
        self.arm(ctx);
    }

    /// Send `item` to `peer` first at the next retry (between one and two `retry` from now),
    /// then again until acknowledged: a sender that holds an item back a while.
    pub fn send_later(&mut self, ctx: &mut Ctx, peer: &str, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert(
            (peer.to_owned(), seq),
            Pending {
                item,
                sent: ctx.now(),
            },
        );
        self.arm(ctx);
    }

    /// How many items wait for an acknowledgement.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    /// Handle `msg` if it is the courier's (None otherwise). A malformed one is logged and
    /// brings nothing.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> Option<Received<T>> {
        if !matches!(msg.body.kind(), "replicate" | "replicate_ok") {
            return None;
        }
        match msg.body.parse_custom::<Wire<T>>() {
            Ok(Wire::Replicate { session, seq, item }) => {
                ctx.send(&msg.src, &Wire::<T>::ReplicateOk { session, seq });
                let fresh = self
                    .seen
                    .entry((msg.src.clone(), session))
                    .or_default()
                    .insert(seq);
                Some(if fresh {
                    Received::Fresh(item)
                } else {
                    Received::Nothing
                })
            }
            Ok(Wire::ReplicateOk { session, seq }) => {
                if session == self.session {
                    self.pending.remove(&(msg.src.clone(), seq));
                }
                Some(Received::Nothing)
            }
            Err(err) => {
                ctx.log(format!(
                    "ignoring a malformed {} from {}: {err}",
                    msg.body.kind(),
                    msg.src
                ));
                Some(Received::Nothing)
            }
        }
    }

    /// Handle a timer; false if it is not the courier's. Sends again what is due.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        if self.timer != Some(timer) {
            return false;
        }
        self.timer = None;
        let now = ctx.now();
        let session = self.session;
        for ((peer, seq), pending) in self.pending.iter_mut() {
            if pending.sent + self.retry <= now {
                pending.sent = now;
                ctx.send(
                    peer,
                    &Wire::Replicate {
                        session,
                        seq: *seq,
                        item: pending.item.clone(),
                    },
                );
            }
        }
        self.arm(ctx);
        true
    }

    /// Keep a retry timer set while anything waits for an acknowledgement.
    fn arm(&mut self, ctx: &mut Ctx) {
        if self.timer.is_none() && !self.pending.is_empty() {
            self.timer = Some(ctx.set_timer(self.retry));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Node;
    use crate::script::Script;

    /// A node that courier-sends every `say` to n1 and keeps what it receives.
    struct Relay {
        courier: Courier<u64>,
        got: Vec<u64>,
    }

    impl Node for Relay {
        fn on_init(&mut self, ctx: &mut Ctx) {
            self.courier.start(ctx);
        }
        fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
            if let Some(received) = self.courier.receive(ctx, &msg) {
                if let Received::Fresh(item) = received {
                    self.got.push(item);
                }
            } else if let Some(n) = msg.body.to_value()["n"].as_u64() {
                self.courier.send(ctx, "n1", n);
            }
        }
        fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
            self.courier.on_timer(ctx, timer);
        }
    }

    fn relay() -> Relay {
        Relay {
            courier: Courier::new(Duration::from_millis(100)),
            got: Vec::new(),
        }
    }

    #[test]
    fn an_item_is_sent_again_until_acknowledged() {
        let mut s = Script::start(relay(), 7, &["n0", "n1"], "none");
        s.expect("c0", "init_ok");
        s.deliver("c1", json!({"type": "say", "n": 5}));
        let first = s.expect("n1", "replicate");
        assert_eq!(first.body.to_value()["item"], 5);
        s.advance(Duration::from_millis(100));
        let again = s.expect("n1", "replicate");
        assert_eq!(again.body.to_value()["seq"], first.body.to_value()["seq"]);
        let session = first.body.to_value()["session"].clone();
        s.deliver(
            "n1",
            json!({"type": "replicate_ok", "session": session, "seq": 0}),
        );
        assert_eq!(s.rt.node().courier.unacked(), 0);
        s.advance(Duration::from_millis(500));
        assert!(s.outbox.is_empty(), "{:?}", s.outbox);
    }

    #[test]
    fn every_copy_is_acknowledged_and_handed_over_once() {
        let mut s = Script::start(relay(), 7, &["n0", "n1"], "none");
        s.expect("c0", "init_ok");
        let item = json!({"type": "replicate", "session": 3, "seq": 0, "item": 9});
        s.deliver("n1", item.clone());
        s.deliver("n1", item);
        // A new session of the sender numbers from 0 again: a new item.
        s.deliver(
            "n1",
            json!({"type": "replicate", "session": 4, "seq": 0, "item": 10}),
        );
        for _ in 0..3 {
            s.expect("n1", "replicate_ok");
        }
        assert_eq!(s.rt.node().got, vec![9, 10]);
        s.deliver("n1", json!({"type": "replicate", "session": 4}));
        assert_eq!(s.rt.node().got, vec![9, 10]);
    }
}

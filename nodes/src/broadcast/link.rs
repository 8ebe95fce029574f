//! Reliable links over a fair-loss network (the course's "system models": a fair-loss link made
//! reliable by retransmission and de-duplication).
//!
//! The sender keeps an outbox per peer. Items wait there, numbered, until the peer
//! acknowledges them; every `interval` the link sends each peer one `batch` message with the
//! items that are new or whose last send is older than `retry`, plus the acknowledgements it
//! owes that peer. So a link costs at most one message per peer per interval, however many
//! items and acknowledgements it carries (batching). With an interval of zero the link is the
//! textbook's, unbatched: each item goes at once (at the end of the step that queued it) in a
//! message of its own, the acknowledgements owed to that peer riding with the first.
//!
//! The receiver acknowledges every item it gets, even one it has seen (the first
//! acknowledgement may have been lost), and hands each item to the algorithm once: it
//! remembers the sequence numbers it has seen per sender *session*. A session is one start of
//! the sender program (its incarnation), so a restarted sender, whose numbering starts again at
//! 0, is not mistaken for a repeat; acknowledgements name the session, so a restarted sender
//! ignores those meant for its previous life. A restarted receiver has forgotten what it saw
//! and may get an item again: the algorithms above de-duplicate by message id as well.
//!
//! A batch may also carry *notes*: items sent once, never acknowledged nor retried, for
//! announcements that a later one supersedes and that the algorithm repairs otherwise if lost
//! (they cost no acknowledgement message).
//!
//! Items not yet acknowledged when the sender crashes are lost with it; the algorithms say how
//! they cope (relaying, quorums, anti-entropy). Items a receiver acknowledged before it
//! crashed are not sent again by the link; it reports the restart (a new session of a known
//! peer) so that the algorithm can resend what matters.

use std::collections::BTreeMap;
use std::time::Duration;

use proto::Message;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::broadcast::seqset::SeqSet;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// The `type` of a link message.
pub const BATCH: &str = "batch";

/// How many sessions of one sender a receiver remembers (a sender restarts rarely, and late
/// messages of an older session are the only reason to remember more than one).
const SESSIONS_KEPT: usize = 4;

/// Timing of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// At most one batch per peer per `interval`. Zero: no batching, as the textbook draws a
    /// link: each item goes at once in a message of its own.
    pub interval: Duration,
    /// An unacknowledged item is sent again after this long.
    pub retry: Duration,
    /// At most this many items per batch (the rest go in the next one).
    pub max_items: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            interval: Duration::from_millis(10),
            retry: Duration::from_millis(600),
            max_items: 256,
        }
    }
}

/// The message on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
enum Wire<T> {
    Batch {
        /// The sender's session.
        session: u64,
        /// `[seq, item]` pairs.
        #[serde(default)]
        items: Vec<(u64, T)>,
        /// What the sender acknowledges of the receiver's items, per receiver session.
        #[serde(default)]
        acks: Vec<Ack>,
        /// Items sent once, not to be acknowledged.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<T>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ack {
    session: u64,
    seqs: SeqSet,
}

#[derive(Debug, Clone)]
struct Pending<T> {
    item: T,
    /// When it was last sent (None: not yet).
    sent: Option<Duration>,
}

#[derive(Debug, Clone)]
struct Outbox<T> {
    next: u64,
    pending: BTreeMap<u64, Pending<T>>,
}

impl LinkConfig {
    /// True when each item goes at once in a message of its own (`interval` zero).
    pub fn unbatched(&self) -> bool {
        self.interval.is_zero()
    }
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Outbox {
            next: 0,
            pending: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Inbox {
    /// Sequence numbers seen, per sender session, most recent session last.
    seen: Vec<(u64, SeqSet)>,
    /// Acknowledgements owed, per sender session.
    owed: BTreeMap<u64, SeqSet>,
}

/// What one batch brought.
#[derive(Debug, Clone)]
pub struct Arrival<T> {
    /// The peer that sent it.
    pub from: String,
    /// Items seen for the first time (in the sender's order).
    pub fresh: Vec<T>,
    /// Items this node sent to `from` that `from` has now acknowledged.
    pub acked: Vec<T>,
    /// Notes: items sent once, not acknowledged (repeats are possible).
    pub notes: Vec<T>,
    /// `from` speaks in a session this link has not seen before, after an earlier one: it
    /// restarted and has forgotten everything, including what its previous life
    /// acknowledged.
    pub restarted: bool,
}

/// Reliable, batched links from this node to each peer.
#[derive(Debug, Clone)]
pub struct Link<T> {
    config: LinkConfig,
    session: u64,
    out: BTreeMap<String, Outbox<T>>,
    inbox: BTreeMap<String, Inbox>,
    /// Notes waiting for the next batch, per peer.
    notes: BTreeMap<String, Vec<T>>,
    /// The flush timer and when it fires.
    timer: Option<(TimerId, Duration)>,
}

impl<T: Clone + Serialize + DeserializeOwned> Link<T> {
    /// Links with the given timing. Call [`Link::start`] once the node is initialised.
    pub fn new(config: LinkConfig) -> Self {
        Link {
            config,
            session: 0,
            out: BTreeMap::new(),
            inbox: BTreeMap::new(),
            notes: BTreeMap::new(),
            timer: None,
        }
    }

    /// Begin a session: this start of the program.
    pub fn start(&mut self, ctx: &Ctx) {
        self.session = ctx.incarnation();
    }

    /// Queue `item` for `peer`; it goes out with the next batch and again until acknowledged.
    pub fn send(&mut self, ctx: &mut Ctx, peer: &str, item: T) {
        let outbox = self.out.entry(peer.to_owned()).or_default();
        let seq = outbox.next;
        outbox.next += 1;
        outbox.pending.insert(seq, Pending { item, sent: None });
        self.arm(ctx);
    }

    /// Put `note` in the next batch for `peer`, once: no acknowledgement, no retry. Notes
    /// still waiting that match `stale` are dropped first (superseded).
    pub fn send_note(
        &mut self,
        ctx: &mut Ctx,
        peer: &str,
        note: T,
        mut stale: impl FnMut(&T) -> bool,
    ) {
        let queued = self.notes.entry(peer.to_owned()).or_default();
        queued.retain(|n| !stale(n));
        queued.push(note);
        self.arm(ctx);
    }

    /// Drop the items queued for `peer` that match `stale` (for example an announcement that a
    /// newer one supersedes). They will not be sent again.
    pub fn forget(&mut self, peer: &str, mut stale: impl FnMut(&T) -> bool) {
        if let Some(outbox) = self.out.get_mut(peer) {
            outbox.pending.retain(|_, p| !stale(&p.item));
        }
    }

    /// How many items wait for `peer`'s acknowledgement.
    pub fn unacked(&self, peer: &str) -> usize {
        self.out.get(peer).map_or(0, |o| o.pending.len())
    }

    /// Handle `msg` if it is a link batch: record the acknowledgements it carries, owe
    /// acknowledgements for its items, and return what it brought. `None` for any other
    /// message. A malformed batch is logged and brings nothing.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: &Message) -> Option<Arrival<T>> {
        if msg.body.kind() != BATCH {
            return None;
        }
        let mut arrival = Arrival {
            from: msg.src.clone(),
            fresh: Vec::new(),
            acked: Vec::new(),
            notes: Vec::new(),
            restarted: false,
        };
        let (session, items, acks) = match msg.body.parse_custom::<Wire<T>>() {
            Ok(Wire::Batch {
                session,
                items,
                acks,
                notes,
            }) => {
                arrival.notes = notes;
                (session, items, acks)
            }
            Err(err) => {
                ctx.log(format!(
                    "ignoring a malformed batch from {}: {err}",
                    msg.src
                ));
                return Some(arrival);
            }
        };
        for ack in acks.iter().filter(|a| a.session == self.session) {
            if let Some(outbox) = self.out.get_mut(&msg.src) {
                outbox.pending.retain(|seq, pending| {
                    let done = ack.seqs.contains(*seq);
                    if done {
                        arrival.acked.push(pending.item.clone());
                    }
                    !done
                });
            }
        }
        let inbox = self.inbox.entry(msg.src.clone()).or_default();
        let at = match inbox.seen.iter().position(|(s, _)| *s == session) {
            Some(at) => at,
            None => {
                arrival.restarted = !inbox.seen.is_empty();
                if inbox.seen.len() == SESSIONS_KEPT {
                    inbox.seen.remove(0);
                }
                inbox.seen.push((session, SeqSet::new()));
                inbox.seen.len() - 1
            }
        };
        if !items.is_empty() {
            let owed = inbox.owed.entry(session).or_default();
            for (seq, item) in items {
                owed.insert(seq);
                if inbox.seen[at].1.insert(seq) {
                    arrival.fresh.push(item);
                }
            }
            self.arm(ctx);
        }
        Some(arrival)
    }

    /// Handle a timer; returns false if it is not the link's. Sends what is due.
    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        if self.timer.map(|(id, _)| id) != Some(timer) {
            return false;
        }
        self.timer = None;
        self.flush(ctx);
        self.arm(ctx);
        true
    }

    /// Send every peer one batch of what is due now.
    fn flush(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let mut peers: Vec<String> = self.out.keys().cloned().collect();
        peers.extend(self.inbox.keys().cloned());
        peers.extend(self.notes.keys().cloned());
        peers.sort();
        peers.dedup();
        for peer in peers {
            let mut items = Vec::new();
            if let Some(outbox) = self.out.get_mut(&peer) {
                for (&seq, pending) in outbox.pending.iter_mut() {
                    if items.len() == self.config.max_items {
                        break;
                    }
                    if pending.sent.is_none_or(|at| at + self.config.retry <= now) {
                        pending.sent = Some(now);
                        items.push((seq, pending.item.clone()));
                    }
                }
            }
            let acks: Vec<Ack> = self
                .inbox
                .get_mut(&peer)
                .map(|inbox| std::mem::take(&mut inbox.owed))
                .unwrap_or_default()
                .into_iter()
                .map(|(session, seqs)| Ack { session, seqs })
                .collect();
            let mut notes = self.notes.remove(&peer).unwrap_or_default();
            if items.is_empty() && acks.is_empty() && notes.is_empty() {
                continue;
            }
            if !self.config.unbatched() {
                let batch = Wire::Batch {
                    session: self.session,
                    items,
                    acks,
                    notes,
                };
                ctx.send(&peer, &batch);
                continue;
            }
            // Unbatched: one item (or note) per message; the acknowledgements ride with the
            // first.
            let mut acks = Some(acks);
            let singles = items
                .into_iter()
                .map(|item| (vec![item], Vec::new()))
                .chain(notes.drain(..).map(|note| (Vec::new(), vec![note])));
            let mut sent = false;
            for (items, notes) in singles {
                let batch = Wire::Batch {
                    session: self.session,
                    items,
                    acks: acks.take().unwrap_or_default(),
                    notes,
                };
                ctx.send(&peer, &batch);
                sent = true;
            }
            if let Some(acks) = acks.filter(|a| !a.is_empty() && !sent) {
                let batch: Wire<T> = Wire::Batch {
                    session: self.session,
                    items: Vec::new(),
                    acks,
                    notes: Vec::new(),
                };
                ctx.send(&peer, &batch);
            }
        }
    }

    /// Make sure the timer runs while anything is to be sent or acknowledged: at the next
    /// interval when something is due now, else when the earliest retry falls due. A timer
    /// already set for later (a retry) is brought forward.
    fn arm(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        if self
            .timer
            .is_some_and(|(_, at)| at <= now + self.config.interval)
        {
            return;
        }
        let owes = self.inbox.values().any(|i| !i.owed.is_empty())
            || self.notes.values().any(|n| !n.is_empty());
        let mut next_retry: Option<Duration> = None;
        let mut unsent = false;
        for pending in self.out.values().flat_map(|o| o.pending.values()) {
            match pending.sent {
                None => unsent = true,
                Some(at) => {
                    let due = at + self.config.retry;
                    next_retry = Some(next_retry.map_or(due, |d| d.min(due)));
                }
            }
            if unsent {
                break;
            }
        }
        let after = if owes || unsent {
            Some(self.config.interval)
        } else {
            next_retry.map(|due| due.saturating_sub(now).max(self.config.interval))
        };
        let Some(after) = after else { return };
        match self.timer {
            Some((_, at)) if at <= now + after => {}
            stale => {
                if let Some((id, _)) = stale {
                    ctx.cancel_timer(id);
                }
                self.timer = Some((ctx.set_timer(after), now + after));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proto::Body;
    use serde_json::json;

    use super::*;
    use crate::ctx::Effect;

    fn ctx(id: &str, incarnation: u64) -> Ctx {
        let mut ctx = Ctx::new(1, incarnation);
        ctx.initialise(id.into(), vec!["n0".into(), "n1".into()], 1);
        ctx
    }

    fn sent(ctx: &mut Ctx) -> Vec<Message> {
        std::mem::take(&mut ctx.effects)
            .into_iter()
            .filter_map(|e| match e {
                Effect::Send(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    fn timer_of(link: &Link<u32>) -> TimerId {
        link.timer.expect("link timer armed").0
    }

    fn batch(from: &str, to: &str, value: serde_json::Value) -> Message {
        let body: Body = serde_json::from_value(value).unwrap();
        Message::new(from, to, body)
    }

    #[test]
    fn items_are_batched_retried_and_acknowledged() {
        let config = LinkConfig {
            interval: Duration::from_millis(10),
            retry: Duration::from_millis(100),
            max_items: 8,
        };
        let mut a = ctx("n0", 7);
        let mut link: Link<u32> = Link::new(config);
        link.start(&a);
        link.send(&mut a, "n1", 5);
        link.send(&mut a, "n1", 6);
        assert!(
            sent(&mut a).is_empty(),
            "nothing goes out before the interval"
        );
        a.set_now(Duration::from_millis(10));
        assert!(link.on_timer(&mut a, timer_of(&link)));
        let out = sent(&mut a);
        assert_eq!(out.len(), 1, "one batch for both items");
        assert_eq!(
            out[0].body.to_value(),
            json!({"type": "batch", "session": 7, "items": [[0, 5], [1, 6]], "acks": []})
        );
        // No acknowledgement: the items go again once `retry` has passed, not before.
        a.set_now(Duration::from_millis(110));
        assert!(link.on_timer(&mut a, timer_of(&link)));
        assert_eq!(sent(&mut a).len(), 1);
        // An acknowledgement for another session is ignored; for ours it empties the outbox.
        let stale = batch(
            "n1",
            "n0",
            json!({"type": "batch", "session": 3, "acks": [{"session": 6, "seqs": [[0, 1]]}]}),
        );
        assert!(link.receive(&mut a, &stale).unwrap().acked.is_empty());
        let ack = batch(
            "n1",
            "n0",
            json!({"type": "batch", "session": 3, "acks": [{"session": 7, "seqs": [[0, 1]]}]}),
        );
        assert_eq!(link.receive(&mut a, &ack).unwrap().acked, vec![5, 6]);
        assert_eq!(link.unacked("n1"), 0);
    }

    #[test]
    fn the_receiver_acknowledges_repeats_but_hands_each_item_up_once() {
        let mut b = ctx("n1", 1);
        let mut link: Link<u32> = Link::new(LinkConfig::default());
        link.start(&b);
        let first = batch(
            "n0",
            "n1",
            json!({"type": "batch", "session": 7, "items": [[0, 5], [1, 6]]}),
        );
        assert_eq!(link.receive(&mut b, &first).unwrap().fresh, vec![5, 6]);
        let again = batch(
            "n0",
            "n1",
            json!({"type": "batch", "session": 7, "items": [[1, 6], [2, 9]]}),
        );
        assert_eq!(link.receive(&mut b, &again).unwrap().fresh, vec![9]);
        // A restarted sender numbers from 0 again in a new session: not a repeat.
        let restarted = batch(
            "n0",
            "n1",
            json!({"type": "batch", "session": 8, "items": [[0, 11]]}),
        );
        let arrival = link.receive(&mut b, &restarted).unwrap();
        assert_eq!(arrival.fresh, vec![11]);
        assert!(
            arrival.restarted,
            "a new session after an earlier one is a restart"
        );
        b.set_now(Duration::from_millis(10));
        assert!(link.on_timer(&mut b, timer_of(&link)));
        let out = sent(&mut b);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].body.to_value()["acks"],
            json!([{"session": 7, "seqs": [[0, 2]]}, {"session": 8, "seqs": [[0, 0]]}])
        );
    }

    #[test]
    fn a_new_item_does_not_wait_behind_a_retry() {
        let config = LinkConfig {
            interval: Duration::from_millis(10),
            retry: Duration::from_millis(600),
            max_items: 8,
        };
        let mut a = ctx("n0", 7);
        let mut link: Link<u32> = Link::new(config);
        link.start(&a);
        link.send(&mut a, "n1", 1);
        a.set_now(Duration::from_millis(10));
        link.on_timer(&mut a, timer_of(&link));
        sent(&mut a);
        // Only a retry is pending now, 600 ms away; a new item must go at the next interval.
        a.set_now(Duration::from_millis(20));
        link.send(&mut a, "n1", 2);
        let (_, at) = link.timer.expect("armed");
        assert_eq!(at, Duration::from_millis(30));
        a.set_now(at);
        link.on_timer(&mut a, timer_of(&link));
        let out = sent(&mut a);
        assert_eq!(out[0].body.to_value()["items"], json!([[1, 2]]));
    }

    #[test]
    fn notes_go_once_and_are_not_acknowledged() {
        let mut a = ctx("n0", 7);
        let mut link: Link<u32> = Link::new(LinkConfig::default());
        link.start(&a);
        link.send_note(&mut a, "n1", 3, |_| false);
        link.send_note(&mut a, "n1", 4, |old| *old == 3);
        a.set_now(Duration::from_millis(10));
        link.on_timer(&mut a, timer_of(&link));
        let out = sent(&mut a);
        assert_eq!(
            out[0].body.to_value()["notes"],
            json!([4]),
            "3 was superseded"
        );
        assert!(link.timer.is_none(), "nothing to retry");
        let mut b = ctx("n1", 1);
        let mut other: Link<u32> = Link::new(LinkConfig::default());
        other.start(&b);
        let arrival = other.receive(&mut b, &out[0]).unwrap();
        assert_eq!(arrival.notes, vec![4]);
        assert!(other.timer.is_none(), "a note is not acknowledged");
    }

    #[test]
    fn unbatched_each_item_goes_at_once_alone_with_the_acks_on_the_first() {
        let config = LinkConfig {
            interval: Duration::ZERO,
            ..LinkConfig::default()
        };
        assert!(config.unbatched());
        let mut a = ctx("n0", 7);
        let mut link: Link<u32> = Link::new(config);
        link.start(&a);
        // n1 sent us item 0: we owe it an acknowledgement.
        let from_n1 = batch(
            "n1",
            "n0",
            json!({"type": "batch", "session": 3, "items": [[0, 9]]}),
        );
        assert_eq!(link.receive(&mut a, &from_n1).unwrap().fresh, vec![9]);
        link.send(&mut a, "n1", 5);
        link.send(&mut a, "n1", 6);
        // The timer is due at once: no waiting for an interval.
        let (_, at) = link.timer.expect("armed");
        assert_eq!(at, Duration::ZERO);
        assert!(link.on_timer(&mut a, timer_of(&link)));
        let out: Vec<serde_json::Value> = sent(&mut a).iter().map(|m| m.body.to_value()).collect();
        assert_eq!(
            out,
            vec![
                json!({"type": "batch", "session": 7, "items": [[0, 5]], "acks": [{"session": 3, "seqs": [[0, 0]]}]}),
                json!({"type": "batch", "session": 7, "items": [[1, 6]], "acks": []}),
            ]
        );
        // An acknowledgement alone goes alone.
        let again = batch(
            "n1",
            "n0",
            json!({"type": "batch", "session": 3, "items": [[1, 10]]}),
        );
        link.receive(&mut a, &again);
        assert!(link.on_timer(&mut a, timer_of(&link)));
        let out = sent(&mut a);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].body.to_value()["items"], json!([]));
    }

    #[test]
    fn a_malformed_batch_brings_nothing() {
        let mut b = ctx("n1", 1);
        let mut link: Link<u32> = Link::new(LinkConfig::default());
        link.start(&b);
        let bad = batch("n0", "n1", json!({"type": "batch", "session": "x"}));
        let arrival = link.receive(&mut b, &bad).unwrap();
        assert!(arrival.fresh.is_empty() && arrival.acked.is_empty());
        let other = batch("n0", "n1", json!({"type": "gossip"}));
        assert!(link.receive(&mut b, &other).is_none());
    }
}

//! Recovery of the quorum layer after a (re)start: sync from a majority, announce a new
//! generation, then serve. See the module above for why each step is there.
//!
//! **Invariants** (each has a test below):
//!
//! 1. *Nothing a majority held is forgotten.* A node that starts without its logs (first start,
//!    wiped disk, no stable storage) serves only after it has read the whole state of
//!    `n - majority + 1` peers that had finished their own recovery, or of every peer: an entry
//!    a majority held is still held by `majority - 1` others, so either set includes a holder.
//!    A node that finds its logs on disk held everything it ever acknowledged and skips the
//!    sync.
//! 2. *A recovering peer is no witness.* Its answer is kept (it may hold entries nobody else
//!    has) but does not count toward the `n - majority + 1`: it has forgotten what it held
//!    before its own restart.
//! 3. *A generation is never used twice.* A node's new generation is one above every
//!    generation of its log it has seen, its own included, and it is on disk before the node
//!    announces it; a wiped node learns the highest one in the sync.
//! 4. *What a node learned is itself held by a majority* before the node serves: the
//!    announcement of its new generation carries the stable watermarks it knows, and the node
//!    waits for a majority to acknowledge it.
//! 5. *An origin continues after everything it ever numbered that may have counted.* Its own
//!    log is kept up to the first gap (past a gap nothing was stable) and sent again under the
//!    new generation; new entries follow it.
//! 6. *State of any size is read whole*: pages of at most [`PAGE`] entries, until the last.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use proto::Message;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Event, Item, Known, Own, Quorum, Watermark};
use crate::ctx::Ctx;
use crate::node::TimerId;

/// At most this many entries per sync page.
const PAGE: usize = 512;

/// Where recovery stands.
#[derive(Debug)]
pub(super) enum Phase {
    /// Before `start`.
    Starting,
    Syncing(Syncing),
    /// Waiting for a majority to acknowledge the new generation.
    Announcing {
        generation: u64,
        acks: BTreeSet<String>,
        known: Vec<Known>,
    },
    Ready,
}

/// The sync step: what each peer has answered so far.
#[derive(Debug, Default)]
pub(super) struct Syncing {
    peers: BTreeMap<String, PeerSync>,
    /// Sync requests in flight: rpc id -> peer.
    rpcs: BTreeMap<u64, String>,
    timer: Option<TimerId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PeerSync {
    /// Still reading this peer's state; the next page starts after `after`.
    Reading {
        after: Option<(String, u64)>,
        in_flight: bool,
    },
    /// Its whole state has been read. `ready`: it had finished its own recovery, so its
    /// state covers everything it ever held; a recovering peer's state is only what it
    /// received since its restart (still worth having).
    Complete { ready: bool },
}

/// The sync protocol's messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SyncMsg<E> {
    /// "Send me your state, from after this (origin, position)."
    Sync {
        #[serde(default)]
        after: Option<(String, u64)>,
    },
    /// A page of the state. `origins` (every origin's announcements) comes with every page;
    /// `ready` is false when the sender is recovering itself.
    SyncOk {
        ready: bool,
        origins: Vec<OriginMeta>,
        entries: Vec<SyncEntry<E>>,
        more: bool,
    },
}

/// What a node knows of one origin's generations and stable announcements.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct OriginMeta {
    origin: String,
    #[serde(rename = "gen")]
    generation: u64,
    /// `[generation, upto]` stable announcements.
    stable: Vec<(u64, u64)>,
    /// `[generation, upto]` committed announcements.
    #[serde(default)]
    committed: Vec<(u64, u64)>,
}

/// An origin's entry shipped to another node (by sync or anti-entropy).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SyncEntry<E> {
    pub(super) origin: String,
    pub(super) pos: u64,
    #[serde(rename = "gen")]
    pub(super) generation: u64,
    pub(super) body: E,
}

const SYNC_KINDS: [&str; 2] = ["sync", "sync_ok"];

impl<E: Clone + Debug + Serialize + DeserializeOwned> Quorum<E> {
    pub(super) fn start_recovery(&mut self, ctx: &mut Ctx) {
        let peers = self
            .peers
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    PeerSync::Reading {
                        after: None,
                        in_flight: false,
                    },
                )
            })
            .collect();
        self.phase = Phase::Syncing(Syncing {
            peers,
            ..Syncing::default()
        });
        for peer in self.peers.clone() {
            self.ask(ctx, &peer);
        }
        if let Phase::Syncing(syncing) = &mut self.phase {
            syncing.timer = Some(ctx.set_timer(self.config.sync_retry));
        }
        self.maybe_finish_sync(ctx);
    }

    fn ask(&mut self, ctx: &mut Ctx, peer: &str) {
        let timeout = self.config.sync_timeout;
        let Phase::Syncing(syncing) = &mut self.phase else {
            return;
        };
        let after = match syncing.peers.get(peer) {
            Some(PeerSync::Reading { after, .. }) => after.clone(),
            // A recovering peer may have become ready since: read it again.
            Some(PeerSync::Complete { ready: false }) => None,
            _ => return,
        };
        let id = ctx.rpc(
            peer,
            &SyncMsg::<E>::Sync {
                after: after.clone(),
            },
            timeout,
        );
        syncing.rpcs.insert(id, peer.to_owned());
        syncing.peers.insert(
            peer.to_owned(),
            PeerSync::Reading {
                after,
                in_flight: true,
            },
        );
    }

    /// Handle sync requests and replies. False for other messages.
    pub(super) fn receive_sync(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        if let Some(reply_to) = msg.body.in_reply_to {
            let peer = match &mut self.phase {
                Phase::Syncing(syncing) => syncing.rpcs.remove(&reply_to),
                _ => None,
            };
            if let Some(peer) = peer {
                self.on_sync_reply(ctx, &peer, msg);
                return true;
            }
            // A late answer to a sync that recovery no longer waits for.
            return SYNC_KINDS.contains(&msg.body.kind());
        }
        if msg.body.kind() != "sync" {
            return false;
        }
        match msg.body.parse_custom::<SyncMsg<E>>() {
            Ok(SyncMsg::Sync { after }) => {
                let page = self.page(after);
                ctx.reply(msg, &page);
            }
            Ok(_) => {}
            Err(err) => ctx.log(format!("ignoring a malformed sync from {}: {err}", msg.src)),
        }
        true
    }

    /// What this node knows of every origin's generations and announcements.
    pub(super) fn metas(&self) -> Vec<OriginMeta> {
        self.logs
            .iter()
            .map(|(origin, log)| OriginMeta {
                origin: origin.clone(),
                generation: log.generation,
                stable: log.stable().collect(),
                committed: log.committed().collect(),
            })
            .collect()
    }

    /// One page of this node's state, after `after`.
    fn page(&self, after: Option<(String, u64)>) -> SyncMsg<E> {
        let origins = self.metas();
        let mut entries = Vec::new();
        let mut more = false;
        let start = after.as_ref().map(|(origin, _)| origin.clone());
        let logs = match &start {
            Some(origin) => self.logs.range(origin.clone()..),
            None => self.logs.range::<String, _>(..),
        };
        'outer: for (origin, log) in logs {
            let skip = match &after {
                Some((o, pos)) if o == origin => Some(*pos),
                _ => None,
            };
            for (pos, generation, body) in log.entries_after(skip) {
                if entries.len() == PAGE {
                    more = true;
                    break 'outer;
                }
                entries.push(SyncEntry {
                    origin: origin.clone(),
                    pos,
                    generation,
                    body: body.clone(),
                });
            }
        }
        SyncMsg::SyncOk {
            ready: self.is_ready(),
            origins,
            entries,
            more,
        }
    }

    fn on_sync_reply(&mut self, ctx: &mut Ctx, peer: &str, msg: &Message) {
        let next = match msg.body.parse_custom::<SyncMsg<E>>() {
            Ok(SyncMsg::SyncOk {
                ready,
                origins,
                entries,
                more,
            }) => {
                let last = entries.last().map(|e| (e.origin.clone(), e.pos));
                self.merge(ctx, origins, entries);
                if more {
                    PeerSync::Reading {
                        after: last,
                        in_flight: false,
                    }
                } else {
                    PeerSync::Complete { ready }
                }
            }
            // A timeout, or an answer that makes no sense: ask again later.
            _ => {
                let after = match &self.phase {
                    Phase::Syncing(s) => match s.peers.get(peer) {
                        Some(PeerSync::Reading { after, .. }) => after.clone(),
                        _ => None,
                    },
                    _ => None,
                };
                PeerSync::Reading {
                    after,
                    in_flight: false,
                }
            }
        };
        // The next page, or a retry after a timeout (the timeout was the wait): ask at once.
        let ask_now = matches!(next, PeerSync::Reading { .. });
        if let Phase::Syncing(syncing) = &mut self.phase {
            syncing.peers.insert(peer.to_owned(), next);
        }
        if ask_now {
            self.ask(ctx, peer);
        }
        self.maybe_finish_sync(ctx);
    }

    /// Keep what a sync page or an anti-entropy delta brought.
    pub(super) fn merge(
        &mut self,
        ctx: &mut Ctx,
        origins: Vec<OriginMeta>,
        entries: Vec<SyncEntry<E>>,
    ) {
        let mut touched = BTreeSet::new();
        for meta in origins {
            self.keep_generation(ctx, &meta.origin, meta.generation);
            for (generation, upto) in meta.stable {
                self.keep_stable(ctx, &meta.origin, generation, upto);
            }
            // Committed knowledge is known by a majority already: it can be used as is.
            for (generation, upto) in meta.committed {
                self.keep_committed(ctx, &meta.origin, generation, upto);
            }
            touched.insert(meta.origin);
        }
        for entry in entries {
            if self.keep_entry(ctx, &entry.origin, entry.pos, entry.generation, &entry.body) {
                self.events.push(Event::Stored {
                    origin: entry.origin.clone(),
                    pos: entry.pos,
                    body: entry.body,
                });
            }
            touched.insert(entry.origin);
        }
        for origin in touched {
            self.hand_up(&origin);
        }
    }

    pub(super) fn on_sync_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        let Phase::Syncing(syncing) = &mut self.phase else {
            return false;
        };
        if syncing.timer != Some(timer) {
            return false;
        }
        let idle: Vec<String> = syncing
            .peers
            .iter()
            .filter(|(_, state)| {
                matches!(
                    state,
                    PeerSync::Complete { ready: false }
                        | PeerSync::Reading {
                            in_flight: false,
                            ..
                        }
                )
            })
            .map(|(peer, _)| peer.clone())
            .collect();
        syncing.timer = Some(ctx.set_timer(self.config.sync_retry));
        for peer in idle {
            self.ask(ctx, &peer);
        }
        true
    }

    /// Move on to announcing once enough ready nodes have answered in full, or every other
    /// node has answered in full, ready or not.
    ///
    /// Enough: an entry a majority held is still held by at least `majority - 1` others
    /// after this node lost its copy, so any `n - majority + 1` others include a holder. When
    /// fewer are ready (a cluster that just started, or several nodes recovering at once),
    /// the union of what every other node holds is all that is left anywhere.
    fn maybe_finish_sync(&mut self, ctx: &mut Ctx) {
        let Phase::Syncing(syncing) = &self.phase else {
            return;
        };
        let cluster = self.peers.len() + 1;
        let need = (cluster - self.majority + 1).min(self.peers.len());
        let complete = syncing
            .peers
            .values()
            .filter(|s| **s == PeerSync::Complete { ready: true })
            .count();
        let all_answered = syncing
            .peers
            .values()
            .all(|s| matches!(s, PeerSync::Complete { .. }));
        if complete < need && !all_answered {
            return;
        }
        if let Some(timer) = syncing.timer {
            ctx.cancel_timer(timer);
        }
        self.announce_generation(ctx);
    }

    /// Step 2: start a new generation of this node's log, one above any it has seen, and send
    /// it with what this node learned; ready once a majority holds it.
    pub(super) fn announce_generation(&mut self, ctx: &mut Ctx) {
        let me = self.me.clone();
        let generation = self.log_mut(&me).generation + 1;
        self.keep_generation(ctx, &me, generation);
        let known: Vec<Known> = self
            .logs
            .iter()
            .flat_map(|(origin, log)| {
                log.stable().map(|(g, upto)| Known {
                    origin: origin.clone(),
                    generation: g,
                    upto,
                })
            })
            .collect();
        self.phase = Phase::Announcing {
            generation,
            acks: BTreeSet::new(),
            known: known.clone(),
        };
        for peer in self.peers.clone() {
            self.link.send(
                ctx,
                &peer,
                Item::Generation {
                    generation,
                    known: known.clone(),
                },
            );
        }
        if self.majority == 1 {
            self.become_ready(ctx);
        }
    }

    pub(super) fn on_generation_acked(&mut self, ctx: &mut Ctx, from: &str, generation: u64) {
        let Phase::Announcing {
            generation: announced,
            acks,
            ..
        } = &mut self.phase
        else {
            return;
        };
        if *announced != generation {
            return;
        }
        acks.insert(from.to_owned());
        if acks.len() + 1 >= self.majority {
            self.become_ready(ctx);
        }
    }

    /// The new generation is held by a majority: resend the own log under it, and serve.
    fn become_ready(&mut self, ctx: &mut Ctx) {
        let Phase::Announcing {
            generation, known, ..
        } = std::mem::replace(&mut self.phase, Phase::Ready)
        else {
            return;
        };
        if self.config.watermark == Watermark::Committed {
            // What was written back is now known by a majority: it counts as committed.
            for k in &known {
                self.keep_committed(ctx, &k.origin, k.generation, k.upto);
            }
        }
        let me = self.me.clone();
        let log = self.log_mut(&me);
        let keep = log.contiguous();
        if log.entries_after(keep.checked_sub(1)).next().is_some() {
            self.keep_truncated(ctx, &me, keep);
        }
        let own: Vec<(u64, E)> = self
            .log_mut(&me)
            .entries()
            .map(|(pos, _, body)| (pos, body.clone()))
            .collect();
        for (pos, body) in &own {
            self.keep_entry(ctx, &me, *pos, generation, body);
        }
        self.own = Own {
            generation,
            next: keep,
            ..Own::default()
        };
        for peer in self.peers.clone() {
            for (pos, body) in &own {
                self.link.send(
                    ctx,
                    &peer,
                    Item::Entry {
                        generation,
                        pos: *pos,
                        body: body.clone(),
                    },
                );
            }
        }
        self.events.push(Event::Ready);
        let origins: Vec<String> = self.logs.keys().cloned().collect();
        for origin in origins {
            self.hand_up(&origin);
        }
        self.advance_stable(ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proto::Message;
    use serde_json::json;

    use super::super::{Quorum, QuorumConfig, Watermark};
    use super::Phase;
    use crate::ctx::Ctx;
    use crate::node::{Node, TimerId};
    use crate::sim::Cluster;

    /// A node that is nothing but the quorum layer: a client's `append {n}` appends `n`.
    #[derive(Debug)]
    struct Layer(Quorum<u64>);

    impl Node for Layer {
        fn on_init(&mut self, ctx: &mut Ctx) {
            let stable = ctx.take_recovered();
            self.0.start(ctx, &stable);
        }
        fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
            if msg.body.kind() == "append" {
                let n = msg.body.to_value()["n"].as_u64().unwrap_or(0);
                self.0.append(ctx, n);
            } else {
                self.0.receive(ctx, &msg);
            }
            self.0.take_events();
        }
        fn on_timer(&mut self, ctx: &mut Ctx, timer: TimerId) {
            self.0.on_timer(ctx, timer);
            self.0.take_events();
        }
    }

    fn cluster(n: usize, seed: u64) -> Cluster<Layer> {
        let mut c = Cluster::new(n, seed, Duration::from_millis(10), |_| {
            Layer(Quorum::new(QuorumConfig::new(Watermark::Stable)))
        });
        c.run_for(Duration::from_secs(2));
        c
    }

    fn layer<'a>(c: &'a Cluster<Layer>, id: &str) -> &'a Quorum<u64> {
        &c.node(id).expect("running").0
    }

    fn append(c: &mut Cluster<Layer>, id: &str, values: impl IntoIterator<Item = u64>) {
        for n in values {
            c.request("c1", id, &json!({"type": "append", "n": n}));
        }
        c.run_for(Duration::from_secs(1));
    }

    fn own(c: &Cluster<Layer>, id: &str) -> Vec<u64> {
        layer(c, id).own_entries().map(|(_, v)| *v).collect()
    }

    #[test]
    fn a_cluster_that_starts_empty_becomes_ready_with_everyone_answering_unready() {
        // Invariant 2's corner: every peer is recovering, so none is a witness; once all have
        // answered in full, their union (nothing) is all there is.
        let c = cluster(3, 1);
        for id in ["n0", "n1", "n2"] {
            assert!(layer(&c, id).is_ready(), "{id}");
            assert_eq!(layer(&c, id).generation(), 1, "{id}");
        }
    }

    #[test]
    fn a_wiped_node_waits_for_enough_ready_witnesses_then_recovers_its_own_log() {
        // Invariants 1 and 5: n0's entries are held by a majority; n0 loses its disk while two
        // of the four others are down, so only two ready witnesses answer: n - majority + 1 =
        // 3 are needed, and n0 waits (it does not serve with what two nodes hold).
        let mut c = cluster(5, 2);
        append(&mut c, "n0", [10, 11, 12]);
        assert_eq!(own(&c, "n0"), [10, 11, 12]);
        for id in ["n0", "n3", "n4"] {
            c.crash(id);
        }
        c.wipe("n0");
        c.restart("n0");
        c.run_for(Duration::from_secs(3));
        assert!(!layer(&c, "n0").is_ready(), "two witnesses are not enough");
        assert!(matches!(layer(&c, "n0").phase, Phase::Syncing(_)));
        c.restart("n3");
        c.run_for(Duration::from_secs(3));
        assert!(layer(&c, "n0").is_ready());
        assert_eq!(
            own(&c, "n0"),
            [10, 11, 12],
            "its log, read back from the majority"
        );
        append(&mut c, "n0", [13]);
        assert_eq!(
            own(&c, "n0"),
            [10, 11, 12, 13],
            "numbering continues after them"
        );
    }

    #[test]
    fn a_node_that_finds_its_logs_on_disk_skips_the_sync() {
        // Invariant 1's other half: with every peer cut off, a node without its disk would sync
        // forever; one with its disk goes straight to announcing its new generation.
        let mut c = cluster(3, 3);
        append(&mut c, "n1", [5]);
        c.crash("n1");
        c.partition(&["n1"], &["n0", "n2"]);
        c.restart("n1");
        c.run_for(Duration::from_millis(500));
        assert!(matches!(layer(&c, "n1").phase, Phase::Announcing { .. }));
        assert_eq!(own(&c, "n1"), [5]);
        c.heal();
        c.run_for(Duration::from_secs(2));
        assert!(layer(&c, "n1").is_ready());
    }

    #[test]
    fn generations_only_grow_across_restarts_with_and_without_the_disk() {
        // Invariant 3.
        let mut c = cluster(3, 4);
        let mut seen = vec![layer(&c, "n2").generation()];
        for round in 0..4 {
            append(&mut c, "n2", [round]);
            c.crash("n2");
            if round % 2 == 1 {
                c.wipe("n2");
            }
            c.restart("n2");
            c.run_for(Duration::from_secs(3));
            assert!(layer(&c, "n2").is_ready(), "round {round}");
            seen.push(layer(&c, "n2").generation());
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert_eq!(own(&c, "n2"), [0, 1, 2, 3], "nothing stable was lost");
    }

    #[test]
    fn a_ready_node_waits_for_a_majority_to_hold_its_new_generation() {
        // Invariant 4: with both peers down, a restarted node has announced but is not ready.
        let mut c = cluster(3, 5);
        c.crash("n1");
        c.crash("n2");
        c.crash("n0");
        c.restart("n0");
        c.run_for(Duration::from_secs(2));
        assert!(matches!(layer(&c, "n0").phase, Phase::Announcing { .. }));
        c.restart("n1");
        c.run_for(Duration::from_secs(2));
        assert!(layer(&c, "n0").is_ready(), "n0 and n1 are a majority");
    }

    #[test]
    fn a_log_larger_than_a_page_is_read_whole() {
        // Invariant 6: 600 entries (more than one page of 512) come back after a wipe.
        let mut c = cluster(3, 6);
        append(&mut c, "n0", 0..600);
        assert_eq!(own(&c, "n0").len(), 600);
        c.crash("n0");
        c.wipe("n0");
        c.restart("n0");
        c.run_for(Duration::from_secs(5));
        assert!(layer(&c, "n0").is_ready());
        assert_eq!(own(&c, "n0"), (0..600).collect::<Vec<_>>());
    }
}

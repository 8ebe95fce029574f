//! Recovery of the quorum layer after a (re)start: sync from a majority, announce a new
//! generation, then serve. See the module above for why each step is there.

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

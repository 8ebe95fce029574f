//! Anti-entropy between the origin logs (the course's gossip protocols, applied to the quorum
//! layer): every `anti_entropy` period a node sends a random peer a digest of what it holds
//! (per origin and generation, the positions, as ranges) and what it knows is stable; the peer
//! sends back the entries the node lacks, or holds only in an older generation, and its own
//! digest when it lacks some of the node's, so the node sends those too.
//!
//! Only an origin sends its entries over the links, so without this an entry that reached a
//! few nodes before its origin crashed would stay there until the origin restarts, and die
//! with them if they crash too. With it, anything any live node holds spreads to every node
//! within a few periods. Storing follows the same rule as always (the highest generation's
//! version), and nothing is delivered that the announcements do not cover, so anti-entropy can
//! only add copies, never change what is delivered.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proto::Message;
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Quorum;
use super::recovery::{OriginMeta, SyncEntry};
use crate::broadcast::seqset::SeqSet;
use crate::ctx::Ctx;
use crate::node::TimerId;

/// At most this many entries per delta.
const PAGE: usize = 512;

/// The positions of one origin's log held in one generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Held {
    origin: String,
    #[serde(rename = "gen")]
    generation: u64,
    positions: SeqSet,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(bound(deserialize = "E: Deserialize<'de>"))]
enum Repair<E> {
    /// "This is what I hold, and what I know is stable."
    LogDigest {
        origins: Vec<OriginMeta>,
        held: Vec<Held>,
    },
    /// "Here is what you lack" (at most a page), with the sender's announcements, and its
    /// digest when it lacks some of what yours listed.
    LogDelta {
        origins: Vec<OriginMeta>,
        entries: Vec<SyncEntry<E>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<Vec<Held>>,
    },
}

const REPAIR_KINDS: [&str; 2] = ["log_digest", "log_delta"];

impl<E: Clone + Debug + Serialize + DeserializeOwned> Quorum<E> {
    /// Start the periodic exchanges.
    pub(super) fn start_repair(&mut self, ctx: &mut Ctx) {
        self.repair_timer = Some(ctx.set_timer(self.config.anti_entropy));
    }

    pub(super) fn on_repair_timer(&mut self, ctx: &mut Ctx, timer: TimerId) -> bool {
        if self.repair_timer != Some(timer) {
            return false;
        }
        if !self.peers.is_empty() {
            let i = ctx.rng().random_range(0..self.peers.len());
            let peer = self.peers[i].clone();
            let digest = Repair::<E>::LogDigest {
                origins: self.metas(),
                held: self.held(),
            };
            ctx.send(&peer, &digest);
        }
        self.start_repair(ctx);
        true
    }

    /// Handle anti-entropy messages. False for other messages.
    pub(super) fn receive_repair(&mut self, ctx: &mut Ctx, msg: &Message) -> bool {
        if !REPAIR_KINDS.contains(&msg.body.kind()) {
            return false;
        }
        let answer = match msg.body.parse_custom::<Repair<E>>() {
            Ok(Repair::LogDigest { origins, held }) => {
                self.merge(ctx, origins, Vec::new());
                let entries = self.missing_for(&held);
                let lacks = self.lacks_some_of(&held);
                (!entries.is_empty() || lacks).then(|| Repair::LogDelta {
                    origins: self.metas(),
                    entries,
                    held: lacks.then(|| self.held()),
                })
            }
            Ok(Repair::LogDelta {
                origins,
                entries,
                held,
            }) => {
                self.merge(ctx, origins, entries);
                held.map(|held| self.missing_for(&held))
                    .filter(|entries| !entries.is_empty())
                    .map(|entries| Repair::LogDelta {
                        origins: self.metas(),
                        entries,
                        held: None,
                    })
            }
            Err(err) => {
                ctx.log(format!(
                    "ignoring a malformed {} from {}: {err}",
                    msg.body.kind(),
                    msg.src
                ));
                None
            }
        };
        if let Some(answer) = answer {
            ctx.send(&msg.src, &answer);
        }
        true
    }

    /// This node's digest.
    fn held(&self) -> Vec<Held> {
        let mut held = Vec::new();
        for (origin, log) in &self.logs {
            let mut by_generation: BTreeMap<u64, SeqSet> = BTreeMap::new();
            for (pos, generation, _) in log.entries() {
                by_generation.entry(generation).or_default().insert(pos);
            }
            held.extend(
                by_generation
                    .into_iter()
                    .map(|(generation, positions)| Held {
                        origin: origin.clone(),
                        generation,
                        positions,
                    }),
            );
        }
        held
    }

    /// The entries this node holds in a newer version than the digest lists (a page).
    fn missing_for(&self, held: &[Held]) -> Vec<SyncEntry<E>> {
        let mut theirs: BTreeMap<&str, Vec<&Held>> = BTreeMap::new();
        for h in held {
            theirs.entry(h.origin.as_str()).or_default().push(h);
        }
        let mut out = Vec::new();
        for (origin, log) in &self.logs {
            let known = theirs.get(origin.as_str());
            for (pos, generation, body) in log.entries() {
                let their_generation = known
                    .into_iter()
                    .flatten()
                    .filter(|h| h.positions.contains(pos))
                    .map(|h| h.generation)
                    .max();
                if their_generation.is_none_or(|g| g < generation) {
                    out.push(SyncEntry {
                        origin: origin.clone(),
                        pos,
                        generation,
                        body: body.clone(),
                    });
                    if out.len() == PAGE {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// True when the digest lists a position this node does not hold in that generation or a
    /// newer one.
    fn lacks_some_of(&self, held: &[Held]) -> bool {
        held.iter().any(|h| {
            let Some(log) = self.logs.get(&h.origin) else {
                return !h.positions.is_empty();
            };
            h.positions.ranges().any(|(first, last)| {
                let span = (last - first).saturating_add(1);
                log.count_at_least(first, last, h.generation) < span
            })
        })
    }
}

//! The quorum layer on stable storage: every change to the origin logs a node holds is
//! appended to its stable log `quorum` in the event that makes it, so it is durable before the
//! node acknowledges an entry, announces a watermark or starts a generation; at start the
//! records are replayed in order, which rebuilds the logs exactly as they stood.
//!
//! Every mutation of [`Quorum::logs`] goes through the four methods here, so nothing is held
//! in memory that the disk does not also hold. (The set of positions handed up to the
//! algorithm is per start, not state: it is rebuilt by handing up again.)

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Event, Quorum};
use crate::ctx::Ctx;
use crate::storage::Stable;

/// The stable log of the quorum layer.
pub const LOG: &str = "quorum";

/// One change to the origin logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(super) enum Record<B> {
    /// `origin`'s entry at `pos`, in the version of generation `gen`.
    Entry {
        origin: String,
        pos: u64,
        #[serde(rename = "gen")]
        generation: u64,
        body: B,
    },
    /// Positions below `upto` of `origin`'s generation `gen` were held by a majority.
    Stable {
        origin: String,
        #[serde(rename = "gen")]
        generation: u64,
        upto: u64,
    },
    /// Positions below `upto` of `origin`'s generation `gen` are known by a majority to be
    /// stable.
    Committed {
        origin: String,
        #[serde(rename = "gen")]
        generation: u64,
        upto: u64,
    },
    /// `origin` has reached generation `gen`.
    Generation {
        origin: String,
        #[serde(rename = "gen")]
        generation: u64,
    },
    /// `origin`'s entries at `pos` and after were dropped.
    Truncate { origin: String, pos: u64 },
}

impl<E: Clone + Debug + Serialize + DeserializeOwned> Quorum<E> {
    /// Keep `origin`'s entry at `pos` in the version of `generation`, unless a version of the
    /// same or a higher generation is held. True if it was kept (and persisted).
    pub(super) fn keep_entry(
        &mut self,
        ctx: &mut Ctx,
        origin: &str,
        pos: u64,
        generation: u64,
        body: &E,
    ) -> bool {
        if !self.log_mut(origin).store(pos, generation, body.clone()) {
            return false;
        }
        ctx.persist(
            LOG,
            &Record::Entry {
                origin: origin.to_owned(),
                pos,
                generation,
                body,
            },
        );
        true
    }

    /// Learn that positions below `upto` of `origin`'s `generation` were stable. True if news.
    pub(super) fn keep_stable(
        &mut self,
        ctx: &mut Ctx,
        origin: &str,
        generation: u64,
        upto: u64,
    ) -> bool {
        if !self.log_mut(origin).learn_stable(generation, upto) {
            return false;
        }
        ctx.persist(
            LOG,
            &Record::<()>::Stable {
                origin: origin.to_owned(),
                generation,
                upto,
            },
        );
        true
    }

    /// Learn that positions below `upto` of `origin`'s `generation` are committed. True if
    /// news.
    pub(super) fn keep_committed(
        &mut self,
        ctx: &mut Ctx,
        origin: &str,
        generation: u64,
        upto: u64,
    ) -> bool {
        if !self.log_mut(origin).learn_committed(generation, upto) {
            return false;
        }
        ctx.persist(
            LOG,
            &Record::<()>::Committed {
                origin: origin.to_owned(),
                generation,
                upto,
            },
        );
        true
    }

    /// Learn that `origin` has reached `generation`.
    pub(super) fn keep_generation(&mut self, ctx: &mut Ctx, origin: &str, generation: u64) {
        let log = self.log_mut(origin);
        if generation <= log.generation {
            return;
        }
        log.generation = generation;
        ctx.persist(
            LOG,
            &Record::<()>::Generation {
                origin: origin.to_owned(),
                generation,
            },
        );
    }

    /// Drop `origin`'s entries at `pos` and after.
    pub(super) fn keep_truncated(&mut self, ctx: &mut Ctx, origin: &str, pos: u64) {
        self.log_mut(origin).truncate(pos);
        ctx.persist(
            LOG,
            &Record::<()>::Truncate {
                origin: origin.to_owned(),
                pos,
            },
        );
    }

    /// Rebuild the origin logs from what stable storage held, and report every entry held as
    /// stored. Returns how many records were replayed (0: a new node).
    pub(super) fn restore(&mut self, stable: &Stable) -> usize {
        let records = stable.decode::<Record<E>>(LOG);
        for record in &records {
            match record {
                Record::Entry {
                    origin,
                    pos,
                    generation,
                    body,
                } => {
                    self.log_mut(origin).store(*pos, *generation, body.clone());
                }
                Record::Stable {
                    origin,
                    generation,
                    upto,
                } => {
                    self.log_mut(origin).learn_stable(*generation, *upto);
                }
                Record::Committed {
                    origin,
                    generation,
                    upto,
                } => {
                    self.log_mut(origin).learn_committed(*generation, *upto);
                }
                Record::Generation { origin, generation } => {
                    let log = self.log_mut(origin);
                    log.generation = log.generation.max(*generation);
                }
                Record::Truncate { origin, pos } => self.log_mut(origin).truncate(*pos),
            }
        }
        // Every entry held is news to the algorithm above (a Lamport clock observes them).
        for (origin, log) in &self.logs {
            for (pos, _, body) in log.entries() {
                self.events.push(Event::Stored {
                    origin: origin.clone(),
                    pos,
                    body: body.clone(),
                });
            }
        }
        records.len()
    }
}

//! One origin's log as a node knows it: the entries it holds, which of them are known to be
//! safely replicated, and which it has already handed to the ordering algorithm.
//!
//! Positions count an origin's entries across all its restarts. An origin that restarts starts
//! a new *generation* and sends its whole log again under it, with new entries after; an entry
//! is known in the version of the highest generation that sent it. A generation announces which
//! prefix of its log a majority holds (`stable`), and, for causal broadcast, which prefix a
//! majority *knows* to be stable (`committed`). Because a new generation reads a majority before
//! writing, a version that was stable in generation `g` is the one every later generation sends
//! again; so a held version of generation `h` may be handed up at position `p` when some
//! generation `g <= h` announced a watermark above `p`.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::broadcast::seqset::SeqSet;

/// Which announcement makes an entry deliverable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watermark {
    /// A majority holds it.
    Stable,
    /// A majority knows that a majority holds it.
    Committed,
}

/// An origin's log at one node.
#[derive(Debug, Clone)]
pub struct OriginLog<E> {
    /// The highest generation of this origin seen.
    pub generation: u64,
    /// position -> (generation of the version held, body).
    entries: BTreeMap<u64, (u64, E)>,
    /// generation -> positions below this were held by a majority in that generation.
    stable: BTreeMap<u64, u64>,
    /// generation -> positions below this are known by a majority to be stable.
    committed: BTreeMap<u64, u64>,
    /// Positions handed up to the ordering algorithm in this incarnation.
    handed: SeqSet,
}

impl<E> Default for OriginLog<E> {
    fn default() -> Self {
        OriginLog {
            generation: 0,
            entries: BTreeMap::new(),
            stable: BTreeMap::new(),
            committed: BTreeMap::new(),
            handed: SeqSet::new(),
        }
    }
}

impl<E: Clone> OriginLog<E> {
    /// Keep the version of `generation` at `pos` unless a version of the same or a higher
    /// generation is held. Returns true if it was kept.
    pub fn store(&mut self, pos: u64, generation: u64, body: E) -> bool {
        self.generation = self.generation.max(generation);
        match self.entries.get(&pos) {
            Some((held, _)) if *held >= generation => false,
            _ => {
                self.entries.insert(pos, (generation, body));
                true
            }
        }
    }

    /// Record that positions below `upto` were stable in `generation`. True if news.
    pub fn learn_stable(&mut self, generation: u64, upto: u64) -> bool {
        self.generation = self.generation.max(generation);
        raise(&mut self.stable, generation, upto)
    }

    /// Record that positions below `upto` are committed in `generation`. True if news.
    pub fn learn_committed(&mut self, generation: u64, upto: u64) -> bool {
        self.generation = self.generation.max(generation);
        raise(&mut self.committed, generation, upto)
    }

    /// Every `(generation, upto)` stable announcement known.
    pub fn stable(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.stable.iter().map(|(&g, &u)| (g, u))
    }

    /// Every `(generation, upto)` committed announcement known.
    pub fn committed(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.committed.iter().map(|(&g, &u)| (g, u))
    }

    /// The held versions, by position.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u64, &E)> + '_ {
        self.entries.iter().map(|(&p, (g, body))| (p, *g, body))
    }

    /// The held versions at positions after `after` (all if `None`).
    pub fn entries_after(&self, after: Option<u64>) -> impl Iterator<Item = (u64, u64, &E)> + '_ {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.entries
            .range((start, Bound::Unbounded))
            .map(|(&p, (g, body))| (p, *g, body))
    }

    /// The generation of the version held at `pos`.
    pub fn generation_at(&self, pos: u64) -> Option<u64> {
        self.entries.get(&pos).map(|(g, _)| *g)
    }

    /// How many positions in `[first, last]` hold a version of `generation` or higher.
    pub fn count_at_least(&self, first: u64, last: u64, generation: u64) -> u64 {
        if first > last {
            return 0;
        }
        self.entries
            .range(first..=last)
            .filter(|(_, (g, _))| *g >= generation)
            .count() as u64
    }

    /// The body held at `pos`.
    pub fn get(&self, pos: u64) -> Option<&E> {
        self.entries.get(&pos).map(|(_, body)| body)
    }

    /// The number of leading positions `0, 1, ...` held without a gap.
    pub fn contiguous(&self) -> u64 {
        let mut next = 0;
        for &pos in self.entries.keys() {
            if pos != next {
                break;
            }
            next += 1;
        }
        next
    }

    /// Forget every entry at `pos` or after.
    pub fn truncate(&mut self, pos: u64) {
        self.entries.split_off(&pos);
    }

    /// Hand up every held entry that the `watermark` announcements now cover and that was
    /// not handed up before, in position order.
    pub fn hand_up(&mut self, watermark: Watermark) -> Vec<(u64, E)> {
        let marks = match watermark {
            Watermark::Stable => &self.stable,
            Watermark::Committed => &self.committed,
        };
        // reach[i] = (g, highest watermark of any generation <= g).
        let mut reach: Vec<(u64, u64)> = Vec::with_capacity(marks.len());
        let mut best = 0;
        for (&g, &upto) in marks {
            best = best.max(upto);
            reach.push((g, best));
        }
        let Some(&(_, highest)) = reach.last() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let start = self.handed.prefix();
        for (&pos, (g, body)) in self.entries.range(start..highest) {
            if self.handed.contains(pos) {
                continue;
            }
            let covered = reach
                .iter()
                .take_while(|(mark_gen, _)| mark_gen <= g)
                .last()
                .is_some_and(|&(_, upto)| pos < upto);
            if covered {
                self.handed.insert(pos);
                out.push((pos, body.clone()));
            }
        }
        out
    }
}

fn raise(marks: &mut BTreeMap<u64, u64>, generation: u64, upto: u64) -> bool {
    let mark = marks.entry(generation).or_insert(0);
    if upto > *mark {
        *mark = upto;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_higher_generation_replaces_a_version() {
        let mut log = OriginLog::default();
        assert!(log.store(0, 1, "a"));
        assert!(
            !log.store(0, 1, "b"),
            "same generation: the first version stays"
        );
        assert!(log.store(0, 2, "c"));
        assert!(!log.store(0, 1, "d"), "a late older version is ignored");
        assert_eq!(log.get(0), Some(&"c"));
        assert_eq!(log.generation, 2);
    }

    #[test]
    fn entries_are_handed_up_once_when_a_watermark_covers_them() {
        let mut log = OriginLog::default();
        log.store(0, 1, "a");
        log.store(2, 1, "c");
        assert!(log.hand_up(Watermark::Stable).is_empty());
        log.learn_stable(1, 3);
        assert_eq!(log.hand_up(Watermark::Stable), vec![(0, "a"), (2, "c")]);
        log.store(1, 1, "b");
        assert_eq!(log.hand_up(Watermark::Stable), vec![(1, "b")]);
        assert!(log.hand_up(Watermark::Stable).is_empty());
    }

    #[test]
    fn a_version_older_than_the_announcing_generation_waits() {
        let mut log = OriginLog::default();
        // An orphan of generation 1 at position 0, never stable there.
        log.store(0, 1, "orphan");
        log.learn_stable(2, 1);
        assert!(log.hand_up(Watermark::Stable).is_empty());
        log.store(0, 2, "fresh");
        assert_eq!(log.hand_up(Watermark::Stable), vec![(0, "fresh")]);
    }

    #[test]
    fn committed_mode_ignores_stable_announcements() {
        let mut log = OriginLog::default();
        log.store(0, 1, "a");
        log.learn_stable(1, 1);
        assert!(log.hand_up(Watermark::Committed).is_empty());
        log.learn_committed(1, 1);
        assert_eq!(log.hand_up(Watermark::Committed), vec![(0, "a")]);
    }

    #[test]
    fn contiguous_and_truncate() {
        let mut log = OriginLog::default();
        for pos in [0, 1, 2, 4] {
            log.store(pos, 1, pos);
        }
        assert_eq!(log.contiguous(), 3);
        log.truncate(3);
        assert_eq!(
            log.entries().map(|(p, _, _)| p).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }
}

//! The Byzantine nemesis (`--nemesis byzantine --byzantine N`): the course's fail-arbitrary
//! node model. The harness takes over the outgoing node-to-node messages of N nodes, drawn
//! from the seed and fixed for the run, and makes them lie.
//!
//! For each message such a node sends to another node (not to clients, not to services),
//! drawn from the seed (its own ChaCha stream, [`RNG_STREAM`]):
//!
//! - with probability [`DROP`] it is *dropped*;
//! - else with probability [`CORRUPT`] it is *corrupted*: every broadcast value in its body is
//!   replaced by a fresh value of its own;
//! - else it *equivocates*: for each broadcast value v the node ever sends, a version v' and a
//!   set of peers are drawn the first time (a non-empty subset of the other nodes, a proper one
//!   when there are at least two); every message of this node to a peer of that set carries v'
//!   in place of v, to the others v. The lie is consistent: a peer always hears the same
//!   version of v from it. A message none of whose values changes passes unchanged;
//! - and, with probability [`FORGE`], the node also sends a *forged* message that it never
//!   wrote, to a peer drawn at random: a copy of the body with every broadcast value replaced
//!   by a fresh one.
//!
//! Broadcast values are the integers of a body that the copy count counts
//! ([`checker::stats::broadcast_values`]): from 1,000,000 up. A message with none of them is
//! only ever dropped or passed. Fresh values come from [`checker::byzantine::FIRST_FRESH_VALUE`]
//! (900,000,000) up, one new value per alteration, so they never collide with a client's
//! value, nor with one another.
//!
//! What was done is recorded twice, so that `harness check` can judge a run from its files
//! alone: in `messages.jsonl` (the altered send says `"byzantine": {"how", "original"}`, the
//! original body; a forged one `{"how": "forge", "of": id}`; a dropped one is sent as written
//! and dropped with reason `byzantine`), and in `history.jsonl` as a nemesis `info` event
//! `byzantine-alter` whose value is `{node, dest, how, message, changes: [[original,
//! altered], ...]}`. The Byzantine nodes themselves are announced by a nemesis `info` event
//! `byzantine` with the list of their names, before any client op.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// The ChaCha stream the Byzantine nemesis draws from, apart from every other user of the
/// run's seed.
pub const RNG_STREAM: u64 = 0x62_79_7a;
/// The probability that a Byzantine node's message is dropped.
pub const DROP: f64 = 0.1;
/// The probability that a message (not dropped) has its values replaced by fresh ones.
pub const CORRUPT: f64 = 0.1;
/// The probability that a message comes with a forged one to a random peer.
pub const FORGE: f64 = 0.1;

/// How a Byzantine node's message was altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Drop,
    Corrupt,
    Equivocate,
    Forge,
}

impl How {
    /// The name in the journal and the history.
    pub fn name(self) -> &'static str {
        match self {
            How::Drop => "drop",
            How::Corrupt => "corrupt",
            How::Equivocate => "equivocate",
            How::Forge => "forge",
        }
    }
}

/// One message on the wire that a Byzantine node did not write as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Deed {
    pub how: How,
    /// The node index it goes to.
    pub dest: usize,
    /// The body sent; `None` for a drop.
    pub body: Option<String>,
    /// Each broadcast value replaced, and by what.
    pub changes: Vec<(u64, u64)>,
}

impl Deed {
    /// The `byzantine-alter` history value, for message `message` from `node` to `dest`.
    pub fn history_value(&self, node: &str, dest: &str, message: u64) -> Value {
        json!({
            "node": node,
            "dest": dest,
            "how": self.how.name(),
            "message": message,
            "changes": self.changes.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
        })
    }
}

/// What became of one message of a Byzantine node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fate {
    /// The message itself: `None` when it passes unchanged.
    pub message: Option<Deed>,
    /// A forged extra message.
    pub forged: Option<Deed>,
}

/// The Byzantine nodes of a run and the lies they tell.
#[derive(Debug, Clone)]
pub struct Byzantine {
    /// By node index.
    byzantine: Vec<bool>,
    rng: ChaCha8Rng,
    next_fresh: u64,
    /// Per (Byzantine node, original value): its version, and the peers that get it.
    equivocations: BTreeMap<(usize, u64), (u64, BTreeSet<usize>)>,
}

impl Byzantine {
    /// `count` of the `n` nodes, drawn from `seed`.
    pub fn new(n: usize, count: usize, seed: u64) -> Byzantine {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(RNG_STREAM);
        let mut all: Vec<usize> = (0..n).collect();
        all.shuffle(&mut rng);
        let mut byzantine = vec![false; n];
        for &i in all.iter().take(count) {
            byzantine[i] = true;
        }
        Byzantine {
            byzantine,
            rng,
            next_fresh: checker::byzantine::FIRST_FRESH_VALUE,
            equivocations: BTreeMap::new(),
        }
    }

    /// The Byzantine nodes' indices, in order.
    pub fn nodes(&self) -> Vec<usize> {
        (0..self.byzantine.len())
            .filter(|&i| self.byzantine[i])
            .collect()
    }

    /// True if node `node` is Byzantine.
    pub fn is_byzantine(&self, node: usize) -> bool {
        self.byzantine.get(node).copied().unwrap_or(false)
    }

    fn fresh(&mut self) -> u64 {
        let v = self.next_fresh;
        self.next_fresh += 1;
        v
    }

    /// What becomes of the message with `body` that Byzantine node `src` sends to node
    /// `dest` (see the module documentation).
    pub fn alter(&mut self, src: usize, dest: usize, body: &str) -> Fate {
        let values = checker::stats::broadcast_values(body);
        if self.rng.random_bool(DROP) {
            return Fate {
                message: Some(Deed {
                    how: How::Drop,
                    dest,
                    body: None,
                    changes: Vec::new(),
                }),
                forged: None,
            };
        }
        let mut fate = Fate::default();
        if !values.is_empty() {
            let corrupt = self.rng.random_bool(CORRUPT);
            let forge = self.rng.random_bool(FORGE);
            let changes: Vec<(u64, u64)> = if corrupt {
                values.iter().map(|&(_, v)| (v, self.fresh())).collect()
            } else {
                let mut changes = Vec::new();
                for &(_, v) in &values {
                    let (version, peers) = self.equivocation(src, v);
                    if peers.contains(&dest) {
                        changes.push((v, version));
                    }
                }
                changes
            };
            if !changes.is_empty() {
                fate.message = Some(Deed {
                    how: if corrupt {
                        How::Corrupt
                    } else {
                        How::Equivocate
                    },
                    dest,
                    body: Some(rewrite(body, &values, &changes)),
                    changes,
                });
            }
            if forge {
                let others: Vec<usize> = (0..self.byzantine.len()).filter(|&i| i != src).collect();
                if let Some(&to) = others.choose(&mut self.rng) {
                    let changes: Vec<(u64, u64)> =
                        values.iter().map(|&(_, v)| (v, self.fresh())).collect();
                    fate.forged = Some(Deed {
                        how: How::Forge,
                        dest: to,
                        body: Some(rewrite(body, &values, &changes)),
                        changes,
                    });
                }
            }
        }
        fate
    }

    /// Node `src`'s lie about value `v`: drawn the first time, the same ever after.
    fn equivocation(&mut self, src: usize, v: u64) -> (u64, BTreeSet<usize>) {
        if let Some(known) = self.equivocations.get(&(src, v)) {
            return known.clone();
        }
        let others: Vec<usize> = (0..self.byzantine.len()).filter(|&i| i != src).collect();
        let mut peers = BTreeSet::new();
        if others.len() == 1 {
            peers.insert(others[0]);
        } else if others.len() > 1 {
            // A non-empty proper subset: each peer with probability 1/2, drawn again until it
            // is one.
            while peers.is_empty() || peers.len() == others.len() {
                peers = others
                    .iter()
                    .copied()
                    .filter(|_| self.rng.random_bool(0.5))
                    .collect();
            }
        }
        let version = self.fresh();
        self.equivocations
            .insert((src, v), (version, peers.clone()));
        (version, peers)
    }
}

/// `body` with each value of `values` that `changes` replaces written as its replacement.
fn rewrite(body: &str, values: &[(std::ops::Range<usize>, u64)], changes: &[(u64, u64)]) -> String {
    let by: BTreeMap<u64, u64> = changes.iter().copied().collect();
    let mut out = String::with_capacity(body.len() + 8);
    let mut at = 0;
    for (span, v) in values {
        if let Some(new) = by.get(v) {
            out.push_str(&body[at..span.start]);
            out.push_str(&new.to_string());
            at = span.end;
        }
    }
    out.push_str(&body[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"type":"bracha_echo","origin":"n0","seq":3,"value":1000042}"#;

    fn run(seed: u64) -> (Vec<usize>, Vec<Fate>) {
        let mut b = Byzantine::new(5, 2, seed);
        let nodes = b.nodes();
        let src = nodes[0];
        let fates = (0..200)
            .map(|i| b.alter(src, (src + 1 + i % 4) % 5, BODY))
            .collect();
        (nodes, fates)
    }

    #[test]
    fn the_same_seed_draws_the_same_nodes_and_the_same_alterations() {
        assert_eq!(run(7), run(7));
        let (nodes, _) = run(7);
        assert_eq!(nodes.len(), 2);
        assert!((0..20).any(|seed| run(seed).0 != nodes), "the seed decides");
    }

    #[test]
    fn every_kind_of_lie_happens_and_equivocation_is_consistent_per_peer() {
        let (nodes, fates) = run(3);
        let src = nodes[0];
        let mut kinds = BTreeSet::new();
        let mut heard: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
        for (i, fate) in fates.iter().enumerate() {
            let dest = (src + 1 + i % 4) % 5;
            for deed in fate.message.iter().chain(&fate.forged) {
                kinds.insert(deed.how.name());
                if let Some(body) = &deed.body {
                    assert!(!body.contains("1000042"), "{body}");
                    assert!(deed.changes.iter().all(
                        |(o, a)| *o == 1_000_042 && *a >= checker::byzantine::FIRST_FRESH_VALUE
                    ));
                }
            }
            match &fate.message {
                None => {
                    heard.entry(dest).or_default().insert(1_000_042);
                }
                Some(d) if d.how == How::Equivocate => {
                    heard.entry(dest).or_default().insert(d.changes[0].1);
                }
                _ => {}
            }
        }
        assert_eq!(
            kinds,
            BTreeSet::from(["corrupt", "drop", "equivocate", "forge"])
        );
        // Apart from drops and corruptions, each peer always hears one version.
        assert!(heard.values().all(|v| v.len() == 1), "{heard:?}");
        let versions: BTreeSet<&u64> = heard.values().flatten().collect();
        assert_eq!(
            versions.len(),
            2,
            "some peers get the original, some the lie"
        );
    }

    #[test]
    fn a_message_without_broadcast_values_is_only_dropped_or_passed() {
        let mut b = Byzantine::new(3, 1, 1);
        let src = b.nodes()[0];
        for _ in 0..100 {
            let fate = b.alter(src, (src + 1) % 3, r#"{"type":"ping","msg_id":1000001}"#);
            assert!(fate.forged.is_none());
            assert!(fate.message.is_none_or(|d| d.how == How::Drop));
        }
    }
}

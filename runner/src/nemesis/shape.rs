//! Partition shapes: which nodes a partition cuts off from which, as Jepsen draws them. Each
//! shape is a kind of network partition from the course's system models (2.3), chosen to
//! defeat a particular algorithm: a lone node (`one`), a clean minority / majority split
//! (`majority`, the partition quorum systems survive, 5.2), a small minority (`minority-third`,
//! fewer than a third, which Byzantine-tolerant systems must survive), overlapping majorities
//! (`majorities-ring`, where every node sees a majority but no two see the same one: a trap
//! for leader election, 6.2), and two halves joined by one node (`bridge`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::net::Grudge;

/// A partition shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartitionShape {
    /// One random node isolated from the rest.
    One,
    /// A random `floor((n - 1) / 3)` nodes (the most that is still under a third) cut off from
    /// the rest. Needs 4 nodes.
    MinorityThird,
    /// The nodes shuffled and cut in two halves, the smaller first (Jepsen's `bisect`): for
    /// odd `n` a majority and a minority; for even `n` two equal halves, neither a majority.
    Majority,
    /// Every node sees a majority (itself included), and the majorities differ. Up to 5
    /// nodes: a random ring in which each node sees the window of a majority centred on it
    /// (with 4 or 5 nodes, itself and its two ring neighbours; with 3, itself and the node
    /// before it, so the cuts are one-way), so no two nodes see the same majority. Above 5:
    /// Jepsen's stochastic construction, linking least-connected nodes until each sees a
    /// majority, with symmetric cuts; it does not promise that every view differs (for 7 to
    /// 9 nodes about one draw in nine has two nodes with the same view). Needs 3 nodes.
    MajoritiesRing,
    /// The nodes shuffled and cut in two halves (the smaller first); the first node of the
    /// second half, the bridge, hears and is heard by everyone. Needs 3 nodes.
    Bridge,
}

impl PartitionShape {
    /// Every shape.
    pub const ALL: [PartitionShape; 5] = [
        PartitionShape::One,
        PartitionShape::MinorityThird,
        PartitionShape::Majority,
        PartitionShape::MajoritiesRing,
        PartitionShape::Bridge,
    ];

    /// The shape's name.
    pub fn name(self) -> &'static str {
        match self {
            PartitionShape::One => "one",
            PartitionShape::MinorityThird => "minority-third",
            PartitionShape::Majority => "majority",
            PartitionShape::MajoritiesRing => "majorities-ring",
            PartitionShape::Bridge => "bridge",
        }
    }

    /// The fewest nodes for which the shape cuts anything.
    pub fn min_nodes(self) -> usize {
        match self {
            PartitionShape::One | PartitionShape::Majority => 2,
            PartitionShape::MajoritiesRing | PartitionShape::Bridge => 3,
            PartitionShape::MinorityThird => 4,
        }
    }

    /// A grudge of this shape over `nodes`, drawn from `rng`. Nodes that hear everyone have no
    /// entry. Empty when there are fewer than [`PartitionShape::min_nodes`] nodes.
    pub fn grudge(self, nodes: &[String], rng: &mut ChaCha8Rng) -> Grudge {
        let n = nodes.len();
        if n < self.min_nodes() {
            return Grudge::new();
        }
        let mut shuffled: Vec<&String> = nodes.iter().collect();
        shuffled.shuffle(rng);
        match self {
            PartitionShape::One => {
                let loner = rng.random_range(0..n);
                let rest: Vec<&String> = nodes
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != loner)
                    .map(|(_, node)| node)
                    .collect();
                complete(&[vec![&nodes[loner]], rest])
            }
            PartitionShape::MinorityThird => {
                let (few, rest) = shuffled.split_at(minority_third(n));
                complete(&[few.to_vec(), rest.to_vec()])
            }
            PartitionShape::Majority => {
                let (small, large) = shuffled.split_at(n / 2);
                complete(&[small.to_vec(), large.to_vec()])
            }
            PartitionShape::MajoritiesRing if n <= 5 => ring(&shuffled),
            PartitionShape::MajoritiesRing => stochastic_ring(&shuffled, rng),
            PartitionShape::Bridge => {
                let (small, large) = shuffled.split_at(n / 2);
                let bridge = large[0];
                let mut grudge = complete(&[small.to_vec(), large.to_vec()]);
                grudge.remove(bridge);
                for sources in grudge.values_mut() {
                    sources.remove(bridge);
                }
                grudge.retain(|_, sources| !sources.is_empty());
                grudge
            }
        }
    }
}

impl fmt::Display for PartitionShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A partition shape name that is not one of [`PartitionShape::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown partition shape {given:?}; valid: one, minority-third, majority, majorities-ring, bridge"
)]
pub struct UnknownShape {
    pub given: String,
}

impl FromStr for PartitionShape {
    type Err = UnknownShape;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PartitionShape::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownShape {
                given: s.to_owned(),
            })
    }
}

/// The smallest integer strictly greater than half of `n`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The largest integer strictly less than a third of `n` (0 for `n` <= 1).
pub fn minority_third(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

/// Jepsen's `complete-grudge`: no node hears anyone outside its own component.
fn complete(components: &[Vec<&String>]) -> Grudge {
    let mut grudge = Grudge::new();
    for (i, component) in components.iter().enumerate() {
        let outside: BTreeSet<String> = components
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .flat_map(|(_, other)| other.iter().map(|s| (*s).clone()))
            .collect();
        if outside.is_empty() {
            continue;
        }
        for node in component {
            grudge.insert((*node).clone(), outside.clone());
        }
    }
    grudge
}

/// Every node but those in `seen`.
fn unseen(ring: &[&String], seen: impl Fn(usize) -> bool) -> BTreeSet<String> {
    ring.iter()
        .enumerate()
        .filter(|&(i, _)| !seen(i))
        .map(|(_, s)| (*s).clone())
        .collect()
}

/// Jepsen's perfect majorities ring: for each window of `m` consecutive nodes around the
/// ring, the node in the middle of the window sees exactly that window.
fn ring(ring: &[&String]) -> Grudge {
    let n = ring.len();
    let m = majority(n);
    let mut grudge = Grudge::new();
    for start in 0..n {
        let centre = (start + m / 2) % n;
        let in_window = |i: usize| (i + n - start) % n < m;
        let sources = unseen(ring, in_window);
        if !sources.is_empty() {
            grudge.insert(ring[centre].clone(), sources);
        }
    }
    grudge
}

/// Jepsen's stochastic majorities ring: every node starts seeing itself; repeatedly link a
/// least-connected node to a least-connected node it does not see yet (ties broken at
/// random), until every node sees a majority.
fn stochastic_ring(nodes: &[&String], rng: &mut ChaCha8Rng) -> Grudge {
    let n = nodes.len();
    let m = majority(n);
    let mut sees = vec![vec![false; n]; n];
    for (i, row) in sees.iter_mut().enumerate() {
        row[i] = true;
    }
    let mut degree = vec![1usize; n];
    loop {
        let min = degree.iter().copied().min().unwrap_or(m);
        if min >= m {
            break;
        }
        let lowest: Vec<usize> = (0..n).filter(|&i| degree[i] == min).collect();
        let a = lowest[rng.random_range(0..lowest.len())];
        // The least-connected nodes a does not see yet; a sees fewer than m <= n nodes, so
        // some exist.
        let Some(b_degree) = (0..n).filter(|&j| !sees[a][j]).map(|j| degree[j]).min() else {
            break;
        };
        let candidates: Vec<usize> = (0..n)
            .filter(|&j| !sees[a][j] && degree[j] == b_degree)
            .collect();
        let b = candidates[rng.random_range(0..candidates.len())];
        sees[a][b] = true;
        sees[b][a] = true;
        degree[a] += 1;
        degree[b] += 1;
    }
    let mut grudge = Grudge::new();
    for (i, row) in sees.iter().enumerate() {
        let sources = unseen(nodes, |j| row[j]);
        if !sources.is_empty() {
            grudge.insert(nodes[i].clone(), sources);
        }
    }
    grudge
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn sizes_are_jepsens() {
        let majorities: Vec<usize> = (1..=7).map(majority).collect();
        assert_eq!(majorities, vec![1, 2, 2, 3, 3, 4, 4]);
        let thirds: Vec<usize> = (0..=10).map(minority_third).collect();
        assert_eq!(thirds, vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    }

    #[test]
    fn too_few_nodes_give_an_empty_grudge() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for shape in PartitionShape::ALL {
            let grudge = shape.grudge(&nodes(shape.min_nodes() - 1), &mut rng);
            assert!(grudge.is_empty(), "{shape}");
            let grudge = shape.grudge(&nodes(shape.min_nodes()), &mut rng);
            assert!(!grudge.is_empty(), "{shape}");
        }
    }

    #[test]
    fn a_ring_of_five_sees_its_two_neighbours() {
        let ids = nodes(5);
        let refs: Vec<&String> = ids.iter().collect();
        let grudge = ring(&refs);
        let expect = |a: &str, b: &str| BTreeSet::from([a.to_string(), b.to_string()]);
        assert_eq!(grudge["n0"], expect("n2", "n3"));
        assert_eq!(grudge["n2"], expect("n4", "n0"));
        assert_eq!(grudge.len(), 5);
    }

    #[test]
    fn names_parse() {
        for shape in PartitionShape::ALL {
            assert_eq!(shape.name().parse::<PartitionShape>(), Ok(shape));
        }
        let err = "halves".parse::<PartitionShape>().unwrap_err().to_string();
        assert!(
            err.contains("\"halves\"") && err.contains("bridge"),
            "{err}"
        );
    }
}

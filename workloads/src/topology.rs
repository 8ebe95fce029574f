//! The `topology` message: which nodes each node should talk to. In the course's terms this is
//! the network graph over which a broadcast algorithm relays messages (4.3 "Broadcast
//! algorithms": eager reliable broadcast floods every link; gossip picks a few neighbours). The
//! shapes and the neighbour order match Maelstrom's broadcast workload exactly:
//!
//! - `grid` (the default): nodes laid out row by row on a `side x side` square, `side =
//!   ceil(sqrt(n))`; each node's neighbours are the nodes below, above, right and left of it,
//!   in that order, when they exist.
//! - `line`: each node's neighbours are its left and right; the ends have one. Fewer than two
//!   nodes give an empty map.
//! - `total`: every node is a neighbour of every other.
//! - `tree2`, `tree3`, `tree4`: a k-ary tree filled level by level in node order (node `i`'s
//!   children are nodes `k*i+1 ..= k*i+k`); each node's neighbours are its parent, then its
//!   children.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A topology shape, as `--topology` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyKind {
    #[default]
    Grid,
    Line,
    Total,
    Tree2,
    Tree3,
    Tree4,
}

impl TopologyKind {
    /// Every shape.
    pub const ALL: [TopologyKind; 6] = [
        TopologyKind::Grid,
        TopologyKind::Line,
        TopologyKind::Total,
        TopologyKind::Tree2,
        TopologyKind::Tree3,
        TopologyKind::Tree4,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TopologyKind::Grid => "grid",
            TopologyKind::Line => "line",
            TopologyKind::Total => "total",
            TopologyKind::Tree2 => "tree2",
            TopologyKind::Tree3 => "tree3",
            TopologyKind::Tree4 => "tree4",
        }
    }
}

impl fmt::Display for TopologyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A topology name that is not one of [`TopologyKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown topology {given:?}; valid topologies: grid, line, total, tree2, tree3, tree4")]
pub struct UnknownTopology {
    pub given: String,
}

impl FromStr for TopologyKind {
    type Err = UnknownTopology;

    /// The names of [`TopologyKind::ALL`], and `tree` for `tree2` as Maelstrom accepts.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "tree" {
            return Ok(TopologyKind::Tree2);
        }
        TopologyKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownTopology {
                given: s.to_owned(),
            })
    }
}

/// The neighbours of every node, for the nodes in the order given.
pub fn build(kind: TopologyKind, nodes: &[String]) -> BTreeMap<String, Vec<String>> {
    let neighbours: Vec<Vec<usize>> = match kind {
        TopologyKind::Grid => grid(nodes.len()),
        TopologyKind::Line => line(nodes.len()),
        TopologyKind::Total => total(nodes.len()),
        TopologyKind::Tree2 => tree(2, nodes.len()),
        TopologyKind::Tree3 => tree(3, nodes.len()),
        TopologyKind::Tree4 => tree(4, nodes.len()),
    };
    neighbours
        .into_iter()
        .enumerate()
        .map(|(i, ns)| {
            let ns = ns.into_iter().map(|j| nodes[j].clone()).collect();
            (nodes[i].clone(), ns)
        })
        .collect()
}

/// The smallest `side` with `side * side >= n`.
fn side_of(n: usize) -> usize {
    let mut side = (n as f64).sqrt() as usize;
    while side * side < n {
        side += 1;
    }
    while side > 0 && (side - 1) * (side - 1) >= n {
        side -= 1;
    }
    side
}

fn grid(n: usize) -> Vec<Vec<usize>> {
    let side = side_of(n);
    let at = |i: isize, j: isize| -> Option<usize> {
        if i < 0 || j < 0 || j >= side as isize {
            return None;
        }
        let idx = i as usize * side + j as usize;
        (idx < n).then_some(idx)
    };
    (0..n)
        .map(|idx| {
            let (i, j) = ((idx / side) as isize, (idx % side) as isize);
            [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
                .into_iter()
                .filter_map(|(a, b)| at(a, b))
                .collect()
        })
        .collect()
}

fn line(n: usize) -> Vec<Vec<usize>> {
    if n < 2 {
        return Vec::new();
    }
    (0..n)
        .map(|i| match i {
            0 => vec![1],
            _ if i == n - 1 => vec![n - 2],
            _ => vec![i - 1, i + 1],
        })
        .collect()
}

fn total(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| (0..n).filter(|&j| j != i).collect())
        .collect()
}

fn tree(k: usize, n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            let parent = (i > 0).then(|| (i - 1) / k);
            let children = (k * i + 1..=k * i + k).filter(|&c| c < n);
            parent.into_iter().chain(children).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_is_the_ceiling_of_the_square_root() {
        let sides: Vec<usize> = (0..=10).map(side_of).collect();
        assert_eq!(sides, vec![0, 1, 2, 2, 2, 3, 3, 3, 3, 3, 4]);
        assert_eq!(side_of(10_000), 100);
        assert_eq!(side_of(10_001), 101);
    }

    #[test]
    fn names_parse_and_unknown_names_list_the_valid_ones() {
        for kind in TopologyKind::ALL {
            assert_eq!(kind.name().parse::<TopologyKind>(), Ok(kind));
        }
        assert_eq!("tree".parse::<TopologyKind>(), Ok(TopologyKind::Tree2));
        let err = "ring".parse::<TopologyKind>().unwrap_err().to_string();
        assert!(err.contains("\"ring\"") && err.contains("tree4"), "{err}");
    }
}

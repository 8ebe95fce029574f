//! Network partitions: the course's system model of a network that can cut nodes off from
//! each other (2.3; the partitions of 5.2 "Quorums" and 6.2 "Raft"). A partition is given as
//! Jepsen's *grudge*: for each node, the set of nodes it cannot hear from. Links may be cut in
//! one direction only (a bridge or a majorities ring need not be symmetric).

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

/// For each node, the nodes whose messages it does not receive. Nodes absent from the map hear
/// everyone.
pub type Grudge = BTreeMap<String, BTreeSet<String>>;

/// A grudge that names a node the network does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the partition names {node:?}, which is not a node of this cluster")]
pub struct UnknownNode {
    pub node: String,
}

/// A grudge as a bit matrix over node indices: bit `dest * n + src` is set when `dest` does
/// not hear from `src`.
#[derive(Debug, Clone)]
pub(crate) struct Cuts {
    n: usize,
    bits: Vec<u64>,
    any: bool,
}

impl Cuts {
    /// No cuts among `n` nodes.
    pub(crate) fn new(n: usize) -> Self {
        Cuts {
            n,
            bits: vec![0; (n * n).div_ceil(64)],
            any: false,
        }
    }

    /// Replace every cut by those of `grudge`; `index` maps a node id to its index. On an
    /// unknown node nothing changes.
    pub(crate) fn set(
        &mut self,
        grudge: &Grudge,
        index: impl Fn(&str) -> Option<usize>,
    ) -> Result<(), UnknownNode> {
        let mut cuts = Vec::new();
        for (dest, sources) in grudge {
            let d = index(dest).ok_or_else(|| UnknownNode { node: dest.clone() })?;
            for src in sources {
                let s = index(src).ok_or_else(|| UnknownNode { node: src.clone() })?;
                if s != d {
                    cuts.push(d * self.n + s);
                }
            }
        }
        self.heal();
        self.any = !cuts.is_empty();
        for bit in cuts {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
        Ok(())
    }

    /// Remove every cut.
    pub(crate) fn heal(&mut self) {
        self.bits.fill(0);
        self.any = false;
    }

    /// True when some link is cut.
    pub(crate) fn any(&self) -> bool {
        self.any
    }

    /// True when `dest` does not hear from `src`.
    pub(crate) fn blocked(&self, src: usize, dest: usize) -> bool {
        if !self.any || src >= self.n || dest >= self.n {
            return false;
        }
        let bit = dest * self.n + src;
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(id: &str) -> Option<usize> {
        id.strip_prefix('n')?.parse().ok().filter(|&i| i < 3)
    }

    #[test]
    fn cuts_are_directed_and_replaced_as_a_whole() {
        let mut cuts = Cuts::new(3);
        let grudge = Grudge::from([("n0".into(), BTreeSet::from(["n1".into(), "n0".into()]))]);
        cuts.set(&grudge, index).unwrap();
        assert!(cuts.blocked(1, 0));
        assert!(!cuts.blocked(0, 1), "only n0 holds the grudge");
        assert!(!cuts.blocked(0, 0), "a node always hears itself");
        let grudge = Grudge::from([("n2".into(), BTreeSet::from(["n0".into()]))]);
        cuts.set(&grudge, index).unwrap();
        assert!(!cuts.blocked(1, 0) && cuts.blocked(0, 2));
        cuts.heal();
        assert!(!cuts.any() && !cuts.blocked(0, 2));
    }

    #[test]
    fn an_unknown_node_changes_nothing() {
        let mut cuts = Cuts::new(3);
        let grudge = Grudge::from([("n0".into(), BTreeSet::from(["n1".into()]))]);
        cuts.set(&grudge, index).unwrap();
        let bad = Grudge::from([("n2".into(), BTreeSet::from(["n7".into()]))]);
        assert_eq!(
            cuts.set(&bad, index),
            Err(UnknownNode { node: "n7".into() })
        );
        assert!(cuts.blocked(1, 0) && !cuts.blocked(7, 2));
    }
}

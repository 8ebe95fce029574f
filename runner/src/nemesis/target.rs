//! Which nodes a node fault (kill, pause, wipe) hits: Jepsen's targets, `--nemesis-targets`.
//!
//! Each start of a node fault draws one of the allowed targets and takes that many nodes
//! among those that are up. Every target but `all` leaves at least one node running, so the
//! cluster can make progress; `all` takes every node that is up: the kill of every node at
//! once, which only stable storage survives (the course's fail-recovery model).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::shape::{majority, minority_third};

/// How many nodes a node fault takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// One node.
    One,
    /// The largest number of nodes under a third (`floor((n - 1) / 3)`; none below 4 nodes).
    MinorityThird,
    /// The largest minority (`majority - 1`).
    Minority,
    /// A majority (`n / 2 + 1`).
    Majority,
    /// Every node.
    All,
}

impl Target {
    /// Every target, in the order of their size.
    pub const ALL: [Target; 5] = [
        Target::One,
        Target::MinorityThird,
        Target::Minority,
        Target::Majority,
        Target::All,
    ];

    /// The targets drawn from when `--nemesis-targets` is not given: every one that leaves a
    /// node running (Maelstrom and Jepsen's usual mix).
    pub const DEFAULT: [Target; 4] = [
        Target::One,
        Target::MinorityThird,
        Target::Minority,
        Target::Majority,
    ];

    /// The name `--nemesis-targets` takes.
    pub fn name(self) -> &'static str {
        match self {
            Target::One => "one",
            Target::MinorityThird => "minority-third",
            Target::Minority => "minority",
            Target::Majority => "majority",
            Target::All => "all",
        }
    }

    /// How many of `n` nodes it takes (0: it takes nothing in a cluster this small).
    pub fn size(self, n: usize) -> usize {
        match self {
            Target::One => n.min(1),
            Target::MinorityThird => minority_third(n),
            Target::Minority => majority(n) - 1,
            Target::Majority => majority(n).min(n),
            Target::All => n,
        }
    }

    /// A comma-separated list (`"majority,all"`), without repeats, in the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Target>, UnknownTarget> {
        let mut targets = Vec::new();
        for name in list.split(',').map(str::trim) {
            let target: Target = name.parse()?;
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        Ok(targets)
    }

    /// Names, comma-separated.
    pub fn list(targets: &[Target]) -> String {
        targets
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name that is not one of [`Target::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown target {given:?} in --nemesis-targets; valid targets: one, minority-third, minority, majority, all"
)]
pub struct UnknownTarget {
    pub given: String,
}

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTarget {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_jepsen() {
        let sizes = |n| Target::ALL.map(|t| t.size(n));
        assert_eq!(sizes(5), [1, 1, 2, 3, 5]);
        assert_eq!(sizes(3), [1, 0, 1, 2, 3]);
        assert_eq!(sizes(1), [1, 0, 0, 1, 1]);
        assert_eq!(sizes(10), [1, 3, 5, 6, 10]);
    }

    #[test]
    fn lists_parse_and_unknown_names_list_the_valid_ones() {
        assert_eq!(
            Target::parse_list("majority, all,majority"),
            Ok(vec![Target::Majority, Target::All])
        );
        let err = Target::parse_list("one,most").unwrap_err().to_string();
        assert!(
            err.contains("\"most\"") && err.contains("minority-third"),
            "{err}"
        );
        assert!(
            Target::parse_list("").is_err(),
            "an empty list names no target"
        );
        assert_eq!(
            Target::list(&Target::DEFAULT),
            "one,minority-third,minority,majority"
        );
    }
}

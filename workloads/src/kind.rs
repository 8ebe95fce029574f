//! The workloads by name, as `-w` / `--workload` spells them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One of the workloads of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    Echo,
    UniqueIds,
    Broadcast,
    GCounter,
    LinKv,
}

impl WorkloadKind {
    /// Every workload, in the order of DESIGN.md.
    pub const ALL: [WorkloadKind; 5] = [
        WorkloadKind::Echo,
        WorkloadKind::UniqueIds,
        WorkloadKind::Broadcast,
        WorkloadKind::GCounter,
        WorkloadKind::LinKv,
    ];

    /// The name on the command line and in the store (`"unique-ids"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Echo => "echo",
            WorkloadKind::UniqueIds => "unique-ids",
            WorkloadKind::Broadcast => "broadcast",
            WorkloadKind::GCounter => "g-counter",
            WorkloadKind::LinKv => "lin-kv",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A workload name that is not one of [`WorkloadKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown workload {given:?}; valid workloads: echo, unique-ids, broadcast, g-counter, lin-kv"
)]
pub struct UnknownWorkload {
    pub given: String,
}

impl FromStr for WorkloadKind {
    type Err = UnknownWorkload;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkloadKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownWorkload {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid_ones() {
        for kind in WorkloadKind::ALL {
            assert_eq!(kind.to_string().parse::<WorkloadKind>(), Ok(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::from(kind.name()));
        }
        let err = "gcounter".parse::<WorkloadKind>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"gcounter\""), "{text}");
        for kind in WorkloadKind::ALL {
            assert!(text.contains(kind.name()), "{text}");
        }
    }
}

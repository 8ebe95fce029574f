//! The nemesis schedule: which fault starts and stops when, drawn from the seed.
//!
//! Each fault is one of the course's failure models (2.3 "System models", 2.4 "Fault
//! tolerance"): partitions and fair-loss links for the network (loss, duplication), crash-
//! recovery for nodes (kill, then restart with empty memory and its data directory intact: the
//! fail-recovery model with stable storage), a replaced disk (wipe: kill, then restart with an
//! empty data directory, so the node comes back as new), and pauses for the timing model (a
//! node that stops for a while, like a long GC pause, and then carries on as if nothing
//! happened), and bent wall clocks for physical time (clock: a node's clock stepped, slewed,
//! strobed or given a leap second, until it is reset; see [`checker::clocks`]). A Byzantine
//! node (fail-arbitrary: `--nemesis byzantine --byzantine N`) is no scheduled fault: its
//! messages are altered from start to end ([`byzantine`]).
//!
//! [`plan`] draws the whole schedule before the run starts, from the seed alone, as a
//! time-ordered list of [`ScheduledAction`]s. Each enabled fault kind runs as its own
//! *flip-flop*, like a Jepsen nemesis package under `stagger`: wait a gap, start the fault,
//! wait a gap, stop it, and so on. Every gap is drawn uniformly from `[0, 2 * interval)`, so
//! faults of one kind start every `2 * interval` on average and last `interval` on average,
//! and some fault action happens every `interval / kinds` on average (Maelstrom's behaviour
//! for one fault kind). Kinds overlap freely: a partition may be in force while a node is
//! killed and messages are lost.
//!
//! What is allowed, so that progress is never impossible for good:
//!
//! - every start has its stop: a kill or wipe is followed by a restart of the same nodes, a
//!   pause by a resume, a partition by its heal; a stop that would fall after the time limit
//!   happens at the time limit, so nothing is active when the workload ends;
//! - node faults (kill, pause, wipe) take only nodes that are up and running, and no node is
//!   hit by two at once; unless the target `all` is allowed, at least one node stays up at
//!   every instant (at most `n - 1` are down all told; a node fault for which no node can be
//!   spared is skipped, its stop with it);
//! - a node fault takes one of the allowed [`Target`]s (`--nemesis-targets`: one node, a
//!   minority third, a minority, a majority, or all), drawn at random and capped as above;
//! - a partition's shape is drawn from [`NemesisOptions::partition_shapes`] (those that need
//!   more nodes than the cluster has are left out);
//! - loss and duplication use fixed probabilities ([`NemesisOptions::loss`],
//!   [`NemesisOptions::duplicate`]);
//! - a clock fault takes nodes as a node fault does (`--nemesis-targets`), up or down (a
//!   clock keeps running while its node is down), and draws what it does: a step of 0.2 to
//!   5 s either way, a slew of 5% to 50% fast or slow, a strobe of 0.1 to 1 s every 50 to
//!   200 ms, or a leap second inserted or removed; its stop resets the clocks it bent.
//!
//! Each action's history event (process `"nemesis"`, type `info`) has the `f` and `value` of
//! `checker/src/history.rs`: [`Action::f`] and [`Action::value`].

pub mod byzantine;
mod plan;
mod shape;
mod target;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub use byzantine::Byzantine;
pub use plan::plan;
pub use shape::{PartitionShape, UnknownShape, majority, minority_third};
pub use target::{Target, UnknownTarget};

pub use checker::clocks::ClockFault;

use crate::net::Grudge;

/// A kind of fault, as `--nemesis` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    Partition,
    Kill,
    Pause,
    Loss,
    Duplicate,
    Wipe,
    Clock,
    Byzantine,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Partition,
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::Wipe,
        FaultKind::Clock,
        FaultKind::Byzantine,
    ];

    /// The name `--nemesis` takes.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Loss => "loss",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Wipe => "wipe",
            FaultKind::Clock => "clock",
            FaultKind::Byzantine => "byzantine",
        }
    }

    /// Every fault's name, comma-separated, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
        names.join(", ")
    }

    /// True for the faults the schedule starts and stops; false for `byzantine`, which is in
    /// force for the whole run ([`byzantine`]).
    pub fn is_scheduled(self) -> bool {
        self != FaultKind::Byzantine
    }

    /// True for the faults that take nodes down: kill, pause, wipe.
    pub fn hits_nodes(self) -> bool {
        matches!(self, FaultKind::Kill | FaultKind::Pause | FaultKind::Wipe)
    }

    /// A comma-separated list (`"partition,kill"`), without repeats, in the order given.
    /// Blanks around names are ignored; an empty list is no faults.
    pub fn parse_list(list: &str) -> Result<Vec<FaultKind>, UnknownFault> {
        let mut kinds = Vec::new();
        for name in list.split(',').map(str::trim) {
            if name.is_empty() && list.trim().is_empty() {
                continue;
            }
            let kind: FaultKind = name.parse()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(kinds)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`FaultKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown fault {given:?} in --nemesis; valid faults: {}",
    FaultKind::names()
)]
pub struct UnknownFault {
    pub given: String,
}

impl FromStr for FaultKind {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownFault {
                given: s.to_owned(),
            })
    }
}

/// One thing the nemesis does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Cut the network by `grudge`, of shape `shape`.
    StartPartition {
        shape: PartitionShape,
        grudge: Grudge,
    },
    /// Heal the partition.
    StopPartition,
    /// SIGKILL these nodes; messages to them are lost until they restart.
    Kill { nodes: Vec<String> },
    /// SIGKILL these nodes and empty their data directories (a replaced disk).
    Wipe { nodes: Vec<String> },
    /// Start these nodes again (a fresh process, `init` sent again, memory lost, the data
    /// directory as the kill or the wipe left it); `wiped` when a wipe brought them down.
    Restart { nodes: Vec<String>, wiped: bool },
    /// SIGSTOP these nodes.
    Pause { nodes: Vec<String> },
    /// SIGCONT these nodes.
    Resume { nodes: Vec<String> },
    /// Lose each node-to-node message with probability `p`.
    StartLoss { p: f64 },
    /// Stop losing messages (`p` is the probability that was in force).
    StopLoss { p: f64 },
    /// Deliver each node-to-node message twice with probability `p`.
    StartDuplicate { p: f64 },
    /// Stop duplicating messages (`p` is the probability that was in force).
    StopDuplicate { p: f64 },
    /// Bend these nodes' wall clocks (see [`checker::clocks`]).
    StartClock {
        nodes: Vec<String>,
        fault: ClockFault,
    },
    /// Set these nodes' wall clocks right again (offset 0, normal rate).
    ResetClock { nodes: Vec<String> },
}

impl Action {
    /// The history's `f`.
    pub fn f(&self) -> &'static str {
        match self {
            Action::StartPartition { .. } => "start-partition",
            Action::StopPartition => "stop-partition",
            Action::Kill { .. } => "kill",
            Action::Wipe { .. } => "wipe",
            Action::Restart { .. } => "restart",
            Action::Pause { .. } => "pause",
            Action::Resume { .. } => "resume",
            Action::StartLoss { .. } => "start-loss",
            Action::StopLoss { .. } => "stop-loss",
            Action::StartDuplicate { .. } => "start-duplicate",
            Action::StopDuplicate { .. } => "stop-duplicate",
            Action::StartClock { fault, .. } => fault.f(),
            Action::ResetClock { .. } => "clock-reset",
        }
    }

    /// The history's `value`: the grudge (`{node: [nodes it cannot hear from]}`), the list of
    /// nodes, the probability, or `null` for `stop-partition`.
    pub fn value(&self) -> Value {
        match self {
            Action::StartPartition { grudge, .. } => Value::Object(
                grudge
                    .iter()
                    .map(|(node, sources)| {
                        let sources = sources.iter().cloned().map(Value::String).collect();
                        (node.clone(), Value::Array(sources))
                    })
                    .collect(),
            ),
            Action::StopPartition => Value::Null,
            Action::Kill { nodes }
            | Action::Wipe { nodes }
            | Action::Restart { nodes, .. }
            | Action::Pause { nodes }
            | Action::Resume { nodes }
            | Action::ResetClock { nodes } => {
                Value::Array(nodes.iter().cloned().map(Value::String).collect())
            }
            Action::StartClock { nodes, fault } => fault.value(nodes),
            Action::StartLoss { p }
            | Action::StopLoss { p }
            | Action::StartDuplicate { p }
            | Action::StopDuplicate { p } => Value::from(*p),
        }
    }

    /// The fault this action starts or stops.
    pub fn fault(&self) -> FaultKind {
        match self {
            Action::StartPartition { .. } | Action::StopPartition => FaultKind::Partition,
            Action::Kill { .. } | Action::Restart { wiped: false, .. } => FaultKind::Kill,
            Action::Wipe { .. } | Action::Restart { wiped: true, .. } => FaultKind::Wipe,
            Action::Pause { .. } | Action::Resume { .. } => FaultKind::Pause,
            Action::StartLoss { .. } | Action::StopLoss { .. } => FaultKind::Loss,
            Action::StartDuplicate { .. } | Action::StopDuplicate { .. } => FaultKind::Duplicate,
            Action::StartClock { .. } | Action::ResetClock { .. } => FaultKind::Clock,
        }
    }

    /// True for the actions that start a fault.
    pub fn is_start(&self) -> bool {
        matches!(
            self,
            Action::StartPartition { .. }
                | Action::Kill { .. }
                | Action::Wipe { .. }
                | Action::Pause { .. }
                | Action::StartLoss { .. }
                | Action::StartDuplicate { .. }
                | Action::StartClock { .. }
        )
    }
}

/// An action and when it happens.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledAction {
    /// Time since the run started.
    pub at: Duration,
    /// Numbers the episode: a start and the stop that ends it share it.
    pub episode: u64,
    pub action: Action,
}

/// What the schedule is planned from.
#[derive(Debug, Clone, PartialEq)]
pub struct NemesisOptions {
    /// The fault kinds to schedule (none: an empty schedule).
    pub faults: Vec<FaultKind>,
    /// The mean gap between a kind's actions (`--nemesis-interval`; Maelstrom's default 10 s).
    pub interval: Duration,
    /// How long the workload runs; every fault is stopped by then.
    pub time_limit: Duration,
    /// The shapes a partition is drawn from.
    pub partition_shapes: Vec<PartitionShape>,
    /// How many nodes a node fault takes, drawn from these (`--nemesis-targets`).
    pub targets: Vec<Target>,
    /// The loss probability while loss is on.
    pub loss: f64,
    /// The duplication probability while duplication is on.
    pub duplicate: f64,
}

impl NemesisOptions {
    /// Default loss probability.
    pub const DEFAULT_LOSS: f64 = 0.2;
    /// Default duplication probability.
    pub const DEFAULT_DUPLICATE: f64 = 0.1;
    /// Maelstrom's default `--nemesis-interval`.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

    /// `faults` every `interval` on average until `time_limit`, every partition shape, and
    /// the default probabilities.
    pub fn new(faults: Vec<FaultKind>, interval: Duration, time_limit: Duration) -> Self {
        NemesisOptions {
            faults,
            interval,
            time_limit,
            partition_shapes: PartitionShape::ALL.to_vec(),
            targets: Target::DEFAULT.to_vec(),
            loss: Self::DEFAULT_LOSS,
            duplicate: Self::DEFAULT_DUPLICATE,
        }
    }
}

/// Why no schedule could be planned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NemesisError {
    #[error("--nemesis-interval must be positive")]
    ZeroInterval,
    #[error(
        "the {0} fault needs at least 2 nodes: one node always stays up (unless --nemesis-targets allows all)"
    )]
    TooFewNodes(FaultKind),
    #[error("no target among [{targets}] takes a node of {nodes}")]
    NoTarget { targets: String, nodes: usize },
    #[error("no partition shape among [{shapes}] cuts anything among {nodes} nodes")]
    NoShape { shapes: String, nodes: usize },
    #[error("the {fault} probability must be between 0 and 1, not {p}")]
    BadProbability { fault: FaultKind, p: f64 },
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    #[test]
    fn fault_lists_parse_and_unknown_names_list_the_valid_ones() {
        assert_eq!(
            FaultKind::parse_list("partition, kill,partition"),
            Ok(vec![FaultKind::Partition, FaultKind::Kill])
        );
        assert_eq!(FaultKind::parse_list(""), Ok(vec![]));
        assert_eq!(
            FaultKind::parse_list("loss,duplicate,pause"),
            Ok(vec![
                FaultKind::Loss,
                FaultKind::Duplicate,
                FaultKind::Pause
            ])
        );
        let err = FaultKind::parse_list("partition,meteor").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"meteor\""), "{text}");
        for kind in FaultKind::ALL {
            assert!(text.contains(kind.name()), "{text}");
        }
        assert!(
            FaultKind::parse_list("kill,").is_err(),
            "an empty name is an error"
        );
    }

    #[test]
    fn history_values_match_the_history_format() {
        let grudge = Grudge::from([(
            "n0".to_string(),
            BTreeSet::from(["n1".to_string(), "n2".to_string()]),
        )]);
        let start = Action::StartPartition {
            shape: PartitionShape::One,
            grudge,
        };
        assert_eq!(start.f(), "start-partition");
        assert_eq!(start.value(), json!({"n0": ["n1", "n2"]}));
        assert_eq!(Action::StopPartition.value(), json!(null));
        let kill = Action::Kill {
            nodes: vec!["n3".into()],
        };
        assert_eq!((kill.f(), kill.value()), ("kill", json!(["n3"])));
        let wipe = Action::Wipe {
            nodes: vec!["n1".into()],
        };
        assert_eq!((wipe.f(), wipe.value()), ("wipe", json!(["n1"])));
        let back = Action::Restart {
            nodes: vec!["n1".into()],
            wiped: true,
        };
        assert_eq!((back.f(), back.value()), ("restart", json!(["n1"])));
        assert_eq!(back.fault(), FaultKind::Wipe);
        let loss = Action::StopLoss { p: 0.25 };
        assert_eq!((loss.f(), loss.value()), ("stop-loss", json!(0.25)));
        assert!(!loss.is_start() && loss.fault() == FaultKind::Loss);
        assert!(Action::StartDuplicate { p: 0.1 }.is_start());
    }
}

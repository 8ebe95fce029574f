//! g-counter: every final read equals the sum of the adds that happened (a grow-only counter
//! CRDT, the course's lecture on replication and eventual consistency).
//!
//! The acceptable final values are the sums reachable from the definite adds (ok) plus any
//! subset of the indefinite ones (info, or never completed); failed adds did not happen. The
//! set is computed exactly, as a union of integer intervals (adding a delta to every interval
//! and merging), which stays small because nearby sums merge; past a cap on the number of
//! intervals the verdict is unknown rather than guessed. Only reads marked `final` are
//! checked, after the recovery wait, as Maelstrom does.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// More disjoint intervals than this and the check gives up (unknown).
const MAX_INTERVALS: usize = 1 << 16;

/// A final read and whether its value is acceptable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalRead {
    pub node: Option<String>,
    /// `index` of the ok completion.
    pub index: u64,
    pub value: Value,
    pub acceptable: bool,
}

/// The result of the g-counter check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterResult {
    pub valid: Validity,
    /// Sum of the ok adds.
    pub definite_sum: i64,
    pub definite_count: usize,
    pub indefinite_count: usize,
    /// The acceptable values, as closed intervals `[low, high]` (up to 64 listed).
    pub acceptable: Vec<[i64; 2]>,
    pub acceptable_intervals: usize,
    pub final_reads: Vec<FinalRead>,
    pub error_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// The workload's name, which heads the text (`g-counter`, `pn-counter`).
    #[serde(skip)]
    pub name: &'static str,
}

/// Every sum of `base` plus a subset of `deltas`, as sorted disjoint closed intervals, or
/// `None` past `MAX_INTERVALS`.
pub fn reachable_sums(base: i64, deltas: &[i64]) -> Option<Vec<[i64; 2]>> {
    let mut set = vec![[base, base]];
    for &d in deltas {
        let shifted = set
            .iter()
            .map(|[lo, hi]| [lo.saturating_add(d), hi.saturating_add(d)]);
        let mut all: Vec<[i64; 2]> = set.iter().copied().chain(shifted).collect();
        all.sort_unstable();
        let mut merged: Vec<[i64; 2]> = Vec::with_capacity(all.len());
        for iv in all {
            match merged.last_mut() {
                Some(last) if iv[0] <= last[1].saturating_add(1) => last[1] = last[1].max(iv[1]),
                _ => merged.push(iv),
            }
        }
        if merged.len() > MAX_INTERVALS {
            return None;
        }
        set = merged;
    }
    Some(set)
}

/// Check the `add` and final `read` ops of a g-counter history.
pub fn check_counter(events: &[Event]) -> Result<CounterResult, HistoryError> {
    check_counter_as(events, "g-counter")
}

/// Check the `add` and final `read` ops of a counter's history; `name` (the workload's) heads
/// the result's text.
pub fn check_counter_as(
    events: &[Event],
    name: &'static str,
) -> Result<CounterResult, HistoryError> {
    let ops = client_ops(events)?;
    let mut definite_sum = 0i64;
    let mut definite_count = 0;
    let mut indefinite = Vec::new();
    let mut reads = Vec::new();
    for op in &ops {
        match op.f() {
            "add" => {
                let Some(delta) = op.invoke.value.as_i64() else {
                    return Err(HistoryError::Malformed {
                        index: op.invoke.index,
                        reason: format!(
                            "an add's delta must be an integer, found {}",
                            op.invoke.value
                        ),
                    });
                };
                match op.outcome() {
                    Outcome::Ok => {
                        definite_sum = definite_sum.saturating_add(delta);
                        definite_count += 1;
                    }
                    Outcome::Info => indefinite.push(delta),
                    Outcome::Fail => {}
                }
            }
            "read" if op.outcome() == Outcome::Ok && op.is_final() => reads.push(op),
            _ => {}
        }
    }
    let acceptable = reachable_sums(definite_sum, &indefinite);
    let contains = |v: i64| {
        acceptable.as_ref().is_some_and(|set| {
            let i = set.partition_point(|iv| iv[1] < v);
            set.get(i).is_some_and(|iv| iv[0] <= v)
        })
    };
    let final_reads: Vec<FinalRead> = reads
        .iter()
        .map(|op| FinalRead {
            node: op.node().map(str::to_owned),
            index: op.completion.map_or(op.invoke.index, |c| c.index),
            value: op.value().clone(),
            acceptable: op.value().as_i64().is_some_and(contains),
        })
        .collect();
    let error_count = final_reads.iter().filter(|r| !r.acceptable).count();
    let (valid, unknown_reason) = match &acceptable {
        None => (
            Validity::Unknown,
            Some(format!(
                "the reachable sums of {} indefinite adds exceed {MAX_INTERVALS} intervals",
                indefinite.len()
            )),
        ),
        Some(_) if final_reads.is_empty() => (
            Validity::Unknown,
            Some("no final read completed".to_owned()),
        ),
        Some(_) if error_count > 0 => (Validity::Invalid, None),
        Some(_) => (Validity::Valid, None),
    };
    let intervals = acceptable.unwrap_or_default();
    Ok(CounterResult {
        valid,
        definite_sum,
        definite_count,
        indefinite_count: indefinite.len(),
        acceptable_intervals: intervals.len(),
        acceptable: intervals.into_iter().take(64).collect(),
        final_reads,
        error_count,
        unknown_reason,
        name,
    })
}

impl fmt::Display for CounterResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}: {} definite adds sum to {}, {} indefinite; acceptable final values {}",
            self.name,
            self.valid,
            self.definite_count,
            self.definite_sum,
            self.indefinite_count,
            self.acceptable
                .iter()
                .map(|[a, b]| if a == b {
                    format!("{a}")
                } else {
                    format!("{a}..={b}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for r in self.final_reads.iter().filter(|r| !r.acceptable) {
            writeln!(
                f,
                "  final read at {} (event {}) returned {}, not an acceptable sum",
                r.node.as_deref().unwrap_or("?"),
                r.index,
                r.value
            )?;
        }
        if let Some(why) = &self.unknown_reason {
            writeln!(f, "  unknown: {why}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachable_sums_are_exact() {
        assert_eq!(reachable_sums(5, &[]), Some(vec![[5, 5]]));
        assert_eq!(reachable_sums(0, &[10, 1]), Some(vec![[0, 1], [10, 11]]));
        assert_eq!(reachable_sums(0, &[1, 1, 1]), Some(vec![[0, 3]]));
        assert_eq!(
            reachable_sums(0, &[-2, 5]),
            Some(vec![[-2, -2], [0, 0], [3, 3], [5, 5]])
        );
        let powers: Vec<i64> = (0..20).map(|i| 1i64 << (2 * i)).collect();
        assert_eq!(reachable_sums(0, &powers), None);
    }
}

//! g-counter and pn-counter: every final read equals the sum of the adds that happened (a
//! grow-only counter CRDT, and one that also counts down; the course's lecture on replication
//! and eventual consistency). This is Maelstrom's pn-counter checker, which its g-counter
//! workload uses too.
//!
//! The acceptable final values are the sums reachable from the definite adds (ok) plus any
//! subset of the indefinite ones (info, or never completed), whatever the sign of their deltas;
//! failed adds did not happen. The set is computed exactly, as a union of integer intervals
//! (adding a delta to every interval and merging), which stays small because nearby sums merge;
//! past a cap on the number of intervals the verdict is unknown rather than guessed. Only reads
//! marked `final` are checked, after the recovery wait, as Maelstrom does.
//!
//! Result keys are Maelstrom's (`valid`, `errors`, `final_reads`, `acceptable`) plus the sums
//! and counts they come from. Each of the `errors` is a final read out of reach, with the
//! nearest acceptable totals on either side and a sentence that says what was wrong.

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
    /// The final reads that no total of the adds explains.
    pub errors: Vec<CounterError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// The workload's name, which heads the text (`g-counter`, `pn-counter`).
    #[serde(skip)]
    pub name: &'static str,
}

/// A final read out of reach of every total the adds could make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterError {
    pub node: Option<String>,
    /// `index` of the read's ok completion.
    pub index: u64,
    pub value: Value,
    /// The largest acceptable total below the value, and the smallest above it, if any.
    pub nearest_below: Option<i64>,
    pub nearest_above: Option<i64>,
    /// What was wrong, in a sentence.
    pub why: String,
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
    let mut counts_down = false;
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
                counts_down |= delta < 0 && op.outcome() != Outcome::Fail;
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
    let errors = match &acceptable {
        Some(set) => final_reads
            .iter()
            .filter(|r| !r.acceptable)
            .map(|r| {
                let adds = Adds {
                    definite_sum,
                    definite_count,
                    indefinite: &indefinite,
                    counts_down,
                };
                out_of_reach(r, set, &adds)
            })
            .collect(),
        None => Vec::new(),
    };
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
        errors,
        unknown_reason,
        name,
    })
}

/// `+3`, `-2`, `0`.
fn signed(delta: i64) -> String {
    if delta > 0 {
        format!("+{delta}")
    } else {
        delta.to_string()
    }
}

/// The acceptable totals as `5`, `3..=9`, `a, b and c`, at most a few.
fn totals(set: &[[i64; 2]]) -> String {
    const SHOWN: usize = 4;
    let mut parts: Vec<String> = set
        .iter()
        .take(SHOWN)
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    if set.len() > SHOWN {
        parts.push(format!("{} more ranges", set.len() - SHOWN));
    }
    match parts.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => "nothing".to_owned(),
    }
}

/// What the adds of a history came to.
struct Adds<'a> {
    definite_sum: i64,
    definite_count: usize,
    /// The deltas of the indefinite adds.
    indefinite: &'a [i64],
    /// Some add that may have happened has a negative delta.
    counts_down: bool,
}

/// Why final read `r` is out of reach of `set` (the acceptable totals).
fn out_of_reach(r: &FinalRead, set: &[[i64; 2]], adds: &Adds<'_>) -> CounterError {
    let Adds {
        definite_sum,
        definite_count,
        indefinite,
        counts_down,
    } = *adds;
    let node = r.node.as_deref().unwrap_or("?");
    let read = format!(
        "the final read at {node} (event {}) returned {}",
        r.index, r.value
    );
    let Some(v) = r.value.as_i64() else {
        return CounterError {
            node: r.node.clone(),
            index: r.index,
            value: r.value.clone(),
            nearest_below: None,
            nearest_above: None,
            why: format!("{read}, which is not an integer count"),
        };
    };
    let i = set.partition_point(|iv| iv[1] < v);
    let below = i.checked_sub(1).map(|j| set[j][1]);
    let above = set.get(i).map(|iv| iv[0]);
    let adds = match definite_count {
        1 => "the 1 add that succeeded was".to_owned(),
        n => format!("the {n} adds that succeeded sum to"),
    };
    let mut why = format!("{read}, but {adds} {definite_sum}");
    match indefinite {
        [] => {}
        few if few.len() <= 6 => {
            let list: Vec<String> = few.iter().map(|&d| signed(d)).collect();
            why.push_str(&format!(
                " and the {} whose outcome is unknown ({}) could make it {}",
                few.len(),
                list.join(", "),
                totals(set)
            ));
        }
        many => why.push_str(&format!(
            " and the {} whose outcome is unknown could make it {}",
            many.len(),
            totals(set)
        )),
    }
    match (below, above) {
        (Some(b), None) => why.push_str(&format!(
            ": {v} is {} above the largest possible total, as if some add were counted more than once",
            v.saturating_sub(b)
        )),
        (None, Some(a)) => why.push_str(&format!(
            ": {v} is {} below the smallest possible total, as if some acknowledged add were lost{}",
            a.saturating_sub(v),
            if counts_down {
                " or some decrement counted more than once"
            } else {
                ""
            }
        )),
        (Some(b), Some(a)) => why.push_str(&format!(
            ": {v} falls between the possible totals {b} and {a}, so no set of the adds makes it"
        )),
        (None, None) => {}
    }
    CounterError {
        node: r.node.clone(),
        index: r.index,
        value: r.value.clone(),
        nearest_below: below,
        nearest_above: above,
        why,
    }
}

impl CounterResult {
    /// What went wrong, for people: a headline and a sentence per bad final read (a handful,
    /// then how many more), or why the check could not decide.
    pub fn story(&self) -> crate::story::Story {
        let mut story = crate::story::Story::default();
        let told = crate::story::TOLD;
        story.failures = self
            .errors
            .iter()
            .take(told)
            .map(|e| e.why.clone())
            .collect();
        if self.errors.len() > told {
            story.failures.push(format!(
                "and {} more final reads out of reach",
                self.errors.len() - told
            ));
        }
        story.headline = match (self.valid, self.errors.first()) {
            (Validity::Invalid, Some(e)) => Some(format!(
                "{} final read{} out of reach of every possible total: {} returned {}, {}",
                self.errors.len(),
                if self.errors.len() == 1 { "" } else { "s" },
                e.node.as_deref().unwrap_or("?"),
                e.value,
                match (e.nearest_below, e.nearest_above) {
                    (Some(b), None) => format!("more than the largest total ({b})"),
                    (None, Some(a)) => format!("less than the smallest total ({a})"),
                    (Some(b), Some(a)) => format!("between the totals {b} and {a}"),
                    (None, None) => "not a count".to_owned(),
                }
            )),
            (Validity::Unknown, _) => Some(format!(
                "the {} check cannot decide: {}",
                self.name,
                self.unknown_reason.as_deref().unwrap_or("no reason given")
            )),
            _ => None,
        };
        story
    }
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
    use serde_json::json;

    use super::*;

    fn history(rows: &[(u64, &str, &str, &str, Value)]) -> Vec<Event> {
        rows.iter()
            .enumerate()
            .map(|(i, (p, node, kind, f, value))| Event {
                index: i as u64,
                time: i as u64 * 1_000_000,
                process: crate::history::Process::Client(*p),
                node: Some((*node).to_owned()),
                kind: match kind.trim_end_matches('F') {
                    "invoke" => crate::history::EventType::Invoke,
                    "ok" => crate::history::EventType::Ok,
                    "fail" => crate::history::EventType::Fail,
                    _ => crate::history::EventType::Info,
                },
                f: (*f).to_owned(),
                value: value.clone(),
                error: None,
                is_final: kind.ends_with('F'),
            })
            .collect()
    }

    #[test]
    fn a_final_read_between_the_possible_totals_is_an_error_told_with_the_adds() {
        let h = history(&[
            (0, "n0", "invoke", "add", json!(5)),
            (0, "n0", "ok", "add", json!(5)),
            (1, "n1", "invoke", "add", json!(10)),
            (1, "n1", "info", "add", json!(10)),
            (2, "n1", "invokeF", "read", Value::Null),
            (2, "n1", "okF", "read", json!(7)),
        ]);
        let r = check_counter(&h).unwrap();
        assert_eq!(r.valid, Validity::Invalid);
        let e = &r.errors[0];
        assert_eq!((e.nearest_below, e.nearest_above), (Some(5), Some(15)));
        assert_eq!(
            e.why,
            "the final read at n1 (event 5) returned 7, but the 1 add that succeeded was 5 and \
             the 1 whose outcome is unknown (+10) could make it 5 or 15: 7 falls between the \
             possible totals 5 and 15, so no set of the adds makes it"
        );
        let story = r.story();
        assert_eq!(story.failures, vec![e.why.clone()]);
        assert_eq!(
            story.headline.as_deref(),
            Some(
                "1 final read out of reach of every possible total: n1 returned 7, between the \
                 totals 5 and 15"
            )
        );
    }

    #[test]
    fn a_decrement_counted_twice_reads_below_every_total_of_a_pn_counter() {
        let h = history(&[
            (0, "n0", "invoke", "add", json!(4)),
            (0, "n0", "ok", "add", json!(4)),
            (0, "n0", "invoke", "add", json!(-3)),
            (0, "n0", "ok", "add", json!(-3)),
            (1, "n1", "invokeF", "read", Value::Null),
            (1, "n1", "okF", "read", json!(-2)),
            (2, "n2", "invokeF", "read", Value::Null),
            (2, "n2", "okF", "read", json!(5)),
            (0, "n0", "invokeF", "read", Value::Null),
            (0, "n0", "okF", "read", json!(1)),
        ]);
        let r = check_counter_as(&h, "pn-counter").unwrap();
        assert_eq!((r.valid, r.error_count), (Validity::Invalid, 2));
        assert!(r.to_string().starts_with("pn-counter: invalid: "), "{r}");
        assert_eq!(
            r.errors[0].why,
            "the final read at n1 (event 5) returned -2, but the 2 adds that succeeded sum to 1: \
             -2 is 3 below the smallest possible total, as if some acknowledged add were lost \
             or some decrement counted more than once"
        );
        assert!(
            r.errors[1]
                .why
                .ends_with("5 is 4 above the largest possible total, as if some add were counted more than once"),
            "{}",
            r.errors[1].why
        );
        let json = serde_json::to_value(&r).unwrap();
        for key in ["valid", "errors", "final_reads", "acceptable"] {
            assert!(json.get(key).is_some(), "Maelstrom's key {key}: {json}");
        }
        assert_eq!(json["errors"][0]["nearest_above"], 1);
    }

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

//! Statistics of a run: how many ops succeeded, failed or were indefinite, per function
//! (availability under faults: the course's lecture on the CAP trade-off), and the network's
//! cost per op (see [`NetStats`]).
//!
//! As Jepsen's `stats` checker (which Maelstrom composes into every test): over client ops
//! (nemesis excluded), each counted once by its outcome (an invocation never completed counts
//! as `info`); invalid when some `f` never succeeded (Jepsen's `:valid? (pos? ok-count)` per
//! `f`; its docstring says unknown, its code says false, and Maelstrom's verdicts follow the
//! code). `never_succeeded` names those `f`s. Availability is `ok_count / count`.

mod copies;
mod net;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use copies::{Copies, FIRST_BROADCAST_VALUE, broadcast_values};
pub use net::{NetCounts, NetStats};

use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// Counts for one `f` (or all).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FStats {
    pub valid: Validity,
    pub count: usize,
    pub ok_count: usize,
    pub fail_count: usize,
    pub info_count: usize,
    /// `ok_count / count`; 0 when there are no ops.
    pub availability: f64,
}

impl FStats {
    fn empty() -> FStats {
        FStats {
            valid: Validity::Invalid,
            count: 0,
            ok_count: 0,
            fail_count: 0,
            info_count: 0,
            availability: 0.0,
        }
    }

    fn add(&mut self, outcome: Outcome) {
        self.count += 1;
        match outcome {
            Outcome::Ok => self.ok_count += 1,
            Outcome::Fail => self.fail_count += 1,
            Outcome::Info => self.info_count += 1,
        }
    }

    fn finish(&mut self) {
        self.availability = if self.count == 0 {
            0.0
        } else {
            self.ok_count as f64 / self.count as f64
        };
        self.valid = Validity::from_bool(self.ok_count > 0);
    }
}

/// Op statistics of a history, overall and by `f`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpStats {
    pub valid: Validity,
    pub count: usize,
    pub ok_count: usize,
    pub fail_count: usize,
    pub info_count: usize,
    pub availability: f64,
    /// The `f`s with no `ok` op: each makes the result invalid.
    pub never_succeeded: Vec<String>,
    pub by_f: BTreeMap<String, FStats>,
}

/// Count the client ops of a history.
pub fn op_stats(events: &[Event]) -> Result<OpStats, HistoryError> {
    let ops = client_ops(events)?;
    let mut all = FStats::empty();
    let mut by_f: BTreeMap<String, FStats> = BTreeMap::new();
    for op in &ops {
        all.add(op.outcome());
        by_f.entry(op.f().to_owned())
            .or_insert_with(FStats::empty)
            .add(op.outcome());
    }
    all.finish();
    by_f.values_mut().for_each(FStats::finish);
    let never_succeeded = by_f
        .iter()
        .filter(|(_, s)| s.ok_count == 0)
        .map(|(f, _)| f.clone())
        .collect();
    Ok(OpStats {
        valid: Validity::all(by_f.values().map(|s| s.valid)),
        never_succeeded,
        count: all.count,
        ok_count: all.ok_count,
        fail_count: all.fail_count,
        info_count: all.info_count,
        availability: all.availability,
        by_f,
    })
}

impl fmt::Display for OpStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ops: {} ({} ok, {} fail, {} info; availability {:.3})",
            self.count, self.ok_count, self.fail_count, self.info_count, self.availability
        )?;
        for (name, s) in &self.by_f {
            writeln!(
                f,
                "  {name}: {} ({} ok, {} fail, {} info){}",
                s.count,
                s.ok_count,
                s.fail_count,
                s.info_count,
                if s.ok_count == 0 {
                    " -- never succeeded: invalid, as in Jepsen's stats checker"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_history;

    #[test]
    fn counts_by_outcome_and_f_and_an_f_that_never_succeeded_is_invalid() {
        let text = r#"{"index":0,"time":1,"process":0,"type":"invoke","f":"read"}
{"index":1,"time":2,"process":0,"type":"ok","f":"read","value":1}
{"index":2,"time":3,"process":1,"type":"invoke","f":"write","value":1}
{"index":3,"time":4,"process":1,"type":"info","f":"write","value":1}
{"index":4,"time":5,"process":2,"type":"invoke","f":"write","value":2}
{"index":5,"time":6,"process":"nemesis","type":"info","f":"kill","value":["n1"]}"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let s = op_stats(&events).unwrap();
        assert_eq!((s.count, s.ok_count, s.info_count), (3, 1, 2));
        assert_eq!(s.by_f["write"].info_count, 2);
        assert_eq!(s.by_f["write"].valid, Validity::Invalid);
        assert_eq!(s.by_f["read"].valid, Validity::Valid);
        assert_eq!(s.never_succeeded, ["write"]);
        assert_eq!(s.valid, Validity::Invalid);
        assert!((s.availability - 1.0 / 3.0).abs() < 1e-9);
    }
}

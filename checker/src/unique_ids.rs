//! unique-ids: no id is handed out twice (globally unique identifiers without coordination,
//! the course's warm-up on node identity and logical time). Jepsen's `unique-ids` checker,
//! with every duplicate's ops named.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, HistoryError};
use crate::op::{Outcome, client_ops};
use crate::validity::Validity;

/// At most this many duplicated ids are listed (the most frequent), as Jepsen does.
const MAX_LISTED: usize = 48;

/// An op that returned an id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdOp {
    /// `index` of the ok completion.
    pub index: u64,
    pub process: String,
    pub node: Option<String>,
}

/// An id returned more than once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatedId {
    pub id: Value,
    pub count: usize,
    pub ops: Vec<IdOp>,
}

/// The result of unique-ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UniqueIdsResult {
    /// False if any id was returned twice; unknown if none was returned at all.
    pub valid: Validity,
    pub attempted_count: usize,
    pub acknowledged_count: usize,
    pub duplicated_count: usize,
    pub duplicated: Vec<DuplicatedId>,
    /// Lowest and highest id, when all are numbers or all are strings.
    pub range: Option<[Value; 2]>,
}

/// Check the `generate` ops of a history.
pub fn check_unique_ids(events: &[Event]) -> Result<UniqueIdsResult, HistoryError> {
    let ops = client_ops(events)?;
    let mut attempted = 0;
    let mut seen: BTreeMap<String, (Value, Vec<IdOp>)> = BTreeMap::new();
    let mut acknowledged = 0;
    for op in ops.iter().filter(|o| o.f() == "generate") {
        attempted += 1;
        if op.outcome() != Outcome::Ok {
            continue;
        }
        acknowledged += 1;
        let id = op.value();
        let entry = seen
            .entry(id.to_string())
            .or_insert_with(|| (id.clone(), Vec::new()));
        entry.1.push(IdOp {
            index: op.completion.map_or(op.invoke.index, |c| c.index),
            process: op.process().to_string(),
            node: op.node().map(str::to_owned),
        });
    }
    let mut duplicated: Vec<DuplicatedId> = seen
        .values()
        .filter(|(_, ops)| ops.len() > 1)
        .map(|(id, ops)| DuplicatedId {
            id: id.clone(),
            count: ops.len(),
            ops: ops.clone(),
        })
        .collect();
    let duplicated_count = duplicated.len();
    duplicated.sort_by_key(|d| std::cmp::Reverse(d.count));
    duplicated.truncate(MAX_LISTED);
    let ids: Vec<&Value> = seen.values().map(|(v, _)| v).collect();
    let range = if !ids.is_empty() && ids.iter().all(|v| v.is_number()) {
        let key = |v: &&&Value| v.as_f64().unwrap_or(0.0);
        let lo = ids.iter().min_by(|a, b| key(a).total_cmp(&key(b)));
        let hi = ids.iter().max_by(|a, b| key(a).total_cmp(&key(b)));
        lo.zip(hi).map(|(lo, hi)| [(*lo).clone(), (*hi).clone()])
    } else if !ids.is_empty() && ids.iter().all(|v| v.is_string()) {
        let lo = ids.iter().min_by_key(|v| v.as_str());
        let hi = ids.iter().max_by_key(|v| v.as_str());
        lo.zip(hi).map(|(lo, hi)| [(*lo).clone(), (*hi).clone()])
    } else {
        None
    };
    Ok(UniqueIdsResult {
        valid: if duplicated_count > 0 {
            Validity::Invalid
        } else if acknowledged == 0 {
            Validity::Unknown
        } else {
            Validity::Valid
        },
        attempted_count: attempted,
        acknowledged_count: acknowledged,
        duplicated_count,
        duplicated,
        range,
    })
}

impl fmt::Display for UniqueIdsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "unique-ids: {}: {} attempted, {} acknowledged, {} duplicated",
            self.valid, self.attempted_count, self.acknowledged_count, self.duplicated_count
        )?;
        for d in &self.duplicated {
            let ops: Vec<String> = d
                .ops
                .iter()
                .map(|o| {
                    format!(
                        "event {} (process {}, node {})",
                        o.index,
                        o.process,
                        o.node.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            writeln!(
                f,
                "  id {} returned {} times: {}",
                d.id,
                d.count,
                ops.join(", ")
            )?;
        }
        Ok(())
    }
}

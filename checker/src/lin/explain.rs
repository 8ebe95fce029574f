//! Turning the search's furthest point into a witness a person can check by hand, and the
//! text rendering of linearizability verdicts.

use std::fmt;

use super::prepare::Partition;
use super::search::Frontier;
use super::{LinFailure, LinResult, OpDesc, SeenState};
use crate::op::Op;
use crate::validity::Validity;

const MAX_CONCURRENT: usize = 20;
const MAX_TAIL: usize = 10;

/// The witness of a failure at `frontier` in partition `p`.
pub(crate) fn failure(p: &Partition, frontier: &Frontier, ops: &[Op<'_>]) -> LinFailure {
    let x = &p.ops[frontier.op];
    let x_ret = x.ret.unwrap_or(usize::MAX);
    let concurrent_ops: Vec<&super::prepare::LinOp> = p
        .ops
        .iter()
        .enumerate()
        .filter(|&(i, o)| i != frontier.op && o.call < x_ret && o.ret.is_none_or(|r| r > x.call))
        .map(|(_, o)| o)
        .collect();
    let states = frontier
        .states
        .iter()
        .map(|&s| SeenState {
            state: p.spec.describe_state(s, p.mutex),
            why: p.spec.why_not(s, &x.step, p.mutex),
        })
        .collect();
    let tail_start = frontier.path.len().saturating_sub(MAX_TAIL);
    LinFailure {
        key: p.key.clone(),
        op: OpDesc::of(&ops[x.origin]),
        concurrent: concurrent_ops
            .iter()
            .take(MAX_CONCURRENT)
            .map(|o| OpDesc::of(&ops[o.origin]))
            .collect(),
        concurrent_count: concurrent_ops.len(),
        states,
        more_states: frontier.more_states,
        linearized_tail: frontier.path[tail_start..]
            .iter()
            .map(|&i| OpDesc::of(&ops[p.ops[i as usize].origin]))
            .collect(),
        linearized_count: frontier.path.len(),
    }
}

impl fmt::Display for OpDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = match self.complete_index {
            Some(c) => format!("events {}..{}", self.index, c),
            None => format!("event {}.. (never completed)", self.index),
        };
        write!(
            f,
            "{span}: process {} {} {} -> {}",
            self.process, self.f, self.value, self.outcome
        )
    }
}

impl fmt::Display for LinFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => writeln!(f, "key {k:?}: no order of the operations explains this op:")?,
            None => writeln!(f, "no order of the operations explains this op:")?,
        }
        writeln!(f, "  {}", self.op)?;
        writeln!(
            f,
            "It must take effect after every op that completed before it was invoked. Taking any of \
             the ops concurrent with it first or not, the object could only have been in these states:"
        )?;
        for s in &self.states {
            let state = if s.state.is_null() {
                "absent".to_owned()
            } else {
                s.state.to_string()
            };
            writeln!(f, "  {state}: {}", s.why)?;
        }
        if self.more_states {
            writeln!(f, "  (and more states)")?;
        }
        writeln!(f, "Ops concurrent with it ({}):", self.concurrent_count)?;
        for o in &self.concurrent {
            writeln!(f, "  {o}")?;
        }
        if self.concurrent_count > self.concurrent.len() {
            writeln!(
                f,
                "  ... and {} more",
                self.concurrent_count - self.concurrent.len()
            )?;
        }
        if let Some(first) = self.states.first() {
            writeln!(
                f,
                "One order of the {} ops linearized before it, reaching state {}{}:",
                self.linearized_count,
                if first.state.is_null() {
                    "absent".to_owned()
                } else {
                    first.state.to_string()
                },
                if self.linearized_count > self.linearized_tail.len() {
                    " (its last ops)"
                } else {
                    ""
                }
            )?;
            for o in &self.linearized_tail {
                writeln!(f, "  {o}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for LinResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.semantics;
        let initial = if s.initial.is_null() {
            "absent".to_owned()
        } else {
            s.initial.to_string()
        };
        writeln!(
            f,
            "semantics: model {}; initial value {initial}; a read of null means {}; failed ops {}; indefinite ops {}",
            s.model.name(),
            match s.nil_read {
                super::NilRead::Unknown => "unknown (matches any state)",
                super::NilRead::Absent => "absent",
            },
            s.failed_ops,
            s.indefinite_ops
        )?;
        writeln!(
            f,
            "checked {} ops ({} pending, {} failed and dropped) on {} key(s)",
            self.op_count, self.pending_count, self.failed_dropped, self.key_count
        )?;
        match self.valid {
            Validity::Valid => writeln!(f, "linearizable"),
            Validity::Invalid => {
                writeln!(f, "not linearizable")?;
                match &self.failure {
                    Some(failure) => write!(f, "{failure}"),
                    None => Ok(()),
                }
            }
            Validity::Unknown => writeln!(
                f,
                "unknown: {}",
                self.unknown_reason
                    .as_deref()
                    .unwrap_or("the check did not finish")
            ),
        }
    }
}

//! Turning the search's furthest point into a witness a person can check by hand, and the
//! text rendering of linearizability verdicts.
//!
//! A failure names the op that no order explains, with its interval and node; the ops
//! concurrent with it, with theirs; every state the object could have held when it had to take
//! effect (for a read: the values it could legally have returned); and, when the anomaly is a
//! read that cannot have seen what it returned (the stale read of the course's lecture on
//! linearizability, 7.2), the three ops that prove it by themselves: the read, the op it must
//! follow in real time, and the write it missed. A sentence says it all in words.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::prepare::Partition;
use super::search::Frontier;
use super::spec::{ANY, Step};
use super::{LinFailure, LinResult, OpDesc, ReadWitness, SeenState};
use crate::op::Op;
use crate::validity::Validity;

const MAX_CONCURRENT: usize = 20;
const MAX_TAIL: usize = 10;
const MAX_MISSED: usize = 5;
/// Steps of the witness scan (quadratic in the ops of a key) after which it gives up.
const WITNESS_BUDGET: u64 = 20_000_000;

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
    let legal_values = frontier
        .states
        .iter()
        .map(|&s| p.spec.describe_state(s, p.mutex))
        .collect();
    let tail_start = frontier.path.len().saturating_sub(MAX_TAIL);
    let mut failure = LinFailure {
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
        legal_values,
        witness: witness(p, frontier.op, ops),
        missed_write: None,
        explanation: String::new(),
    };
    failure.missed_write = match &failure.witness {
        Some(w) if w.op == failure.op => w.missed.first().cloned(),
        _ => last_write_before(p, frontier).map(|i| OpDesc::of(&ops[p.ops[i].origin])),
    };
    failure.explanation = explain(&failure);
    failure
}

/// For a failing read: the write or cas that completed last before it was invoked, when the
/// value that op left is one of the states the read could have seen.
fn last_write_before(p: &Partition, frontier: &Frontier) -> Option<usize> {
    let x = &p.ops[frontier.op];
    if p.mutex || !matches!(x.step, Step::Read(_)) {
        return None;
    }
    let (i, written) = p
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let written = match o.step {
                Step::Write(v) | Step::Cas(_, v) => v,
                _ => return None,
            };
            let ret = o.ret.filter(|&r| r < x.call)?;
            Some((ret, i, written))
        })
        .max()
        .map(|(_, i, written)| (i, written))?;
    frontier.states.contains(&written).then_some(i)
}

/// What an op reads and writes, as value ids.
#[derive(Debug, Clone, Copy)]
struct Access {
    reads: Option<u32>,
    writes: Option<u32>,
}

/// `None` for ops whose effect is not a plain read or overwrite (appends, transactions,
/// locks): no three-op witness is looked for among them.
fn access(step: &Step) -> Option<Access> {
    match *step {
        Step::Read(v) => Some(Access {
            reads: (v != ANY).then_some(v),
            writes: None,
        }),
        Step::Write(v) => Some(Access {
            reads: None,
            writes: Some(v),
        }),
        Step::Cas(from, to) => Some(Access {
            reads: Some(from),
            writes: Some(to),
        }),
        _ => None,
    }
}

/// A read (or successful cas) of `p` that three ops prove wrong: the failing op if it is
/// one, else the earliest such read, else the earliest such cas.
fn witness(p: &Partition, first: usize, ops: &[Op<'_>]) -> Option<ReadWitness> {
    if p.mutex {
        return None;
    }
    let acc: Vec<Access> = p
        .ops
        .iter()
        .map(|o| access(&o.step))
        .collect::<Option<_>>()?;
    let mut budget = WITNESS_BUDGET;
    let mut order: Vec<usize> = (0..p.ops.len())
        .filter(|&i| i != first && p.ops[i].ret.is_some() && acc[i].reads.is_some())
        .collect();
    order.sort_by_key(|&i| (acc[i].writes.is_some(), p.ops[i].ret));
    order.insert(0, first);
    for x in order {
        if let Some((after, stale)) = prove(p, &acc, x, &mut budget) {
            return Some(describe(p, &acc, ops, x, after, stale));
        }
        if budget == 0 {
            return None;
        }
    }
    None
}

/// For op `x` that read `v`: the latest op `after` that completed before `x` was invoked,
/// left a value other than `v`, and after which no op writing `v` can take effect before
/// `x` does; with whether some op writing `v` had been invoked before `x` completed (`stale`).
/// Writes and cas are preferred to reads as `after`.
fn prove(p: &Partition, acc: &[Access], x: usize, budget: &mut u64) -> Option<(usize, bool)> {
    let xo = &p.ops[x];
    let (Some(x_ret), Some(v)) = (xo.ret, acc[x].reads) else {
        return None;
    };
    // The latest completion of an op that writes `v` and was invoked before `x` completed:
    // `after` must have been invoked after it, or that write could fall in between.
    let mut latest_writer: Option<usize> = None;
    for (i, o) in p.ops.iter().enumerate() {
        *budget = budget.saturating_sub(1);
        if i == x || acc[i].writes != Some(v) || o.call > x_ret {
            continue;
        }
        let ret = o.ret?; // a pending write of `v` may take effect at any time
        latest_writer = latest_writer.max(Some(ret));
    }
    let mut best_write: Option<usize> = None;
    let mut best_read: Option<usize> = None;
    for (i, o) in p.ops.iter().enumerate() {
        *budget = budget.saturating_sub(1);
        let Some(ret) = o.ret else { continue };
        if ret >= xo.call || latest_writer.is_some_and(|w| o.call < w) {
            continue;
        }
        let Some(u) = acc[i].writes.or(acc[i].reads) else {
            continue;
        };
        if u == v {
            continue;
        }
        let best = if acc[i].writes.is_some() {
            &mut best_write
        } else {
            &mut best_read
        };
        if best.is_none_or(|b| p.ops[b].ret < Some(ret)) {
            *best = Some(i);
        }
        if *budget == 0 {
            return None;
        }
    }
    best_write
        .or(best_read)
        .map(|after| (after, latest_writer.is_some()))
}

fn describe(
    p: &Partition,
    acc: &[Access],
    ops: &[Op<'_>],
    x: usize,
    after: usize,
    stale: bool,
) -> ReadWitness {
    let desc = |i: usize| OpDesc::of(&ops[p.ops[i].origin]);
    let value = |id: u32| p.spec.values.get(id);
    let read = acc[x].reads.unwrap_or(0);
    let after_value = acc[after].writes.or(acc[after].reads).unwrap_or(0);
    let after_call = p.ops[after].call;
    let after_ret = p.ops[after].ret.unwrap_or(usize::MAX);
    let x_ret = p.ops[x].ret.unwrap_or(usize::MAX);
    let missed = if acc[after].writes.is_some() {
        vec![desc(after)]
    } else {
        let mut writers: Vec<usize> = (0..p.ops.len())
            .filter(|&i| acc[i].writes == Some(after_value) && p.ops[i].call < after_ret)
            .collect();
        writers.sort_by_key(|&i| std::cmp::Reverse(p.ops[i].call));
        writers.into_iter().take(MAX_MISSED).map(desc).collect()
    };
    let mut could: Vec<u32> = vec![after_value];
    let mut seen = BTreeSet::from([after_value]);
    for (i, o) in p.ops.iter().enumerate() {
        if i == x || o.call > x_ret || o.ret.is_some_and(|r| r < after_call) {
            continue;
        }
        if let Some(w) = acc[i].writes
            && seen.insert(w)
        {
            could.push(w);
        }
    }
    ReadWitness {
        op: desc(x),
        read: value(read),
        after: desc(after),
        after_value: value(after_value),
        missed,
        kind: if stale { "stale" } else { "unwritten" },
        could_return: could.into_iter().map(value).collect(),
    }
}

/// A value as the text shows it: `null` is absent.
fn show(v: &Value) -> String {
    if v.is_null() {
        "absent".to_owned()
    } else {
        v.to_string()
    }
}

/// `a`, `a or b`, `a, b or c`.
fn alternatives(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().map(show).collect();
    match shown.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn interval(o: &OpDesc) -> String {
    match o.complete_ms {
        Some(c) => format!("[{:.1}, {c:.1}] ms", o.invoke_ms),
        None => format!("[{:.1} ms, never completed]", o.invoke_ms),
    }
}

fn who(o: &OpDesc) -> String {
    match &o.node {
        Some(node) => format!("process {} at {node}", o.process),
        None => format!("process {}", o.process),
    }
}

/// The argument of a `[key, x]` value, or the value itself.
fn argument(o: &OpDesc, keyed: bool) -> &Value {
    match o.value.as_array().map(Vec::as_slice) {
        Some([_, x]) if keyed => x,
        _ => &o.value,
    }
}

/// `the write of 3`, `the cas 1 -> 2`, `the read`: an op by what it does.
fn what(o: &OpDesc, keyed: bool) -> String {
    let arg = argument(o, keyed);
    match (o.f.as_str(), arg.as_array().map(Vec::as_slice)) {
        ("cas", Some([from, to])) => format!("the cas {} -> {}", show(from), show(to)),
        ("write" | "put", _) => format!("the write of {}", show(arg)),
        ("read" | "get", _) => "the read".to_owned(),
        (f, _) if arg.is_null() => format!("the {f}"),
        (f, _) => format!("the {f} {arg}"),
    }
}

fn explain(failure: &LinFailure) -> String {
    let keyed = failure.key.is_some();
    let prefix = failure
        .key
        .as_ref()
        .map_or_else(String::new, |k| format!("key {k}: "));
    let x = &failure.op;
    let is_read = matches!(x.f.as_str(), "read" | "get");
    let legal = format!(
        "{}{}",
        alternatives(&failure.legal_values),
        if failure.more_states {
            " (among others)"
        } else {
            ""
        }
    );
    if let Some(w) = &failure.witness {
        let reader = if w.op.f == "cas" { "cas" } else { "read" };
        let subject = if w.op.f == "cas" {
            format!(
                "{} by {} during {} succeeded, so it found {}",
                what(&w.op, keyed),
                who(&w.op),
                interval(&w.op),
                show(&w.read)
            )
        } else {
            format!(
                "the read by {} during {} returned {}",
                who(&w.op),
                interval(&w.op),
                show(&w.read)
            )
        };
        let after = if matches!(w.after.f.as_str(), "read" | "get") {
            format!(
                "the read by {} during {} had returned {} before it began",
                who(&w.after),
                interval(&w.after),
                show(&w.after_value)
            )
        } else {
            format!(
                "{} by {} during {} had completed before it began",
                what(&w.after, keyed),
                who(&w.after),
                interval(&w.after)
            )
        };
        let writers = if w.kind == "stale" {
            format!(
                "every op that writes {} had completed before that {} began",
                show(&w.read),
                if matches!(w.after.f.as_str(), "read" | "get") {
                    "read"
                } else {
                    "one"
                }
            )
        } else {
            format!(
                "no op that writes {} had been invoked before it completed",
                show(&w.read)
            )
        };
        let conclusion = match (w.kind, w.missed.split_first()) {
            ("stale", Some((m, _))) if m == &w.after => {
                format!("a stale {reader}: it missed {}", what(m, keyed))
            }
            ("stale", Some((m, rest))) => format!(
                "a stale {reader}: it missed {} by {} during {} that the earlier read saw{}",
                what(m, keyed),
                who(m),
                interval(m),
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(" (or another op that wrote {})", show(&w.after_value))
                }
            ),
            ("stale", None) => format!(
                "a stale {reader}: the value had changed to {}",
                show(&w.after_value)
            ),
            _ => format!("the {reader} returned a value that no op had written yet"),
        };
        let could = if w.op == *x {
            if is_read {
                format!("A read at that point could legally have returned only {legal}.")
            } else {
                format!("The value at that point could only have been {legal}.")
            }
        } else {
            format!(
                "It could only have found {}.",
                alternatives(&w.could_return)
            )
        };
        let lead = if w.op == *x {
            String::new()
        } else {
            format!(
                "{} by {} during {} cannot be linearized; a plainer witness in the same key: ",
                what(x, keyed),
                who(x),
                interval(x)
            )
        };
        return format!(
            "{prefix}{lead}{subject}, but {after}, and {writers}: {conclusion}. {could}"
        );
    }
    let why = failure
        .states
        .first()
        .map_or_else(String::new, |s| format!(" ({})", s.why));
    let whichever = match failure.concurrent_count {
        0 => "with no op concurrent with it".to_owned(),
        1 => "whether or not the one op concurrent with it took effect first".to_owned(),
        n => format!("whichever of the {n} ops concurrent with it took effect first"),
    };
    if is_read {
        let missed = failure.missed_write.as_ref().map_or_else(String::new, |m| {
            format!(
                "{} by {} during {} had completed before it began, and ",
                what(m, keyed),
                who(m),
                interval(m)
            )
        });
        let conclusion = if failure.missed_write.is_some() {
            ": it missed that write"
        } else {
            ""
        };
        format!(
            "{prefix}the read by {} during {} returned {}, but {missed}{whichever}, the value \
             could only have been {legal}{why}{conclusion}. A read at that point could legally \
             have returned only {legal}.",
            who(x),
            interval(x),
            show(argument(x, keyed)),
        )
    } else {
        format!(
            "{prefix}{} by {} during {} ({}) cannot take effect anywhere in its interval: \
             {whichever}, the object could only have been {legal}{why}.",
            what(x, keyed),
            who(x),
            interval(x),
            x.outcome,
        )
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
            "{span} {}: {} {} {} -> {}",
            interval(self),
            who(self),
            self.f,
            self.value,
            self.outcome
        )
    }
}

impl fmt::Display for LinFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.explanation)?;
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
            writeln!(f, "  {}: {}", show(&s.state), s.why)?;
        }
        if self.more_states {
            writeln!(f, "  (and more states)")?;
        }
        if matches!(self.op.f.as_str(), "read" | "get") {
            writeln!(
                f,
                "A read there could legally have returned: {}{}",
                alternatives(&self.legal_values),
                if self.more_states {
                    " (among others)"
                } else {
                    ""
                }
            )?;
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
                show(&first.state),
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
        if let (Some(m), None) = (&self.missed_write, &self.witness) {
            writeln!(
                f,
                "The write it missed (the last to complete before it began):"
            )?;
            writeln!(f, "  {m}")?;
        }
        if let Some(w) = &self.witness {
            writeln!(
                f,
                "Witness ({}): three ops that prove it by themselves:",
                w.kind
            )?;
            writeln!(f, "  read:   {}", w.op)?;
            writeln!(f, "  after:  {}", w.after)?;
            for m in &w.missed {
                writeln!(f, "  missed: {m}")?;
            }
            writeln!(
                f,
                "  it could only have found: {}",
                alternatives(&w.could_return)
            )?;
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{LinOptions, ModelKind, check_linearizable};
    use crate::history::{Event, EventType, Process};

    /// Events `(process, node, type, f, value)`, one millisecond apart.
    fn history(rows: &[(u64, &str, EventType, &str, Value)]) -> Vec<Event> {
        rows.iter()
            .enumerate()
            .map(|(i, (p, node, kind, f, value))| Event {
                index: i as u64,
                time: (i as u64 + 1) * 1_000_000,
                process: Process::Client(*p),
                node: Some((*node).to_owned()),
                kind: *kind,
                f: (*f).to_owned(),
                value: value.clone(),
                error: None,
                is_final: false,
            })
            .collect()
    }

    use EventType::{Info, Invoke, Ok};

    fn check(events: &[Event]) -> super::LinFailure {
        let result = check_linearizable(events, &LinOptions::new(ModelKind::Kv)).unwrap();
        assert_eq!(result.valid, crate::validity::Validity::Invalid);
        result.failure.expect("a failure")
    }

    #[test]
    fn a_read_that_goes_back_after_another_read_saw_a_concurrent_write() {
        // The write of 2 is still running, but process 2's read already saw it; process 3's
        // later read returns the older 0.
        let failure = check(&history(&[
            (0, "n0", Invoke, "write", json!([1, 0])),
            (0, "n0", Ok, "write", json!([1, 0])),
            (1, "n1", Invoke, "write", json!([1, 2])),
            (2, "n2", Invoke, "read", json!([1, null])),
            (2, "n2", Ok, "read", json!([1, 2])),
            (3, "n3", Invoke, "read", json!([1, null])),
            (3, "n3", Ok, "read", json!([1, 0])),
            (1, "n1", Ok, "write", json!([1, 2])),
        ]));
        let w = failure.witness.clone().expect("a three-op witness");
        assert_eq!((w.op.f.as_str(), w.op.process.as_str()), ("read", "3"));
        assert_eq!(
            (w.read.clone(), w.after_value.clone()),
            (json!(0), json!(2))
        );
        assert_eq!(
            (w.after.f.as_str(), w.after.process.as_str()),
            ("read", "2")
        );
        assert_eq!(w.missed.len(), 1);
        assert_eq!(
            (w.missed[0].f.as_str(), w.missed[0].process.as_str()),
            ("write", "1")
        );
        assert_eq!(w.missed[0].complete_ms, Some(8.0));
        assert_eq!(w.kind, "stale");
        assert_eq!(failure.legal_values, vec![json!(2)]);
        let text = &failure.explanation;
        assert!(
            text.starts_with("key 1: the read by process 3 at n3 during [6.0, 7.0] ms returned 0"),
            "{text}"
        );
        assert!(
            text.contains(
                "the read by process 2 at n2 during [4.0, 5.0] ms had returned 2 before it began"
            ),
            "{text}"
        );
        assert!(
            text.contains("it missed the write of 2 by process 1 at n1 during [3.0, 8.0] ms"),
            "{text}"
        );
        assert!(
            text.ends_with("could legally have returned only 2."),
            "{text}"
        );
        let shown = failure.to_string();
        assert!(
            shown.contains("A read there could legally have returned: 2"),
            "{shown}"
        );
        assert!(
            shown.contains("missed: events 2..7 [3.0, 8.0] ms: process 1 at n1 write [1,2] -> ok"),
            "{shown}"
        );
    }

    #[test]
    fn a_cas_that_compared_with_an_overwritten_value() {
        let failure = check(&history(&[
            (0, "n0", Invoke, "write", json!(["k", 3])),
            (0, "n0", Ok, "write", json!(["k", 3])),
            (1, "n1", Invoke, "write", json!(["k", 1])),
            (1, "n1", Ok, "write", json!(["k", 1])),
            (2, "n2", Invoke, "cas", json!(["k", [3, 2]])),
            (2, "n2", Ok, "cas", json!(["k", [3, 2]])),
            // A write still running at the end may or may not have happened.
            (3, "n3", Invoke, "write", json!(["k", 4])),
            (3, "n3", Info, "write", json!(["k", 4])),
        ]));
        let w = failure.witness.expect("a witness");
        assert_eq!(w.op.f, "cas");
        assert_eq!(w.read, json!(3));
        assert_eq!(w.after.process, "1");
        assert_eq!(w.missed[0].process, "1");
        assert!(
            failure.explanation.contains("succeeded, so it found 3")
                && failure
                    .explanation
                    .contains("a stale cas: it missed the write of 1"),
            "{}",
            failure.explanation
        );
    }

    #[test]
    fn without_a_three_op_witness_the_search_still_explains() {
        // 1, then 2, then 1 again, with each write running throughout: only the search sees
        // that each write takes effect once.
        let failure = check(&history(&[
            (0, "n0", Invoke, "write", json!([0, 1])),
            (1, "n1", Invoke, "write", json!([0, 2])),
            (2, "n2", Invoke, "read", json!([0, null])),
            (2, "n2", Ok, "read", json!([0, 1])),
            (3, "n3", Invoke, "read", json!([0, null])),
            (3, "n3", Ok, "read", json!([0, 2])),
            (4, "n4", Invoke, "read", json!([0, null])),
            (4, "n4", Ok, "read", json!([0, 1])),
            (0, "n0", Ok, "write", json!([0, 1])),
            (1, "n1", Ok, "write", json!([0, 2])),
        ]));
        assert_eq!(failure.witness, None);
        assert_eq!(failure.op.process, "4");
        assert_eq!(failure.legal_values, vec![json!(2)]);
        assert!(
            failure.explanation.contains(
                "returned 1, but whichever of the 2 ops concurrent with it took effect first"
            ) && failure
                .explanation
                .ends_with("could legally have returned only 2."),
            "{}",
            failure.explanation
        );
    }

    #[test]
    fn without_a_witness_a_read_names_the_last_write_before_it_when_its_value_was_legal() {
        // The write of 1 runs throughout, but the first read saw it, so it took effect before
        // the write of 0; the second read, after that write, still returns 1.
        let failure = check(&history(&[
            (0, "n0", Invoke, "write", json!([7, 1])),
            (1, "n1", Invoke, "read", json!([7, null])),
            (1, "n1", Ok, "read", json!([7, 1])),
            (2, "n2", Invoke, "write", json!([7, 0])),
            (2, "n2", Ok, "write", json!([7, 0])),
            (3, "n3", Invoke, "read", json!([7, null])),
            (3, "n3", Ok, "read", json!([7, 1])),
            (0, "n0", Ok, "write", json!([7, 1])),
        ]));
        assert_eq!(failure.witness, None, "a write of 1 overlaps the last read");
        assert_eq!(failure.op.process, "3");
        assert_eq!(failure.legal_values, vec![json!(0)]);
        let missed = failure.missed_write.clone().expect("the write it missed");
        assert_eq!((missed.f.as_str(), missed.process.as_str()), ("write", "2"));
        let text = &failure.explanation;
        assert!(
            text.contains("returned 1, but the write of 0 by process 2 at n2 during [4.0, 5.0] ms had completed before it began")
                && text.contains("it missed that write"),
            "{text}"
        );
        assert!(failure.to_string().contains("The write it missed"));
    }
}

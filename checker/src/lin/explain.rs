//! Turning the search's furthest point into a witness a person can check by hand, and the
//! text rendering of linearizability verdicts.
//!
//! A failure names the op that no order explains, with its interval and node; the ops
//! concurrent with it, with theirs; every state the object could have held when it had to take
//! effect (for a read: the values it could legally have returned); and, when the anomaly is a
//! read that cannot have seen what it returned (the stale read of the course's lecture on
//! linearizability, 7.2), the few ops that prove it by themselves: the read, the op it must
//! follow in real time, and the write it missed. A sentence says it all in words.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::prepare::Partition;
use super::search::Frontier;
use super::spec::{ANY, Step};
use super::{AlreadySeen, LinFailure, LinResult, OpDesc, ReadWitness, SeenState};
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

/// For a failing read: of the writes and cas that completed before it was invoked, and left a
/// value it could legally have returned, the one that completed last.
fn last_write_before(p: &Partition, frontier: &Frontier) -> Option<usize> {
    let x = &p.ops[frontier.op];
    if p.mutex || !matches!(x.step, Step::Read(_)) {
        return None;
    }
    p.ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let written = match o.step {
                Step::Write(v) | Step::Cas(_, v) => v,
                _ => return None,
            };
            let ret = o.ret.filter(|&r| r < x.call)?;
            frontier.states.contains(&written).then_some((ret, i))
        })
        .max()
        .map(|(_, i)| i)
}

/// What an op reads and writes, as value ids.
#[derive(Debug, Clone, Copy)]
struct Access {
    reads: Option<u32>,
    writes: Option<u32>,
}

/// `None` for ops whose effect is not a plain read or overwrite (appends, transactions,
/// locks): no witness is looked for among them.
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

/// A read (or successful cas) of `p` that a few ops prove wrong: the failing op if it is
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
        if let Some(proof) = prove(p, &acc, x, &mut budget) {
            return Some(describe(p, &acc, ops, x, &proof));
        }
        if budget == 0 {
            return None;
        }
    }
    None
}

/// Why a read is wrong, from a few ops alone.
struct Proof {
    /// An op that completed before the read began and left another value.
    after: usize,
    /// Some op that writes the value read had been invoked before the read completed.
    stale: bool,
    /// Writes of the value read still running when `after` began, each with a read that shows
    /// it had taken effect already.
    pins: Vec<(usize, usize)>,
}

/// For op `x` that read `v`: the latest op `after` that completed before `x` was invoked, left
/// a value other than `v`, and after which no op writing `v` can take effect before `x` does.
/// An op writing `v` has taken effect by its completion, or by the completion of a read of
/// `v` (not the initial value) that no other op writing `v` was invoked early enough to
/// explain. Writes and cas are preferred to reads as `after`.
fn prove(p: &Partition, acc: &[Access], x: usize, budget: &mut u64) -> Option<Proof> {
    let xo = &p.ops[x];
    let (Some(x_ret), Some(v)) = (xo.ret, acc[x].reads) else {
        return None;
    };
    let n = p.ops.len();
    *budget = budget.saturating_sub(n as u64);
    let all_writers: Vec<usize> = (0..n).filter(|&i| acc[i].writes == Some(v)).collect();
    // The writes of `v` that could take effect before `x`, each with the position by which
    // it has certainly taken effect (and the read that shows it, if that came first).
    let mut writers: Vec<(usize, usize, Option<usize>)> = all_writers
        .iter()
        .filter(|&&i| i != x && p.ops[i].call < x_ret)
        .map(|&i| (i, p.ops[i].ret.unwrap_or(usize::MAX), None))
        .collect();
    if v != p.init && !writers.is_empty() {
        for (r, ro) in p.ops.iter().enumerate() {
            let Some(r_ret) = ro.ret.filter(|_| r != x && acc[r].reads == Some(v)) else {
                continue;
            };
            *budget = budget.saturating_sub(all_writers.len() as u64);
            let mut explaining = all_writers
                .iter()
                .filter(|&&w| w != r && p.ops[w].call < r_ret);
            if let (Some(&only), None) = (explaining.next(), explaining.next())
                && let Some(entry) = writers.iter_mut().find(|e| e.0 == only)
                && r_ret < entry.1
            {
                entry.1 = r_ret;
                entry.2 = Some(r);
            }
            if *budget == 0 {
                return None;
            }
        }
    }
    let latest_writer = writers.iter().map(|e| e.1).max();
    if latest_writer == Some(usize::MAX) {
        return None; // a write of `v` may take effect at any time
    }
    let mut best_write: Option<usize> = None;
    let mut best_read: Option<usize> = None;
    for (i, o) in p.ops.iter().enumerate() {
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
    }
    let after = best_write.or(best_read)?;
    let after_call = p.ops[after].call;
    let pins = writers
        .iter()
        .filter(|e| p.ops[e.0].ret.is_none_or(|r| r > after_call))
        .filter_map(|e| Some((e.0, e.2?)))
        .collect();
    Some(Proof {
        after,
        stale: latest_writer.is_some(),
        pins,
    })
}

fn describe(p: &Partition, acc: &[Access], ops: &[Op<'_>], x: usize, proof: &Proof) -> ReadWitness {
    let after = proof.after;
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
        kind: if proof.stale { "stale" } else { "unwritten" },
        already_seen: proof
            .pins
            .iter()
            .map(|&(write, seen_by)| AlreadySeen {
                write: desc(write),
                seen_by: desc(seen_by),
            })
            .collect(),
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

/// What a read answered: `returned 3`, or for a read answered error 20 (key-does-not-exist),
/// which observed the key absent, `found the key absent (error 20, key-does-not-exist)`.
fn returned(op: &OpDesc, value: &Value) -> String {
    match &op.error {
        Some(error) if op.outcome == "fail" && error.starts_with("20 ") => {
            "found the key absent (error 20, key-does-not-exist)".to_owned()
        }
        _ => format!("returned {}", show(value)),
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

/// When the op ran: its times, or, for a history without times (every time 0), its events.
fn interval(o: &OpDesc) -> String {
    let timeless = o.invoke_ms == 0.0 && o.complete_ms.is_none_or(|c| c == 0.0);
    match (o.complete_ms, o.complete_index) {
        (_, Some(end)) if timeless => format!("events {}..{end}", o.index),
        (None, _) if timeless => format!("event {} on, never completed", o.index),
        (Some(c), _) => format!("[{:.1}, {c:.1}] ms", o.invoke_ms),
        (None, _) => format!("[{:.1} ms, never completed]", o.invoke_ms),
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
                "the read by {} during {} {}",
                who(&w.op),
                interval(&w.op),
                returned(&w.op, &w.read)
            )
        };
        let after = if matches!(w.after.f.as_str(), "read" | "get") {
            format!(
                "the read by {} during {} had {} before it began",
                who(&w.after),
                interval(&w.after),
                returned(&w.after, &w.after_value)
            )
        } else {
            format!(
                "{} by {} during {} had completed before it began",
                what(&w.after, keyed),
                who(&w.after),
                interval(&w.after)
            )
        };
        let that = if matches!(w.after.f.as_str(), "read" | "get") {
            "read"
        } else {
            "one"
        };
        let writers = if w.kind == "stale" && w.already_seen.is_empty() {
            format!(
                "every op that writes {} had completed before that {that} began",
                show(&w.read)
            )
        } else if w.kind == "stale" {
            let seen: Vec<String> = w
                .already_seen
                .iter()
                .map(|a| {
                    format!(
                        "{} by {} during {}, still running then, had been seen by the read by {} \
                         during {}",
                        what(&a.write, keyed),
                        who(&a.write),
                        interval(&a.write),
                        who(&a.seen_by),
                        interval(&a.seen_by)
                    )
                })
                .collect();
            format!(
                "every op that writes {} had taken effect before that {that} began ({})",
                show(&w.read),
                seen.join("; ")
            )
        } else if w.read.is_null() {
            "no op makes a key absent again once it holds a value".to_owned()
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
            _ if w.read.is_null() => {
                format!(
                    "the {reader} found the key absent after it was written: it missed the \
                     write (a stale read, or a lost write)"
                )
            }
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
            "{prefix}the read by {} during {} {}, but {missed}{whichever}, the value \
             could only have been {legal}{why}{conclusion}. A read at that point could legally \
             have returned only {legal}.",
            who(x),
            interval(x),
            returned(x, argument(x, keyed)),
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
        )?;
        match &self.error {
            Some(error) => write!(f, " (error {error})"),
            None => Ok(()),
        }
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
                "The write it missed (the last to complete before it began, of those that left a value it could have returned):"
            )?;
            writeln!(f, "  {m}")?;
        }
        if let Some(w) = &self.witness {
            writeln!(
                f,
                "Witness ({}): the ops that prove it by themselves:",
                w.kind
            )?;
            writeln!(f, "  read:   {}", w.op)?;
            if w.missed.len() == 1 && w.missed[0] == w.after {
                writeln!(f, "  after:  {} (the write it missed)", w.after)?;
            } else {
                writeln!(f, "  after:  {}", w.after)?;
                for m in &w.missed {
                    writeln!(f, "  missed: {m}")?;
                }
            }
            for a in &w.already_seen {
                writeln!(f, "  taken effect by then: {}", a.write)?;
                writeln!(f, "    as this read shows: {}", a.seen_by)?;
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
            "semantics: model {}; initial value {initial}; a read of null means {}; failed ops {}; {}; indefinite ops {}",
            s.model.name(),
            match s.nil_read {
                super::NilRead::Unknown => "unknown (matches any state)",
                super::NilRead::Absent => "absent",
            },
            s.failed_ops,
            s.key_does_not_exist,
            s.indefinite_ops
        )?;
        writeln!(
            f,
            "checked {} ops ({} pending, {} failed and dropped) on {} key(s)",
            self.op_count, self.pending_count, self.failed_dropped, self.key_count
        )?;
        if self.pending_left_out > 0 {
            writeln!(
                f,
                "{} pending write(s) whose value no read returned and no compare-and-set \
                 expected were left out of the search: they cannot change the verdict",
                self.pending_left_out
            )?;
        }
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
        let w = failure.witness.clone().expect("a witness");
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
    fn a_running_write_that_an_earlier_read_saw_has_taken_effect() {
        // 1, then 2, then 1 again, with each write running throughout: the first read shows
        // that the only write of 1 had taken effect before the read of 2 began.
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
        let w = failure.witness.clone().expect("a witness");
        assert_eq!(
            (w.op.process.as_str(), w.after.process.as_str()),
            ("4", "3")
        );
        assert_eq!(w.missed[0].process, "1", "the write of 2 the read of 2 saw");
        assert_eq!(w.already_seen.len(), 1);
        assert_eq!(w.already_seen[0].write.process, "0");
        assert_eq!(w.already_seen[0].seen_by.process, "2");
        assert!(
            failure.explanation.contains(
                "every op that writes 1 had taken effect before that read began (the write of 1 \
                 by process 0 at n0 during [1.0, 9.0] ms, still running then, had been seen by \
                 the read by process 2 at n2 during [3.0, 4.0] ms)"
            ),
            "{}",
            failure.explanation
        );
        assert_eq!(failure.missed_write, Some(w.missed[0].clone()));
    }

    /// Two writes of 1 and two of 2 run throughout; the reads see 1, 2, 1, 2 and then 1 a
    /// third time, which takes the search to tell: no few ops prove it.
    fn one_two_one_two_one(extra: &[(u64, &str, EventType, &str, Value)]) -> Vec<Event> {
        let mut rows = vec![
            (0, "n0", Invoke, "write", json!([0, 1])),
            (1, "n1", Invoke, "write", json!([0, 1])),
            (2, "n2", Invoke, "write", json!([0, 2])),
            (3, "n3", Invoke, "write", json!([0, 2])),
        ];
        for v in [1, 2, 1, 2] {
            rows.push((4, "n4", Invoke, "read", json!([0, null])));
            rows.push((4, "n4", Ok, "read", json!([0, v])));
        }
        rows.extend_from_slice(extra);
        rows.push((4, "n4", Invoke, "read", json!([0, null])));
        rows.push((4, "n4", Ok, "read", json!([0, 1])));
        for (p, node) in [(0, "n0"), (1, "n1"), (2, "n2"), (3, "n3")] {
            let v = if p < 2 { 1 } else { 2 };
            rows.push((p, node, Ok, "write", json!([0, v])));
        }
        history(&rows)
    }

    #[test]
    fn without_a_witness_the_search_still_explains() {
        let failure = check(&one_two_one_two_one(&[]));
        assert_eq!(failure.witness, None);
        assert_eq!(failure.missed_write, None, "no write completed before it");
        assert_eq!(failure.op.invoke_ms, 13.0);
        assert_eq!(failure.legal_values, vec![json!(2)]);
        assert!(
            failure.explanation.contains(
                "returned 1, but whichever of the 4 ops concurrent with it took effect first"
            ) && failure
                .explanation
                .ends_with("could legally have returned only 2."),
            "{}",
            failure.explanation
        );
    }

    #[test]
    fn without_a_witness_a_read_names_the_last_write_before_it_when_its_value_was_legal() {
        let failure = check(&one_two_one_two_one(&[
            (5, "n0", Invoke, "write", json!([0, 2])),
            (5, "n0", Ok, "write", json!([0, 2])),
        ]));
        assert_eq!(failure.witness, None);
        assert_eq!(failure.legal_values, vec![json!(2)]);
        let missed = failure.missed_write.clone().expect("the write it missed");
        assert_eq!((missed.f.as_str(), missed.process.as_str()), ("write", "5"));
        let text = &failure.explanation;
        assert!(
            text.contains(
                "returned 1, but the write of 2 by process 5 at n0 during [13.0, 14.0] ms had \
                 completed before it began"
            ) && text.contains("it missed that write"),
            "{text}"
        );
        assert!(failure.to_string().contains("The write it missed"));
    }

    #[test]
    fn the_missed_write_is_the_last_to_complete_of_those_with_a_legal_value() {
        // The write of 5 completes last, but a read had seen it before the write of 6 began:
        // at the last read the value can only be 6.
        let failure = check(&one_two_one_two_one(&[
            (5, "n0", Invoke, "write", json!([0, 5])),
            (7, "n2", Invoke, "read", json!([0, null])),
            (7, "n2", Ok, "read", json!([0, 5])),
            (6, "n1", Invoke, "write", json!([0, 6])),
            (6, "n1", Ok, "write", json!([0, 6])),
            (5, "n0", Ok, "write", json!([0, 5])),
        ]));
        assert_eq!(failure.witness, None);
        assert_eq!(failure.legal_values, vec![json!(6)]);
        let missed = failure.missed_write.expect("the write it missed");
        assert_eq!(
            (missed.process.as_str(), missed.value.clone()),
            ("6", json!([0, 6]))
        );
    }
}

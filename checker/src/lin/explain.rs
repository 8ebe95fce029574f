//! Turning the search's furthest point into a failure a person can check by hand (the
//! witness itself is found by [`super::witness`]), and the text rendering of linearizability
//! verdicts.
//!
//! A failure names the op that no order explains, with its interval and node; the ops
//! concurrent with it, with theirs; every state the object could have held when it had to take
//! effect (for a read: the values it could legally have returned), each with why the op cannot
//! take effect there; and, when the anomaly is a read that cannot have seen what it returned
//! (the stale read of the course's lecture on linearizability, 7.2), the few ops that prove it
//! by themselves: the read, the op it must follow in real time, and the write it missed.
//!
//! The witness comes from two passes over the reads (and successful cas) of the key, the
//! failing op first, each within its own step budget. The first looks for a stale read: an
//! op completed before the read began left another value, and every write of the value read
//! had taken effect before that op. The second uses the order that reads impose on writes (a
//! read of a value only one write can have produced comes after that write; a cas that finds
//! a value consumes it) to find what the first cannot: a value never written before the read
//! completed, a value consumed by a cas, or by more cas than it was written, a register that
//! went back to an overwritten value, and two reads at the same time that disagree (see
//! [`ReadWitness`] for each kind). A sentence says it all in words.

use std::fmt;

use serde_json::Value;

use super::prepare::Partition;
use super::search::Frontier;
use super::witness;
use super::{AlreadySeen, LinFailure, LinResult, OpDesc, Overwritten, ReadWitness, SeenState};
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
        witness: witness::witness(p, frontier.op, ops),
        missed_write: None,
        explanation: String::new(),
    };
    failure.missed_write = match &failure.witness {
        Some(w) if w.op == failure.op && !w.missed.is_empty() => w.missed.first().cloned(),
        _ => witness::last_write_before(p, frontier).map(|i| OpDesc::of(&ops[p.ops[i].origin])),
    };
    failure.explanation = explain(&failure);
    failure
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

/// The value a write or cas leaves.
fn written(o: &OpDesc, keyed: bool) -> Value {
    let arg = argument(o, keyed);
    match (o.f.as_str(), arg.as_array().map(Vec::as_slice)) {
        ("cas", Some([_, to])) => to.clone(),
        _ => arg.clone(),
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

/// `the read by process 1 at n1 during [1.0, 2.0] ms returned 3`, or for a cas, `the cas 3 -> 4
/// by ... succeeded, so it found 3`.
fn found(o: &OpDesc, value: &Value, keyed: bool) -> String {
    if o.f == "cas" {
        format!(
            "{} by {} during {} succeeded, so it found {}",
            what(o, keyed),
            who(o),
            interval(o),
            show(value)
        )
    } else {
        format!(
            "the read by {} during {} {}",
            who(o),
            interval(o),
            returned(o, value)
        )
    }
}

/// `the write of 3 by process 1 at n1 during [1.0, 2.0] ms`.
fn named(o: &OpDesc, keyed: bool) -> String {
    format!("{} by {} during {}", what(o, keyed), who(o), interval(o))
}

/// The writes still running that reads had seen, in words: `(the write of 1 by ..., still
/// running then, had been seen by the read by ... during ...)`, or nothing.
fn seen_list(seen: &[AlreadySeen], keyed: bool) -> String {
    if seen.is_empty() {
        return String::new();
    }
    let each: Vec<String> = seen
        .iter()
        .map(|a| {
            format!(
                "{}, still running then, had been seen by the read by {} during {}",
                named(&a.write, keyed),
                who(&a.seen_by),
                interval(&a.seen_by)
            )
        })
        .collect();
    format!(" ({})", each.join("; "))
}

/// `the only op that writes 2 and was invoked before that read completed is the write of 2 by
/// ...`, or when other ops write it too, `the only op that can have written the 2 that read
/// found is ... (every other op that writes 2 and was invoked before that read completed had
/// been overwritten before it began: ... by ...)`.
fn only_writer(
    value: &Value,
    source: &str,
    overwritten: &[Overwritten],
    that: &str,
    keyed: bool,
) -> String {
    let v = show(value);
    if overwritten.is_empty() {
        return format!(
            "the only op that writes {v} and was invoked before that {that} completed is {source}"
        );
    }
    let each: Vec<String> = overwritten
        .iter()
        .map(|o| {
            let by = if matches!(o.by.f.as_str(), "read" | "get") {
                format!(
                    "the read by {} during {}, which {}",
                    who(&o.by),
                    interval(&o.by),
                    returned(&o.by, &o.found)
                )
            } else {
                named(&o.by, keyed)
            };
            format!("{} by {by}", named(&o.write, keyed))
        })
        .collect();
    format!(
        "the only op that can have written the {v} that {that} found is {source} (every other \
         op that writes {v} and was invoked before that {that} completed had been overwritten \
         before it began: {})",
        each.join("; ")
    )
}

/// The witness in words, without the key and the closing sentence: what was read, the op it
/// must follow, why no write of what it read fits in between, and what that makes it.
fn witness_sentence(w: &ReadWitness, keyed: bool) -> String {
    let reader = if w.op.f == "cas" { "cas" } else { "read" };
    let subject = found(&w.op, &w.read, keyed);
    let v = show(&w.read);
    let Some(after_op) = &w.after else {
        // Kind `unwritten` with nothing before it: the initial value.
        let writers = if w.read.is_null() {
            "no op makes the key absent".to_owned()
        } else {
            format!("no op that writes {v} had been invoked before it completed")
        };
        return format!(
            "{subject}, but the initial value was {} and {writers}: the {reader} returned a \
             value that no op had written yet",
            show(&w.after_value)
        );
    };
    let after_is_read = matches!(after_op.f.as_str(), "read" | "get");
    let that = if after_is_read { "read" } else { "one" };
    let u = show(&w.after_value);
    match w.kind {
        "consumed" => {
            let write = w
                .writes
                .first()
                .map_or_else(String::new, |o| named(o, keyed));
            let rest = if w.overwritten.is_empty() {
                format!("no other op that writes {v} was invoked before this {reader} completed")
            } else {
                format!(
                    "so every op that writes {v} and was invoked before this {reader} completed \
                     took effect before that cas"
                )
            };
            return format!(
                "{subject}, but {} had completed before it began, and {}: that cas consumed it, \
                 replacing {v} with {u}, and {rest}: a stale {reader}: it missed {}, which \
                 consumed the {v}",
                named(after_op, keyed),
                only_writer(&w.read, &write, &w.overwritten, "cas", keyed),
                what(after_op, keyed)
            );
        }
        "went-back" => {
            let source = w
                .source
                .as_ref()
                .map_or_else(String::new, |o| named(o, keyed));
            let (after, by) = if after_is_read {
                (
                    format!(
                        "the read by {} during {} had {} before it began",
                        who(after_op),
                        interval(after_op),
                        returned(after_op, &w.after_value)
                    ),
                    format!(
                        "{}, so it took effect before that read",
                        only_writer(&w.after_value, &source, &w.overwritten, "read", keyed)
                    ),
                )
            } else {
                let taken = w.source.as_ref().map_or(Value::Null, |o| written(o, keyed));
                (
                    format!("{} had completed before it began", named(after_op, keyed)),
                    format!(
                        "that cas found {}, and {}, so that write took effect before it",
                        show(&taken),
                        only_writer(&taken, &source, &w.overwritten, "cas", keyed)
                    ),
                )
            };
            let done = if w.already_seen.is_empty() {
                "completed"
            } else {
                "taken effect"
            };
            let missed = w.missed.first().map_or_else(String::new, |m| {
                format!(": a stale {reader}: it missed {}", what(m, keyed))
            });
            return format!(
                "{subject}, but {after}, {by}, and every op that writes {v} had {done} before \
                 that write began{}: the value went back from {u} to {v}{missed}",
                seen_list(&w.already_seen, keyed)
            );
        }
        "consumed-twice" => {
            let others: Vec<String> = w.consumed_by.iter().map(|o| named(o, keyed)).collect();
            let list: Vec<String> = w.writes.iter().map(|o| named(o, keyed)).collect();
            let ops = match list.len() {
                1 => format!("the only op that writes {v} is {}", list.join(", ")),
                _ => format!("the only ops that write {v} are {}", list.join(", ")),
            };
            let sources = match (list.is_empty(), w.initial) {
                (true, _) => format!("{v} was only the initial value: no op writes {v}"),
                (false, true) => format!("besides the initial value, {ops}"),
                (false, false) => ops,
            };
            let times = match list.len() + usize::from(w.initial) {
                1 => "once".to_owned(),
                2 => "twice".to_owned(),
                m => format!("{m} times"),
            };
            return format!(
                "{subject}, but so did {}, and each replaced {v} with another value, while \
                 {sources}: each cas needs a {v} of its own, but the object can have held {v} at \
                 most {times}: a value consumed twice",
                others.join(" and ")
            );
        }
        "disagree" => {
            let done = if w.already_seen.is_empty() {
                "completed"
            } else {
                "taken effect"
            };
            let other_reader = if after_op.f == "cas" { "cas" } else { "read" };
            let other = if after_op.f == "cas" {
                format!(
                    "{}, which ran at the same time, succeeded, so it found {u}",
                    named(after_op, keyed)
                )
            } else {
                format!(
                    "the read by {} during {}, which ran at the same time, {}",
                    who(after_op),
                    interval(after_op),
                    returned(after_op, &w.after_value)
                )
            };
            return format!(
                "{subject}, but {other}, and every op that writes {v} had {done} before that \
                 {other_reader} began, and every op that writes {u} before this {reader} \
                 began{}: whichever of the two took effect first, the other cannot have found \
                 its value: one of them missed the write the other saw",
                seen_list(&w.already_seen, keyed)
            );
        }
        _ => {}
    }
    let after = if matches!(after_op.f.as_str(), "read" | "get") {
        format!(
            "the read by {} during {} had {} before it began",
            who(after_op),
            interval(after_op),
            returned(after_op, &w.after_value)
        )
    } else {
        format!(
            "{} by {} during {} had completed before it began",
            what(after_op, keyed),
            who(after_op),
            interval(after_op)
        )
    };
    let writers = if w.kind == "stale" && w.already_seen.is_empty() {
        format!(
            "every op that writes {} had completed before that {that} began",
            show(&w.read)
        )
    } else if w.kind == "stale" {
        format!(
            "every op that writes {} had taken effect before that {that} began{}",
            show(&w.read),
            seen_list(&w.already_seen, keyed)
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
        ("stale", Some((m, _))) if m == after_op => {
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
    format!("{subject}, but {after}, and {writers}: {conclusion}")
}

/// Why the op cannot take effect in each state it could have seen, in words: ` (it read 2
/// but the value was 3; it read 2 but the value was 0)`, each reason once, the first few.
fn reasons(states: &[SeenState]) -> String {
    const MAX_REASONS: usize = 4;
    let mut distinct: Vec<&str> = Vec::new();
    for s in states {
        let why = if s.why.is_empty() {
            "the op cannot take effect there"
        } else {
            s.why.as_str()
        };
        if !distinct.contains(&why) {
            distinct.push(why);
        }
    }
    let more = distinct.len() > MAX_REASONS;
    distinct.truncate(MAX_REASONS);
    if distinct.is_empty() {
        return String::new();
    }
    format!(
        " ({}{})",
        distinct.join("; "),
        if more { "; and more" } else { "" }
    )
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
        let body = witness_sentence(w, keyed);
        let could = if w.op == *x {
            if is_read {
                format!(" A read at that point could legally have returned only {legal}.")
            } else {
                format!(" The value at that point could only have been {legal}.")
            }
        } else if w.kind == "disagree" {
            String::new()
        } else {
            format!(
                " It could only have found {}.",
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
        return format!("{prefix}{lead}{body}.{could}");
    }
    let why = reasons(&failure.states);
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
            let label = if w.kind == "disagree" {
                "beside"
            } else {
                "after: "
            };
            match &w.after {
                None => writeln!(f, "  after:  the initial value, {}", show(&w.after_value))?,
                Some(after) if w.missed.len() == 1 && w.missed[0] == *after => {
                    writeln!(f, "  {label} {after} (the write it missed)")?;
                }
                Some(after) => {
                    writeln!(f, "  {label} {after}")?;
                    for m in &w.missed {
                        writeln!(f, "  missed: {m}")?;
                    }
                }
            }
            if let Some(source) = &w.source {
                writeln!(
                    f,
                    "  the only op that writes {}: {source}",
                    show(&w.after_value)
                )?;
            }
            let written = if w.kind == "disagree" {
                &w.after_value
            } else {
                &w.read
            };
            for o in &w.overwritten {
                writeln!(f, "  overwritten: {}", o.write)?;
                writeln!(f, "    by: {}", o.by)?;
            }
            for o in &w.consumed_by {
                writeln!(f, "  also took {}: {o}", show(&w.read))?;
            }
            for o in &w.writes {
                writeln!(f, "  writes {}: {o}", show(written))?;
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

    /// Soundness: a witness claims, from a few ops alone, that no order explains the history,
    /// so the search must agree wherever one is found. Small random register histories,
    /// some intact and most broken on purpose (many of those still linearizable), checked by
    /// both.
    #[test]
    fn a_witness_is_found_only_in_histories_the_search_finds_not_linearizable() {
        use crate::synth::{RegisterShape, register_history};
        let mut found = 0;
        for seed in 0..6000u64 {
            let mut shape = RegisterShape::small(seed);
            if seed % 4 == 0 {
                shape.breaks = 0;
            }
            if seed % 5 == 0 {
                shape.processes = 5;
                shape.ops_per_process = 7;
            }
            let events = register_history(seed, shape);
            let mut opts = LinOptions::new(if shape.cas {
                ModelKind::CasRegister
            } else {
                ModelKind::Register
            });
            // Some checked as starting absent: the reads of 0 then read a value never written.
            opts.initial = (seed % 7 != 0).then(|| json!(0));
            opts.threads = 1;
            let verdict = check_linearizable(&events, &opts).unwrap().valid;
            let ops = crate::op::client_ops(&events).unwrap();
            let mut partitions = super::super::prepare::prepare(&ops, &opts).unwrap();
            for p in &mut partitions {
                super::super::prepare::prune_unobserved_pending(&mut p.ops);
                if let Some(w) = super::super::witness::witness(p, 0, &ops) {
                    found += 1;
                    assert_eq!(
                        verdict,
                        crate::validity::Validity::Invalid,
                        "seed {seed}: a {} witness in a linearizable history: {w:?}",
                        w.kind
                    );
                }
            }
        }
        assert!(found > 1500, "{found} witnesses");
    }

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
            {
                let after = w.after.as_ref().expect("an op before it");
                (after.f.as_str(), after.process.as_str())
            },
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
        assert_eq!(w.after.as_ref().map(|a| a.process.as_str()), Some("1"));
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
            (
                w.op.process.as_str(),
                w.after.as_ref().map_or("", |a| a.process.as_str())
            ),
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

    /// A cas-register starting at 0, events `(process, type, f, value)` one millisecond
    /// apart, process `p` at node `n{p}`: the failure, which must carry a witness.
    fn register_witness(
        rows: &[(u64, EventType, &str, Value)],
    ) -> (super::LinFailure, super::ReadWitness) {
        let nodes: Vec<String> = rows.iter().map(|r| format!("n{}", r.0)).collect();
        let rows: Vec<(u64, &str, EventType, &str, Value)> = rows
            .iter()
            .zip(&nodes)
            .map(|((p, kind, f, v), node)| (*p, node.as_str(), *kind, *f, v.clone()))
            .collect();
        let mut opts = LinOptions::new(ModelKind::CasRegister);
        opts.initial = Some(json!(0));
        let result = check_linearizable(&history(&rows), &opts).unwrap();
        assert_eq!(result.valid, crate::validity::Validity::Invalid);
        let failure = result.failure.expect("a failure");
        let witness = failure.witness.clone().expect("a witness");
        (failure, witness)
    }

    fn who(o: &super::OpDesc) -> (&str, &str) {
        (o.f.as_str(), o.process.as_str())
    }

    #[test]
    fn a_read_of_a_value_not_yet_written_follows_the_initial_value() {
        // Nothing completed before the read, so no op precedes it but the initial value.
        let (failure, w) = register_witness(&[
            (0, Invoke, "read", json!(null)),
            (0, Ok, "read", json!(1)),
            (1, Invoke, "write", json!(1)),
            (1, Ok, "write", json!(1)),
        ]);
        assert_eq!((w.kind, w.after.clone()), ("unwritten", None));
        assert_eq!(
            (w.read.clone(), w.after_value.clone()),
            (json!(1), json!(0))
        );
        assert_eq!(who(&w.op), ("read", "0"));
        assert_eq!(w.could_return, vec![json!(0)]);
        assert_eq!(
            failure.explanation,
            "the read by process 0 at n0 during [1.0, 2.0] ms returned 1, but the initial value \
             was 0 and no op that writes 1 had been invoked before it completed: the read \
             returned a value that no op had written yet. A read at that point could legally \
             have returned only 0."
        );
        assert!(
            failure.to_string().contains("after:  the initial value, 0"),
            "{failure}"
        );
    }

    #[test]
    fn a_read_of_a_value_whose_only_write_a_cas_consumed() {
        // The write of 1 is still running when the cas 1 -> 2 begins, so it has not completed
        // before it; but the cas found 1, which only that write writes.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(1)),
            (1, Invoke, "cas", json!([1, 2])),
            (0, Ok, "write", json!(1)),
            (1, Ok, "cas", json!([1, 2])),
            (2, Invoke, "read", json!(null)),
            (2, Ok, "read", json!(1)),
        ]);
        assert_eq!(w.kind, "consumed");
        assert_eq!(who(&w.op), ("read", "2"));
        assert_eq!(w.after.as_ref().map(who), Some(("cas", "1")));
        assert_eq!(
            w.writes.iter().map(who).collect::<Vec<_>>(),
            [("write", "0")]
        );
        assert_eq!(w.missed, vec![w.after.clone().unwrap()]);
        assert_eq!(w.after_value, json!(2));
        assert_eq!(
            failure.explanation,
            "the read by process 2 at n2 during [5.0, 6.0] ms returned 1, but the cas 1 -> 2 by \
             process 1 at n1 during [2.0, 4.0] ms had completed before it began, and the only op \
             that writes 1 and was invoked before that cas completed is the write of 1 by process \
             0 at n0 during [1.0, 3.0] ms: that cas consumed it, replacing 1 with 2, and no other \
             op that writes 1 was invoked before this read completed: a stale read: it missed \
             the cas 1 -> 2, which consumed the 1. A read at that point could legally have \
             returned only 2."
        );
        assert!(
            failure
                .to_string()
                .contains("writes 1: events 0..2 [1.0, 3.0] ms: process 0 at n0 write 1 -> ok"),
            "{failure}"
        );
    }

    #[test]
    fn a_cas_chain_that_takes_the_only_write_of_a_value_twice_is_a_value_consumed_twice() {
        // 1 is written once; the cas 1 -> 2 takes it, and a later cas 1 -> 3 also claims it.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(1)),
            (1, Invoke, "cas", json!([1, 2])),
            (0, Ok, "write", json!(1)),
            (1, Ok, "cas", json!([1, 2])),
            (2, Invoke, "cas", json!([1, 3])),
            (2, Ok, "cas", json!([1, 3])),
        ]);
        assert_eq!(w.kind, "consumed-twice");
        assert_eq!(who(&w.op), ("cas", "2"));
        assert_eq!(
            w.consumed_by.iter().map(who).collect::<Vec<_>>(),
            [("cas", "1")]
        );
        assert_eq!(
            w.writes.iter().map(who).collect::<Vec<_>>(),
            [("write", "0")]
        );
        assert!(!w.initial);
        assert_eq!(
            failure.explanation,
            "the cas 1 -> 3 by process 2 at n2 during [5.0, 6.0] ms succeeded, so it found 1, but \
             so did the cas 1 -> 2 by process 1 at n1 during [2.0, 4.0] ms, and each replaced 1 \
             with another value, while the only op that writes 1 is the write of 1 by process 0 \
             at n0 during [1.0, 3.0] ms: each cas needs a 1 of its own, but the object can have \
             held 1 at most once: a value consumed twice. The value at that point could only \
             have been 2."
        );
    }

    #[test]
    fn two_cas_that_ran_together_both_took_the_initial_value() {
        let (failure, w) = register_witness(&[
            (0, Invoke, "cas", json!([0, 1])),
            (1, Invoke, "cas", json!([0, 2])),
            (0, Ok, "cas", json!([0, 1])),
            (1, Ok, "cas", json!([0, 2])),
        ]);
        assert_eq!(w.kind, "consumed-twice");
        assert!(w.initial && w.writes.is_empty());
        let mut both = vec![who(&w.op)];
        both.extend(w.consumed_by.iter().map(who));
        both.sort();
        assert_eq!(both, [("cas", "0"), ("cas", "1")]);
        let (x, other) = (&w.op, &w.consumed_by[0]);
        assert_eq!(
            failure.explanation,
            format!(
                "{} succeeded, so it found 0, but so did {}, and each replaced 0 with another \
                 value, while 0 was only the initial value: no op writes 0: each cas needs a 0 \
                 of its own, but the object can have held 0 at most once: a value consumed \
                 twice. The value at that point could only have been {}.",
                super::named(x, false),
                super::named(other, false),
                super::alternatives(&failure.legal_values)
            )
        );
        assert!(failure.to_string().contains("also took 0: "), "{failure}");
    }

    #[test]
    fn a_read_that_sees_the_register_go_back_to_an_overwritten_value() {
        // The write of 1 is still running when the first read begins, but it completed before
        // the only write of 2, which that read saw, began: 1 then 2, never 1 again.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(1)),
            (1, Invoke, "read", json!(null)),
            (0, Ok, "write", json!(1)),
            (2, Invoke, "write", json!(2)),
            (1, Ok, "read", json!(2)),
            (3, Invoke, "read", json!(null)),
            (3, Ok, "read", json!(1)),
            (2, Ok, "write", json!(2)),
        ]);
        assert_eq!(w.kind, "went-back");
        assert_eq!(who(&w.op), ("read", "3"));
        assert_eq!(w.after.as_ref().map(who), Some(("read", "1")));
        assert_eq!(w.source.as_ref().map(who), Some(("write", "2")));
        assert_eq!(w.missed, vec![w.source.clone().unwrap()]);
        assert_eq!(
            w.writes.iter().map(who).collect::<Vec<_>>(),
            [("write", "0")]
        );
        assert_eq!(
            failure.explanation,
            "the read by process 3 at n3 during [6.0, 7.0] ms returned 1, but the read by \
             process 1 at n1 during [2.0, 5.0] ms had returned 2 before it began, the only op \
             that writes 2 and was invoked before that read completed is the write of 2 by \
             process 2 at n2 during [4.0, 8.0] ms, so it took effect before that read, and every op that writes 1 had completed before that \
             write began: the value went back from 2 to 1: a stale read: it missed the write of \
             2. A read at that point could legally have returned only 2."
        );
        assert!(
            failure.to_string().contains(
                "the only op that writes 2: events 3..7 [4.0, 8.0] ms: process 2 at n2 write 2 -> ok"
            ),
            "{failure}"
        );
    }

    #[test]
    fn two_reads_at_the_same_time_that_disagree_after_every_write() {
        // The writes of 1 and 2 ran together and both completed before either read began;
        // the reads then overlap and return different values.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(1)),
            (1, Invoke, "write", json!(2)),
            (0, Ok, "write", json!(1)),
            (1, Ok, "write", json!(2)),
            (2, Invoke, "read", json!(null)),
            (3, Invoke, "read", json!(null)),
            (3, Ok, "read", json!(2)),
            (2, Ok, "read", json!(1)),
        ]);
        assert_eq!(w.kind, "disagree");
        let mut reads = vec![(who(&w.op), w.read.clone())];
        reads.extend(w.after.as_ref().map(|a| (who(a), w.after_value.clone())));
        reads.sort_by_key(|r| r.0);
        assert_eq!(
            reads,
            [(("read", "2"), json!(1)), (("read", "3"), json!(2))]
        );
        assert_eq!(w.writes.len(), 1);
        let text = &failure.explanation;
        assert!(
            text.contains("which ran at the same time")
                && text.contains(
                    "whichever of the two took effect first, the other cannot have found its \
                     value: one of them missed the write the other saw"
                ),
            "{text}"
        );
        assert!(failure.to_string().contains("beside "), "{failure}");
    }

    #[test]
    fn a_consumed_value_whose_other_write_was_overwritten_before_the_cas() {
        // Two writes of 1: the first was overwritten by the write of 3 before the cas began,
        // so the cas found the second, and nothing writes 1 after it.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(1)),
            (0, Ok, "write", json!(1)),
            (1, Invoke, "write", json!(3)),
            (1, Ok, "write", json!(3)),
            (2, Invoke, "write", json!(1)),
            (3, Invoke, "cas", json!([1, 2])),
            (3, Ok, "cas", json!([1, 2])),
            (2, Ok, "write", json!(1)),
            (4, Invoke, "read", json!(null)),
            (4, Ok, "read", json!(1)),
        ]);
        assert_eq!(w.kind, "consumed");
        assert_eq!(
            w.writes.iter().map(who).collect::<Vec<_>>(),
            [("write", "2")]
        );
        assert_eq!(w.overwritten.len(), 1);
        assert_eq!(who(&w.overwritten[0].write), ("write", "0"));
        assert_eq!(who(&w.overwritten[0].by), ("write", "1"));
        assert_eq!(w.overwritten[0].found, json!(3));
        assert_eq!(
            failure.explanation,
            "the read by process 4 at n4 during [9.0, 10.0] ms returned 1, but the cas 1 -> 2 by \
             process 3 at n3 during [6.0, 7.0] ms had completed before it began, and the only \
             op that can have written the 1 that cas found is the write of 1 by process 2 at n2 \
             during [5.0, 8.0] ms (every other op that writes 1 and was invoked before that cas \
             completed had been overwritten before it began: the write of 1 by process 0 at n0 \
             during [1.0, 2.0] ms by the write of 3 by process 1 at n1 during [3.0, 4.0] ms): \
             that cas consumed it, \
             replacing 1 with 2, and so every op that writes 1 and was invoked before this read \
             completed took effect before that cas: a stale read: it missed the cas 1 -> 2, which \
             consumed the 1. A read at that point could legally have returned only 2."
        );
        let shown = failure.to_string();
        assert!(
            shown.contains("overwritten: events 0..1 [1.0, 2.0] ms: process 0 at n0 write 1 -> ok")
                && shown.contains("by: events 2..3 [3.0, 4.0] ms: process 1 at n1 write 3 -> ok"),
            "{shown}"
        );
    }

    #[test]
    fn a_read_goes_back_past_a_write_whose_older_twin_was_overwritten() {
        // The first read saw 2; the first write of 2 had been overwritten by the write of 3
        // before it began, so it saw the second, invoked after the write of 1 completed.
        let (failure, w) = register_witness(&[
            (0, Invoke, "write", json!(2)),
            (0, Ok, "write", json!(2)),
            (1, Invoke, "write", json!(3)),
            (1, Ok, "write", json!(3)),
            (2, Invoke, "write", json!(1)),
            (4, Invoke, "read", json!(null)),
            (2, Ok, "write", json!(1)),
            (3, Invoke, "write", json!(2)),
            (4, Ok, "read", json!(2)),
            (5, Invoke, "read", json!(null)),
            (5, Ok, "read", json!(1)),
            (3, Ok, "write", json!(2)),
        ]);
        assert_eq!(w.kind, "went-back");
        assert_eq!(w.source.as_ref().map(who), Some(("write", "3")));
        assert_eq!(w.overwritten.len(), 1);
        assert_eq!(who(&w.overwritten[0].write), ("write", "0"));
        assert_eq!(
            failure.explanation,
            "the read by process 5 at n5 during [10.0, 11.0] ms returned 1, but the read by \
             process 4 at n4 during [6.0, 9.0] ms had returned 2 before it began, the only op \
             that can have written the 2 that read found is the write of 2 by process 3 at n3 \
             during [8.0, 12.0] ms (every other op that writes 2 and was invoked before that \
             read completed had been overwritten before it began: the write of 2 by process 0 at \
             n0 during [1.0, 2.0] ms by the write of 3 by process 1 at n1 during [3.0, 4.0] ms), \
             so it took effect before that read, and every op that writes 1 had completed before that write began: the value \
             went back from 2 to 1: a stale read: it missed the write of 2. A read at that point \
             could legally have returned only 2."
        );
    }

    #[test]
    fn a_long_key_whose_stale_read_scan_runs_out_still_gets_a_witness_of_its_own_pass() {
        // 1,500 writes, each with a read overlapping it, over seven values: scanning every
        // read for a stale one uses the first pass's budget; then two reads disagree.
        let mut rows = Vec::new();
        for i in 0..1500u64 {
            rows.push((0, Invoke, "write", json!(i % 7)));
            rows.push((1, Invoke, "read", json!(null)));
            rows.push((0, Ok, "write", json!(i % 7)));
            rows.push((1, Ok, "read", json!(i % 7)));
        }
        rows.extend([
            (0, Invoke, "write", json!(100)),
            (1, Invoke, "write", json!(200)),
            (0, Ok, "write", json!(100)),
            (1, Ok, "write", json!(200)),
            (2, Invoke, "read", json!(null)),
            (3, Invoke, "read", json!(null)),
            (3, Ok, "read", json!(200)),
            (2, Ok, "read", json!(100)),
        ]);
        let (_, w) = register_witness(&rows);
        assert_eq!(w.kind, "disagree");
    }

    #[test]
    fn the_reason_names_each_state_once_with_why_it_is_excluded() {
        let state = |s: u64, why: &str| super::SeenState {
            state: json!(s),
            why: why.to_owned(),
        };
        let states = [
            state(3, "it read 2 but the value was 3"),
            state(0, "it read 2 but the value was 0"),
            state(4, "it read 2 but the value was 3"),
            state(5, ""),
        ];
        assert_eq!(
            super::reasons(&states),
            " (it read 2 but the value was 3; it read 2 but the value was 0; the op cannot take \
             effect there)"
        );
        assert_eq!(super::reasons(&[]), "");
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
        // The reason: why the read cannot take effect in the one state it could have seen.
        assert_eq!(failure.states.len(), 1);
        assert_eq!(failure.states[0].why, "it read 1 but the value was 2");
        assert!(
            failure
                .explanation
                .contains("the value could only have been 2 (it read 1 but the value was 2)"),
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

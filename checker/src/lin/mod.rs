//! Linearizability: is there one order of the operations, consistent with their real-time
//! order, in which a single copy of the object would have returned what each op returned?
//! (The strongest consistency model of the course's lecture on consistency models.)
//!
//! The check is Wing & Gong's search with Lowe's memo of configurations (see the `search` module), on
//! each independent object separately (keys of a key-value store: Herlihy & Wing's locality,
//! Porcupine's P-compositionality), on several threads, under a time and a memory budget.
//! The verdict has three values: linearizable, not linearizable, or unknown when a budget ran
//! out (unknown is never a pass). A failure names the first op that no order can explain, the
//! ops concurrent with it, and every state the object could have been in when it took effect.
//!
//! Semantics, stated in every result ([`Semantics`]): the initial value (absent unless given);
//! what a read of `null` means (`unknown`: it matches any state, as in Knossos histories;
//! `absent`: the key had no value, as lin-kv reports a missing key); failed ops are dropped
//! (they did not happen); indefinite ops (`info`, or no completion) stay pending to the end
//! of the history and may or may not take effect.

mod explain;
mod parallel;
mod prepare;
mod search;
mod spec;
mod witness;

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::history::{Event, HistoryError};
use crate::op::{Op, Outcome, client_ops};
use crate::validity::Validity;
use search::{SearchOutcome, Stop};

crate::named_enum! {
    /// The sequential object a history is checked against.
    pub enum ModelKind: "model" {
        /// `read` / `write` of one value.
        Register = "register",
        /// `read` / `write` / `cas [from, to]` of one value.
        CasRegister = "cas-register",
        /// A cas-register per key, values `[key, ...]`; also `get` / `put` / `append` of strings.
        Kv = "kv",
        /// `txn` of `[read k v]` / `[write k v]` over a map of registers.
        MultiRegister = "multi-register",
        /// `acquire` / `release`.
        Mutex = "mutex",
    }
}

impl ModelKind {
    /// The model a history's client ops suggest: `txn` means multi-register, `acquire` or
    /// `release` a mutex, `get`/`put`/`append` or `[key, value]` values a key-value store,
    /// otherwise a cas-register (which is a register when no op is a cas).
    pub fn detect(events: &[Event]) -> ModelKind {
        let mut keyed = true;
        let mut any = false;
        for e in events.iter().filter(|e| !e.process.is_nemesis()) {
            match e.f.as_str() {
                "txn" => return ModelKind::MultiRegister,
                "acquire" | "release" => return ModelKind::Mutex,
                "get" | "put" | "append" => return ModelKind::Kv,
                "read" | "write" | "cas" => {
                    any = true;
                    keyed &= e.value.as_array().is_some_and(|a| a.len() == 2);
                }
                _ => {}
            }
        }
        if any && keyed {
            ModelKind::Kv
        } else {
            ModelKind::CasRegister
        }
    }
}

crate::named_enum! {
    /// What a read that returned `null` means.
    pub enum NilRead: "nil-read" {
        /// The value is unknown: it matches any state (Knossos histories).
        Unknown = "unknown",
        /// The key had no value (lin-kv histories recorded by `harness test`).
        Absent = "absent",
    }
}

/// How to check, and within which budget.
#[derive(Debug, Clone)]
pub struct LinOptions {
    pub model: ModelKind,
    /// The initial value of the register, of every key (kv), of every register or of each
    /// named one (multi-register, with an object), or whether the mutex starts held (`true`).
    /// `None`: absent (mutex: free).
    pub initial: Option<Value>,
    pub nil_read: NilRead,
    /// Past this the verdict is unknown.
    pub time_limit: Option<Duration>,
    /// Bytes of search memo past which the verdict is unknown.
    pub memory_limit: Option<u64>,
    /// Threads to check independent keys on.
    pub threads: usize,
}

impl LinOptions {
    /// Defaults for histories recorded by the harness: keys start absent, a `null` read means
    /// absent, no budget, one thread per core.
    pub fn new(model: ModelKind) -> LinOptions {
        LinOptions {
            model,
            initial: None,
            nil_read: NilRead::Absent,
            time_limit: None,
            memory_limit: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The semantics a check used, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Semantics {
    pub model: ModelKind,
    /// The initial value, `null` for absent.
    pub initial: Value,
    pub nil_read: NilRead,
    pub failed_ops: &'static str,
    /// What a read answered with error 20 (key-does-not-exist) means.
    pub key_does_not_exist: &'static str,
    pub indefinite_ops: &'static str,
}

impl Semantics {
    fn of(opts: &LinOptions) -> Semantics {
        Semantics {
            model: opts.model,
            initial: opts.initial.clone().unwrap_or(Value::Null),
            nil_read: opts.nil_read,
            failed_ops: "dropped: a failed op did not happen",
            key_does_not_exist: "a read answered error 20 observed the key absent, as a read of null",
            indefinite_ops: "pending to the end: an info op, or one never completed, may or may not have happened",
        }
    }
}

/// One op, as a person reads it in the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpDesc {
    /// The `index` of its invocation event.
    pub index: u64,
    /// The `index` of its completion, if any.
    pub complete_index: Option<u64>,
    pub process: String,
    /// The node the op was sent to, if the history says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub f: String,
    /// The invocation's value, and for an ok op the completion's.
    pub value: Value,
    pub outcome: &'static str,
    /// The error it ended with, as `code name` (`20 key-does-not-exist`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its interval: the times of its invocation and completion, in milliseconds since the
    /// history began (no completion: it may take effect at any time after its invocation).
    pub invoke_ms: f64,
    pub complete_ms: Option<f64>,
}

impl OpDesc {
    pub(crate) fn of(op: &Op<'_>) -> OpDesc {
        let outcome = op.outcome();
        let ms = |ns: u64| (ns / 1_000) as f64 / 1_000.0;
        OpDesc {
            index: op.invoke.index,
            complete_index: op.completion.map(|c| c.index),
            process: op.process().to_string(),
            node: op.node().map(str::to_owned),
            f: op.f().to_owned(),
            value: match outcome {
                Outcome::Ok => op.value().clone(),
                _ => op.invoke.value.clone(),
            },
            outcome: outcome.name(),
            error: op
                .completion
                .and_then(|c| c.error.as_ref())
                .map(|e| format!("{} {}", e.code, e.name)),
            invoke_ms: ms(op.invoke.time),
            complete_ms: op.completion.map(|c| ms(c.time)),
        }
    }
}

/// A state the failing op could have seen, and why the op cannot take effect in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeenState {
    pub state: Value,
    pub why: String,
}

/// Why a history is not linearizable: a witness to check by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinFailure {
    /// The key (or keys) of the object, if the history has several.
    pub key: Option<String>,
    /// The first op (in the order of completions) that no linearization can include.
    pub op: OpDesc,
    /// Ops whose interval overlaps it (up to 20), and how many there are in all.
    pub concurrent: Vec<OpDesc>,
    pub concurrent_count: usize,
    /// Every state the object could have been in when the op had to take effect (up to 32).
    pub states: Vec<SeenState>,
    pub more_states: bool,
    /// One order of the ops linearized before it, reaching the first state: the last few,
    /// and how many in all.
    pub linearized_tail: Vec<OpDesc>,
    pub linearized_count: usize,
    /// The values the object could hold when the op had to take effect (`states`, `null` for
    /// absent): for a read, every value it could legally have returned.
    pub legal_values: Vec<Value>,
    /// A read of this object that a few ops alone prove wrong, when there is one: the plainest
    /// account of the anomaly (see [`ReadWitness`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<ReadWitness>,
    /// When `op` is a read: the write it missed. The witness's, when the witness proves this
    /// read wrong and names one; otherwise, of the writes and cas that completed before the read was invoked
    /// and left a value among `legal_values`, the one that completed last: every order puts it
    /// before the read, and the read returned neither its value nor any other the object could
    /// then hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_write: Option<OpDesc>,
    /// The failure in words: what was read, what it missed, what it could have read.
    pub explanation: String,
}

/// A write that had taken effect by the time a read of its value completed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlreadySeen {
    pub write: OpDesc,
    pub seen_by: OpDesc,
}

/// A write that cannot be what a later op found: `by` was invoked after `write` completed,
/// completed before that op began, and found or left `found`, another value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overwritten {
    pub write: OpDesc,
    pub by: OpDesc,
    pub found: Value,
}

/// A read that cannot be linearized, proved by a few ops around it (no search needed). A
/// successful `cas` counts as a read of its `from`, and a cas from a value to itself writes
/// nothing (it finds the value already there). In most kinds, `after` (or the initial value)
/// must come before `op` in any order, it left the object holding `after_value`, which is not
/// `read`, and no op that writes `read` can take effect between the two, so `op` cannot have
/// seen `read` (the stale read of the course's lecture on linearizability, and its
/// relatives); `disagree` and `consumed-twice` hold whichever order `op` and `after` take.
/// The kinds:
///
/// - `stale`: every op that writes `read` and was invoked before `op` completed had completed
///   before `after` began, or had been seen by an earlier read before then (`already_seen`).
/// - `unwritten`: no op that writes `read` had even been invoked before `op` completed. With
///   no `after`, the object held its initial value, `after_value`, until then.
/// - `went-back`: `after` found `after_value`, which only `source` can have written (it is the
///   only op that writes it, or every other one was `overwritten` before `after` began), so
///   `source` took effect before `after`; and every op that writes `read` (`writes`) had
///   completed, or had been seen by a read, before `source` was invoked: the register went
///   back from `after_value` to `read`.
/// - `consumed`: `after` is a cas from `read` to `after_value`, and `writes` names the only op
///   that can have written what it found (every other op that writes `read` was
///   `overwritten` before `after` began): that cas found what it wrote and replaced it, and
///   nothing writes `read` again.
/// - `consumed-twice`: `op` and the ops of `consumed_by` are successful cas from `read` to
///   other values, more of them than the ops that write `read` (`writes`), plus one for the
///   initial value: each needs a `read` of its own.
/// - `disagree`: `after` is a read of `after_value` that ran at the same time as `op`; every op
///   that writes `read` had completed (or been seen) before `after` began, and every op that
///   writes `after_value` (`writes`) before `op` began: whichever of the two took effect
///   first, the other could not have found its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadWitness {
    /// The read (or cas).
    pub op: OpDesc,
    /// The value it returned (for a cas, the value it compared with); `null` for absent.
    pub read: Value,
    /// The op it must follow: a write or cas that wrote `after_value`, or a read that saw it
    /// (for `disagree`, a read it ran beside). `None` when it follows only the initial value
    /// (kind `unwritten`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<OpDesc>,
    pub after_value: Value,
    /// The write it missed: `after` itself when that is a write or cas; when `after` is a
    /// read, the ops that could have written what that read saw (latest invoked first, up to
    /// five). Empty when what it saw was the initial value.
    pub missed: Vec<OpDesc>,
    /// `stale`, `unwritten`, `went-back`, `consumed`, `consumed-twice` or `disagree` (see
    /// above).
    pub kind: &'static str,
    /// Ops that write `read` (for `disagree`, also `after_value`) and were still running when
    /// they had to have taken effect, each with the read that shows it had already taken
    /// effect by then: it was the only op that could have written what that read returned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub already_seen: Vec<AlreadySeen>,
    /// `went-back`: the only op that writes `after_value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<OpDesc>,
    /// `went-back`: every op that writes `read` and was invoked before `op` completed;
    /// `consumed`: the only one of them that can have been what `after` found;
    /// `consumed-twice`: every op that writes `read`; `disagree`: every op that writes
    /// `after_value` and was invoked before `after` completed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<OpDesc>,
    /// `consumed-twice`: the other successful cas from `read` to another value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumed_by: Vec<OpDesc>,
    /// `consumed-twice`: `read` is the initial value, so the object held it once before any
    /// op wrote it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub initial: bool,
    /// `consumed` and `went-back`: the other ops that write what `after` found, each shown
    /// overwritten before `after` began, so that only `writes[0]` (`consumed`) or `source`
    /// (`went-back`) can have written it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overwritten: Vec<Overwritten>,
    /// Every value `op` could have returned: `after_value`, or one written by an op that could
    /// take effect between `after` and `op` (a bound: these are the only candidates).
    pub could_return: Vec<Value>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The verdict of a linearizability check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinResult {
    pub valid: Validity,
    pub semantics: Semantics,
    /// Ops checked (failed ops dropped and reads without a value excluded).
    pub op_count: usize,
    /// Of those, ops pending to the end.
    pub pending_count: usize,
    /// Of the pending ones, writes and compare-and-sets whose value nothing observes (no
    /// completed read returned it, no compare-and-set expects it): left out of the search,
    /// as they cannot change the verdict (see `prune_unobserved_pending`).
    #[serde(skip_serializing_if = "is_zero")]
    pub pending_left_out: usize,
    pub failed_dropped: usize,
    /// Independent objects (keys) and how many were found linearizable.
    pub key_count: usize,
    pub keys_linearizable: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<LinFailure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_reason: Option<String>,
    /// The most search-memo memory held at once, in bytes (sampled).
    #[serde(skip)]
    pub memo_peak_bytes: u64,
}

/// Check `events` (a whole history; nemesis events are ignored) for linearizability.
/// Errors when the history is malformed or an op does not fit the model.
pub fn check_linearizable(events: &[Event], opts: &LinOptions) -> Result<LinResult, HistoryError> {
    let started = Instant::now();
    let ops = client_ops(events)?;
    let failed_dropped = ops
        .iter()
        .filter(|o| o.outcome() == Outcome::Fail && !o.observed_absent())
        .count();
    let mut partitions = prepare::prepare(&ops, opts)?;
    let op_count = partitions.iter().map(|p| p.ops.len()).sum();
    let pending_count = partitions
        .iter()
        .flat_map(|p| &p.ops)
        .filter(|o| o.ret.is_none())
        .count();
    let pending_left_out = partitions
        .iter_mut()
        .map(|p| prepare::prune_unobserved_pending(&mut p.ops))
        .sum();
    let deadline = opts.time_limit.and_then(|t| started.checked_add(t));
    let ctl = parallel::Control::new(deadline, opts.memory_limit);
    let (outcomes, failed) = parallel::run_all(&mut partitions, opts.threads, &ctl);

    let keys_linearizable = outcomes
        .iter()
        .filter(|o| matches!(o, SearchOutcome::Linearizable))
        .count();
    let mut result = LinResult {
        valid: Validity::Valid,
        semantics: Semantics::of(opts),
        op_count,
        pending_count,
        pending_left_out,
        failed_dropped,
        key_count: partitions.len(),
        keys_linearizable,
        failure: None,
        unknown_reason: None,
        memo_peak_bytes: ctl.memory_peak(),
    };
    if let Some(i) = failed
        && let SearchOutcome::NotLinearizable(frontier) = &outcomes[i]
    {
        result.valid = Validity::Invalid;
        result.failure = Some(explain::failure(&partitions[i], frontier, &ops));
        return Ok(result);
    }
    let stopped: Vec<Stop> = outcomes
        .iter()
        .filter_map(|o| match o {
            SearchOutcome::Stopped(s) => Some(*s),
            _ => None,
        })
        .collect();
    if !stopped.is_empty() {
        result.valid = Validity::Unknown;
        let why = if stopped.contains(&Stop::Memory) {
            format!(
                "the memory budget of {} MiB ran out",
                opts.memory_limit.unwrap_or(0) / (1 << 20)
            )
        } else {
            format!(
                "the time budget of {:?} ran out",
                opts.time_limit.unwrap_or_default()
            )
        };
        result.unknown_reason = Some(format!(
            "{why} with {} of {} keys checked (all linearizable so far)",
            keys_linearizable,
            partitions.len()
        ));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventType, Process};
    use serde_json::json;

    fn event(i: usize, process: u64, kind: EventType, f: &str, value: Value) -> Event {
        Event {
            index: i as u64,
            time: i as u64,
            process: Process::Client(process),
            node: None,
            kind,
            f: f.to_owned(),
            value,
            error: None,
            is_final: false,
        }
    }

    /// `n` concurrent writes of distinct values, then a read of a value never written: the
    /// search must try every subset of the writes before it can say no.
    fn exponential(n: u64) -> Vec<Event> {
        let mut events = Vec::new();
        for p in 0..n {
            events.push(event(events.len(), p, EventType::Invoke, "write", json!(p)));
        }
        for p in 0..n {
            events.push(event(events.len(), p, EventType::Ok, "write", json!(p)));
        }
        events.push(event(
            events.len(),
            n,
            EventType::Invoke,
            "read",
            Value::Null,
        ));
        events.push(event(events.len(), n, EventType::Ok, "read", json!(999)));
        events
    }

    #[test]
    fn an_exhausted_time_budget_is_unknown_never_a_pass() {
        let mut opts = LinOptions::new(ModelKind::Register);
        opts.time_limit = Some(Duration::from_millis(50));
        let result = check_linearizable(&exponential(26), &opts).unwrap();
        assert_eq!(result.valid, Validity::Unknown);
        let why = result.unknown_reason.unwrap();
        assert!(why.contains("time budget of 50ms ran out"), "{why}");
        assert!(why.contains("0 of 1 keys checked"), "{why}");
    }

    #[test]
    fn an_exhausted_memory_budget_is_unknown() {
        let mut opts = LinOptions::new(ModelKind::Register);
        opts.memory_limit = Some(1 << 20);
        let result = check_linearizable(&exponential(26), &opts).unwrap();
        assert_eq!(result.valid, Validity::Unknown);
        assert!(
            result
                .unknown_reason
                .unwrap()
                .contains("memory budget of 1 MiB")
        );
    }

    #[test]
    fn a_small_exhaustive_search_still_finds_the_failure() {
        let result =
            check_linearizable(&exponential(8), &LinOptions::new(ModelKind::Register)).unwrap();
        assert_eq!(result.valid, Validity::Invalid);
        let failure = result.failure.unwrap();
        assert_eq!(failure.op.f, "read");
        assert_eq!(
            failure.states.len(),
            8,
            "the last write could be any of the 8"
        );
        assert_eq!(failure.linearized_count, 8);
    }

    #[test]
    fn models_are_detected_from_the_ops() {
        let kv = vec![event(0, 0, EventType::Invoke, "write", json!(["k", 1]))];
        assert_eq!(ModelKind::detect(&kv), ModelKind::Kv);
        let reg = vec![event(0, 0, EventType::Invoke, "cas", json!([1, 2, 3]))];
        assert_eq!(ModelKind::detect(&reg), ModelKind::CasRegister);
        let txn = vec![event(0, 0, EventType::Invoke, "txn", json!([]))];
        assert_eq!(ModelKind::detect(&txn), ModelKind::MultiRegister);
        assert_eq!(
            ModelKind::parse("cas-register"),
            Some(ModelKind::CasRegister)
        );
        assert_eq!(ModelKind::parse("queue"), None);
    }

    #[test]
    fn ops_outside_the_model_are_errors_not_panics() {
        let events = vec![event(0, 0, EventType::Invoke, "enqueue", json!(1))];
        let err =
            check_linearizable(&events, &LinOptions::new(ModelKind::CasRegister)).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"enqueue\" is not an op of the cas-register model"),
            "{err}"
        );
        let events = vec![event(0, 0, EventType::Invoke, "cas", json!(1))];
        let err =
            check_linearizable(&events, &LinOptions::new(ModelKind::CasRegister)).unwrap_err();
        assert!(
            err.to_string().contains("cas value must be [from, to]"),
            "{err}"
        );
        let events = vec![event(0, 0, EventType::Invoke, "write", json!(1))];
        assert!(check_linearizable(&events, &LinOptions::new(ModelKind::Kv)).is_err());
    }
}

//! From a history to the sub-histories the search checks, one per independent object.
//!
//! The semantics of a history (see [`super::Semantics`]): a `fail` op certainly did not happen
//! and is dropped, except a read that failed with error 20 (key-does-not-exist): that answer
//! is definite and observed the key absent, so it is checked as a read of the absent value
//! (whatever `--nil-read` says of `null`), between its invocation and its completion. An
//! `info` op, or one that never completed, may or may not have happened, so
//! it stays pending to the end of the history (the search may linearize it anywhere after its
//! invocation, or never); a read that did not complete with a value constrains nothing and is
//! dropped. Keys of `kv` are independent objects, and so are the connected groups of keys that
//! `multi-register` transactions touch: linearizability is compositional (Herlihy & Wing's
//! locality, Porcupine's P-compositionality), so each is checked on its own.

use std::collections::BTreeMap;

use serde_json::Value;

use super::spec::{ABSENT, ANY, Micro, Spec, Step, Values};
use super::{LinOptions, ModelKind, NilRead};
use crate::history::HistoryError;
use crate::op::{Op, Outcome};

/// One op of a sub-history: its call and return positions in the history (`ret` is `None`
/// for a pending op), what it does, and the index of the [`Op`] it came from.
#[derive(Debug, Clone)]
pub(crate) struct LinOp {
    pub(crate) call: usize,
    pub(crate) ret: Option<usize>,
    pub(crate) step: Step,
    pub(crate) origin: usize,
}

/// The sub-history of one independent object.
#[derive(Debug)]
pub(crate) struct Partition {
    /// The key (kv), or the keys joined with `+` (multi-register); `None` for one object.
    pub(crate) key: Option<String>,
    pub(crate) ops: Vec<LinOp>,
    pub(crate) init: u32,
    pub(crate) spec: Spec,
    pub(crate) mutex: bool,
}

fn malformed(op: &Op<'_>, reason: impl Into<String>) -> HistoryError {
    HistoryError::Malformed {
        index: op.invoke.index,
        reason: reason.into(),
    }
}

fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Builder {
    ops: Vec<LinOp>,
    values: Values,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            ops: Vec::new(),
            values: Values::new(),
        }
    }

    fn read_id(&mut self, v: &Value, nil: NilRead) -> u32 {
        if v.is_null() {
            match nil {
                NilRead::Unknown => ANY,
                NilRead::Absent => ABSENT,
            }
        } else {
            self.values.intern(v)
        }
    }

    fn finish(mut self, key: Option<String>, initial: Option<&Value>, mutex: bool) -> Partition {
        let init = initial.map_or(ABSENT, |v| self.values.intern(v));
        Partition {
            key,
            ops: self.ops,
            init,
            spec: Spec::new(self.values),
            mutex,
        }
    }
}

/// Leave out the pending writes (and compare-and-sets) whose value nothing observes: no
/// completed read returned it and no compare-and-set expects it. Such an op may or may not
/// have happened; had it happened, no op could have run while the object held its value (a
/// read would have returned it, a compare-and-set from it would have seen it), so removing it
/// from any linearization leaves a linearization: the verdict is the same without it, and the
/// search does not try every place it could take. (Ten thousand pending writes on one key and
/// a few reads are decided at once, instead of exhausting memory.)
pub(crate) fn prune_unobserved_pending(ops: &mut Vec<LinOp>) -> usize {
    let before = ops.len();
    let mut observed = std::collections::BTreeSet::new();
    for op in ops.iter() {
        match op.step {
            Step::Read(v) if op.ret.is_some() && v != ANY => {
                observed.insert(v);
            }
            Step::Cas(from, _) => {
                observed.insert(from);
            }
            _ => {}
        }
    }
    ops.retain(|op| {
        op.ret.is_some()
            || match op.step {
                Step::Write(v) | Step::Cas(_, v) => observed.contains(&v),
                _ => true,
            }
    });
    before - ops.len()
}

/// Split `ops` into the partitions the model allows, in a fixed order (by key).
pub(crate) fn prepare(ops: &[Op<'_>], opts: &LinOptions) -> Result<Vec<Partition>, HistoryError> {
    match opts.model {
        ModelKind::Register | ModelKind::CasRegister => single_register(ops, opts),
        ModelKind::Kv => kv(ops, opts),
        ModelKind::Mutex => mutex(ops, opts),
        ModelKind::MultiRegister => multi_register(ops, opts),
    }
}

/// The op's call and return positions, or `None` when it is dropped (failed, and not a read
/// that found the key absent).
fn span(op: &Op<'_>) -> Option<(usize, Option<usize>)> {
    match op.outcome() {
        Outcome::Fail if op.observed_absent() => Some((op.invoke_pos, op.complete_pos)),
        Outcome::Fail => None,
        Outcome::Ok => Some((op.invoke_pos, op.complete_pos)),
        Outcome::Info => Some((op.invoke_pos, None)),
    }
}

fn single_register(ops: &[Op<'_>], opts: &LinOptions) -> Result<Vec<Partition>, HistoryError> {
    let mut b = Builder::new();
    for (origin, op) in ops.iter().enumerate() {
        let Some((call, ret)) = span(op) else {
            continue;
        };
        let step = match op.f() {
            "read" => {
                if ret.is_none() {
                    continue;
                }
                if op.observed_absent() {
                    Step::Read(ABSENT)
                } else {
                    Step::Read(b.read_id(op.value(), opts.nil_read))
                }
            }
            "write" => Step::Write(b.values.intern(&op.invoke.value)),
            "cas" if opts.model == ModelKind::CasRegister => {
                let (from, to) = pair(op, &op.invoke.value, "cas value must be [from, to]")?;
                Step::Cas(b.values.intern(from), b.values.intern(to))
            }
            f => {
                return Err(malformed(
                    op,
                    format!("{f:?} is not an op of the {} model", opts.model.name()),
                ));
            }
        };
        b.ops.push(LinOp {
            call,
            ret,
            step,
            origin,
        });
    }
    Ok(vec![b.finish(None, opts.initial.as_ref(), false)])
}

fn pair<'v>(op: &Op<'_>, v: &'v Value, what: &str) -> Result<(&'v Value, &'v Value), HistoryError> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(malformed(op, format!("{what}, found {v}"))),
    }
}

fn kv(ops: &[Op<'_>], opts: &LinOptions) -> Result<Vec<Partition>, HistoryError> {
    let mut keys: BTreeMap<String, Builder> = BTreeMap::new();
    for (origin, op) in ops.iter().enumerate() {
        let Some((call, ret)) = span(op) else {
            continue;
        };
        let (key, arg) = pair(op, &op.invoke.value, "a kv op's value must be [key, value]")?;
        let b = keys.entry(key_name(key)).or_insert_with(Builder::new);
        let step = match op.f() {
            "read" | "get" => {
                if ret.is_none() {
                    continue;
                }
                if op.observed_absent() {
                    Step::Read(ABSENT)
                } else {
                    let (_, v) = pair(op, op.value(), "a kv read's result must be [key, value]")?;
                    Step::Read(b.read_id(v, opts.nil_read))
                }
            }
            "write" | "put" => Step::Write(b.values.intern(arg)),
            "cas" => {
                let (from, to) = pair(op, arg, "cas value must be [key, [from, to]]")?;
                Step::Cas(b.values.intern(from), b.values.intern(to))
            }
            "append" => {
                if !arg.is_string() {
                    return Err(malformed(op, format!("append needs a string, found {arg}")));
                }
                Step::Append(b.values.intern(arg))
            }
            f => return Err(malformed(op, format!("{f:?} is not an op of the kv model"))),
        };
        b.ops.push(LinOp {
            call,
            ret,
            step,
            origin,
        });
    }
    Ok(keys
        .into_iter()
        .map(|(key, b)| b.finish(Some(key), opts.initial.as_ref(), false))
        .collect())
}

fn mutex(ops: &[Op<'_>], opts: &LinOptions) -> Result<Vec<Partition>, HistoryError> {
    let init = match &opts.initial {
        None | Some(Value::Null) | Some(Value::Bool(false)) => 0,
        Some(Value::Bool(true)) => 1,
        Some(other) => {
            return Err(HistoryError::Malformed {
                index: 0,
                reason: format!("a mutex starts free (false) or held (true), not {other}"),
            });
        }
    };
    let mut b = Builder::new();
    for (origin, op) in ops.iter().enumerate() {
        let Some((call, ret)) = span(op) else {
            continue;
        };
        let step = match op.f() {
            "acquire" => Step::Acquire,
            "release" => Step::Release,
            f => {
                return Err(malformed(
                    op,
                    format!("{f:?} is not an op of the mutex model"),
                ));
            }
        };
        b.ops.push(LinOp {
            call,
            ret,
            step,
            origin,
        });
    }
    let mut p = b.finish(None, None, true);
    p.init = init;
    Ok(vec![p])
}

/// A transaction's micro-ops as (is_read, key, value).
fn micro_ops<'v>(
    op: &Op<'_>,
    v: &'v Value,
) -> Result<Vec<(bool, String, &'v Value)>, HistoryError> {
    let Some(list) = v.as_array() else {
        return Err(malformed(
            op,
            format!("a txn value must be a list of micro-ops, found {v}"),
        ));
    };
    list.iter()
        .map(|m| match m.as_array().map(Vec::as_slice) {
            Some([f, k, x]) => match f.as_str() {
                Some("read" | "r") => Ok((true, key_name(k), x)),
                Some("write" | "w") => Ok((false, key_name(k), x)),
                _ => Err(malformed(
                    op,
                    format!("micro-op must be read or write, found {m}"),
                )),
            },
            _ => Err(malformed(
                op,
                format!("micro-op must be [f, key, value], found {m}"),
            )),
        })
        .collect()
}

fn multi_register(ops: &[Op<'_>], opts: &LinOptions) -> Result<Vec<Partition>, HistoryError> {
    // Group keys that appear in one transaction (union-find over key names).
    let mut key_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut txns = Vec::new();
    for (origin, op) in ops.iter().enumerate() {
        let Some((call, ret)) = span(op) else {
            continue;
        };
        if op.f() != "txn" {
            return Err(malformed(
                op,
                format!("{:?} is not an op of the multi-register model", op.f()),
            ));
        }
        let micros = micro_ops(op, op.value())?;
        let mut first = None;
        for (_, key, _) in &micros {
            let next = key_ids.len();
            let id = *key_ids.entry(key.clone()).or_insert_with(|| {
                parent.push(next);
                next
            });
            match first {
                None => first = Some(id),
                Some(f) => {
                    let (a, b) = (find(&mut parent, f), find(&mut parent, id));
                    parent[a] = b;
                }
            }
        }
        if first.is_some() {
            txns.push((origin, call, ret, micros));
        }
    }
    // Components, ordered by their smallest key; slots within a component by key.
    let mut components: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (key, &id) in &key_ids {
        let root = find(&mut parent, id);
        components.entry(root).or_default().push(key.clone());
    }
    let mut order: Vec<(usize, Vec<String>)> = components.into_iter().collect();
    order.sort_by(|a, b| a.1.cmp(&b.1));
    let mut partition_of = BTreeMap::new();
    let mut builders: Vec<(Vec<String>, Builder)> = Vec::new();
    for (root, keys) in order {
        partition_of.insert(root, builders.len());
        builders.push((keys, Builder::new()));
    }
    for (origin, call, ret, micros) in txns {
        let root = find(&mut parent, key_ids[&micros[0].1]);
        let (keys, b) = &mut builders[partition_of[&root]];
        let mut steps = Vec::with_capacity(micros.len());
        for (is_read, key, v) in micros {
            let slot = keys.binary_search(&key).unwrap_or(0);
            if is_read {
                // A pending transaction's reads returned nothing: they match any value.
                let id = if ret.is_none() {
                    ANY
                } else {
                    b.read_id(v, opts.nil_read)
                };
                steps.push(Micro::Read(slot, id));
            } else {
                steps.push(Micro::Write(slot, b.values.intern(v)));
            }
        }
        if ret.is_none() && steps.iter().all(|m| matches!(m, Micro::Read(..))) {
            continue;
        }
        b.ops.push(LinOp {
            call,
            ret,
            step: Step::Txn(steps.into()),
            origin,
        });
    }
    let mut partitions = Vec::new();
    for (keys, mut b) in builders {
        let init: Box<[u32]> = keys
            .iter()
            .map(|k| match &opts.initial {
                Some(Value::Object(m)) => m.get(k).map_or(ABSENT, |v| b.values.intern(v)),
                Some(v) => b.values.intern(v),
                None => ABSENT,
            })
            .collect();
        let name = keys.join("+");
        let ops = std::mem::take(&mut b.ops);
        let mut spec = Spec::new(b.values);
        spec.slots = keys;
        let init = spec.txn_state(init);
        partitions.push(Partition {
            key: Some(name),
            ops,
            init,
            spec,
            mutex: false,
        });
    }
    Ok(partitions)
}

//! Transactional histories (txn-list-append, txn-rw-register) from a seed, strict
//! serializable by construction, and the same with one anomaly planted.
//!
//! Clients invoke transactions of one to `max_len` micro-ops over a small window of active
//! keys; a key that has taken `writes_per_key` appends or writes is retired for a fresh one,
//! as Elle's generator does, so lists stay short. A transaction takes effect, all at once,
//! at its completion, against one store: the serial order is the completion order, which
//! respects real time. Some transactions fail (no effect, error 30) and some end `info`
//! (taking effect or not), after which the client goes on as a new process. Events can be
//! streamed ([`txn_events`]) so that a large history need never be held whole.
//!
//! [`planted_history`] appends, after such a history, a few transactions on fresh keys that
//! show exactly one anomaly class ([`Plant`]).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use crate::history::{ErrorInfo, Event, EventType, Process};
use crate::txn::TxnKind;

/// The shape of a synthetic transactional history.
#[derive(Debug, Clone, Copy)]
pub struct TxnShape {
    pub kind: TxnKind,
    pub clients: usize,
    pub nodes: usize,
    pub txns: usize,
    /// Keys in use at once.
    pub active_keys: usize,
    /// Appends (writes) a key takes before it is retired.
    pub writes_per_key: usize,
    /// Micro-ops per transaction: 1 to this.
    pub max_len: usize,
    /// Probability that a micro-op is a read.
    pub read_fraction: f64,
    /// Probability that a transaction fails, and that it ends info.
    pub fail_fraction: f64,
    pub info_fraction: f64,
}

impl TxnShape {
    /// A list-append shape of `txns` transactions (10 clients, 5 nodes, 8 active keys, 16
    /// appends per key, up to 4 micro-ops, half reads, 2% fail, 1% info).
    pub fn list_append(txns: usize) -> TxnShape {
        TxnShape {
            kind: TxnKind::ListAppend,
            clients: 10,
            nodes: 5,
            txns,
            active_keys: 8,
            writes_per_key: 16,
            max_len: 4,
            read_fraction: 0.5,
            fail_fraction: 0.02,
            info_fraction: 0.01,
        }
    }

    /// The same shape over registers.
    pub fn rw_register(txns: usize) -> TxnShape {
        TxnShape {
            kind: TxnKind::RwRegister,
            ..TxnShape::list_append(txns)
        }
    }
}

/// The store transactions apply to: per key, the list (list-append) or the last value
/// (rw-register: the list's last element).
#[derive(Default)]
struct Store {
    lists: FxHashMap<u64, Vec<u64>>,
}

impl Store {
    /// Apply micro-ops `[f, k, v]`; returns them with reads filled in.
    fn apply(&mut self, kind: TxnKind, mops: &[(bool, u64, u64)]) -> Value {
        let mut out = Vec::with_capacity(mops.len());
        for &(read, k, v) in mops {
            let list = self.lists.entry(k).or_default();
            if read {
                let value = match kind {
                    TxnKind::ListAppend if list.is_empty() => Value::Null,
                    TxnKind::ListAppend => json!(list),
                    TxnKind::RwRegister => list.last().map_or(Value::Null, |&x| json!(x)),
                };
                out.push(json!(["r", k, value]));
            } else {
                list.push(v);
                out.push(json!([write_f(kind), k, v]));
            }
        }
        Value::Array(out)
    }
}

fn write_f(kind: TxnKind) -> &'static str {
    match kind {
        TxnKind::ListAppend => "append",
        TxnKind::RwRegister => "w",
    }
}

fn invoke_value(kind: TxnKind, mops: &[(bool, u64, u64)]) -> Value {
    Value::Array(
        mops.iter()
            .map(|&(read, k, v)| {
                if read {
                    json!(["r", k, null])
                } else {
                    json!([write_f(kind), k, v])
                }
            })
            .collect(),
    )
}

/// Stream the events of a strict-serializable history of `shape` from `seed` to `emit`, in
/// order. Returns the number of keys used (fresh keys for planting start there).
pub fn txn_events(seed: u64, shape: TxnShape, mut emit: impl FnMut(Event)) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clients = shape.clients.max(1);
    let nodes = shape.nodes.max(1);
    let mut store = Store::default();
    let mut active: Vec<u64> = (0..shape.active_keys.max(1) as u64).collect();
    let mut next_key = active.len() as u64;
    let mut writes: FxHashMap<u64, usize> = FxHashMap::default();
    let mut next_value = 1u64;
    let mut process: Vec<u64> = (0..clients as u64).collect();
    let mut next_process = clients as u64;
    let mut pending: Vec<Option<Vec<(bool, u64, u64)>>> = vec![None; clients];
    let mut index = 0u64;
    let mut time = 0u64;
    let mut invoked = 0usize;
    let mut event = |index: &mut u64, time: u64, p: u64, c: usize, kind, value, error| {
        emit(Event {
            index: *index,
            time,
            process: Process::Client(p),
            node: Some(format!("n{}", c % nodes)),
            kind,
            f: "txn".to_owned(),
            value,
            error,
            is_final: false,
        });
        *index += 1;
    };
    while invoked < shape.txns || pending.iter().any(Option::is_some) {
        time += rng.random_range(10_000..200_000);
        let c = rng.random_range(0..clients);
        match pending[c].take() {
            None if invoked < shape.txns => {
                invoked += 1;
                let len = rng.random_range(1..=shape.max_len.max(1));
                let mut mops = Vec::with_capacity(len);
                for _ in 0..len {
                    let slot = rng.random_range(0..active.len());
                    let k = active[slot];
                    if rng.random_bool(shape.read_fraction) {
                        mops.push((true, k, 0));
                    } else {
                        mops.push((false, k, next_value));
                        next_value += 1;
                        let w = writes.entry(k).or_insert(0);
                        *w += 1;
                        if *w >= shape.writes_per_key {
                            writes.remove(&k);
                            active[slot] = next_key;
                            next_key += 1;
                        }
                    }
                }
                event(
                    &mut index,
                    time,
                    process[c],
                    c,
                    EventType::Invoke,
                    invoke_value(shape.kind, &mops),
                    None,
                );
                pending[c] = Some(mops);
            }
            None => {}
            Some(mops) => {
                let roll: f64 = rng.random();
                if roll < shape.fail_fraction {
                    let error = ErrorInfo {
                        code: 30,
                        name: "txn-conflict".to_owned(),
                        text: String::new(),
                    };
                    event(
                        &mut index,
                        time,
                        process[c],
                        c,
                        EventType::Fail,
                        invoke_value(shape.kind, &mops),
                        Some(error),
                    );
                } else if roll < shape.fail_fraction + shape.info_fraction {
                    if rng.random_bool(0.5) {
                        store.apply(shape.kind, &mops);
                    }
                    let error = ErrorInfo {
                        code: 0,
                        name: "timeout".to_owned(),
                        text: String::new(),
                    };
                    event(
                        &mut index,
                        time,
                        process[c],
                        c,
                        EventType::Info,
                        invoke_value(shape.kind, &mops),
                        Some(error),
                    );
                    process[c] = next_process;
                    next_process += 1;
                } else {
                    let value = store.apply(shape.kind, &mops);
                    event(&mut index, time, process[c], c, EventType::Ok, value, None);
                }
            }
        }
    }
    next_key
}

/// A strict-serializable history of `shape` from `seed`.
pub fn txn_history(seed: u64, shape: TxnShape) -> Vec<Event> {
    let mut events = Vec::with_capacity(shape.txns * 2);
    txn_events(seed, shape, |e| events.push(e));
    events
}

/// An anomaly class to plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// Two txns append to two keys in opposite orders.
    G0,
    /// A read of a failed txn's append.
    G1a,
    /// A read of an append its txn followed with another (also a G-single-item, as in Elle).
    G1b,
    /// Two txns each read what the other appended.
    G1c,
    /// A read misses an append whose txn read the reader's append.
    GSingle,
    /// Write skew: each txn reads a key empty that the other appends to.
    G2Item,
    /// A later txn's append comes before an earlier txn's.
    G0Realtime,
    /// A txn read an append of a txn invoked after it completed.
    G1cRealtime,
    /// A stale read: a key read empty after its first append completed.
    GSingleRealtime,
    /// Two anti-dependencies closed by real time.
    G2ItemRealtime,
    /// A txn does not read its own append.
    Internal,
    /// Two reads of a key in different orders.
    IncompatibleOrder,
    /// A read holds an element twice.
    DuplicateElements,
}

impl Plant {
    /// Every class.
    pub const ALL: [Plant; 13] = [
        Plant::G0,
        Plant::G1a,
        Plant::G1b,
        Plant::G1c,
        Plant::GSingle,
        Plant::G2Item,
        Plant::G0Realtime,
        Plant::G1cRealtime,
        Plant::GSingleRealtime,
        Plant::G2ItemRealtime,
        Plant::Internal,
        Plant::IncompatibleOrder,
        Plant::DuplicateElements,
    ];

    /// The anomaly names the checker should report for it, sorted.
    pub fn expected(self) -> &'static [&'static str] {
        match self {
            Plant::G0 => &["G0"],
            Plant::G1a => &["G1a"],
            Plant::G1b => &["G-single-item", "G1b"],
            Plant::G1c => &["G1c"],
            Plant::GSingle => &["G-single-item"],
            Plant::G2Item => &["G2-item"],
            Plant::G0Realtime => &["G0-realtime"],
            Plant::G1cRealtime => &["G1c-realtime"],
            Plant::GSingleRealtime => &["G-single-item-realtime"],
            Plant::G2ItemRealtime => &["G2-item-realtime"],
            Plant::Internal => &["internal"],
            Plant::IncompatibleOrder => &["incompatible-order"],
            Plant::DuplicateElements => &["duplicate-elements"],
        }
    }
}

/// A list-append history of `shape` from `seed` with `plant` appended: its transactions use
/// fresh keys and processes and start after every other completed. Each step is
/// `(txn, "invoke" | "ok" | "fail", micro-ops)`; txns that overlap have no real-time order.
pub fn planted_history(seed: u64, shape: TxnShape, plant: Plant) -> Vec<Event> {
    let shape = TxnShape {
        kind: TxnKind::ListAppend,
        ..shape
    };
    let mut events = Vec::new();
    let fresh = txn_events(seed, shape, |e| events.push(e));
    let (a, b, c) = (fresh, fresh + 1, fresh + 2);
    let ap = |k: u64, v: u64| json!(["append", k, v]);
    let r = |k: u64, vs: &[u64]| {
        if vs.is_empty() {
            json!(["r", k, null])
        } else {
            json!(["r", k, vs])
        }
    };
    // (txn, type, mops) in order; the invocation's reads are nulled.
    type Row = (usize, &'static str, Vec<Value>);
    let concurrent = |txns: Vec<(&'static str, Vec<Value>)>| -> Vec<Row> {
        let mut rows: Vec<Row> = Vec::new();
        for (i, (_, mops)) in txns.iter().enumerate() {
            rows.push((i, "invoke", mops.clone()));
        }
        for (i, (kind, mops)) in txns.into_iter().enumerate() {
            rows.push((i, kind, mops));
        }
        rows
    };
    let rows: Vec<Row> = match plant {
        Plant::G0 => concurrent(vec![
            ("ok", vec![ap(a, 1), ap(b, 1)]),
            ("ok", vec![ap(a, 2), ap(b, 2)]),
            ("ok", vec![r(a, &[1, 2]), r(b, &[2, 1])]),
        ]),
        Plant::G1a => concurrent(vec![("fail", vec![ap(a, 1)]), ("ok", vec![r(a, &[1])])]),
        Plant::G1b => concurrent(vec![
            ("ok", vec![ap(a, 1), ap(a, 2)]),
            ("ok", vec![r(a, &[1])]),
        ]),
        Plant::G1c => concurrent(vec![
            ("ok", vec![ap(a, 1), r(b, &[1])]),
            ("ok", vec![ap(b, 1), r(a, &[1])]),
        ]),
        Plant::GSingle => concurrent(vec![
            ("ok", vec![r(b, &[]), r(c, &[1])]),
            ("ok", vec![ap(b, 1), ap(c, 1)]),
        ]),
        Plant::G2Item => concurrent(vec![
            ("ok", vec![r(a, &[]), ap(b, 1)]),
            ("ok", vec![r(b, &[]), ap(a, 1)]),
        ]),
        Plant::G0Realtime => vec![
            (2, "invoke", vec![r(a, &[])]),
            (0, "invoke", vec![ap(a, 1)]),
            (0, "ok", vec![ap(a, 1)]),
            (1, "invoke", vec![ap(a, 2)]),
            (1, "ok", vec![ap(a, 2)]),
            (2, "ok", vec![r(a, &[2, 1])]),
        ],
        Plant::G1cRealtime => vec![
            (0, "invoke", vec![r(a, &[])]),
            (0, "ok", vec![r(a, &[1])]),
            (1, "invoke", vec![ap(a, 1)]),
            (1, "ok", vec![ap(a, 1)]),
        ],
        Plant::GSingleRealtime => vec![
            (1, "invoke", vec![ap(a, 1)]),
            (1, "ok", vec![ap(a, 1)]),
            (0, "invoke", vec![r(a, &[])]),
            (0, "ok", vec![r(a, &[])]),
        ],
        Plant::G2ItemRealtime => vec![
            (1, "invoke", vec![r(b, &[]), ap(a, 1)]),
            (2, "invoke", vec![ap(b, 1)]),
            (2, "ok", vec![ap(b, 1)]),
            (0, "invoke", vec![r(a, &[])]),
            (0, "ok", vec![r(a, &[])]),
            (1, "ok", vec![r(b, &[]), ap(a, 1)]),
        ],
        Plant::Internal => concurrent(vec![("ok", vec![ap(a, 1), r(a, &[])])]),
        Plant::IncompatibleOrder => concurrent(vec![
            ("ok", vec![ap(a, 1)]),
            ("ok", vec![ap(a, 2)]),
            ("ok", vec![r(a, &[1, 2])]),
            ("ok", vec![r(a, &[2, 1])]),
        ]),
        Plant::DuplicateElements => {
            concurrent(vec![("ok", vec![ap(a, 1)]), ("ok", vec![r(a, &[1, 1])])])
        }
    };
    let mut time = events.last().map_or(0, |e| e.time);
    let base_process = events
        .iter()
        .filter_map(|e| match e.process {
            Process::Client(p) => Some(p + 1),
            Process::Nemesis(_) => None,
        })
        .max()
        .unwrap_or(0);
    for (txn, kind, mops) in rows {
        time += 1_000_000;
        let value = if kind == "invoke" {
            Value::Array(
                mops.into_iter()
                    .map(|m| match m.get(0).and_then(Value::as_str) {
                        Some("r") => json!(["r", m[1], null]),
                        _ => m,
                    })
                    .collect(),
            )
        } else {
            Value::Array(mops)
        };
        events.push(Event {
            index: events.len() as u64,
            time,
            process: Process::Client(base_process + txn as u64),
            node: Some("n0".to_owned()),
            kind: match kind {
                "invoke" => EventType::Invoke,
                "ok" => EventType::Ok,
                _ => EventType::Fail,
            },
            f: "txn".to_owned(),
            value,
            error: None,
            is_final: false,
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::{TxnOptions, check_txn};
    use crate::validity::Validity;

    #[test]
    fn generated_histories_are_reproducible_and_serializable() {
        for shape in [TxnShape::list_append(2000), TxnShape::rw_register(2000)] {
            let events = txn_history(3, shape);
            assert_eq!(events, txn_history(3, shape));
            let r = check_txn(&events, &TxnOptions::new(shape.kind)).unwrap();
            assert_eq!(r.valid, Validity::Valid, "{r}");
            assert!(r.anomaly_types.is_empty(), "{r}");
            // (In registers a ww edge joins a pair a wr edge names first.)
            assert!(r.edge_counts.wr > 0 && r.edge_counts.rw > 0, "{r}");
        }
    }
}

//! Synthetic histories from a seed, correct by construction: for benchmarks and property
//! tests of the checkers. This module makes broadcast histories; [`kv`] makes linearizable
//! key-value ones; [`register`] small register ones, linearizable or broken on purpose;
//! [`txn`] strict-serializable transactional ones, and ones with a planted anomaly.
//!
//! Broadcast:
//! The model is total order broadcast by a sequencer (the course's single-leader total
//! order): a broadcast joins one global sequence when invoked; each node delivers a growing
//! prefix of that sequence, lagging by a random amount; a broadcast is acknowledged only once
//! its origin has delivered it; a read returns the node's delivered prefix. Such a history
//! satisfies set-full (after the final reads every message is everywhere), FIFO, causal and
//! total order, and node reads extend one another. Tests then break one read on purpose.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::history::{Event, EventType, Process};

pub mod kv;
pub mod register;
pub mod txn;
pub use kv::{KvShape, kv_history};
pub use register::{RegisterShape, register_history};

/// The shape of a synthetic broadcast history.
#[derive(Debug, Clone, Copy)]
pub struct BroadcastShape {
    pub nodes: usize,
    pub clients: usize,
    /// Client operations before the final reads.
    pub ops: usize,
    /// Probability that an op is a read rather than a broadcast.
    pub read_fraction: f64,
    /// The most messages a node delivers in one step.
    pub catch_up: usize,
}

impl Default for BroadcastShape {
    fn default() -> BroadcastShape {
        BroadcastShape {
            nodes: 5,
            clients: 10,
            ops: 1000,
            read_fraction: 0.5,
            catch_up: 3,
        }
    }
}

enum Pending {
    Broadcast(usize),
    Read,
}

struct Builder {
    events: Vec<Event>,
    time: u64,
}

impl Builder {
    fn push(
        &mut self,
        process: u64,
        node: usize,
        kind: EventType,
        f: &str,
        value: Value,
        is_final: bool,
    ) {
        self.events.push(Event {
            index: self.events.len() as u64,
            time: self.time,
            process: Process::Client(process),
            node: Some(format!("n{node}")),
            kind,
            f: f.to_owned(),
            value,
            error: None,
            is_final,
        });
    }
}

/// A correct broadcast history of `shape`, from `seed`. Every broadcast value is distinct
/// (0, 1, 2, ...); client `c` talks to node `c % nodes`; time advances 0.1 to 2 ms per event.
pub fn broadcast_history(seed: u64, shape: BroadcastShape) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nodes = shape.nodes.max(1);
    let clients = shape.clients.max(1);
    let mut b = Builder {
        events: Vec::with_capacity(shape.ops * 2 + 4 * nodes),
        time: 0,
    };
    let mut sequence: Vec<usize> = Vec::new();
    let mut delivered = vec![0usize; nodes];
    let mut pending: Vec<Option<Pending>> = (0..clients).map(|_| None).collect();
    let mut invoked = 0;
    let read_value =
        |seq: &[usize], d: usize| Value::Array(seq[..d].iter().map(|&m| json!(m)).collect());
    while invoked < shape.ops || pending.iter().any(Option::is_some) {
        b.time += rng.random_range(100_000..2_000_000);
        let n = rng.random_range(0..nodes);
        delivered[n] = (delivered[n] + rng.random_range(0..=shape.catch_up)).min(sequence.len());
        let c = rng.random_range(0..clients);
        let node = c % nodes;
        match &pending[c] {
            None if invoked < shape.ops => {
                invoked += 1;
                if rng.random_bool(shape.read_fraction) {
                    b.push(
                        c as u64,
                        node,
                        EventType::Invoke,
                        "read",
                        Value::Null,
                        false,
                    );
                    pending[c] = Some(Pending::Read);
                } else {
                    let m = sequence.len();
                    sequence.push(m);
                    b.push(
                        c as u64,
                        node,
                        EventType::Invoke,
                        "broadcast",
                        json!(m),
                        false,
                    );
                    pending[c] = Some(Pending::Broadcast(m));
                }
            }
            None => {}
            Some(Pending::Read) => {
                b.push(
                    c as u64,
                    node,
                    EventType::Ok,
                    "read",
                    read_value(&sequence, delivered[node]),
                    false,
                );
                pending[c] = None;
            }
            Some(Pending::Broadcast(m)) if delivered[node] > *m => {
                b.push(c as u64, node, EventType::Ok, "broadcast", json!(m), false);
                pending[c] = None;
            }
            Some(Pending::Broadcast(_)) => {}
        }
    }
    // Recovery: every node catches up; then one final read per node.
    for n in 0..nodes {
        let c = (n % clients) as u64;
        b.time += 1_000_000;
        b.push(c, n, EventType::Invoke, "read", Value::Null, true);
        b.time += 1_000_000;
        b.push(
            c,
            n,
            EventType::Ok,
            "read",
            read_value(&sequence, sequence.len()),
            true,
        );
    }
    b.events
}

/// One synthetic op, as the generators of [`kv`] and [`register`] record it: who ran it on
/// which node, its function, what it asked and got, its outcome, and the ticks of its
/// invocation and completion.
pub(crate) struct OpRecord<'a> {
    pub client: u64,
    pub node: String,
    pub f: &'a str,
    pub input: &'a Value,
    pub output: &'a Value,
    pub kind: EventType,
    pub invoke: u64,
    pub complete: u64,
}

/// The events of `ops` in time order. A client whose op ended `info` goes on as a new process
/// (numbered from `clients` on), as in Jepsen; indices count from 0 and times are ticks times
/// `tick_ns`.
pub(crate) fn ops_to_events<'a>(
    ops: impl IntoIterator<Item = OpRecord<'a>>,
    clients: u64,
    tick_ns: u64,
) -> Vec<Event> {
    let mut events: Vec<(u64, Event)> = Vec::new();
    for op in ops {
        let event = |kind, value: &Value| Event {
            index: 0,
            time: 0,
            process: Process::Client(op.client),
            node: Some(op.node.clone()),
            kind,
            f: op.f.to_owned(),
            value: value.clone(),
            error: None,
            is_final: false,
        };
        events.push((op.invoke, event(EventType::Invoke, op.input)));
        events.push((op.complete, event(op.kind, op.output)));
    }
    events.sort_by_key(|(t, _)| *t);
    let mut process_of: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next_process = clients;
    events
        .into_iter()
        .enumerate()
        .map(|(i, (t, mut e))| {
            if let Process::Client(client) = e.process {
                let process = *process_of.entry(client).or_insert(client);
                e.process = Process::Client(process);
                if e.kind == EventType::Info {
                    process_of.insert(client, next_process);
                    next_process += 1;
                }
            }
            e.index = i as u64;
            e.time = t * tick_ns;
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broadcast::BroadcastHistory;
    use crate::ordering::{OrderingMode, check_ordering};
    use crate::set_full::set_full;
    use crate::validity::Validity;

    #[test]
    fn synthetic_histories_are_correct_and_reproducible() {
        let shape = BroadcastShape {
            ops: 300,
            ..BroadcastShape::default()
        };
        let events = broadcast_history(7, shape);
        assert_eq!(events, broadcast_history(7, shape));
        let h = BroadcastHistory::new(&events).unwrap();
        assert_eq!(set_full(&h, false).valid, Validity::Valid);
        for mode in [
            OrderingMode::Fifo,
            OrderingMode::Causal,
            OrderingMode::Total,
        ] {
            let r = check_ordering(&h, mode);
            assert_eq!(r.valid, Validity::Valid, "{r}");
        }
    }
}

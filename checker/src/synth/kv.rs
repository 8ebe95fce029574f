//! Linearizable key-value histories (the lin-kv workload's values) from a seed.
//!
//! A random sequential execution of a key-value store (reads, writes and cas of small values,
//! so many states look alike), stretched into intervals: every client runs its ops one after
//! another, each op taking effect at a random instant between its invocation and its
//! completion, so the ops of different clients overlap. Such a history is linearizable by
//! construction: cas whose precondition does not hold at its instant fail, reads return the
//! value at their instant, and writes may end `info` (they did take effect), after which the
//! client goes on as a new process, as the harness's clients do.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::history::{Event, EventType};

/// The shape of a synthetic key-value history.
#[derive(Debug, Clone, Copy)]
pub struct KvShape {
    pub clients: usize,
    /// Ops each client runs.
    pub ops_per_client: usize,
    /// Keys are the integers `0..keys`.
    pub keys: u64,
    /// Values are the integers `0..values`.
    pub values: u32,
    /// Probability that a write ends `info` rather than `ok`.
    pub indefinite_writes: f64,
}

struct Op {
    client: u64,
    invoke: u64,
    point: u64,
    complete: u64,
    f: &'static str,
    input: Value,
    output: Value,
    kind: EventType,
}

/// A linearizable key-value history of `shape`, from `seed`. Client `c` talks to node
/// `n{c % 5}`; times are in microseconds, every event at its own instant.
pub fn kv_history(seed: u64, shape: KvShape) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let keys = shape.keys.max(1);
    let values = shape.values.max(1);
    let mut list = Vec::with_capacity(shape.clients * shape.ops_per_client);
    for client in 0..shape.clients as u64 {
        let mut t = rng.random_range(0..50u64);
        for _ in 0..shape.ops_per_client {
            let invoke = t + rng.random_range(1..10);
            let point = invoke + rng.random_range(0..50);
            let complete = point + rng.random_range(0..50);
            t = complete;
            let key = rng.random_range(0..keys);
            let (f, input) = match rng.random_range(0..3) {
                0 => ("read", json!([key, null])),
                1 => ("write", json!([key, rng.random_range(0..values)])),
                _ => (
                    "cas",
                    json!([
                        key,
                        [rng.random_range(0..values), rng.random_range(0..values)]
                    ]),
                ),
            };
            // Distinct instants: invocations, then effects, then completions within a tick.
            list.push(Op {
                client,
                invoke: invoke * 3,
                point: point * 3 + 1,
                complete: complete * 3 + 2,
                f,
                input,
                output: Value::Null,
                kind: EventType::Ok,
            });
        }
    }
    // Execute in the order of the instants at which the ops take effect.
    list.sort_by_key(|o| o.point);
    let mut state = BTreeMap::<u64, Value>::new();
    for op in &mut list {
        let key = op.input[0].as_u64().unwrap_or(0);
        let current = state.get(&key).cloned().unwrap_or(Value::Null);
        op.output = op.input.clone();
        match op.f {
            "read" => op.output = json!([key, current]),
            "write" => {
                state.insert(key, op.input[1].clone());
                if shape.indefinite_writes > 0.0 && rng.random_bool(shape.indefinite_writes) {
                    op.kind = EventType::Info;
                }
            }
            _ if current == op.input[1][0] => {
                state.insert(key, op.input[1][1].clone());
            }
            _ => op.kind = EventType::Fail,
        }
    }
    super::ops_to_events(
        list.iter().map(|op| super::OpRecord {
            client: op.client,
            node: format!("n{}", op.client % 5),
            f: op.f,
            input: &op.input,
            output: &op.output,
            kind: op.kind,
            invoke: op.invoke,
            complete: op.complete,
        }),
        shape.clients as u64,
        1000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Validity;
    use crate::lin::{LinOptions, ModelKind, check_linearizable};

    #[test]
    fn a_client_after_an_info_is_a_new_process_and_the_history_is_linearizable() {
        let shape = KvShape {
            clients: 3,
            ops_per_client: 40,
            keys: 2,
            values: 4,
            indefinite_writes: 0.5,
        };
        let events = kv_history(9, shape);
        assert_eq!(events.len(), 2 * 3 * 40);
        let infos = events.iter().filter(|e| e.kind == EventType::Info).count();
        assert!(infos > 0);
        let processes: std::collections::BTreeSet<_> =
            events.iter().map(|e| e.process.clone()).collect();
        // Each info but a client's last op starts a new process.
        assert!(processes.len() > 3 && processes.len() <= 3 + infos);
        let result = check_linearizable(&events, &LinOptions::new(ModelKind::Kv)).unwrap();
        assert_eq!(result.valid, Validity::Valid, "{result}");
    }
}

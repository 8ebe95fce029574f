//! Small register and cas-register histories from a seed, for tests of the linearizability
//! checker's witnesses: a sequential execution stretched into overlapping intervals (each op
//! takes effect at a random instant within its interval, so the history is linearizable by
//! construction), then, if asked, broken on purpose: a read answers another value the
//! register held at some time, a failed cas is reported as a success, or two reads trade
//! answers. The breaks keep to values the register held, so a read of a value never written
//! is rare and the subtler anomalies (a value overwritten and read back, a write consumed by a
//! cas, two reads in an order no sequence of writes allows) come up.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::history::{Event, EventType};

/// The shape of a small register history.
#[derive(Debug, Clone, Copy)]
pub struct RegisterShape {
    pub processes: usize,
    pub ops_per_process: usize,
    /// Values written are `1..=values`; the register starts at 0.
    pub values: u64,
    /// Whether ops include `cas [from, to]` (a cas-register) or only reads and writes.
    pub cas: bool,
    /// How many times to break the history: 0 keeps it linearizable.
    pub breaks: usize,
}

impl RegisterShape {
    /// A small shape drawn from `seed`: 2 to 4 processes of 2 to 5 ops, 1 to 3 values, cas
    /// or not, broken once or twice.
    pub fn small(seed: u64) -> RegisterShape {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ba9e);
        RegisterShape {
            processes: rng.random_range(2..=4),
            ops_per_process: rng.random_range(2..=5),
            values: rng.random_range(1..=3),
            cas: rng.random_bool(0.5),
            breaks: rng.random_range(1..=2),
        }
    }
}

struct Op {
    process: u64,
    invoke: u64,
    point: u64,
    complete: u64,
    f: &'static str,
    input: Value,
    output: Value,
    kind: EventType,
}

/// A register history of `shape` from `seed`, initial value 0: linearizable when
/// `shape.breaks` is 0, and probably not otherwise. Process `p` talks to node `n{p}`.
pub fn register_history(seed: u64, shape: RegisterShape) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ops = Vec::new();
    for process in 0..shape.processes as u64 {
        let mut t = rng.random_range(0..20u64);
        for _ in 0..shape.ops_per_process {
            let invoke = t + rng.random_range(1..6);
            let point = invoke + rng.random_range(0..20);
            let complete = point + rng.random_range(0..20);
            t = complete;
            let value = rng.random_range(1..=shape.values);
            let (f, input) = match rng.random_range(0..if shape.cas { 3 } else { 2 }) {
                0 => ("read", Value::Null),
                1 => ("write", json!(value)),
                _ => ("cas", json!([rng.random_range(0..=shape.values), value])),
            };
            ops.push(Op {
                process,
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
    ops.sort_by_key(|o| o.point);
    let mut state = json!(0);
    let mut held = vec![json!(0)];
    for op in &mut ops {
        op.output = op.input.clone();
        match op.f {
            "read" => op.output = state.clone(),
            "write" => {
                state = op.input.clone();
                held.push(state.clone());
                if rng.random_bool(0.1) {
                    op.kind = EventType::Info;
                }
            }
            _ if op.input[0] == state => {
                state = op.input[1].clone();
                held.push(state.clone());
            }
            _ => op.kind = EventType::Fail,
        }
    }
    // Break it: one or two corruptions, each to a value the register held at some time.
    let reads: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].f == "read").collect();
    let failed: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].kind == EventType::Fail)
        .collect();
    for _ in 0..shape.breaks {
        match rng.random_range(0..3) {
            0 if !failed.is_empty() => {
                let i = failed[rng.random_range(0..failed.len())];
                ops[i].kind = EventType::Ok;
            }
            1 if reads.len() >= 2 => {
                let a = reads[rng.random_range(0..reads.len())];
                let b = reads[rng.random_range(0..reads.len())];
                let v = ops[a].output.clone();
                ops[a].output = ops[b].output.clone();
                ops[b].output = v;
            }
            _ if !reads.is_empty() => {
                let i = reads[rng.random_range(0..reads.len())];
                ops[i].output = held[rng.random_range(0..held.len())].clone();
            }
            _ => {}
        }
    }
    super::ops_to_events(
        ops.iter().map(|op| super::OpRecord {
            client: op.process,
            node: format!("n{}", op.process),
            f: op.f,
            input: &op.input,
            output: &op.output,
            kind: op.kind,
            invoke: op.invoke,
            complete: op.complete,
        }),
        shape.processes as u64,
        100_000,
    )
}

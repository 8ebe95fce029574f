//! `lin-kv`: a key-value store that must be linearizable (the course's 7.2
//! "Linearizability"): every read, write and compare-and-set appears to take effect at one
//! instant between its invocation and its completion.
//!
//! Op mix (Maelstrom's, from Jepsen's linearizable-register test): keys are the integers 0,
//! 1, 2, ...; values are integers in `0..max_value` (default 5). Half the ops are `read`, one
//! sixth `write`, one third `cas` (Jepsen's `reserve` of readers plus `mix [w cas cas]`). At any
//! time [`LinKvOptions::key_count`] keys are in use, each op on one of them drawn uniformly;
//! each key gets at most [`LinKvOptions::ops_per_key`] ops (randomized down to 90-100% of it,
//! as Jepsen does, so that keys retire at different times), then the next unused key takes its
//! place. Bounding the ops per key keeps the per-key linearizability search tractable.
//!
//! History values (`checker/src/history.rs`): `read` is invoked with `[key, null]` and
//! completes `ok` with `[key, value]` (`null` when the reply's `value` is null or absent);
//! `write` is `[key, value]`; `cas` is `[key, [from, to]]`. Requests `read {key}`, `write {key,
//! value}`, `cas {key, from, to}`.
//!
//! A `read` is idempotent (`fail` on a timeout or an indefinite error); a `write` or `cas`
//! whose reply was lost may still take effect, so it is `info`. Error 20 (key does not exist)
//! and 22 (precondition failed) are definite: `fail`, as in Maelstrom. A `read` answered with
//! error 20 is recorded so too (`fail`, value `[key, null]`, the error with code 20), but it is
//! not a read that did nothing: it observed the key absent, exactly as a `read_ok` of `null`,
//! and the linearizability checker checks it as such (`checker/src/lin/prepare.rs`).
//! Maelstrom's checker drops it with the other failed ops, so a store that forgets
//! acknowledged writes and then answers "key does not exist" passes there; it does not here.

use proto::{Body, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::Check;

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions};

/// How the lin-kv ops spread over keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinKvOptions {
    /// How many keys are in use at once (at least 1).
    pub key_count: usize,
    /// The most ops any key gets before it retires (at least 1).
    pub ops_per_key: usize,
    /// Values are drawn from `0..max_value` (at least 1).
    pub max_value: u64,
}

impl Default for LinKvOptions {
    /// Two keys at a time, 100 ops per key, values 0 to 4.
    fn default() -> Self {
        LinKvOptions {
            key_count: 2,
            ops_per_key: 100,
            max_value: 5,
        }
    }
}

/// A key in use and how many more ops it gets.
#[derive(Debug, Clone)]
struct ActiveKey {
    key: u64,
    remaining: usize,
}

/// The lin-kv workload.
#[derive(Debug, Clone)]
pub struct LinKv {
    options: LinKvOptions,
    active: Vec<ActiveKey>,
    next_key: u64,
}

impl LinKv {
    /// A generator with these options (zeros are raised to 1).
    pub fn new(options: LinKvOptions) -> Self {
        LinKv {
            options: LinKvOptions {
                key_count: options.key_count.max(1),
                ops_per_key: options.ops_per_key.max(1),
                max_value: options.max_value.max(1),
            },
            active: Vec::new(),
            next_key: 0,
        }
    }

    /// A fresh key with its randomized op budget.
    fn fresh_key(&mut self, rng: &mut ChaCha8Rng) -> ActiveKey {
        let key = self.next_key;
        self.next_key += 1;
        let limit = self.options.ops_per_key as f64 * rng.random_range(0.9..=1.0);
        ActiveKey {
            key,
            remaining: (limit.floor() as usize).max(1),
        }
    }

    fn value(&self, rng: &mut ChaCha8Rng) -> Value {
        Value::from(rng.random_range(0..self.options.max_value))
    }
}

impl Default for LinKv {
    fn default() -> Self {
        LinKv::new(LinKvOptions::default())
    }
}

fn is_read(op: &Op) -> bool {
    op.f == "read"
}

/// The `[key, x]` pair of an op's value.
fn pair(op: &Op) -> Option<(&Value, &Value)> {
    match op.value.as_array().map(Vec::as_slice) {
        Some([key, x]) => Some((key, x)),
        _ => None,
    }
}

impl Spec for LinKv {
    const NAME: &'static str = "lin-kv";
    const ABOUT: &'static str =
        "read {key}, write {key, value}, cas {key, from, to}: linearizable per key";
    const SEMANTICS: &'static str = "linearizable per key: each key a cas-register that starts absent, a read of null meaning absent";
    const CHECK: Check = Check::LinearizableKv;

    fn start(options: &WorkloadOptions) -> Self {
        LinKv::new(options.lin_kv)
    }
}

impl Workload for LinKv {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::LinKv
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        while self.active.len() < self.options.key_count {
            let fresh = self.fresh_key(rng);
            self.active.push(fresh);
        }
        let slot = rng.random_range(0..self.active.len());
        let key = self.active[slot].key;
        self.active[slot].remaining -= 1;
        if self.active[slot].remaining == 0 {
            self.active[slot] = self.fresh_key(rng);
        }
        match rng.random_range(0..6u32) {
            0..=2 => Op::new("read", json!([key, null])),
            3 => Op::new("write", json!([key, self.value(rng)])),
            _ => Op::new("cas", json!([key, [self.value(rng), self.value(rng)]])),
        }
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        let bad = || OpError::new("lin-kv", op);
        let (key, x) = pair(op).ok_or_else(bad)?;
        match op.f.as_str() {
            "read" => Ok(Payload::Read {
                key: Some(key.clone()),
            }),
            "write" => Ok(Payload::Write {
                key: key.clone(),
                value: x.clone(),
            }),
            "cas" => match x.as_array().map(Vec::as_slice) {
                Some([from, to]) => Ok(Payload::Cas {
                    key: key.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    create_if_not_exists: None,
                }),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, is_read(op), reply, |reply| {
            match (op.f.as_str(), &reply.payload) {
                ("read", Payload::ReadOk { value, .. }) => {
                    let key = pair(op).map_or(Value::Null, |(k, _)| k.clone());
                    Ok(json!([key, value.clone().unwrap_or(Value::Null)]))
                }
                ("read", _) => Err(unexpected(reply, "read_ok")),
                ("write", Payload::WriteOk) | ("cas", Payload::CasOk) => Ok(op.value.clone()),
                ("write", _) => Err(unexpected(reply, "write_ok")),
                _ => Err(unexpected(reply, "cas_ok")),
            }
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, is_read(op), ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        None
    }

    fn sends_topology(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn no_key_gets_more_than_its_budget_and_keys_retire_in_order() {
        let options = LinKvOptions {
            key_count: 3,
            ops_per_key: 20,
            max_value: 5,
        };
        let mut workload = LinKv::new(options);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = std::collections::BTreeMap::<u64, usize>::new();
        for _ in 0..1000 {
            let op = workload.next_op(&mut rng);
            let key = op.value[0].as_u64().unwrap();
            *counts.entry(key).or_default() += 1;
        }
        assert!(counts.values().all(|&c| c <= 20), "{counts:?}");
        // Every retired key used at least 90% of the budget (18 ops).
        let active: Vec<u64> = workload.active.iter().map(|a| a.key).collect();
        for (key, count) in &counts {
            assert!(
                active.contains(key) || *count >= 18,
                "key {key}: {counts:?}"
            );
        }
        assert!(counts.keys().all(|k| *k < workload.next_key));
        assert!(counts.len() >= 1000 / 20, "{counts:?}");
    }
}

//! `lww-register`: an eventually consistent key-value store of last-writer-wins registers that
//! must keep causality (the course's 5.1 "reconciling replicas", with the Lamport clocks of
//! 3.3 and the physical clocks of 3.1): concurrent writes may be resolved either way, but no
//! acknowledged write may lose to a write it causally follows, and the replicas must converge.
//! Run it under `--nemesis clock` to see a store stamped by wall clocks lose writes
//! (`kv-gossip-wall-clock`) and one stamped by Lamport clocks keep them (`kv-gossip`); see
//! `checker/src/lww.rs` for the check.
//!
//! The protocol is lin-kv's without `cas`: `read {key}` -> `read_ok {value}` (error 20 when
//! absent) and `write {key, value}` -> `write_ok`. History values as lin-kv's: `[key, null]`
//! for a read's invocation and `[key, value]` for its completion and for writes; a read
//! answered with error 20 completes `ok` with `[key, null]` (it observed the key absent).
//! Every value written is unique (1, 2, 3, ... in the order drawn), so a read names the write
//! it saw. Each client keeps to one node (the harness's rule), so a client that reads a value
//! and then writes has its write causally after the one it read.
//!
//! Op mix: half reads, half writes, on one of `--key-count` keys in use at once (default 2),
//! drawn uniformly; a key takes `--max-writes-per-key` writes (default 16), then a fresh key
//! takes its place, so every key is a short trial of its own and retired keys are quiet long
//! before the end. After the recovery wait every node reads every key once (final reads).

use proto::{Body, ErrorCode, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use checker::{Check, Event};

use crate::{Spec, Workload, WorkloadKind, WorkloadOptions};

/// A key in use and how many more writes it takes.
#[derive(Debug, Clone)]
struct ActiveKey {
    key: u64,
    writes_left: u64,
}

/// The lww-register workload.
#[derive(Debug, Clone)]
pub struct LwwRegister {
    key_count: usize,
    writes_per_key: u64,
    active: Vec<ActiveKey>,
    next_key: u64,
    next_value: u64,
}

impl LwwRegister {
    /// `key_count` keys at a time, `writes_per_key` writes each (zeros are raised to 1).
    pub fn new(key_count: usize, writes_per_key: u64) -> Self {
        LwwRegister {
            key_count: key_count.max(1),
            writes_per_key: writes_per_key.max(1),
            active: Vec::new(),
            next_key: 0,
            next_value: 1,
        }
    }

    fn fresh_key(&mut self) -> ActiveKey {
        let key = self.next_key;
        self.next_key += 1;
        ActiveKey {
            key,
            writes_left: self.writes_per_key,
        }
    }
}

/// The `[key, x]` pair of an op's value.
fn pair(op: &Op) -> Option<(&Value, &Value)> {
    match op.value.as_array().map(Vec::as_slice) {
        Some([key, x]) => Some((key, x)),
        _ => None,
    }
}

fn is_read(op: &Op) -> bool {
    op.f == "read"
}

impl Spec for LwwRegister {
    const NAME: &'static str = "lww-register";
    const ABOUT: &'static str = "read {key}, write {key, value} with unique values: last-writer-wins registers that must keep causally later writes";
    const SEMANTICS: &'static str = "per key, the final reads agree and return a write that no acknowledged write causally follows, and no node shows a write causally older than one it showed before";
    const CHECK: Check = Check::LwwRegister;

    fn start(options: &WorkloadOptions) -> Self {
        LwwRegister::new(options.lin_kv.key_count, options.keys.max_writes_per_key)
    }

    /// Reads and writes of `[key, value]` pairs with final reads (lin-kv has none, and has
    /// `cas`).
    fn shows(events: &[Event]) -> bool {
        let mut finals = false;
        for e in crate::client_events(events) {
            match e.f.as_str() {
                "read" | "write" if e.value.as_array().is_some_and(|a| a.len() == 2) => {
                    finals |= e.is_final;
                }
                _ => return false,
            }
        }
        finals
    }
}

impl Workload for LwwRegister {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::LwwRegister
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        while self.active.len() < self.key_count {
            let fresh = self.fresh_key();
            self.active.push(fresh);
        }
        let slot = rng.random_range(0..self.active.len());
        let key = self.active[slot].key;
        if rng.random_bool(0.5) {
            return Op::new("read", json!([key, null]));
        }
        let value = self.next_value;
        self.next_value += 1;
        self.active[slot].writes_left -= 1;
        if self.active[slot].writes_left == 0 {
            self.active[slot] = self.fresh_key();
        }
        Op::new("write", json!([key, value]))
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        let bad = || OpError::new("lww-register", op);
        let (key, x) = pair(op).ok_or_else(bad)?;
        match op.f.as_str() {
            "read" => Ok(Payload::Read {
                key: Some(key.clone()),
            }),
            "write" => Ok(Payload::Write {
                key: key.clone(),
                value: x.clone(),
            }),
            _ => Err(bad()),
        }
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        if is_read(op) && reply.error_code() == Some(ErrorCode::KeyDoesNotExist) {
            // The key is absent: a definite answer, recorded as a read of null (so a final
            // read of a key never written is not retried).
            let key = pair(op).map_or(Value::Null, |(k, _)| k.clone());
            return Completion::ok(json!([key, null]));
        }
        complete_with(op, is_read(op), reply, |reply| {
            match (op.f.as_str(), &reply.payload) {
                ("read", Payload::ReadOk { value, .. }) => {
                    let key = pair(op).map_or(Value::Null, |(k, _)| k.clone());
                    Ok(json!([key, value.clone().unwrap_or(Value::Null)]))
                }
                ("read", _) => Err(unexpected(reply, "read_ok")),
                ("write", Payload::WriteOk) => Ok(op.value.clone()),
                _ => Err(unexpected(reply, "write_ok")),
            }
        })
    }

    fn timeout(&self, op: &Op) -> Completion {
        Completion::uncertain(op, is_read(op), ErrorInfo::timeout())
    }

    fn final_op(&self) -> Option<Op> {
        Some(Op::new("read", json!([0, null])))
    }

    /// A read of every key used, at every node.
    fn final_ops(&self) -> Vec<Op> {
        let used = self.next_key.max(1);
        (0..used)
            .map(|key| Op::new("read", json!([key, null])))
            .collect()
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
    fn values_are_unique_keys_retire_after_their_writes_and_final_reads_cover_every_key() {
        let mut workload = LwwRegister::new(2, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut values = std::collections::BTreeSet::new();
        let mut writes = std::collections::BTreeMap::<u64, u64>::new();
        let (mut reads, mut write_count) = (0, 0);
        for _ in 0..400 {
            let op = workload.next_op(&mut rng);
            let key = op.value[0].as_u64().unwrap();
            if op.f == "write" {
                write_count += 1;
                assert!(values.insert(op.value[1].as_u64().unwrap()), "{op:?}");
                *writes.entry(key).or_default() += 1;
            } else {
                reads += 1;
            }
        }
        assert!(reads > 150 && write_count > 150, "{reads} {write_count}");
        assert!(writes.values().all(|&w| w <= 5), "{writes:?}");
        let finals: Vec<u64> = workload
            .final_ops()
            .iter()
            .map(|op| op.value[0].as_u64().unwrap())
            .collect();
        assert_eq!(finals, (0..workload.next_key).collect::<Vec<_>>());
        assert!(writes.keys().all(|k| finals.contains(k)));
    }

    #[test]
    fn histories_with_final_reads_of_pairs_and_no_cas_are_recognised() {
        let events = |text: &str| checker::parse_history("h", text.as_bytes()).unwrap();
        let mine = events(
            r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"write","value":[0,1]}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"write","value":[0,1]}
{"index":2,"time":3,"process":1,"node":"n0","type":"invoke","f":"read","value":[0,null],"final":true}
{"index":3,"time":4,"process":1,"node":"n0","type":"ok","f":"read","value":[0,1],"final":true}"#,
        );
        assert_eq!(WorkloadKind::detect(&mine), Some(WorkloadKind::LwwRegister));
        // lin-kv's: no final reads.
        assert!(!LwwRegister::shows(&mine[..2]));
    }

    #[test]
    fn a_read_of_an_absent_key_is_an_ok_read_of_null() {
        let workload = LwwRegister::new(1, 1);
        let op = Op::new("read", json!([3, null]));
        let reply = Body {
            msg_id: None,
            in_reply_to: Some(1),
            payload: Payload::error(ErrorCode::KeyDoesNotExist, "no key 3".to_owned()),
        };
        let done = workload.complete(&op, &reply);
        assert_eq!(done.outcome, crate::Outcome::Ok);
        assert_eq!(done.value, json!([3, null]));
    }
}

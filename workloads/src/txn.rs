//! `txn-list-append` and `txn-rw-register`: transactions over many keys (Gossip Glomers
//! challenge 6, Maelstrom's workloads of the same names), checked for isolation as Jepsen's
//! Elle checks them. The course's concepts: transactions and their isolation levels (read
//! uncommitted, read committed, serializable, strict serializable), and atomic commitment.
//!
//! Requests and replies (Maelstrom's, typed in [`proto::Payload`]): `txn {txn: [[f, key,
//! value], ...]}` -> `txn_ok {txn}`, the same micro-ops in the same order with every read's
//! value filled in. Micro-ops: `["r", k, null]` reads key `k` (list-append: the whole list;
//! rw-register: the register; a missing key reads `null`); `["append", k, v]` adds `v` to the
//! end of `k`'s list; `["w", k, v]` sets register `k` to `v`. A node aborts a transaction with
//! error 30 (txn-conflict), which is definite: the transaction did not happen.
//!
//! Op mix (Elle's `wr-txns` generator, as Maelstrom configures it): each transaction has
//! `--min-txn-length` to `--max-txn-length` micro-ops (1 to 4 by default), each a read or a
//! write (an append for lists) with equal odds, on a key from the pool of [`crate::keys`]
//! (`--key-count` keys at once, later ones exponentially likelier; each key at most
//! `--max-writes-per-key` writes, then a fresh key). A key's written values are 1, 2, 3, ...: so
//! every value is written at most once per key, which is what lets the checker tell which
//! transaction wrote what a read saw.
//!
//! History values: `f: "txn"`, the invocation's value the micro-ops as sent (reads `null`), the
//! `ok` completion's value the micro-ops as the node returned them. A transaction whose reply
//! was lost may have happened (`info`), as in Maelstrom (which marks no transaction idempotent).
//! A reply that is not the request's micro-ops with reads filled in (another length, another
//! function or key at some position, a changed write, a list-append read that is not a list)
//! is a malformed reply. Checked by [`checker::txn`], against `--consistency-models`.

use checker::txn::TxnKind;
use checker::{Check, Event};
use proto::{Body, MicroOp, Payload};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::KeyPool;
use crate::op::{Completion, ErrorInfo, Op, OpError, complete_with, unexpected};
use crate::{Spec, Workload, WorkloadKind, WorkloadOptions, client_events};

/// The most micro-ops per transaction when `--max-txn-length` is not given (Maelstrom's).
pub const DEFAULT_MAX_TXN_LENGTH: usize = 4;

/// How long transactions are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnOptions {
    /// The fewest micro-ops per transaction (at least 1).
    pub min_length: usize,
    /// The most micro-ops per transaction (at least `min_length`).
    pub max_length: usize,
}

impl Default for TxnOptions {
    /// 1 to 4 micro-ops, Elle's and Maelstrom's defaults.
    fn default() -> Self {
        TxnOptions {
            min_length: 1,
            max_length: DEFAULT_MAX_TXN_LENGTH,
        }
    }
}

/// The generator both workloads share; `kind` says whether writes are appends or register
/// writes.
#[derive(Debug, Clone)]
struct Transactions {
    kind: TxnKind,
    pool: KeyPool,
    lengths: TxnOptions,
}

impl Transactions {
    fn new(kind: TxnKind, options: &WorkloadOptions) -> Self {
        let min_length = options.txn.min_length.max(1);
        Transactions {
            kind,
            pool: KeyPool::new(options.keys),
            lengths: TxnOptions {
                min_length,
                max_length: options.txn.max_length.max(min_length),
            },
        }
    }

    /// The name of a write micro-op: `append` or `w`.
    fn write_f(&self) -> &'static str {
        match self.kind {
            TxnKind::ListAppend => "append",
            TxnKind::RwRegister => "w",
        }
    }

    fn name(&self) -> &'static str {
        match self.kind {
            TxnKind::ListAppend => TxnListAppend::NAME,
            TxnKind::RwRegister => TxnRwRegister::NAME,
        }
    }

    /// Elle's `wr-txns`: a length, then micro-ops; a write drawn for a key that has had its
    /// writes puts a fresh key in its slot and draws again.
    fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
        self.pool.fill(rng);
        let length = rng.random_range(self.lengths.min_length..=self.lengths.max_length);
        let mut txn = Vec::with_capacity(length);
        while txn.len() < length {
            let write = rng.random_bool(0.5);
            let slot = self.pool.slot(rng);
            if write && self.pool.exhausted(slot) {
                self.pool.replace(slot, rng);
                continue;
            }
            let key = self.pool.get(slot).key;
            if write {
                let value = self.pool.write(slot);
                txn.push(Value::from(vec![
                    Value::from(self.write_f()),
                    key.into(),
                    value.into(),
                ]));
            } else {
                txn.push(Value::from(vec![Value::from("r"), key.into(), Value::Null]));
            }
        }
        Op::new("txn", Value::Array(txn))
    }

    fn request(&self, op: &Op) -> Result<Payload, OpError> {
        let txn = micro_ops(&op.value).filter(|_| op.f == "txn");
        txn.map(|txn| Payload::Txn { txn })
            .ok_or_else(|| OpError::new(self.name(), op))
    }

    fn complete(&self, op: &Op, reply: &Body) -> Completion {
        complete_with(op, false, reply, |reply| match &reply.payload {
            Payload::TxnOk { txn } => self.completed(op, txn),
            _ => Err(unexpected(reply, "txn_ok")),
        })
    }

    /// The history value of a `txn_ok`, or what is wrong with it: it must be the request's
    /// micro-ops, in order, with only the reads' values changed.
    fn completed(&self, op: &Op, done: &[MicroOp]) -> Result<Value, String> {
        let asked = micro_ops(&op.value).unwrap_or_default();
        if asked.len() != done.len() {
            return Err(format!(
                "txn_ok has {} micro-ops for a txn of {}",
                done.len(),
                asked.len()
            ));
        }
        for (i, (a, d)) in asked.iter().zip(done).enumerate() {
            let at = || format!("txn_ok micro-op {i} is {}", micro_op_text(d));
            if a.f() != d.f() || a.key() != d.key() {
                return Err(format!("{}, the txn asked {}", at(), micro_op_text(a)));
            }
            if a.f() != "r" && a.value() != d.value() {
                return Err(format!(
                    "{}: a {} must come back unchanged, as {}",
                    at(),
                    a.f(),
                    micro_op_text(a)
                ));
            }
            if a.f() == "r"
                && self.kind == TxnKind::ListAppend
                && !matches!(d.value(), Value::Array(_) | Value::Null)
            {
                return Err(format!(
                    "{}: a list-append read must be a list or null",
                    at()
                ));
            }
        }
        serde_json::to_value(done).map_err(|e| e.to_string())
    }
}

/// The micro-ops of a history value, if it is a list of `[f, key, value]` triples with a
/// string `f`.
fn micro_ops(value: &Value) -> Option<Vec<MicroOp>> {
    value
        .as_array()?
        .iter()
        .map(|m| match m.as_array().map(Vec::as_slice) {
            Some([Value::String(f), k, v]) => Some(MicroOp(f.clone(), k.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

/// `["r", 1, null]` as JSON text.
fn micro_op_text(m: &MicroOp) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

/// True when the history has client transactions (`f: "txn"`), every micro-op of which is
/// named in `allowed` (so Knossos's multi-register transactions, whose micro-ops are `read` and
/// `write`, are not taken for these workloads), and some micro-op is named `needed`.
fn txns_of(events: &[Event], allowed: &[&str], needed: Option<&str>) -> bool {
    let mut any = false;
    let mut found = needed.is_none();
    for e in client_events(events).filter(|e| e.f == "txn") {
        any = true;
        for m in e.value.as_array().into_iter().flatten() {
            let f = m.get(0).and_then(Value::as_str).unwrap_or("");
            if !allowed.contains(&f) {
                return false;
            }
            found |= needed == Some(f);
        }
    }
    any && found
}

/// Declares a workload type over [`Transactions`] and its [`Workload`] impl.
macro_rules! txn_workload {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $variant:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(Transactions);

        impl Workload for $name {
            fn kind(&self) -> WorkloadKind {
                WorkloadKind::$variant
            }

            fn next_op(&mut self, rng: &mut ChaCha8Rng) -> Op {
                self.0.next_op(rng)
            }

            fn request(&self, op: &Op) -> Result<Payload, OpError> {
                self.0.request(op)
            }

            fn complete(&self, op: &Op, reply: &Body) -> Completion {
                self.0.complete(op, reply)
            }

            fn timeout(&self, op: &Op) -> Completion {
                Completion::uncertain(op, false, ErrorInfo::timeout())
            }

            fn final_op(&self) -> Option<Op> {
                None
            }

            fn sends_topology(&self) -> bool {
                false
            }
        }

        impl $name {
            /// A generator with these options.
            pub fn new(options: &WorkloadOptions) -> Self {
                $name(Transactions::new($kind, options))
            }
        }
    };
}

txn_workload!(
    /// txn-list-append: transactions of reads and appends over lists.
    TxnListAppend,
    TxnKind::ListAppend,
    TxnListAppend
);
txn_workload!(
    /// txn-rw-register: transactions of reads and writes over registers.
    TxnRwRegister,
    TxnKind::RwRegister,
    TxnRwRegister
);

impl Spec for TxnListAppend {
    const NAME: &'static str = "txn-list-append";
    const ABOUT: &'static str = "txn {txn: [[\"r\", k, null] | [\"append\", k, v], ...]} -> txn_ok: transactions over lists";
    const SEMANTICS: &'static str = "no anomaly that --consistency-models prohibits (strict-serializable by default): \
         every key's version order recovered from its reads (each read a prefix of the longest), \
         write-write, write-read and read-write dependencies between transactions, \
         plus process and real-time order where the model asks, with no prohibited cycle (G0, G1c, G-single, G2-item) \
         and no aborted (G1a), intermediate (G1b) or internally inconsistent read";
    const CHECK: Check = Check::Txn(TxnKind::ListAppend);

    fn start(options: &WorkloadOptions) -> Self {
        TxnListAppend::new(options)
    }

    /// Transactions of reads and appends, with appends.
    fn shows(events: &[Event]) -> bool {
        txns_of(events, &["r", "append"], Some("append"))
    }
}

impl Spec for TxnRwRegister {
    const NAME: &'static str = "txn-rw-register";
    const ABOUT: &'static str =
        "txn {txn: [[\"r\", k, null] | [\"w\", k, v], ...]} -> txn_ok: transactions over registers";
    const SEMANTICS: &'static str = "no anomaly that --consistency-models prohibits (strict-serializable by default): \
         each read's writer known from its unique value, each key's version order inferred from the initial state \
         and from writes that follow reads in one transaction, write-write, write-read and read-write dependencies, \
         plus process and real-time order where the model asks, with no prohibited cycle (G0, G1c, G-single, G2-item) \
         and no aborted (G1a), intermediate (G1b) or internally inconsistent read";
    const CHECK: Check = Check::Txn(TxnKind::RwRegister);

    fn start(options: &WorkloadOptions) -> Self {
        TxnRwRegister::new(options)
    }

    /// Transactions of reads and writes.
    fn shows(events: &[Event]) -> bool {
        txns_of(events, &["r", "w"], None)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proto::ErrorCode;
    use rand::SeedableRng;
    use serde_json::json;

    use super::*;
    use crate::Outcome;
    use crate::keys::KeyPoolOptions;

    fn options(max_writes: u64) -> WorkloadOptions {
        WorkloadOptions {
            keys: KeyPoolOptions {
                key_count: 3,
                max_writes_per_key: max_writes,
            },
            txn: TxnOptions {
                min_length: 2,
                max_length: 5,
            },
            ..WorkloadOptions::default()
        }
    }

    #[test]
    fn transactions_have_their_lengths_and_unique_writes_per_key() {
        let mut w = TxnListAppend::new(&options(4));
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut written: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        let mut reads = 0;
        for _ in 0..2000 {
            let op = w.next_op(&mut rng);
            assert_eq!(op.f, "txn");
            let txn = micro_ops(&op.value).unwrap();
            assert!((2..=5).contains(&txn.len()), "{}", op.value);
            for m in txn {
                let key = m.key().as_u64().unwrap();
                match m.f() {
                    "append" => written
                        .entry(key)
                        .or_default()
                        .push(m.value().as_u64().unwrap()),
                    "r" => {
                        assert!(m.value().is_null());
                        reads += 1;
                    }
                    other => panic!("micro-op {other}"),
                }
            }
        }
        for (key, values) in &written {
            let expected: Vec<u64> = (1..=values.len() as u64).collect();
            assert_eq!(values, &expected, "key {key}");
            assert!(values.len() <= 4, "key {key}: {values:?}");
        }
        assert!(reads > 1000, "{reads}");
        let mut r = TxnRwRegister::new(&options(4));
        let op = r.next_op(&mut rng);
        assert!(
            micro_ops(&op.value)
                .unwrap()
                .iter()
                .all(|m| matches!(m.f(), "r" | "w"))
        );
    }

    #[test]
    fn one_seed_one_sequence() {
        let draw = || {
            let mut w = TxnRwRegister::new(&WorkloadOptions::default());
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            (0..50).map(|_| w.next_op(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn replies_fill_reads_and_anything_else_is_malformed() {
        let w = TxnListAppend::new(&WorkloadOptions::default());
        let op = Op::new("txn", json!([["r", 1, null], ["append", 1, 6]]));
        assert_eq!(
            w.request(&op).unwrap(),
            Payload::Txn {
                txn: vec![
                    MicroOp("r".into(), json!(1), Value::Null),
                    MicroOp("append".into(), json!(1), json!(6)),
                ]
            }
        );
        let reply = |txn: Value| -> Body {
            serde_json::from_value(json!({"type": "txn_ok", "in_reply_to": 1, "txn": txn})).unwrap()
        };
        let c = w.complete(&op, &reply(json!([["r", 1, [8]], ["append", 1, 6]])));
        assert_eq!(c.outcome, Outcome::Ok);
        assert_eq!(c.value, json!([["r", 1, [8]], ["append", 1, 6]]));
        for (bad, why) in [
            (json!([["r", 1, [8]]]), "has 1 micro-ops for a txn of 2"),
            (
                json!([["r", 2, [8]], ["append", 1, 6]]),
                "the txn asked [\"r\",1,null]",
            ),
            (
                json!([["r", 1, [8]], ["append", 1, 7]]),
                "must come back unchanged",
            ),
            (
                json!([["r", 1, 8], ["append", 1, 6]]),
                "must be a list or null",
            ),
        ] {
            let c = w.complete(&op, &reply(bad));
            assert_eq!(c.outcome, Outcome::Info);
            assert!(c.is_malformed_reply());
            let text = c.error.unwrap().text;
            assert!(text.contains(why), "{text}");
        }
        let abort = Body::new(Payload::error(ErrorCode::TxnConflict, "conflict"));
        let c = w.complete(&op, &abort);
        assert_eq!(c.outcome, Outcome::Fail);
        assert_eq!(c.value, op.value);
        assert_eq!(w.timeout(&op).outcome, Outcome::Info);
        assert!(w.request(&Op::new("txn", json!([["r", 1]]))).is_err());
        assert!(w.request(&Op::new("read", json!([]))).is_err());
    }

    #[test]
    fn histories_show_which_data_type() {
        let history = |txn: &str| {
            checker::parse_history(
                "h",
                format!(r#"{{"process":0,"type":"invoke","f":"txn","value":{txn}}}"#).as_bytes(),
            )
            .unwrap()
        };
        let append = history(r#"[["r",1,null],["append",1,2]]"#);
        let write = history(r#"[["w",1,2]]"#);
        let knossos = history(r#"[["read","x",null],["write","y",2]]"#);
        assert!(!TxnListAppend::shows(&knossos) && !TxnRwRegister::shows(&knossos));
        assert!(TxnListAppend::shows(&append) && !TxnRwRegister::shows(&append));
        assert!(TxnRwRegister::shows(&write) && !TxnListAppend::shows(&write));
        assert_eq!(
            WorkloadKind::detect(&append),
            Some(WorkloadKind::TxnListAppend)
        );
        assert_eq!(
            WorkloadKind::detect(&write),
            Some(WorkloadKind::TxnRwRegister)
        );
    }
}

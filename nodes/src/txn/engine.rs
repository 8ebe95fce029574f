//! The transaction engine every node of [`crate::txn`] shares: run a transaction's micro-ops in
//! order against a key-value map of JSON values, as one atomic step.
//!
//! Both data types of the Maelstrom transactional workloads live in one map: a
//! **read-write register** (`w` sets the key, `r` reads its value) and a **grow-only list**
//! (`append` adds an element at the end, creating the list; `r` reads the whole list). A key
//! never written reads `null`.
//!
//! [`execute`] is pure: it reads the committed state through a function and keeps the
//! transaction's own writes in an overlay, so a read sees the transaction's earlier writes
//! (read-your-writes inside a transaction) and nothing changes until the caller commits the
//! [`Execution`]. A transaction that cannot run (an unknown `f`, an `append` to a key that
//! holds something other than a list) fails as a whole with error 12: nothing of it happened.

use std::collections::BTreeMap;

use proto::{ErrorCode, MicroOp, Payload};
use serde_json::Value;

/// `r`: read a key.
pub const READ: &str = "r";
/// `w`: set a register.
pub const WRITE: &str = "w";
/// `append`: add an element to the end of a list.
pub const APPEND: &str = "append";

/// Why a transaction did not run. Every one is definite: nothing of the transaction happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnError {
    pub code: ErrorCode,
    pub text: String,
}

impl TxnError {
    /// A malformed-request error (12).
    pub fn malformed(text: impl Into<String>) -> Self {
        TxnError {
            code: ErrorCode::MalformedRequest,
            text: text.into(),
        }
    }

    /// A not-supported error (10).
    pub fn not_supported(text: impl Into<String>) -> Self {
        TxnError {
            code: ErrorCode::NotSupported,
            text: text.into(),
        }
    }

    /// The error as a reply payload.
    pub fn payload(&self) -> Payload {
        Payload::error(self.code, self.text.clone())
    }
}

/// One write micro-op of a transaction, as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Its position among the transaction's micro-ops.
    pub index: usize,
    /// The micro-op as requested (`w` or `append`, key, value written or appended).
    pub op: MicroOp,
    /// What the key holds right after it: the value written, or the whole list after the
    /// append.
    pub after: Value,
}

/// A transaction that ran but is not committed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// The micro-ops with every read's observed value filled in: the `txn_ok` answer.
    pub completed: Vec<MicroOp>,
    /// Its writes, in the order they ran.
    pub writes: Vec<Write>,
}

impl Execution {
    /// True when it writes nothing.
    pub fn is_read_only(&self) -> bool {
        self.writes.is_empty()
    }

    /// Each written key's last write: what the key holds once the transaction commits. Keyed
    /// by the key's JSON text, in key order.
    pub fn finals(&self) -> BTreeMap<String, &Write> {
        let mut finals = BTreeMap::new();
        for write in &self.writes {
            finals.insert(write.op.key().to_string(), write);
        }
        finals
    }
}

/// The reply to a transaction that committed.
pub fn txn_ok(execution: &Execution) -> Payload {
    Payload::TxnOk {
        txn: execution.completed.clone(),
    }
}

/// True when the transaction has an `append`: it needs lists (txn-list-append).
pub fn has_append(txn: &[MicroOp]) -> bool {
    txn.iter().any(|op| op.f() == APPEND)
}

/// Check every micro-op's `f` before anything runs.
pub fn validate(txn: &[MicroOp]) -> Result<(), TxnError> {
    for (i, op) in txn.iter().enumerate() {
        if ![READ, WRITE, APPEND].contains(&op.f()) {
            return Err(TxnError::malformed(format!(
                "micro-op {i} has f {:?}: expected \"r\", \"w\" or \"append\"",
                op.f()
            )));
        }
    }
    Ok(())
}

/// `current` with `element` appended, or why not (it is neither absent nor a list).
pub fn appended(key: &Value, current: Option<&Value>, element: &Value) -> Result<Value, TxnError> {
    match current {
        None | Some(Value::Null) => Ok(Value::Array(vec![element.clone()])),
        Some(Value::Array(list)) => {
            let mut list = list.clone();
            list.push(element.clone());
            Ok(Value::Array(list))
        }
        Some(other) => Err(TxnError::malformed(format!(
            "cannot append to key {key}: it holds {other}, not a list"
        ))),
    }
}

/// Run `txn` against the committed state that `committed` reads (None: the key was never
/// written). Pure: the caller commits the result, or not.
pub fn execute(
    txn: &[MicroOp],
    committed: impl Fn(&Value) -> Option<Value>,
) -> Result<Execution, TxnError> {
    validate(txn)?;
    let mut overlay: BTreeMap<String, Value> = BTreeMap::new();
    let mut execution = Execution {
        completed: Vec::with_capacity(txn.len()),
        writes: Vec::new(),
    };
    for (index, op) in txn.iter().enumerate() {
        let key = op.key();
        let name = key.to_string();
        let current = || overlay.get(&name).cloned().or_else(|| committed(key));
        match op.f() {
            READ => {
                let value = current().unwrap_or(Value::Null);
                execution
                    .completed
                    .push(MicroOp(READ.to_owned(), key.clone(), value));
            }
            f => {
                let after = if f == WRITE {
                    op.value().clone()
                } else {
                    appended(key, current().as_ref(), op.value())?
                };
                overlay.insert(name, after.clone());
                execution.completed.push(op.clone());
                execution.writes.push(Write {
                    index,
                    op: op.clone(),
                    after,
                });
            }
        }
    }
    Ok(execution)
}

/// A key-value map of JSON values: the committed state of one copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    /// Each key's value, by the key's JSON text (so that keys are any JSON and ordered).
    entries: BTreeMap<String, (Value, Value)>,
}

impl Store {
    /// The value of `key`, if it was ever written.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries.get(&key.to_string()).map(|(_, v)| v)
    }

    /// Set `key` to `value`.
    pub fn set(&mut self, key: &Value, value: Value) {
        self.entries.insert(key.to_string(), (key.clone(), value));
    }

    /// Run `txn` against this store and commit it at once: one atomic step.
    pub fn run(&mut self, txn: &[MicroOp]) -> Result<Execution, TxnError> {
        let execution = execute(txn, |key| self.get(key).cloned())?;
        self.commit(&execution);
        Ok(execution)
    }

    /// Make every write of `execution` take effect: each key gets its last write's value.
    pub fn commit(&mut self, execution: &Execution) {
        for write in execution.finals().into_values() {
            self.set(write.op.key(), write.after.clone());
        }
    }

    /// Apply one write micro-op to what the key holds now (not to what it held when its
    /// transaction ran): `w` sets the key, `append` adds to its current list.
    pub fn apply(&mut self, op: &MicroOp) -> Result<(), TxnError> {
        let value = match op.f() {
            WRITE => op.value().clone(),
            APPEND => appended(op.key(), self.get(op.key()), op.value())?,
            f => {
                return Err(TxnError::malformed(format!(
                    "{f:?} is not a write micro-op"
                )));
            }
        };
        self.set(op.key(), value);
        Ok(())
    }

    /// Every key and its value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries.values().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn op(f: &str, key: u64, value: Value) -> MicroOp {
        MicroOp(f.to_owned(), json!(key), value)
    }

    fn txn(value: Value) -> Vec<MicroOp> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_missing_key_reads_null_and_reads_see_the_transactions_own_writes() {
        let mut store = Store::default();
        let done = store
            .run(&txn(json!([
                ["r", 1, null],
                ["append", 1, 6],
                ["r", 1, null],
                ["w", 2, 9],
                ["r", 2, null],
                ["append", 1, 7],
                ["r", 1, null]
            ])))
            .unwrap();
        assert_eq!(
            serde_json::to_value(&done.completed).unwrap(),
            json!([
                ["r", 1, null],
                ["append", 1, 6],
                ["r", 1, [6]],
                ["w", 2, 9],
                ["r", 2, 9],
                ["append", 1, 7],
                ["r", 1, [6, 7]]
            ])
        );
        assert_eq!(store.get(&json!(1)), Some(&json!([6, 7])));
        assert_eq!(store.get(&json!(2)), Some(&json!(9)));
        let again = store.run(&txn(json!([["r", 1, null]]))).unwrap();
        assert_eq!(again.completed[0].value(), &json!([6, 7]));
        assert!(again.is_read_only());
    }

    #[test]
    fn keys_are_json_values_so_a_string_key_is_another_key() {
        let mut store = Store::default();
        store.run(&txn(json!([["w", 1, 5]]))).unwrap();
        let done = store.run(&txn(json!([["r", "1", null]]))).unwrap();
        assert_eq!(done.completed[0].value(), &Value::Null);
    }

    #[test]
    fn an_unknown_f_fails_the_whole_transaction_with_error_12_and_changes_nothing() {
        let mut store = Store::default();
        let err = store
            .run(&txn(json!([["w", 1, 5], ["cas", 1, 6]])))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedRequest);
        assert!(err.text.contains("\"cas\""), "{}", err.text);
        assert_eq!(store.get(&json!(1)), None);
    }

    #[test]
    fn an_append_to_a_register_fails_with_error_12_and_the_earlier_writes_do_not_happen() {
        let mut store = Store::default();
        store.run(&txn(json!([["w", 1, 5]]))).unwrap();
        let err = store
            .run(&txn(json!([["w", 2, 1], ["append", 1, 6]])))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedRequest);
        assert_eq!(err.text, "cannot append to key 1: it holds 5, not a list");
        assert_eq!(store.get(&json!(2)), None, "atomic: no partial commit");
        assert_eq!(err.payload().kind(), "error");
    }

    #[test]
    fn finals_are_each_keys_last_write() {
        let done = execute(&txn(json!([["w", 1, 1], ["w", 2, 2], ["w", 1, 3]])), |_| {
            None
        })
        .unwrap();
        let finals = done.finals();
        assert_eq!(finals.len(), 2);
        assert_eq!(finals["1"].after, json!(3));
        assert_eq!(finals["1"].index, 2);
        assert_eq!(done.writes.len(), 3);
    }

    #[test]
    fn apply_appends_to_what_the_key_holds_now() {
        let mut store = Store::default();
        store.set(&json!(1), json!([1]));
        store.apply(&op(APPEND, 1, json!(2))).unwrap();
        store.apply(&op(WRITE, 3, json!(4))).unwrap();
        assert_eq!(store.get(&json!(1)), Some(&json!([1, 2])));
        assert!(store.apply(&op(APPEND, 3, json!(1))).is_err());
        assert!(store.apply(&op(READ, 3, Value::Null)).is_err());
        assert_eq!(store.iter().count(), 2);
    }

    proptest! {
        /// Running a transaction is the same as applying its writes one at a time, and its
        /// reads see exactly the writes before them.
        #[test]
        fn a_transaction_is_its_micro_ops_in_order(
            ops in prop::collection::vec((0u8..3, 0u64..3, 0u64..50), 0..12)
        ) {
            let txn: Vec<MicroOp> = ops
                .iter()
                .map(|&(f, k, v)| match f {
                    0 => op(READ, k, Value::Null),
                    1 => op(WRITE, k + 10, json!(v)),
                    _ => op(APPEND, k, json!(v)),
                })
                .collect();
            let mut store = Store::default();
            let done = store.run(&txn).unwrap();
            let mut step = Store::default();
            for (asked, got) in txn.iter().zip(&done.completed) {
                if asked.f() == READ {
                    let seen = step.get(asked.key()).cloned().unwrap_or(Value::Null);
                    prop_assert_eq!(got.value(), &seen);
                } else {
                    step.apply(asked).unwrap();
                    prop_assert_eq!(got, asked);
                }
            }
            prop_assert_eq!(store, step);
        }
    }
}

//! Who wrote each value: the index both data types start from. Appended elements (lists) and
//! written values (registers) are unique per key, so a (key, value) pair names the one
//! transaction that wrote it, the inference Elle's "recoverability" rests on.

use rustc_hash::FxHashMap;

use super::history::{MopKind, TxnHistory};
use crate::history::HistoryError;
use crate::op::Outcome;

/// One (key, value) as a map key.
pub fn kv(k: u32, v: u32) -> u64 {
    ((k as u64) << 32) | v as u64
}

/// What is known of each written (key, value).
pub struct Writers {
    /// The writes of ok and info transactions a read may observe: for lists every append (an
    /// element stays in the list once appended), for registers only each transaction's last
    /// write to the key (an earlier one is intermediate).
    pub possible: FxHashMap<u64, u32>,
    /// The writes of failed (aborted) transactions.
    pub failed: FxHashMap<u64, u32>,
    /// The writes a transaction followed with another write to the same key.
    pub intermediate: FxHashMap<u64, u32>,
}

/// Index every write of `kind` (`Append` or `Write`); a value written twice to a key is an
/// error of the history (Elle requires unique writes and gives up otherwise).
pub fn writers(h: &TxnHistory, kind: MopKind) -> Result<Writers, HistoryError> {
    let (verb, rule) = match kind {
        MopKind::Append => (
            "appended to",
            "list-append needs every appended element unique per key",
        ),
        _ => (
            "written to",
            "rw-register needs every written value unique per key",
        ),
    };
    let mut w = Writers {
        possible: FxHashMap::default(),
        failed: FxHashMap::default(),
        intermediate: FxHashMap::default(),
    };
    let mut seen: FxHashMap<u64, u32> = FxHashMap::default();
    for (t, txn) in h.txns.iter().enumerate() {
        let t = t as u32;
        let mops = h.mops(t);
        for (i, m) in mops.iter().enumerate() {
            if m.kind != kind {
                continue;
            }
            let id = kv(m.key, m.value);
            if let Some(other) = seen.insert(id, t) {
                return Err(HistoryError::Malformed {
                    index: txn.invoke_index,
                    reason: format!(
                        "{} {verb} key {} twice (also by the txn invoked at event {}): {rule}",
                        h.values.value(m.value),
                        h.keys.value(m.key),
                        h.txns[other as usize].invoke_index
                    ),
                });
            }
            let overwritten = mops[i + 1..]
                .iter()
                .any(|n| n.kind == kind && n.key == m.key);
            if overwritten {
                w.intermediate.insert(id, t);
            }
            if txn.outcome == Outcome::Fail {
                w.failed.insert(id, t);
            } else if kind == MopKind::Append || !overwritten {
                w.possible.insert(id, t);
            }
        }
    }
    Ok(w)
}

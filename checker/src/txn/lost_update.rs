//! Lost updates (Elle's `lost-update-cases`), for both data types: committed transactions
//! that read one state of a key and then wrote it (appended to it, or overwrote it), two or
//! more from the same state. Each made its update without the others', so all but one were
//! lost: the classic anomaly that snapshot isolation's first-committer-wins and
//! serializability forbid, and read committed allows.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

use super::anomaly::Anomaly;
use super::explain::{Findings, compact, plain_case};
use super::history::{MopKind, TxnHistory};
use crate::op::Outcome;

/// A key and (a hash of) the state of it that was read.
type KeyState = (u32, u64);
/// A transaction and the position of its read in [`TxnHistory::mops`].
type ReadBy = (u32, u32);

/// Find the lost updates of writes of `kind` (`Append` or `Write`).
pub fn lost_updates(h: &TxnHistory, kind: MopKind, found: &mut Findings) {
    let mut groups: FxHashMap<KeyState, Vec<ReadBy>> = FxHashMap::default();
    for (t, txn) in h.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        let t = t as u32;
        let mops = h.mops(t);
        let mut done: Vec<u32> = Vec::new();
        for (i, m) in mops.iter().enumerate() {
            if m.kind != kind || done.contains(&m.key) {
                continue;
            }
            done.push(m.key);
            let Some(r) = mops[..i]
                .iter()
                .position(|r| r.kind == MopKind::Read && r.key == m.key)
            else {
                continue;
            };
            let state = match kind {
                MopKind::Append => {
                    let els = h.read_elements(&mops[r]);
                    let mut hasher = FxHasher::default();
                    hasher.write_usize(els.len());
                    for &e in els {
                        hasher.write_u32(e);
                    }
                    hasher.finish()
                }
                _ => u64::from(mops[r].value),
            };
            groups
                .entry((m.key, state))
                .or_default()
                .push((t, txn.mops_start + r as u32));
        }
    }
    let mut cases: Vec<(KeyState, Vec<ReadBy>)> =
        groups.into_iter().filter(|(_, v)| v.len() > 1).collect();
    cases.sort_by_key(|(group, v)| (v[0].0, *group));
    let verb = match kind {
        MopKind::Append => "appended to it",
        _ => "wrote it",
    };
    for ((k, _), txns) in cases {
        let ts: Vec<u32> = txns.iter().map(|x| x.0).collect();
        let read = h.mop_value(&h.mops[txns[0].1 as usize]);
        found.add(Anomaly::LostUpdate, || {
            let mut c = plain_case(h, &ts, |n| {
                let (who, lost) = match n {
                    [a, b] => (
                        format!("{a} and {b} both"),
                        "each update was made without the other's, so one of the two was lost",
                    ),
                    _ => (
                        format!("{} all", n.join(", ")),
                        "each update was made without the others', so all but one were lost",
                    ),
                };
                format!(
                    "{who} read key {} = {} and then {verb}: {lost}",
                    h.keys.value(k),
                    compact(&read)
                )
            });
            c.key = Some(h.keys.value(k));
            c.values = vec![read.clone()];
            c
        });
    }
}
